//! The health samples' part of the storage contract (see `domain::health`): a
//! user's samples by id, written again when their record changes, listed by type
//! and time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StoreError, StoreResult, Written};
use crate::domain::{HealthSample, SampleType};

/// The most samples one list answers.
pub const MAX_LISTED: usize = 5_000;

/// What writing `sample` over `stored` (what its id holds now) is: `NotFound`
/// over another user's, `Unchanged` (nothing to write) over the same content.
pub fn written_over(
    stored: Option<&HealthSample>,
    sample: &HealthSample,
) -> StoreResult<Written<HealthSample>> {
    Ok(match stored {
        Some(stored) if stored.user_id != sample.user_id => return Err(StoreError::NotFound),
        Some(stored) if stored.same_content(sample) => Written::Unchanged(stored.clone()),
        Some(stored) => Written::Replaced {
            stored: sample.clone(),
            previous: stored.clone(),
        },
        None => Written::Created(sample.clone()),
    })
}

#[async_trait]
pub trait HealthStore: Send + Sync {
    /// Creates or replaces the sample of `sample.id`: `Created`, `Unchanged` or
    /// `Replaced`. `NotFound` when the owner does not exist, or the id is another
    /// user's.
    async fn put(&self, sample: HealthSample) -> StoreResult<Written<HealthSample>>;

    /// Removes the user's sample `id`, and returns it; `NotFound` if there is none.
    async fn remove(&self, user_id: Uuid, id: Uuid) -> StoreResult<HealthSample>;

    /// The user's samples of `kind` that start in `[from, to)`, by start, at most
    /// `MAX_LISTED`.
    async fn list(
        &self,
        user_id: Uuid,
        kind: SampleType,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<HealthSample>>;
}
