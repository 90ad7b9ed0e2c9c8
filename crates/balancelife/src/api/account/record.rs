//! A change to a user's record made safely against other writers: read as stored
//! (past every cache), changed, written only if still that revision, and made again
//! on what another request wrote in between. Favourites, devices and refresh
//! tokens all change the record this way.

use chrono::TimeDelta;
use uuid::Uuid;

use crate::api::http::error::{ApiError, ApiResult, NotFoundAs};
use crate::api::http::state::SharedState;
use crate::domain::{User, now};
use crate::store::StoreError;

/// How many times a change is made again on another request's write; each waits
/// a little longer, and at random, so two writers racing do not meet again.
const ATTEMPTS: u32 = 5;

/// What a change of the record does.
pub enum Change<T> {
    /// Write the changed record, then answer `T` with it.
    Write(T),
    /// Nothing to write: answer `T` as it is.
    Keep(T),
}

/// Applies `edit` to user `user_id`'s record, and writes it when `edit` says so.
/// `edit` may run more than once (each time on a fresh read), so it must not act on
/// anything but the record. A user gone answers 401: it is the caller's own.
pub async fn change_user<T>(
    state: &SharedState,
    user_id: Uuid,
    mut edit: impl FnMut(&mut User) -> ApiResult<Change<T>>,
) -> ApiResult<(User, T)> {
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            let pause = rand::random_range(0..5 * u64::from(attempt));
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
        let mut user = state
            .store
            .get_user_stored(user_id)
            .await
            .or_if_gone(ApiError::unauthorized)?;
        let read = user.clone();
        let answer = match edit(&mut user)? {
            Change::Keep(answer) => return Ok((user, answer)),
            Change::Write(answer) => answer,
        };
        // Later than the revision read even within its millisecond, so a write
        // that read it too is refused.
        user.updated_at = now().max(read.updated_at + TimeDelta::milliseconds(1));
        match state.store.update_user(user, &read).await {
            Ok(written) => return Ok((written, answer)),
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other).or_if_gone(ApiError::unauthorized),
        }
    }
    Err(ApiError::conflict(
        "the account kept changing under this write; try again",
    ))
}
