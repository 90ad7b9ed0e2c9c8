//! The contract suite against `MongoStore`, each test in a database of its own (`Backend::Mongo`).

use balancelife_testkit::contract::TestStore;

use crate::support::Backend;

async fn make_store() -> TestStore {
    Backend::Mongo.store().await
}

balancelife_testkit::contract_tests!(make_store);
