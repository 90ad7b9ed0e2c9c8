//! The in-memory store's health samples, by id.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use uuid::Uuid;

use super::Users;
use crate::domain::{HealthSample, SampleType};
use crate::store::health::{HealthStore, MAX_LISTED, written_over};
use crate::store::{StoreError, StoreResult, Written};

pub struct HealthTable {
    users: Arc<RwLock<Users>>,
    by_id: RwLock<HashMap<Uuid, HealthSample>>,
}

impl HealthTable {
    pub fn new(users: Arc<RwLock<Users>>) -> Self {
        Self {
            users,
            by_id: RwLock::default(),
        }
    }

    /// Called by `delete_user` while it holds the users write lock.
    pub fn remove_owner(&self, user_id: Uuid) {
        self.by_id
            .write()
            .retain(|_, sample| sample.user_id != user_id);
    }
}

#[async_trait]
impl HealthStore for HealthTable {
    async fn put(&self, sample: HealthSample) -> StoreResult<Written<HealthSample>> {
        let users = self.users.read();
        if !users.by_id.contains_key(&sample.user_id) {
            return Err(StoreError::NotFound);
        }
        let mut samples = self.by_id.write();
        let written = written_over(samples.get(&sample.id), &sample)?;
        if !written.changed() {
            return Ok(written);
        }
        samples.insert(sample.id, sample);
        Ok(written)
    }

    async fn remove(&self, user_id: Uuid, id: Uuid) -> StoreResult<HealthSample> {
        let mut samples = self.by_id.write();
        match samples.get(&id) {
            Some(sample) if sample.user_id == user_id => {}
            _ => return Err(StoreError::NotFound),
        }
        Ok(samples.remove(&id).expect("just found"))
    }

    async fn list(
        &self,
        user_id: Uuid,
        kind: SampleType,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<HealthSample>> {
        let mut found: Vec<HealthSample> = self
            .by_id
            .read()
            .values()
            .filter(|s| s.user_id == user_id && s.kind == kind && s.start >= from && s.start < to)
            .cloned()
            .collect();
        found.sort_by_key(|sample| (sample.start, sample.id));
        found.truncate(MAX_LISTED);
        Ok(found)
    }
}
