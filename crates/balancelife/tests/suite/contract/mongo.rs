//! The contract suite against `MongoStore`, each test in a database of its own on the
//! shared SecantusDB server.

use std::sync::Arc;

use balancelife::store::{MongoStore, Store};

use balancelife_testkit::servers::mongo::{SHARED, fresh_database};

async fn make_store() -> Arc<dyn Store> {
    let settings = SHARED.settings(&fresh_database());
    Arc::new(
        MongoStore::connect(&settings)
            .await
            .expect("connecting to the test MongoDB"),
    )
}

balancelife_testkit::contract_tests!(make_store);
