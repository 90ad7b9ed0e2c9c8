//! Meal and workout entries in MongoDB, written once over `EntryDocument`.
//!
//! Every query filters on `user_id` as well as `_id`, so another user's entry is
//! never read, changed or deleted; lists are one range over the `{user_id, position}`
//! index (see `documents::position_key`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::Collection;
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::Transactions;
use super::bulk::{statement, update_statements};
use super::deletion_notes::DeletionNotes;
use super::documents::{EntryDocument, SUMMED_AS, day_start_key, position_key};
use super::errors::{DUPLICATE_KEY, Rejected, bounded, detached, insert_unless_taken};
use super::feed::{FeedClock, Intent, Outcome};
use crate::domain::{DaySums, Entry, EntryPosition};
use crate::store::sync_feed::FeedKind;
use crate::store::{
    DateRange, DaySumsByDate, EntryStore, Page, PageRequest, StoreError, StoreResult, Written,
    changed_concurrently, put_one_by_one, put_together,
};

pub struct MongoEntries<D: EntryDocument> {
    entries: Collection<D::Doc>,
    users: Collection<Document>,
    timeout: Duration,
    transactions: Transactions,
    deletion_notes: Arc<DeletionNotes>,
    /// Numbers every write in the owner's sync feed.
    clock: Arc<FeedClock>,
}

impl<D: EntryDocument> MongoEntries<D> {
    pub fn new(
        entries: Collection<D::Doc>,
        users: Collection<Document>,
        timeout: Duration,
        (transactions, deletion_notes, clock): (Transactions, Arc<DeletionNotes>, Arc<FeedClock>),
    ) -> Self {
        Self {
            entries,
            users,
            timeout,
            transactions,
            deletion_notes,
            clock,
        }
    }

    fn intent(id: Uuid, deletes: bool) -> Intent {
        Intent {
            kind: FeedKind::of_entries::<D>(),
            id,
            deletes,
        }
    }

    /// Deletes the entry (`filter`) and notes whose it was, in one transaction
    /// (see `DeletionNotes`); `None` if the filter matched nothing.
    async fn delete_noted(&self, filter: Document) -> StoreResult<Option<Entry<D>>> {
        let mut session = self.transactions.begin().await?;
        let delete = self
            .entries
            .find_one_and_delete(filter)
            .session(&mut session);
        let Some(deleted) = bounded(self.timeout, delete).await?.map(D::from_doc) else {
            let _ = session.abort_transaction().await;
            return Ok(None);
        };
        self.deletion_notes
            .note(&deleted, &mut session, self.timeout)
            .await?;
        bounded(self.timeout, session.commit_transaction()).await?;
        Ok(Some(deleted))
    }

    /// Entries are only written for users that exist (`NotFound` otherwise).
    async fn ensure_owner(&self, user_id: Uuid) -> StoreResult<()> {
        let filter = doc! { "_id": bson::Uuid::from(user_id) };
        let owner = detached(self.timeout, &self.users, move |users| async move {
            users.find_one(filter).projection(doc! { "_id": 1 }).await
        })
        .await?;
        owner.map(|_| ()).ok_or(StoreError::NotFound)
    }

    async fn find_by_id(&self, id: Uuid) -> StoreResult<Option<Entry<D>>> {
        let filter = doc! { "_id": bson::Uuid::from(id) };
        let found = detached(self.timeout, &self.entries, move |entries| async move {
            entries.find_one(filter).await
        })
        .await?;
        Ok(found.map(D::from_doc))
    }

    /// A `deleteMany`, which the driver cannot give a server-side time limit: in a
    /// transaction the commit carries it; on a standalone server (a user deleted in
    /// steps) the user's own deletion, which follows, voids everything of theirs.
    pub async fn delete_owned_by(&self, user_id: Uuid) -> StoreResult<u64> {
        let filter = doc! { "user_id": bson::Uuid::from(user_id) };
        Ok(bounded(self.timeout, self.entries.delete_many(filter))
            .await?
            .deleted_count)
    }

    pub fn collection(&self) -> &Collection<D::Doc> {
        &self.entries
    }

    /// Inserts many entries in batches, without the per-entry owner and id checks of
    /// `create`: for bulk loads of trusted data (the benchmark's large histories).
    pub async fn insert_many_unchecked(&self, entries: &[Entry<D>]) -> StoreResult<()> {
        for batch in entries.chunks(1_000) {
            let docs: Vec<D::Doc> = batch.iter().map(D::to_doc).collect();
            bounded(self.timeout * 10, self.entries.insert_many(docs)).await?;
        }
        Ok(())
    }
}

