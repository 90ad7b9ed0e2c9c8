//! Many writes to one collection in one round trip: an unordered `update` command
//! of many statements, which every server speaks. (The driver's `bulk_write` sends
//! MongoDB 8's `bulkWrite` command instead, which older servers lack.)
//!
//! Unlike the driver's single writes, the reply is read statement by statement:
//! which ones inserted their document, and which ones the server refused.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bson::{Bson, Document, doc};
use mongodb::Collection;

use super::errors::bounded;
use crate::store::{StoreError, StoreResult};

/// One statement: `update` applied to the document `filter` finds, inserted from
/// them if there is none and `upsert` says so.
pub fn statement(filter: Document, update: impl Into<Bson>, upsert: bool) -> Document {
    doc! { "q": filter, "u": update.into(), "upsert": upsert }
}

/// What the server did with each statement, by its place in the command.
#[derive(Debug, Default)]
pub struct StatementsDone {
    /// The statements that inserted a document.
    pub upserted: HashSet<usize>,
    /// The statements refused, with the server's error code.
    pub refused: HashMap<usize, i32>,
}

/// Sends `statements` to `collection` as one unordered command, detached from the
/// caller (as `errors::detached`) and bounded by `timeout`, on the server too
/// (`maxTimeMS`, as `errors::bounded` explains). An error here leaves every
/// statement's fate unknown.
pub async fn update_statements<T: Send + Sync>(
    timeout: Duration,
    collection: &Collection<T>,
    statements: Vec<Document>,
) -> StoreResult<StatementsDone> {
    let namespace = collection.namespace();
    let database = collection.client().database(&namespace.db);
    let limit = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
    let mut command = doc! {
        "update": namespace.coll,
        "updates": statements,
        "ordered": false,
        "maxTimeMS": limit,
    };
    // A command sent as it is carries no write concern: the collection's, as the
    // driver's own writes carry it (a majority, see `majority_write_concern`).
    if let Some(concern) = collection.write_concern() {
        let concern = bson::to_document(concern)
            .map_err(|e| StoreError::internal("encoding a write concern").because(e))?;
        if !concern.is_empty() {
            command.insert("writeConcern", concern);
        }
    }
    let reply =
        crate::store::spawned(async move { bounded(timeout, database.run_command(command)).await })
            .await?;
    if reply.contains_key("writeConcernError") {
        // Applied on the primary, not yet acknowledged as asked: it may stand or not.
        return Err(StoreError::unavailable(
            "MongoDB did not acknowledge many writes as asked",
        ));
    }
    let mut done = StatementsDone::default();
    let reported = |field: &str| -> Vec<Document> {
        reply
            .get_array(field)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Bson::as_document)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    for upserted in reported("upserted") {
        done.upserted.insert(index_of(&upserted)?);
    }
    for refused in reported("writeErrors") {
        let code = refused.get_i32("code").unwrap_or_default();
        done.refused.insert(index_of(&refused)?, code);
    }
    Ok(done)
}

fn index_of(reported: &Document) -> StoreResult<usize> {
    let index = match reported.get("index") {
        Some(Bson::Int32(index)) => i64::from(*index),
        Some(Bson::Int64(index)) => *index,
        _ => -1,
    };
    usize::try_from(index)
        .map_err(|_| StoreError::internal("a reply to many writes without a statement's index"))
}
