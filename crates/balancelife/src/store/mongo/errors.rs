//! Driver errors, sorted into the contract's `StoreError` kinds.

use std::future::IntoFuture;
use std::time::Duration;

use mongodb::error::{ErrorKind, WriteFailure};

use crate::store::StoreError;

/// MongoDB's code for a unique-index violation.
const DUPLICATE_KEY: i32 = 11000;

/// Whether the error is a unique-index violation.
fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        ErrorKind::Command(e) => e.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// A unique-index violation is a `Conflict` (callers say which); connection-level
/// trouble is `Unavailable` (retry later, 503); everything else is a bug or a server
/// refusal we did not expect, so `Internal`.
pub fn classify(error: mongodb::error::Error) -> StoreError {
    if is_duplicate_key(&error) {
        return StoreError::Conflict(error.to_string());
    }
    match error.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => StoreError::Unavailable(error.to_string()),
        ErrorKind::Authentication { .. } => {
            StoreError::Unavailable(format!("MongoDB refused our credentials: {error}"))
        }
        _ if error.contains_label("RetryableWriteError")
            || error.contains_label("TransientTransactionError") =>
        {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Internal(error.to_string()),
    }
}

/// Runs one driver call with a deadline. The driver bounds server selection itself,
/// but not a server that accepted the connection and then stopped answering (a
/// frozen process); the deadline covers that too.
pub async fn bounded<T>(
    timeout: Duration,
    call: impl IntoFuture<Output = mongodb::error::Result<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(timeout, call.into_future()).await {
        Ok(result) => result.map_err(classify),
        Err(_) => Err(StoreError::Unavailable(format!(
            "MongoDB did not answer within {} ms",
            timeout.as_millis()
        ))),
    }
}
