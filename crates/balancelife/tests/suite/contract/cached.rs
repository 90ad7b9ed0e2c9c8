//! The contract suite against `CachedStore` over `MongoStore`: each test has its own
//! database and its own Redis key namespace on the shared servers.

use std::sync::Arc;

use balancelife::store::{CachedStore, MongoStore, RedisCache, Store};

use balancelife_testkit::servers::{mongo, redis};

async fn make_store() -> Arc<dyn Store> {
    let settings = redis::SHARED.settings(mongo::SHARED.settings(&mongo::fresh_database()));
    let inner = Arc::new(
        MongoStore::connect(&settings)
            .await
            .expect("connecting to the test MongoDB"),
    );
    let cache = RedisCache::start(&settings)
        .await
        .expect("valid Redis settings");
    Arc::new(CachedStore::new(inner, cache))
}

balancelife_testkit::contract_tests!(make_store);