fn owned(user_id: Uuid, id: Uuid) -> Document {
    doc! { "_id": bson::Uuid::from(id), "user_id": bson::Uuid::from(user_id) }
}

fn other_content() -> StoreError {
    StoreError::Conflict("an entry with this id already exists with other content".into())
}

/// The writes themselves; the store's interface numbers each in the sync feed.
impl<D: EntryDocument> MongoEntries<D> {
    async fn create_unnumbered(&self, entry: Entry<D>) -> StoreResult<Written<Entry<D>>> {
        self.ensure_owner(entry.user_id).await?;
        match insert_unless_taken(self.timeout, &self.entries, &D::to_doc(&entry)).await {
            Ok(true) => Ok(Written::Created(entry)),
            // The id is taken (`_id` is the only unique index): a retry of the same
            // create, or a clash.
            Ok(false) | Err(Rejected::Duplicate(_)) => match self.find_by_id(entry.id).await? {
                Some(existing) if existing.user_id != entry.user_id => Err(StoreError::NotFound),
                Some(existing) if existing.same_content(&entry) => Ok(Written::Unchanged(existing)),
                _ => Err(other_content()),
            },
            Err(Rejected::Failed(other)) => Err(other),
        }
    }

    async fn put_unnumbered(&self, entry: Entry<D>) -> StoreResult<Written<Entry<D>>> {
        self.ensure_owner(entry.user_id).await?;
        self.put_owned(entry).await
    }

    /// `put_unnumbered` of an entry whose owner exists.
    async fn put_owned(&self, mut entry: Entry<D>) -> StoreResult<Written<Entry<D>>> {
        // Two rounds: a concurrent writer may insert or delete between read and write.
        for _ in 0..2 {
            match self.find_by_id(entry.id).await? {
                None => {
                    let document = D::to_doc(&entry);
                    match insert_unless_taken(self.timeout, &self.entries, &document).await {
                        Ok(true) => return Ok(Written::Created(entry)),
                        // Inserted by someone else meanwhile: read it again.
                        Ok(false) | Err(Rejected::Duplicate(_)) => continue,
                        Err(Rejected::Failed(other)) => return Err(other),
                    }
                }
                Some(existing) if existing.user_id != entry.user_id => {
                    return Err(StoreError::NotFound);
                }
                Some(existing) if existing.same_content(&entry) => {
                    return Ok(Written::Unchanged(existing));
                }
                Some(existing) => {
                    entry.created_at = existing.created_at;
                    // The replacement returns what it replaced: the entry may have
                    // moved to another day since it was read.
                    let (filter, document) = (owned(entry.user_id, entry.id), D::to_doc(&entry));
                    let timeout = self.timeout;
                    let replaced = detached(timeout, &self.entries, move |entries| async move {
                        entries
                            .find_one_and_replace(filter, document)
                            .max_time(timeout)
                            .await
                    })
                    .await?;
                    if let Some(previous) = replaced {
                        return Ok(Written::Replaced {
                            stored: entry,
                            previous: D::from_doc(previous),
                        });
                    }
                }
            }
        }
        Err(StoreError::Conflict(
            "the entry changed concurrently; retry the request".into(),
        ))
    }

    /// `put` of many entries of one owner, ids all different, whose owner exists:
    /// one lookup of them all, then one command inserting the new ones, numbered
    /// together; an entry that is there with other content (an edit), or was
    /// inserted by someone else meanwhile, is put on its own after, numbered as a
    /// `put` is. Each write is numbered just before it is sent, so a reader's
    /// settling of numbers left under way (`FeedClock::end`) judges it by its own
    /// start.
    async fn put_many_owned(
        &self,
        user_id: Uuid,
        entries: Vec<Entry<D>>,
    ) -> StoreResult<Vec<StoreResult<Written<Entry<D>>>>> {
        let ids: Vec<bson::Uuid> = entries.iter().map(|entry| entry.id.into()).collect();
        let filter = doc! { "_id": { "$in": ids } };
        let found = detached(self.timeout, &self.entries, move |entries| async move {
            entries.find(filter).await?.try_collect::<Vec<_>>().await
        })
        .await?;
        let existing: HashMap<Uuid, Entry<D>> = found
            .into_iter()
            .map(|doc| {
                let entry = D::from_doc(doc);
                (entry.id, entry)
            })
            .collect();
        let mut results: Vec<Option<StoreResult<Written<Entry<D>>>>> = vec![None; entries.len()];
        let mut fresh = Vec::new();
        for (place, entry) in entries.iter().enumerate() {
            results[place] = match existing.get(&entry.id) {
                None => {
                    fresh.push(place);
                    continue;
                }
                Some(found) if found.user_id != entry.user_id => Some(Err(StoreError::NotFound)),
                // Nothing to write, so nothing to number.
                Some(found) if found.same_content(entry) => {
                    Some(Ok(Written::Unchanged(found.clone())))
                }
                // An edit: put on its own below.
                Some(_) => None,
            };
        }
        if !fresh.is_empty() {
            let inserted = self.insert_fresh(user_id, &entries, &fresh).await;
            for (place, result) in fresh.into_iter().zip(inserted) {
                results[place] = result;
            }
        }
        let mut answered = Vec::with_capacity(entries.len());
        for (entry, result) in entries.into_iter().zip(results) {
            answered.push(match result {
                Some(result) => result,
                None => {
                    let intent = Self::intent(entry.id, false);
                    let write = self.put_owned(entry);
                    self.clock
                        .numbered(user_id, intent, write, Written::changed)
                        .await
                }
            });
        }
        Ok(answered)
    }

