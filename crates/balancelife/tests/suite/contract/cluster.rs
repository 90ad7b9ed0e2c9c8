//! The contract suite against `CachedStore` over `MongoStore` with the cache on a
//! Redis Cluster, each test in a database and a key namespace of its own
//! (`Backend::ClusterCached`).

use balancelife_testkit::contract::TestStore;

use crate::support::Backend;

async fn make_store() -> TestStore {
    Backend::ClusterCached.store().await
}

balancelife_testkit::contract_tests!(make_store);
