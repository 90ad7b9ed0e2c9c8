//! Driver errors, sorted into the contract's `StoreError` kinds, and the unique index
//! a refused write collided with.

use std::future::{Future, IntoFuture};
use std::time::Duration;

use mongodb::error::{ErrorKind, WriteFailure};

use crate::store::StoreError;

/// MongoDB's code for a unique-index violation.
pub const DUPLICATE_KEY: i32 = 11000;

/// Whether the error is a unique-index violation.
pub(crate) fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        ErrorKind::Command(e) => e.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// Inserts `document` unless its `_id` is taken: `Ok(true)` when inserted,
/// `Ok(false)` when a document with that id exists (an answer, not an error). A clash
/// on another unique index is `Rejected::Duplicate`, naming it.
///
/// An upsert that only sets fields on insert does this in one round trip, and its
/// refusal keeps the server's reply, which names the index: the driver's `insert_one`
/// and `insert_many` rebuild their errors without it.
///
/// A write without a server-side time limit (see `bounded`): the driver gives
/// `update` none (`bulk::update_statements` sends its own command, which carries one), and the `findAndModify` that could carry one does not tell an
/// insert from a match on every server (SecantusDB 0.7.0b3, tried on 2026-12-06,
/// answers some of several concurrent upserts of one id with neither a document
/// nor an insert, 8 races in 30), where the upsert's own counts do.
pub async fn insert_unless_taken<T>(
    timeout: Duration,
    collection: &mongodb::Collection<T>,
    document: &T,
) -> Result<bool, Rejected>
where
    T: serde::Serialize + Send + Sync + 'static,
{
    let mut fields = bson::to_document(document)
        .map_err(|e| StoreError::internal("encoding a document").because(e))?;
    let id = fields
        .remove("_id")
        .ok_or_else(|| StoreError::internal("a document without an _id"))?;
    let result = detached_write(timeout, collection, move |collection| async move {
        collection
            .update_one(
                bson::doc! { "_id": id },
                bson::doc! { "$setOnInsert": fields },
            )
            .upsert(true)
            .await
    })
    .await?;
    match (result.upserted_id, result.matched_count) {
        (Some(_), _) => Ok(true),
        (None, 1..) => Ok(false),
        // Neither inserted nor found: an unacknowledged write (`w=0`) tells nothing.
        (None, 0) => Err(Rejected::Failed(StoreError::internal(
            "MongoDB did not acknowledge an insert; writes need an acknowledged write concern",
        ))),
    }
}

/// Connection-level trouble is `Unavailable` (retry later, 503); everything else is a
/// bug or a server refusal we did not expect, so `Internal`. The driver's error is
/// kept as the source, for the logs. (Unique-index violations are expected by the
/// writes that can meet them: see `bounded_write`.)
pub fn classify(error: mongodb::error::Error) -> StoreError {
    let kind = match error.kind.as_ref() {
        _ if is_duplicate_key(&error) => {
            StoreError::internal("a unique index refused a write that did not expect it")
        }
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => StoreError::unavailable("MongoDB cannot be reached"),
        ErrorKind::Authentication { .. } => {
            StoreError::unavailable("MongoDB refused our credentials")
        }
        _ if error.contains_label("RetryableWriteError")
            || error.contains_label("TransientTransactionError") =>
        {
            StoreError::unavailable("MongoDB failed a write that may succeed if retried")
        }
        _ => StoreError::internal("MongoDB refused an operation"),
    };
    kind.because(error)
}

/// Runs one driver call with a deadline. The driver bounds server selection itself,
/// but not a server that accepted the connection and then stopped answering (a
/// frozen process); the deadline covers that too.
///
/// A write that replaces, updates or deletes also carries `maxTimeMS` of the same
/// `timeout` (`.max_time(timeout)` on its `findAndModify`, the write command the
/// driver lets carry one), so the server gives it up too: one the client gave up on
/// takes effect within `timeout` of the server taking it up, or never
/// (`Store::late_write_bound`).
pub async fn bounded<T>(
    timeout: Duration,
    call: impl IntoFuture<Output = mongodb::error::Result<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(timeout, call.into_future()).await {
        Ok(result) => result.map_err(classify),
        Err(_) => Err(StoreError::unavailable(format!(
            "MongoDB did not answer within {} ms",
            timeout.as_millis()
        ))),
    }
}

