//! Batches of writes a phone sends once it is online again, by the id the phone
//! gave them: the first to arrive claims the id, and its answer is kept, so the same
//! batch sent again (its answer was lost) is answered the same without applying
//! anything twice.

use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;

/// How long a batch's answer is kept for a resend.
pub const ANSWER_KEPT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// What a claim of a batch id found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchClaim {
    /// Nobody had it: it is the caller's to apply and `finish`.
    Fresh,
    /// Another request is applying it now.
    Running,
    /// It was applied: the answer then, to send again.
    Done(Vec<u8>),
    /// The id was used for a batch of other operations.
    Other,
}

#[async_trait]
pub trait BatchStore: Send + Sync {
    /// Claims batch `id` of `user_id`, whose operations hash to `digest`. A claim
    /// older than `abandoned_after` that never finished is the caller's again (its
    /// request died; each operation it may have applied is safe to apply again).
    async fn claim(
        &self,
        user_id: Uuid,
        id: Uuid,
        digest: &str,
        abandoned_after: Duration,
    ) -> StoreResult<BatchClaim>;

    /// Keeps the answer of a batch the caller claimed.
    async fn finish(&self, user_id: Uuid, id: Uuid, answer: Vec<u8>) -> StoreResult<()>;

    /// Gives up a claim of a batch that was not applied (nothing of it was).
    async fn release(&self, user_id: Uuid, id: Uuid) -> StoreResult<()>;
}
