//! The contract suite against `MemoryStore` (`Backend::Memory`).

use balancelife_testkit::contract::TestStore;

use crate::support::Backend;

async fn make_store() -> TestStore {
    Backend::Memory.store().await
}

balancelife_testkit::contract_tests!(make_store);