    /// Inserts `entries[place]` for each place in `fresh`, as `insert_unless_taken`
    /// each, in one command numbered in the feed: `Created`, or `None` for one
    /// whose id was taken meanwhile (for the caller to put on its own).
    async fn insert_fresh(
        &self,
        user_id: Uuid,
        entries: &[Entry<D>],
        fresh: &[usize],
    ) -> Vec<Option<StoreResult<Written<Entry<D>>>>> {
        let mut statements = Vec::with_capacity(fresh.len());
        for &place in fresh {
            let encoded = bson::to_document(&D::to_doc(&entries[place]))
                .map_err(|e| StoreError::internal("encoding an entry").because(e));
            let mut fields = match encoded {
                Ok(fields) => fields,
                Err(error) => return vec![Some(Err(error)); fresh.len()],
            };
            let id = fields.remove("_id").unwrap_or(bson::Bson::Null);
            statements.push(statement(
                doc! { "_id": id },
                doc! { "$setOnInsert": fields },
                true,
            ));
        }
        let intents = fresh
            .iter()
            .map(|&place| Self::intent(entries[place].id, false))
            .collect();
        let ticket = match self.clock.begin(user_id, intents).await {
            Ok(ticket) => ticket,
            Err(error) => return vec![Some(Err(error)); fresh.len()],
        };
        let (answers, outcomes) =
            match update_statements(self.timeout, &self.entries, statements).await {
                // Sent, and maybe applied: numbers left under way, for a reader to settle.
                Err(error) => (
                    vec![Some(Err(error)); fresh.len()],
                    vec![Outcome::Unknown; fresh.len()],
                ),
                Ok(done) => (0..fresh.len())
                    .map(|statement| {
                        let entry = &entries[fresh[statement]];
                        match done.refused.get(&statement) {
                            _ if done.upserted.contains(&statement) => {
                                (Some(Ok(Written::Created(entry.clone()))), Outcome::Changed)
                            }
                            // Refused, so not written: an id inserted meanwhile is put
                            // on its own, anything else answered as the failure it is.
                            Some(&code) if code != DUPLICATE_KEY => (
                                Some(Err(StoreError::internal(format!(
                                    "MongoDB refused to insert an entry (code {code})"
                                )))),
                                Outcome::Unchanged,
                            ),
                            // Neither inserted nor refused: the id was taken meanwhile.
                            _ => (None, Outcome::Unchanged),
                        }
                    })
                    .unzip(),
            };
        self.clock.end_each(ticket, outcomes).await;
        answers
    }

    async fn update_unnumbered(
        &self,
        entry: Entry<D>,
        expected_updated_at: DateTime<Utc>,
    ) -> StoreResult<Entry<D>> {
        let mut fields = bson::to_document(&D::to_doc(&entry))
            .map_err(|e| StoreError::internal("encoding an entry").because(e))?;
        // `created_at` stays as first written; `_id` and the owner never change.
        fields.remove("_id");
        fields.remove("user_id");
        fields.remove("created_at");
        let filter = doc! {
            "_id": bson::Uuid::from(entry.id),
            "user_id": bson::Uuid::from(entry.user_id),
            "updated_at": bson::DateTime::from_chrono(expected_updated_at),
        };
        let timeout = self.timeout;
        let updated = detached(timeout, &self.entries, move |entries| async move {
            entries
                .find_one_and_update(filter, doc! { "$set": fields })
                .return_document(ReturnDocument::After)
                .max_time(timeout)
                .await
        })
        .await?;
        match updated {
            Some(doc) => Ok(D::from_doc(doc)),
            // Not the owner's, or changed since the caller read it.
            None => self
                .get(entry.user_id, entry.id)
                .await
                .and(Err(changed_concurrently())),
        }
    }

