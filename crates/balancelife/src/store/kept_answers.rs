//! Answers computed from a user's data, kept so that any instance, and this one
//! after a restart, can hand them out again while nothing they were made from
//! changed. The store keeps bytes by user and kind and knows nothing of what they
//! say: the caller stamps each answer with what it was made from (`training`
//! stamps the user's sync feed head) and checks the stamp before using it, so a
//! kept answer is never trusted, only reused. One answer per user and kind: a
//! newer one replaces the older, whatever it was asked with.

use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;

/// How long an answer is kept after it was written before the store may drop it:
/// it keeps the collection the size of the users who come back, and costs one
/// computation.
pub const ANSWER_LIFE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

#[async_trait]
pub trait KeptAnswers: Send + Sync {
    /// The answer of `kind` last kept for `user_id`, if any.
    async fn get(&self, user_id: Uuid, kind: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Keeps `answer` as `user_id`'s of `kind`, in place of any other.
    async fn put(&self, user_id: Uuid, kind: &str, answer: Vec<u8>) -> StoreResult<()>;

    /// Drops every answer of `user_id`: what deleting the user does, and what a
    /// writer does when the user was deleted while it computed.
    async fn forget(&self, user_id: Uuid) -> StoreResult<()>;
}