/// `bounded`, run as a task of its own on a handle of its own (`op` gets a clone of
/// `handle`, a collection or the client), so that a caller that gives up (its
/// client hung up) does not cancel the call.
///
/// Why: the driver keeps a request that was cancelled while it waited for a pooled
/// connection in the pool's queue, and hands connections to one queued request per
/// pool event, or per 500 ms tick when nothing else happens. Forty reads abandoned
/// at once held the next read up past the store's deadline (2026-12-07). Detached,
/// every call runs to its end (or to its deadline) and returns its connection.
pub async fn detached<C, T, Fut>(
    timeout: Duration,
    handle: &C,
    op: impl FnOnce(C) -> Fut,
) -> Result<T, StoreError>
where
    C: Clone,
    Fut: Future<Output = mongodb::error::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    crate::store::spawned(bounded(timeout, op(handle.clone()))).await
}

/// `bounded_write`, detached as `detached` is.
pub async fn detached_write<C, T, Fut>(
    timeout: Duration,
    handle: &C,
    op: impl FnOnce(C) -> Fut,
) -> Result<T, Rejected>
where
    C: Clone,
    Fut: Future<Output = mongodb::error::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    crate::store::spawned(bounded_write(timeout, op(handle.clone()))).await
}

/// Deletes every document of `collection` whose `field` is `owner`: a deleted
/// user's. In `session`'s transaction where there is one (whose commit carries the
/// time limit a `deleteMany` cannot).
pub async fn delete_owned<T: Send + Sync>(
    timeout: Duration,
    collection: &mongodb::Collection<T>,
    field: &str,
    owner: uuid::Uuid,
    session: Option<&mut mongodb::ClientSession>,
) -> Result<(), StoreError> {
    let call = collection.delete_many(bson::doc! { field: bson::Uuid::from(owner) });
    match session {
        Some(session) => bounded(timeout, call.session(session)).await?,
        None => bounded(timeout, call).await?,
    };
    Ok(())
}

/// Why a write that can collide with a unique index failed.
#[derive(Debug)]
pub enum Rejected {
    /// A unique index already holds the value: the first field of its key pattern
    /// (`_id`, `email`, `slug`), as the server reports it, if it does.
    Duplicate(Option<String>),
    Failed(StoreError),
}

impl From<StoreError> for Rejected {
    fn from(error: StoreError) -> Self {
        Self::Failed(error)
    }
}

/// `bounded` for a write that a unique index may refuse: the refusal comes back as
/// `Rejected::Duplicate`, naming the index's field, for the caller to explain.
pub async fn bounded_write<T>(
    timeout: Duration,
    call: impl IntoFuture<Output = mongodb::error::Result<T>>,
) -> Result<T, Rejected> {
    match tokio::time::timeout(timeout, call.into_future()).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) if is_duplicate_key(&error) => {
            Err(Rejected::Duplicate(duplicate_key_field(&error)))
        }
        Ok(Err(error)) => Err(Rejected::Failed(classify(error))),
        Err(_) => Err(Rejected::Failed(StoreError::unavailable(format!(
            "MongoDB did not answer a write within {} ms",
            timeout.as_millis()
        )))),
    }
}

/// The first field of the violated index's key pattern, from the server's reply:
/// `writeErrors[i].keyPattern` for inserts, updates and replacements, a top-level
/// `keyPattern` for `findAndModify`. The driver's error type does not carry it, but
/// it keeps the reply for exactly this.
fn duplicate_key_field(error: &mongodb::error::Error) -> Option<String> {
    let reply = error.server_response()?;
    let pattern = reply.get_document("keyPattern").ok().or_else(|| {
        reply
            .get_array("writeErrors")
            .ok()?
            .into_iter()
            .filter_map(|entry| entry.ok()?.as_document())
            .find_map(|entry| entry.get_document("keyPattern").ok())
    })?;
    let (field, _) = pattern.into_iter().next()?.ok()?;
    Some(field.to_owned())
}
