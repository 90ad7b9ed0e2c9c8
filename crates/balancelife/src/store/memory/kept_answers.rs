//! The in-memory store's kept answers (see `store::kept_answers`).

use std::collections::HashMap;

use async_trait::async_trait;
use parking_lot::Mutex;
use uuid::Uuid;

use crate::store::StoreResult;
use crate::store::kept_answers::KeptAnswers;

#[derive(Default)]
pub struct AnswerTable {
    by_user: Mutex<HashMap<(Uuid, String), Vec<u8>>>,
}

impl AnswerTable {
    /// Called by `delete_user`.
    pub fn remove_owner(&self, user_id: Uuid) {
        self.by_user
            .lock()
            .retain(|(owner, _), _| *owner != user_id);
    }
}

#[async_trait]
impl KeptAnswers for AnswerTable {
    async fn get(&self, user_id: Uuid, kind: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .by_user
            .lock()
            .get(&(user_id, kind.to_owned()))
            .cloned())
    }

    async fn put(&self, user_id: Uuid, kind: &str, answer: Vec<u8>) -> StoreResult<()> {
        self.by_user
            .lock()
            .insert((user_id, kind.to_owned()), answer);
        Ok(())
    }

    async fn forget(&self, user_id: Uuid) -> StoreResult<()> {
        self.remove_owner(user_id);
        Ok(())
    }
}
