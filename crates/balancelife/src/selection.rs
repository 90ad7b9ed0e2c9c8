//! Which store serves requests, decided once at start-up from the settings and from
//! what answers: no `MONGODB_URI` → memory; MongoDB reachable → MongoDB; configured
//! but unreachable → memory with a loud warning, or a refusal to start when
//! `STORE_FALLBACK=none`. With `REDIS_ADDR` as well, MongoDB sits behind the Redis
//! cache; a Redis that is down serves MongoDB alone until it answers. `balancelife
//! config` reports the same decision.

use std::sync::Arc;

use crate::config::{MongoSettings, Settings, StoreFallback};
use crate::store::cache::invalidator::Invalidator;
use crate::store::cache::{CachedStore, RedisCache};
use crate::store::memory::MemoryStore;
use crate::store::mongo::MongoStore;
use crate::store::{Store, StoreError, StoreKind};
use crate::telemetry::ErrorChain;

/// The outcome of selection, before any data is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub kind: StoreKind,
    /// Why, in words safe to show on `/health` (no hosts, no driver messages).
    pub reason: String,
    /// Running on a fallback rather than on what was configured.
    pub degraded: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("{0}")]
    Misconfigured(String),
    #[error(
        "MongoDB at MONGODB_URI could not be reached ({0}), and STORE_FALLBACK=none forbids \
         running on the in-memory store"
    )]
    MongoUnreachable(String),
}

pub struct Selected {
    pub store: Arc<dyn Store>,
    pub decision: Decision,
    /// The cache's metrics, when there is a cache.
    /// The Redis cache, when there is one.
    pub cache: Option<Arc<RedisCache>>,
}

const NOT_CONFIGURED: &str = "MONGODB_URI is not set: the embedded in-memory store is used, \
                              and nothing is kept across restarts";
const FELL_BACK: &str = "MongoDB could not be reached at start-up: serving from the in-memory \
                         store, which keeps nothing across restarts (set STORE_FALLBACK=none to \
                         refuse to start instead)";

/// Connects to what the settings name and decides.
pub async fn select(settings: &Settings) -> Result<Selected, SelectionError> {
    let Some(mongo_settings) = &settings.mongodb else {
        return Ok(memory(settings, NOT_CONFIGURED, false));
    };
    let mongo = match MongoStore::connect(mongo_settings).await {
        Ok(mongo) => {
            mongo.set_tombstone_retention(settings.sync.tombstone_retention);
            Arc::new(mongo)
        }
        Err(error) => {
            return fall_back(mongo_settings, error).map(|()| memory(settings, FELL_BACK, true));
        }
    };
    let Some(redis_settings) = &settings.redis else {
        return Ok(Selected {
            store: mongo,
            decision: Decision {
                kind: StoreKind::Mongodb,
                reason: MONGO_ONLY.into(),
                degraded: false,
            },
            cache: None,
        });
    };
    let cache = RedisCache::start(redis_settings, &settings.cache)
        .await
        .map_err(|e| SelectionError::Misconfigured(e.to_string()))?;
    let serving = cache.is_serving();
    if !serving {
        tracing::warn!("Redis is not reachable: serving from MongoDB alone until it answers");
    }
    let mut store = CachedStore::new(mongo.clone(), cache.clone());
    // Replica sets and sharded clusters have change streams (and transactions);
    // a standalone server has neither.
    if mongo.supports_transactions() {
        store = store.with_invalidator(Invalidator::start(
            &mongo,
            cache.clone(),
            &redis_settings.namespace,
        ));
    } else {
        tracing::warn!(
            "MongoDB is a standalone server without change streams: a write whose writer dies before invalidating can be served stale until the cache TTL"
        );
    }
    Ok(Selected {
        store: Arc::new(store),
        decision: cached_decision(serving),
        cache: Some(cache),
    })
}

const MONGO_ONLY: &str =
    "MONGODB_URI is set and MongoDB answered; REDIS_ADDR is not set, so there is no cache";

fn cached_decision(redis_answers: bool) -> Decision {
    let reason = if redis_answers {
        "MongoDB and Redis answered: MongoDB behind the Redis cache"
    } else {
        "MongoDB answered, Redis did not (yet): MongoDB serves alone, and the cache is used as \
         soon as Redis answers; the redis component tells which"
    };
    Decision {
        kind: StoreKind::Cached,
        reason: reason.into(),
        // Whether the cache serves is live state; `/health` reads it from the store.
        degraded: false,
    }
}

/// The same decision as `select`, probing MongoDB without writing anything.
pub async fn decide(settings: &Settings) -> Result<Decision, SelectionError> {
    let Some(mongo_settings) = &settings.mongodb else {
        return Ok(memory_decision(NOT_CONFIGURED, false));
    };
    if let Err(error) = MongoStore::probe(mongo_settings).await {
        return fall_back(mongo_settings, error).map(|()| memory_decision(FELL_BACK, true));
    }
    let Some(redis_settings) = &settings.redis else {
        return Ok(Decision {
            kind: StoreKind::Mongodb,
            reason: MONGO_ONLY.into(),
            degraded: false,
        });
    };
    let redis_answers = crate::store::cache::redis::probe(redis_settings)
        .await
        .map_err(|e| SelectionError::Misconfigured(e.to_string()))?;
    Ok(cached_decision(redis_answers))
}

/// Whether an unreachable MongoDB may be replaced by the memory store.
fn fall_back(settings: &MongoSettings, error: StoreError) -> Result<(), SelectionError> {
    match error {
        StoreError::Invalid(message) => Err(SelectionError::Misconfigured(message)),
        other => {
            let cause = ErrorChain(&other).to_string();
            match settings.fallback {
                StoreFallback::None => Err(SelectionError::MongoUnreachable(cause)),
                StoreFallback::Memory => {
                    tracing::error!(
                        error = %cause,
                        "MongoDB IS UNREACHABLE: falling back to the in-memory store. Data written \
                         now is LOST when the service stops. Set STORE_FALLBACK=none to refuse to \
                         start instead."
                    );
                    Ok(())
                }
            }
        }
    }
}

fn memory_decision(reason: &str, degraded: bool) -> Decision {
    Decision {
        kind: StoreKind::Memory,
        reason: reason.to_owned(),
        degraded,
    }
}

fn memory(settings: &Settings, reason: &str, degraded: bool) -> Selected {
    tracing::warn!("running on the in-memory store: nothing is kept across restarts");
    let retention = settings.sync.tombstone_retention;
    Selected {
        store: Arc::new(MemoryStore::with_tombstone_retention(retention)),
        decision: memory_decision(reason, degraded),
        cache: None,
    }
}
