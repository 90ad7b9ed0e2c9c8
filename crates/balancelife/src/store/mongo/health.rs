//! Health samples in MongoDB: one document per sample in `health_samples`, the
//! sample itself under `sample`, beside the fields a list queries (`user_id`,
//! `kind`, `start`) on the `{user_id, kind, start}` index.

use std::time::Duration;

use async_trait::async_trait;
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::Collection;
use uuid::Uuid;

use super::errors::{delete_owned, detached};
use crate::domain::{HealthSample, SampleType};
use crate::store::health::{HealthStore, MAX_LISTED, written_over};
use crate::store::{StoreError, StoreResult, Written};

pub struct MongoHealth {
    samples: Collection<Document>,
    users: Collection<Document>,
    timeout: Duration,
}

impl MongoHealth {
    pub fn new(
        samples: Collection<Document>,
        users: Collection<Document>,
        timeout: Duration,
    ) -> Self {
        Self {
            samples,
            users,
            timeout,
        }
    }

    /// Deletes every sample of a deleted user.
    pub async fn delete_owned_by(
        &self,
        user_id: Uuid,
        session: Option<&mut mongodb::ClientSession>,
    ) -> StoreResult<()> {
        delete_owned(self.timeout, &self.samples, "user_id", user_id, session).await
    }

    async fn find(&self, id: Uuid) -> StoreResult<Option<HealthSample>> {
        let filter = doc! { "_id": bson::Uuid::from(id) };
        let found = detached(self.timeout, &self.samples, move |samples| async move {
            samples.find_one(filter).await
        })
        .await?;
        found.map(|document| decode(&document)).transpose()
    }
}

fn encode(sample: &HealthSample) -> StoreResult<Document> {
    let body = bson::to_document(sample)
        .map_err(|e| StoreError::internal("encoding a health sample").because(e))?;
    Ok(doc! {
        "_id": bson::Uuid::from(sample.id),
        "user_id": bson::Uuid::from(sample.user_id),
        "kind": sample.kind.as_str(),
        "start": bson::DateTime::from_chrono(sample.start),
        "sample": body,
    })
}

fn decode(document: &Document) -> StoreResult<HealthSample> {
    let body = document
        .get_document("sample")
        .map_err(|e| StoreError::internal("a health sample without its body").because(e))?;
    bson::from_document(body.clone())
        .map_err(|e| StoreError::internal("decoding a health sample").because(e))
}

#[async_trait]
impl HealthStore for MongoHealth {
    async fn put(&self, sample: HealthSample) -> StoreResult<Written<HealthSample>> {
        let owner = doc! { "_id": bson::Uuid::from(sample.user_id) };
        let exists = detached(self.timeout, &self.users, move |users| async move {
            users.find_one(owner).projection(doc! { "_id": 1 }).await
        })
        .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let previous = self.find(sample.id).await?;
        let written = written_over(previous.as_ref(), &sample)?;
        if !written.changed() {
            return Ok(written);
        }
        // Another user's sample is never replaced: the filter names the owner.
        let filter = doc! {
            "_id": bson::Uuid::from(sample.id),
            "user_id": bson::Uuid::from(sample.user_id),
        };
        let document = encode(&sample)?;
        let timeout = self.timeout;
        detached(timeout, &self.samples, move |samples| async move {
            samples.replace_one(filter, document).upsert(true).await
        })
        .await?;
        Ok(written)
    }

    async fn remove(&self, user_id: Uuid, id: Uuid) -> StoreResult<HealthSample> {
        let filter = doc! { "_id": bson::Uuid::from(id), "user_id": bson::Uuid::from(user_id) };
        let timeout = self.timeout;
        let removed = detached(timeout, &self.samples, move |samples| async move {
            samples.find_one_and_delete(filter).max_time(timeout).await
        })
        .await?;
        removed.map_or(Err(StoreError::NotFound), |document| decode(&document))
    }

    async fn list(
        &self,
        user_id: Uuid,
        kind: SampleType,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<HealthSample>> {
        let filter = doc! {
            "user_id": bson::Uuid::from(user_id),
            "kind": kind.as_str(),
            "start": {
                "$gte": bson::DateTime::from_chrono(from),
                "$lt": bson::DateTime::from_chrono(to),
            },
        };
        let limit = i64::try_from(MAX_LISTED).expect("fits");
        let found = detached(self.timeout, &self.samples, move |samples| async move {
            samples
                .find(filter)
                .sort(doc! { "start": 1, "_id": 1 })
                .limit(limit)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        found.iter().map(decode).collect()
    }
}