    /// `delete_unnumbered`, numbered in the owner's sync feed.
    async fn delete_numbered(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected: Option<DateTime<Utc>>,
    ) -> StoreResult<Entry<D>> {
        let write = self.delete_unnumbered(user_id, id, expected);
        let intent = Self::intent(id, true);
        self.clock.numbered(user_id, intent, write, |_| true).await
    }

    /// Deletes the owner's entry, if it is still the revision `expected` (when
    /// given): otherwise a conflict, `NotFound` when there is none.
    async fn delete_unnumbered(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected: Option<DateTime<Utc>>,
    ) -> StoreResult<Entry<D>> {
        let mut filter = owned(user_id, id);
        if let Some(expected) = expected {
            filter.insert("updated_at", bson::DateTime::from_chrono(expected));
        }
        let deleted = if self.deletion_notes.are_on() {
            self.delete_noted(filter).await?
        } else {
            let timeout = self.timeout;
            detached(timeout, &self.entries, move |entries| async move {
                entries.find_one_and_delete(filter).max_time(timeout).await
            })
            .await?
            .map(D::from_doc)
        };
        match deleted {
            Some(deleted) => Ok(deleted),
            // Not the owner's, or changed since the caller read it.
            None if expected.is_some() => {
                self.get(user_id, id).await.and(Err(changed_concurrently()))
            }
            None => Err(StoreError::NotFound),
        }
    }
}

#[async_trait]
impl<D: EntryDocument> EntryStore<D> for MongoEntries<D> {
    async fn create(&self, entry: Entry<D>) -> StoreResult<Written<Entry<D>>> {
        let (user_id, intent) = (entry.user_id, Self::intent(entry.id, false));
        let write = self.create_unnumbered(entry);
        self.clock
            .numbered(user_id, intent, write, Written::changed)
            .await
    }

    async fn put(&self, entry: Entry<D>) -> StoreResult<Written<Entry<D>>> {
        let (user_id, intent) = (entry.user_id, Self::intent(entry.id, false));
        let write = self.put_unnumbered(entry);
        self.clock
            .numbered(user_id, intent, write, Written::changed)
            .await
    }

    /// One owner check, one lookup, and for the new entries one ticket, one command
    /// and one for their markers: a handful of round trips for a phone's batch of
    /// new entries rather than several for each (edits go one by one).
    async fn put_many(
        &self,
        entries: Vec<Entry<D>>,
    ) -> StoreResult<Vec<StoreResult<Written<Entry<D>>>>> {
        let Some(user_id) = put_together(&entries) else {
            return Ok(put_one_by_one(self, entries).await);
        };
        self.ensure_owner(user_id).await?;
        self.put_many_owned(user_id, entries).await
    }

    async fn get(&self, user_id: Uuid, id: Uuid) -> StoreResult<Entry<D>> {
        let filter = owned(user_id, id);
        let found = detached(self.timeout, &self.entries, move |entries| async move {
            entries.find_one(filter).await
        })
        .await?;
        found.map(D::from_doc).ok_or(StoreError::NotFound)
    }

    async fn update(
        &self,
        entry: Entry<D>,
        expected_updated_at: DateTime<Utc>,
    ) -> StoreResult<Entry<D>> {
        let (user_id, intent) = (entry.user_id, Self::intent(entry.id, false));
        let write = self.update_unnumbered(entry, expected_updated_at);
        self.clock.numbered(user_id, intent, write, |_| true).await
    }

    async fn delete(&self, user_id: Uuid, id: Uuid) -> StoreResult<Entry<D>> {
        self.delete_numbered(user_id, id, None).await
    }

    async fn delete_unchanged(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected_updated_at: DateTime<Utc>,
    ) -> StoreResult<Entry<D>> {
        self.delete_numbered(user_id, id, Some(expected_updated_at))
            .await
    }

    /// One lookup on the `package_id` index, across every user.
    async fn names_package(&self, package_id: Uuid) -> StoreResult<bool> {
        let filter = doc! { "package_id": bson::Uuid::from(package_id) };
        let entries = self.entries.clone_with_type::<Document>();
        let found = detached(self.timeout, &entries, move |entries| async move {
            entries.find_one(filter).projection(doc! { "_id": 1 }).await
        })
        .await?;
        Ok(found.is_some())
    }

