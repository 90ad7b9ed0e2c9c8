//! Batch answers in MongoDB (see `store::batches`): one document per batch in
//! `sync_batches`, claimed by inserting it, expired by a TTL index on `expires_at`.

use std::time::Duration;

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use chrono::{TimeDelta, Utc};
use mongodb::Collection;
use uuid::Uuid;

use super::errors::{Rejected, bounded, delete_owned, detached, insert_unless_taken};
use crate::store::batches::{ANSWER_KEPT, BatchClaim, BatchStore};
use crate::store::{StoreError, StoreResult};

pub struct MongoBatches {
    batches: Collection<Document>,
    timeout: Duration,
}

impl MongoBatches {
    pub fn new(batches: Collection<Document>, timeout: Duration) -> Self {
        Self { batches, timeout }
    }

    /// Deletes the kept answers of a deleted user's batches.
    pub async fn delete_owned_by(
        &self,
        user_id: Uuid,
        session: Option<&mut mongodb::ClientSession>,
    ) -> StoreResult<()> {
        delete_owned(self.timeout, &self.batches, "u", user_id, session).await
    }
}

fn batch_id(user_id: Uuid, id: Uuid) -> String {
    format!("{user_id}:{id}")
}

#[async_trait]
impl BatchStore for MongoBatches {
    async fn claim(
        &self,
        user_id: Uuid,
        id: Uuid,
        digest: &str,
        abandoned_after: Duration,
    ) -> StoreResult<BatchClaim> {
        let now = Utc::now();
        let kept = TimeDelta::from_std(ANSWER_KEPT).unwrap_or(TimeDelta::MAX);
        let fresh = doc! {
            "_id": batch_id(user_id, id),
            "u": bson::Uuid::from(user_id),
            "digest": digest,
            "claimed_at": bson::DateTime::from_chrono(now),
            "expires_at": bson::DateTime::from_chrono(now + kept),
        };
        match insert_unless_taken(self.timeout, &self.batches, &fresh).await {
            Ok(true) => return Ok(BatchClaim::Fresh),
            Ok(false) => {}
            Err(Rejected::Duplicate(_)) => {
                return Err(StoreError::internal(
                    "a batch claim met another unique index",
                ));
            }
            Err(Rejected::Failed(error)) => return Err(error),
        }
        let filter = doc! { "_id": batch_id(user_id, id) };
        let found = detached(self.timeout, &self.batches, move |batches| async move {
            batches.find_one(filter).await
        })
        .await?;
        let Some(found) = found else {
            // Released meanwhile: the claim is asked for again by a retry.
            return Ok(BatchClaim::Running);
        };
        if found.get_str("digest") != Ok(digest) {
            return Ok(BatchClaim::Other);
        }
        match found.get("answer") {
            Some(Bson::String(answer)) => return Ok(BatchClaim::Done(answer.clone().into_bytes())),
            Some(Bson::Binary(answer)) => return Ok(BatchClaim::Done(answer.bytes.clone())),
            _ => {}
        }
        let claimed_at = match found.get("claimed_at") {
            Some(Bson::DateTime(at)) => *at,
            _ => bson::DateTime::MIN,
        };
        let abandoned = TimeDelta::from_std(abandoned_after).unwrap_or(TimeDelta::MAX);
        if now - claimed_at.to_chrono() < abandoned {
            return Ok(BatchClaim::Running);
        }
        // Its request died: the first to take it over by its claim time has it.
        let filter = doc! {
            "_id": batch_id(user_id, id),
            "claimed_at": claimed_at,
            "answer": { "$exists": false },
        };
        let update = doc! { "$set": { "claimed_at": bson::DateTime::from_chrono(now) } };
        let taken = bounded(self.timeout, self.batches.update_one(filter, update)).await?;
        Ok(if taken.matched_count == 1 {
            BatchClaim::Fresh
        } else {
            BatchClaim::Running
        })
    }

    async fn finish(&self, user_id: Uuid, id: Uuid, answer: Vec<u8>) -> StoreResult<()> {
        let filter = doc! { "_id": batch_id(user_id, id) };
        let answer = bson::Binary {
            subtype: bson::spec::BinarySubtype::Generic,
            bytes: answer,
        };
        let update = doc! { "$set": { "answer": answer } };
        bounded(self.timeout, self.batches.update_one(filter, update)).await?;
        Ok(())
    }

    async fn release(&self, user_id: Uuid, id: Uuid) -> StoreResult<()> {
        let filter = doc! { "_id": batch_id(user_id, id), "answer": { "$exists": false } };
        bounded(self.timeout, self.batches.delete_one(filter)).await?;
        Ok(())
    }
}
