//! The in-memory store's batch answers (see `store::batches`), dropped once kept
//! long enough.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use uuid::Uuid;

use crate::store::StoreResult;
use crate::store::batches::{ANSWER_KEPT, BatchClaim, BatchStore};

#[derive(Default)]
pub struct BatchTable {
    by_id: Mutex<HashMap<(Uuid, Uuid), Batch>>,
}

struct Batch {
    digest: String,
    claimed: Instant,
    answer: Option<Vec<u8>>,
}

impl BatchTable {
    /// Called by `delete_user`.
    pub fn remove_owner(&self, user_id: Uuid) {
        self.by_id.lock().retain(|(owner, _), _| *owner != user_id);
    }
}

#[async_trait]
impl BatchStore for BatchTable {
    async fn claim(
        &self,
        user_id: Uuid,
        id: Uuid,
        digest: &str,
        abandoned_after: Duration,
    ) -> StoreResult<BatchClaim> {
        let mut batches = self.by_id.lock();
        let now = Instant::now();
        batches.retain(|_, batch| now.duration_since(batch.claimed) < ANSWER_KEPT);
        let claimed = match batches.get_mut(&(user_id, id)) {
            None => None,
            Some(batch) if batch.digest != digest => return Ok(BatchClaim::Other),
            Some(Batch {
                answer: Some(answer),
                ..
            }) => return Ok(BatchClaim::Done(answer.clone())),
            Some(batch) if now.duration_since(batch.claimed) < abandoned_after => {
                return Ok(BatchClaim::Running);
            }
            Some(batch) => Some(batch),
        };
        match claimed {
            Some(batch) => batch.claimed = now,
            None => {
                batches.insert(
                    (user_id, id),
                    Batch {
                        digest: digest.to_owned(),
                        claimed: now,
                        answer: None,
                    },
                );
            }
        }
        Ok(BatchClaim::Fresh)
    }

    async fn finish(&self, user_id: Uuid, id: Uuid, answer: Vec<u8>) -> StoreResult<()> {
        if let Some(batch) = self.by_id.lock().get_mut(&(user_id, id)) {
            batch.answer = Some(answer);
        }
        Ok(())
    }

    async fn release(&self, user_id: Uuid, id: Uuid) -> StoreResult<()> {
        self.by_id.lock().remove(&(user_id, id));
        Ok(())
    }
}