    async fn list(
        &self,
        user_id: Uuid,
        range: DateRange,
        page: PageRequest<EntryPosition>,
    ) -> StoreResult<Page<Entry<D>, EntryPosition>> {
        let start = day_start_key(range.from());
        let end = range
            .to()
            .succ_opt()
            .map_or_else(|| "9".to_owned(), day_start_key);
        let lower = match page.after.as_ref().map(position_key) {
            Some(after) if after >= start => doc! { "$gt": after },
            _ => doc! { "$gte": start },
        };
        let mut bounds = lower;
        bounds.insert("$lt", end);
        let filter = doc! { "user_id": bson::Uuid::from(user_id), "position": bounds };
        let limit = i64::try_from(page.limit.get() + 1).expect("small page size");
        let docs: Vec<D::Doc> = detached(self.timeout, &self.entries, move |entries| async move {
            entries
                .find(filter)
                .sort(doc! { "position": 1 })
                .limit(limit)
                .await?
                .try_collect()
                .await
        })
        .await?;
        let items = docs.into_iter().map(D::from_doc).collect();
        Ok(Page::from_overfetched(items, page.limit, Entry::position))
    }

    /// One aggregation: the range on the `{user_id, position}` index, grouped by day
    /// on the server, so one row per day crosses the network however many entries.
    async fn day_sums(&self, user_id: Uuid, range: DateRange) -> StoreResult<DaySumsByDate> {
        let end = range
            .to()
            .succ_opt()
            .map_or_else(|| "9".to_owned(), day_start_key);
        let mut group = doc! { "_id": "$local_date", "entries": { "$sum": 1 } };
        for (name, field) in SUMMED_AS.into_iter().zip(D::SUMMED) {
            let summed = field.map_or(bson::Bson::Int32(0), |field| format!("${field}").into());
            group.insert(name, doc! { "$sum": summed });
        }
        group.insert(
            "without_macros",
            doc! { "$sum": lacking_any(D::OPTIONAL_MACROS) },
        );
        if let Some(weight) = D::WEIGHT {
            // `$sum` passes over a null, so a record without a weight adds nothing.
            group.insert("weight_kg", doc! { "$sum": format!("${weight}") });
            group.insert(
                "weigh_ins",
                doc! { "$sum": { "$cond": [{ "$eq": [{ "$ifNull": [format!("${weight}"), bson::Bson::Null] }, bson::Bson::Null] }, 0, 1] } },
            );
        }
        let pipeline = [
            doc! { "$match": {
                "user_id": bson::Uuid::from(user_id),
                "position": { "$gte": day_start_key(range.from()), "$lt": end },
            }},
            doc! { "$group": group },
        ];
        let rows: Vec<Document> =
            detached(self.timeout, &self.entries, move |entries| async move {
                entries.aggregate(pipeline).await?.try_collect().await
            })
            .await?;
        let mut sums = DaySumsByDate::new();
        for row in rows {
            let date = row
                .get_str("_id")
                .ok()
                .and_then(|date| date.parse().ok())
                .ok_or_else(|| StoreError::internal("a day's sums without its date"))?;
            sums.insert(date, day_sums_of(&row));
        }
        Ok(sums)
    }
}

/// 1 for an entry without one or more of `fields`, else 0, as an aggregation
/// expression. `$ifNull` makes a missing field null, which `$ne` then tells apart
/// (a missing field alone compares unequal to null). Documents written before
/// macros could be unknown have all of them, so they count 0.
fn lacking_any(fields: &[&str]) -> bson::Bson {
    if fields.is_empty() {
        return bson::Bson::Int32(0);
    }
    let known: Vec<Document> = fields
        .iter()
        .map(|field| doc! { "$ne": [{ "$ifNull": [format!("${field}"), bson::Bson::Null] }, bson::Bson::Null] })
        .collect();
    doc! { "$cond": [{ "$and": known }, 0, 1] }.into()
}

/// A `$group` row's sums; a sum of integers comes back as an integer.
fn day_sums_of(row: &Document) -> DaySums {
    let number = |name: &str| match row.get(name) {
        Some(bson::Bson::Double(value)) => *value,
        Some(bson::Bson::Int32(value)) => f64::from(*value),
        Some(bson::Bson::Int64(value)) => *value as f64,
        _ => 0.0,
    };
    DaySums {
        entries: number("entries") as u64,
        without_macros: number("without_macros") as u64,
        kcal: number("kcal"),
        protein_g: number("protein_g"),
        carbs_g: number("carbs_g"),
        fat_g: number("fat_g"),
        weigh_ins: number("weigh_ins") as u64,
        weight_kg: number("weight_kg"),
    }
}
