//! The contract suite against `MemoryStore`.

use std::sync::Arc;

use balancelife::store::{MemoryStore, Store};

async fn make_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

balancelife_testkit::contract_tests!(make_store);
