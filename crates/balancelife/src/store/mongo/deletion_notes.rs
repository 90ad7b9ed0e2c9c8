//! Notes of entry deletions, for a change stream where MongoDB keeps no pre-images.
//!
//! There an entry's deletion event carries its id alone: should the instance that
//! deleted it die before voiding the owner's cached lists (or lose that
//! invalidation), the change-stream invalidator could not tell whose lists to void.
//! So while notes are on, an entry is deleted in a transaction that also inserts a
//! note into `entry_deletions`: its `kind` (`meal`, `workout`), and its owner and
//! day under the entry's own names (`user_id`, `local_date`). An insert's event
//! carries the whole document, and the transaction makes the deletion and the note
//! one change: once the stream sees the note, every read sees the entry gone. Notes
//! expire after an hour (a TTL index); the stream needs their events, not them.
//!
//! Rejected: marking the entry, then deleting it, for the update event to name its
//! owner. The stream looks an updated document up when it reads the event, mostly
//! after the deletion (then it finds nothing); and a mark that names the owner in
//! the update itself is voided before the deletion, leaving a moment in which a read
//! caches the entry again.
//!
//! The invalidator turns notes on when it starts, and off once it knows MongoDB
//! keeps pre-images of both entry collections: a deletion then costs one command,
//! not a transaction.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bson::{Document, doc};
use mongodb::{ClientSession, Collection};

use super::errors::bounded;
use crate::domain::{Entry, EntryData};
use crate::store::StoreResult;

/// The collection the notes go to.
pub const COLLECTION: &str = super::collections::ENTRY_DELETIONS;

/// How long a note is kept: its insert event is what matters, and the stream reads
/// it within moments.
pub const KEPT_FOR: Duration = Duration::from_secs(3600);

/// Whether entry deletions are noted, and where.
pub struct DeletionNotes {
    on: AtomicBool,
    notes: Collection<Document>,
}

impl DeletionNotes {
    /// Off until an invalidator turns them on.
    pub(super) fn new(notes: Collection<Document>) -> Self {
        Self {
            on: AtomicBool::new(false),
            notes,
        }
    }

    /// Whether entry deletions are noted now.
    pub fn are_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    /// Notes entry deletions from now on (`true`), or no longer.
    pub fn turn(&self, on: bool) {
        self.on.store(on, Ordering::Release);
    }

    /// Notes the deletion of `entry`, in the transaction of `session`.
    pub(super) async fn note<D: EntryData>(
        &self,
        entry: &Entry<D>,
        session: &mut ClientSession,
        timeout: Duration,
    ) -> StoreResult<()> {
        let note = doc! {
            "kind": D::KIND.as_str(),
            "user_id": bson::Uuid::from(entry.user_id),
            "local_date": entry.local_date.to_string(),
            "deleted_at": bson::DateTime::now(),
        };
        bounded(timeout, self.notes.insert_one(note).session(session)).await?;
        Ok(())
    }
}
