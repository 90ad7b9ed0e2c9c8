//! The contract suite against `CachedStore` over `MongoStore`, each test in a database and a Redis key namespace of its own (`Backend::Cached`).

use balancelife_testkit::contract::TestStore;

use crate::support::Backend;

async fn make_store() -> TestStore {
    Backend::Cached.store().await
}

balancelife_testkit::contract_tests!(make_store);
