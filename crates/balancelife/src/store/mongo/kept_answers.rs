//! Kept answers in MongoDB (see `store::kept_answers`): one document per user and
//! kind in `kept_answers`, replaced whole, dropped by a TTL index on `expires_at`
//! once unwritten for `ANSWER_LIFE`.

use std::time::Duration;

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use chrono::{TimeDelta, Utc};
use mongodb::Collection;
use uuid::Uuid;

use super::errors::{bounded, delete_owned, detached};
use crate::store::StoreResult;
use crate::store::kept_answers::{ANSWER_LIFE, KeptAnswers};

pub struct MongoKeptAnswers {
    answers: Collection<Document>,
    timeout: Duration,
}

impl MongoKeptAnswers {
    pub fn new(answers: Collection<Document>, timeout: Duration) -> Self {
        Self { answers, timeout }
    }

    /// Deletes a deleted user's kept answers.
    pub async fn delete_owned_by(
        &self,
        user_id: Uuid,
        session: Option<&mut mongodb::ClientSession>,
    ) -> StoreResult<()> {
        delete_owned(self.timeout, &self.answers, "u", user_id, session).await
    }
}

fn answer_id(user_id: Uuid, kind: &str) -> String {
    format!("{user_id}:{kind}")
}

#[async_trait]
impl KeptAnswers for MongoKeptAnswers {
    async fn get(&self, user_id: Uuid, kind: &str) -> StoreResult<Option<Vec<u8>>> {
        let filter = doc! { "_id": answer_id(user_id, kind) };
        let found = detached(self.timeout, &self.answers, move |answers| async move {
            answers.find_one(filter).await
        })
        .await?;
        Ok(found.and_then(|found| match found.get("answer") {
            Some(Bson::Binary(answer)) => Some(answer.bytes.clone()),
            _ => None,
        }))
    }

    async fn put(&self, user_id: Uuid, kind: &str, answer: Vec<u8>) -> StoreResult<()> {
        let life = TimeDelta::from_std(ANSWER_LIFE).unwrap_or(TimeDelta::MAX);
        let kept = doc! {
            "_id": answer_id(user_id, kind),
            "u": bson::Uuid::from(user_id),
            "answer": bson::Binary {
                subtype: bson::spec::BinarySubtype::Generic,
                bytes: answer,
            },
            "expires_at": bson::DateTime::from_chrono(Utc::now() + life),
        };
        let filter = doc! { "_id": answer_id(user_id, kind) };
        let replace = self.answers.replace_one(filter, kept).upsert(true);
        bounded(self.timeout, replace).await?;
        Ok(())
    }

    async fn forget(&self, user_id: Uuid) -> StoreResult<()> {
        self.delete_owned_by(user_id, None).await
    }
}
