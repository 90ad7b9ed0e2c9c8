//! The cache-aside decorator: a `Store` in front of another (MongoDB), with Redis
//! as the shared tier and an in-process tier (L1) kept coherent across instances.
//!
//! - `decorator`: `CachedStore`, the `Store` that checks the cache, reads through
//!   on a miss and invalidates on every write;
//! - `keys`: the key layout, and the one source of the names keys are built from;
//! - `redis`: `RedisCache`, the Redis protocol and scripts (standalone or cluster);
//! - `l1`: the in-process tier and the channel that keeps it coherent;
//! - `invalidator`: voids what MongoDB's change stream says another writer changed;
//! - `day_sums`: a month's day sums, assembled from each day's own;
//! - `codec`: how values are kept in Redis and weighed in L1;
//! - `singleflight`, `breaker`, `stale_scopes`: one read per miss, a circuit
//!   breaker around Redis, and the scopes left to renew after a lost invalidation.

mod breaker;
mod codec;
mod day_sums;
pub mod decorator;
pub mod invalidator;
pub mod keys;
pub mod l1;
pub mod redis;
mod singleflight;
mod stale_scopes;

pub use self::redis::RedisCache;
pub use decorator::CachedStore;
pub use stale_scopes::RENEW_AT_MOST;
