//! Which store a test runs on, and building it, in one place: memory; MongoDB in a
//! database of its own; or MongoDB behind the Redis cache in a key namespace of its
//! own. MongoDB is the server `BALANCELIFE_TEST_MONGODB_URI` names, else the shared
//! SecantusDB.

use std::sync::Arc;

use balancelife::config::{CacheSettings, MongoSettings, RedisSettings, Settings};
use balancelife::store::Store;
use balancelife::store::cache::invalidator::Invalidator;
use balancelife::store::cache::keys::KEY_VERSION;
use balancelife::store::cache::{CachedStore, RedisCache};
use balancelife::store::memory::MemoryStore;
use balancelife::store::mongo::MongoStore;
use balancelife_testkit::contract::TestStore;
use balancelife_testkit::probe_store::ProbeStore;
use balancelife_testkit::servers::cluster::{self, RedisCluster};
use balancelife_testkit::servers::mongo::TestDatabase;
use balancelife_testkit::servers::redis::{self, RedisServer};

use super::TestApp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Mongo,
    Cached,
    /// MongoDB behind the cache on the shared 3+3 Redis Cluster.
    ClusterCached,
}

impl Backend {
    /// A fresh, empty store of this kind, with what must live as long as it.
    pub async fn store(self) -> TestStore {
        match self {
            Self::Memory => TestStore::new(Arc::new(MemoryStore::new())),
            Self::Mongo => {
                let database = TestDatabase::new();
                let store = MongoStore::connect(&database.settings)
                    .await
                    .expect("connecting to the test MongoDB");
                TestStore::new(Arc::new(store)).keeping(database)
            }
            Self::Cached => {
                let cached = Cached::on(&redis::SHARED).await;
                TestStore::new(cached.store.clone()).keeping(cached)
            }
            Self::ClusterCached => {
                let cached = Cached::on_cluster(&cluster::SHARED).await;
                TestStore::new(cached.store.clone()).keeping(cached)
            }
        }
    }

    /// The app over a fresh store of this kind, loaded with the sample data.
    pub async fn app(self) -> TestApp {
        if self == Self::Cached {
            let cached = Cached::on(&redis::SHARED).await;
            load_samples(cached.store.as_ref()).await;
            return TestApp::cached(cached.store.clone()).keeping(cached);
        }
        let TestStore { store, keep } = self.store().await;
        load_samples(store.as_ref()).await;
        keep.into_iter()
            .fold(TestApp::new(store), |app, guard| app.keeping(guard))
    }
}

async fn load_samples(store: &dyn Store) {
    balancelife::sample::load(store, balancelife::domain::now())
        .await
        .expect("loading the sample data");
}

/// The cached stack with its parts in reach: MongoDB behind a `ProbeStore` (which
/// counts the reads that reach it), behind a cache.
#[derive(Clone)]
pub struct Cached {
    pub store: Arc<CachedStore>,
    pub probe: Arc<ProbeStore>,
    pub mongo: Arc<MongoStore>,
    pub mongo_settings: MongoSettings,
    pub redis_settings: RedisSettings,
    /// Dropped with the last clone (a second process shares it).
    _database: Option<Arc<TestDatabase>>,
}

impl Cached {
    /// A fresh test database behind a cache on `redis_server`, in a namespace of its own.
    pub async fn on(redis_server: &RedisServer) -> Self {
        let database = Arc::new(TestDatabase::new());
        let mut cached = Self::with(database.settings.clone(), redis_server.settings()).await;
        cached._database = Some(database);
        cached
    }

    /// A fresh test database behind a cache on `cluster`, in a namespace of its own.
    pub async fn on_cluster(cluster: &RedisCluster) -> Self {
        let database = Arc::new(TestDatabase::new());
        let mut cached = Self::with(database.settings.clone(), cluster.settings()).await;
        cached._database = Some(database);
        cached
    }

    /// The stack on the given servers.
    pub async fn with(mongo_settings: MongoSettings, redis_settings: RedisSettings) -> Self {
        let cache = cache_settings();
        Self::build(mongo_settings, redis_settings, false, KEY_VERSION, cache).await
    }

    /// The stack without the in-process tier (`L1_CACHE_MB=0`): every cached read
    /// goes to Redis, for tests of what Redis itself does.
    pub async fn redis_only(mongo_settings: MongoSettings, redis_settings: RedisSettings) -> Self {
        let mut cache = cache_settings();
        cache.l1_capacity_bytes = 0;
        Self::build(mongo_settings, redis_settings, false, KEY_VERSION, cache).await
    }

    /// Waits until the in-process tier serves (its channel confirmed).
    pub async fn l1_ready(&self) {
        let l1 = self.store.cache().l1().expect("an in-process tier").clone();
        super::until(
            "the in-process tier serving",
            std::time::Duration::from_secs(5),
            || l1.is_serving(),
        )
        .await;
    }

    /// Reads answered by a cache tier, in memory or in Redis.
    pub fn cache_hits(&self) -> u64 {
        let cache = self.store.cache();
        cache.metrics.hits.get() + cache.l1().map_or(0, |l1| l1.metrics.hits.get())
    }

    /// The stack on the given servers with a change-stream invalidator beside it, as
    /// the service runs it on a replica set: one service instance.
    pub async fn instance(mongo_settings: MongoSettings, redis_settings: RedisSettings) -> Self {
        Self::instance_at_key_version(mongo_settings, redis_settings, KEY_VERSION).await
    }

    /// `instance`, as a release whose keys have version `key_version` runs.
    pub async fn instance_at_key_version(
        mongo_settings: MongoSettings,
        redis_settings: RedisSettings,
        key_version: &str,
    ) -> Self {
        let cache = cache_settings();
        Self::build(mongo_settings, redis_settings, true, key_version, cache).await
    }

    async fn build(
        mongo_settings: MongoSettings,
        redis_settings: RedisSettings,
        invalidating: bool,
        key_version: &str,
        cache_settings: CacheSettings,
    ) -> Self {
        let mongo = Arc::new(
            MongoStore::connect(&mongo_settings)
                .await
                .expect("connecting to the test MongoDB"),
        );
        let probe = Arc::new(ProbeStore::new(mongo.clone()));
        let cache = RedisCache::start_at_key_version(&redis_settings, &cache_settings, key_version)
            .await
            .expect("valid Redis settings");
        let mut store = CachedStore::new(probe.clone(), cache.clone());
        if invalidating {
            store = store.with_invalidator(Invalidator::start(
                &mongo,
                cache,
                &redis_settings.namespace,
            ));
        }
        Self {
            store: Arc::new(store),
            probe,
            mongo,
            mongo_settings,
            redis_settings,
            _database: None,
        }
    }

    /// A second service process: its own cache client and connections, the same
    /// database and key namespace.
    pub async fn second_process(&self) -> Self {
        Self {
            _database: self._database.clone(),
            ..Self::with(self.mongo_settings.clone(), self.redis_settings.clone()).await
        }
    }
}

fn cache_settings() -> CacheSettings {
    Settings::default().cache
}
