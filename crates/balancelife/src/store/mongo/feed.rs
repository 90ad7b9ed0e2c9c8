//! The sync feed in MongoDB (see `store::sync_feed` for the contract and its two
//! rules): a clock per user, `sync_clocks`, that numbers writes and lists those
//! under way, and one marker per thing, `sync_markers`.
//!
//! A write *begins* by taking the next numbers from its owner's clock and noting
//! them as under way (a compare-and-set on the clock, so two writers never share a
//! number), does its work, moves the markers of what it changed to its numbers and
//! *ends* by striking them from the clock. No transaction is needed, so the same
//! code runs on a standalone server and on a replica set.
//!
//! A writer that dies between its beginning and its end leaves its numbers under
//! way, which holds every reader's horizon back. Once `late_write_bound` has passed
//! its write has landed or never will, so the next reader settles it: moves the
//! marker to its number (the thing is answered again as it is then) and strikes it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::TryStreamExt;
use mongodb::Collection;
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::bulk::{statement, update_statements};
use super::documents::{EntryDocument, UserDoc};
use super::errors::{DUPLICATE_KEY, Rejected, bounded, bounded_write, delete_owned, detached};
use crate::domain::{BodyMetricData, MealData, User, WorkoutData};
use crate::store::sync_feed::{
    DEFAULT_TOMBSTONE_RETENTION, FeedHead, FeedKind, FeedPage, FeedPosition, FeedRecord, MAX_PAGE,
    MarkerKey, SyncFeed, next_position,
};
use crate::store::{StoreError, StoreResult};

/// How many times a write tries to take numbers while other writes of the same
/// user take them too.
const BEGIN_ATTEMPTS: u32 = 12;

/// One thing a write is about to change.
#[derive(Debug, Clone, Copy)]
pub struct Intent {
    pub kind: FeedKind,
    pub id: Uuid,
    pub deletes: bool,
}

/// The numbers a write took: `first` for its first intent, and so on.
#[derive(Debug)]
#[must_use = "a ticket must be ended, or its numbers hold the feed back until they expire"]
pub struct Ticket {
    user_id: Uuid,
    first: i64,
    intents: Vec<Intent>,
}

/// How a write numbered by a ticket went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It changed what its intents name.
    Changed,
    /// It certainly changed nothing (a conflict, a refusal, nothing to change).
    Unchanged,
    /// It may or may not have been applied (a timeout): left under way, settled by
    /// a reader once it expires.
    Unknown,
}

impl Outcome {
    /// How a write that answered `result` went, as `changed` says of a success; an
    /// error that leaves the write unknown stays under way.
    pub fn of<T>(result: &StoreResult<T>, changed: impl FnOnce(&T) -> bool) -> Self {
        match result {
            Ok(value) if changed(value) => Self::Changed,
            Ok(_) => Self::Unchanged,
            Err(error) if error.leaves_write_unknown() => Self::Unknown,
            Err(_) => Self::Unchanged,
        }
    }
}

/// How a marker moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// The thing is there: made if there is no marker yet.
    Live,
    /// The thing was deleted: its marker is its tombstone, kept for the retention.
    Deleted,
    /// The thing is gone, as a reader settling a write finds: an existing marker
    /// becomes a tombstone, none is made.
    DeletedIfMarked,
    /// Only the number of an existing marker (a write that changed nothing).
    Number,
}

/// The write side: numbers and markers. Shared by every writer of the store.
pub struct FeedClock {
    clocks: Collection<Document>,
    markers: Collection<Document>,
    timeout: Duration,
    /// How long a tombstone is kept, in milliseconds (settable after start-up).
    retention_ms: AtomicU64,
}

impl FeedClock {
    pub fn new(
        clocks: Collection<Document>,
        markers: Collection<Document>,
        timeout: Duration,
    ) -> Self {
        Self {
            clocks,
            markers,
            timeout,
            retention_ms: AtomicU64::new(millis(DEFAULT_TOMBSTONE_RETENTION)),
        }
    }

    pub fn retention(&self) -> Duration {
        Duration::from_millis(self.retention_ms.load(Ordering::Relaxed))
    }

    pub fn set_retention(&self, retention: Duration) {
        self.retention_ms
            .store(millis(retention), Ordering::Relaxed);
    }

    /// After how long a write still noted as under way has certainly landed or
    /// never will: its own deadline twice over (its call, then the server's time
    /// limit), and a second for the clocks' difference.
    fn expiry(&self) -> TimeDelta {
        TimeDelta::from_std(self.timeout * 2 + Duration::from_secs(1)).unwrap_or(TimeDelta::MAX)
    }

    /// Takes numbers for `intents` (at least one) of `user_id`'s things.
    pub async fn begin(&self, user_id: Uuid, intents: Vec<Intent>) -> StoreResult<Ticket> {
        let count = i64::try_from(intents.len()).expect("a batch fits an i64");
        for attempt in 0..BEGIN_ATTEMPTS {
            if attempt > 0 {
                let pause = rand::random_range(0..=2 * u64::from(attempt));
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            let filter = doc! { "_id": bson::Uuid::from(user_id) };
            let clock = detached(self.timeout, &self.clocks, move |clocks| async move {
                clocks.find_one(filter).await
            })
            .await?;
            let last = match &clock {
                Some(clock) => stored_i64(clock, "last"),
                None => 0,
            };
            let first = last + 1;
            let noted = under_way(first, &intents);
            let taken = match clock {
                None => {
                    let fresh = doc! {
                        "_id": bson::Uuid::from(user_id),
                        "last": last + count,
                        "pending": noted,
                    };
                    match bounded_write(self.timeout, self.clocks.insert_one(fresh)).await {
                        Ok(_) => true,
                        Err(Rejected::Duplicate(_)) => false,
                        Err(Rejected::Failed(error)) => return Err(error),
                    }
                }
                Some(_) => {
                    let filter = doc! { "_id": bson::Uuid::from(user_id), "last": last };
                    let update = doc! {
                        "$set": { "last": last + count },
                        "$push": { "pending": { "$each": noted } },
                    };
                    let result = detached(self.timeout, &self.clocks, move |clocks| async move {
                        clocks.update_one(filter, update).await
                    })
                    .await?;
                    result.matched_count == 1
                }
            };
            if taken {
                return Ok(Ticket {
                    user_id,
                    first,
                    intents,
                });
            }
        }
        Err(StoreError::unavailable(
            "the sync feed's clock kept changing under this write",
        ))
    }

    /// Runs `write` of `intent` numbered: begun before, ended after, as `changed`
    /// says of its result (an error that leaves the write unknown stays under way).
    pub async fn numbered<T>(
        &self,
        user_id: Uuid,
        intent: Intent,
        write: impl Future<Output = StoreResult<T>>,
        changed: impl FnOnce(&T) -> bool,
    ) -> StoreResult<T> {
        let ticket = self.begin(user_id, vec![intent]).await?;
        let result = write.await;
        self.end(ticket, Outcome::of(&result, changed)).await;
        result
    }

    /// Moves the markers as `outcome` says and strikes the ticket's numbers. A
    /// failure here loses nothing: the numbers stay under way and a reader settles
    /// them once they expire.
    pub async fn end(&self, ticket: Ticket, outcome: Outcome) {
        let outcomes = vec![outcome; ticket.intents.len()];
        self.end_each(ticket, outcomes).await;
    }

    /// `end` of a ticket whose writes went each their own way: `outcomes` holds one
    /// per intent, in order. The markers move in one round trip, however many.
    ///
    /// A write that took longer than a reader waits (`expiry`) may find its numbers
    /// settled already, and a position past them handed out: its things are then
    /// numbered again, so the change comes after that position.
    pub async fn end_each(&self, mut ticket: Ticket, mut outcomes: Vec<Outcome>) {
        for round in 0..2 {
            // An unknown write stays under way: a reader settles it once it expires.
            let known: Vec<(i64, Intent, Outcome)> = (ticket.first..)
                .zip(&ticket.intents)
                .zip(&outcomes)
                .filter(|(_, outcome)| **outcome != Outcome::Unknown)
                .map(|((seq, intent), outcome)| (seq, *intent, *outcome))
                .collect();
            if known.is_empty() {
                return;
            }
            let marks: Vec<(i64, Intent, Mark)> = known
                .iter()
                .map(|&(seq, intent, outcome)| {
                    // Unchanged: only the number of a marker that exists, so a
                    // reader that left the thing out of a page while this write was
                    // under way sees it again.
                    let how = match outcome {
                        Outcome::Changed if intent.deletes => Mark::Deleted,
                        Outcome::Changed => Mark::Live,
                        _ => Mark::Number,
                    };
                    (seq, intent, how)
                })
                .collect();
            if let Err(error) = self.mark_all(ticket.user_id, &marks).await {
                tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "a sync marker was not moved; a reader settles it later");
                return;
            }
            let seqs: Vec<i64> = known.iter().map(|(seq, ..)| *seq).collect();
            let settled = match self.strike(ticket.user_id, &seqs).await {
                Ok(settled) => settled,
                Err(error) => {
                    tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "a write stays noted in the sync clock; a reader settles it later");
                    return;
                }
            };
            if settled.is_empty() {
                return;
            }
            if round == 1 {
                tracing::warn!(
                    "a write was settled twice before it ended; its change is behind a cursor"
                );
                return;
            }
            let (again, again_outcomes): (Vec<Intent>, Vec<Outcome>) = known
                .into_iter()
                .filter(|(seq, ..)| settled.contains(seq))
                .map(|(_, intent, outcome)| (intent, outcome))
                .unzip();
            ticket = match self.begin(ticket.user_id, again).await {
                Ok(ticket) => ticket,
                Err(error) => {
                    tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "a write settled before it ended could not be numbered again");
                    return;
                }
            };
            outcomes = again_outcomes;
        }
    }

    /// Marks a thing that is new with the user, who is new too, at 0: before the
    /// user exists, so no reader can have passed it.
    pub async fn mark_first(&self, user_id: Uuid, intent: Intent) -> StoreResult<()> {
        self.mark(user_id, intent, 0, Mark::Live).await
    }

    /// Takes back `mark_first` of a user that was not created after all.
    pub async fn unmark_first(&self, user_id: Uuid, intent: Intent) {
        let filter = doc! { "_id": marker_id(user_id, intent.kind, intent.id), "seq": 0_i64 };
        if let Err(error) = bounded(self.timeout, self.markers.delete_one(filter)).await {
            tracing::warn!(error = %crate::telemetry::ErrorChain(&error), "the marker of a user not created was left behind");
        }
    }

    /// Moves the marker of `intent` to `seq` unless it is already further, as
    /// `how` says.
    async fn mark(&self, user_id: Uuid, intent: Intent, seq: i64, how: Mark) -> StoreResult<()> {
        let (filter, update, create) = self.marker_move(user_id, intent, seq, how);
        let result = bounded_write(
            self.timeout,
            self.markers.update_one(filter, update).upsert(create),
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            // Further already: another write's marker, which stands.
            Err(Rejected::Duplicate(_)) => Ok(()),
            Err(Rejected::Failed(error)) => Err(error),
        }
    }

    /// `mark` of each of `marks`, in one round trip.
    async fn mark_all(&self, user_id: Uuid, marks: &[(i64, Intent, Mark)]) -> StoreResult<()> {
        if let [(seq, intent, how)] = marks {
            return self.mark(user_id, *intent, *seq, *how).await;
        }
        let statements = marks
            .iter()
            .map(|&(seq, intent, how)| {
                let (filter, update, create) = self.marker_move(user_id, intent, seq, how);
                statement(filter, update, create)
            })
            .collect();
        let done = update_statements(self.timeout, &self.markers, statements).await?;
        // A duplicate: further already (see `mark`).
        match done.refused.values().find(|code| **code != DUPLICATE_KEY) {
            None => Ok(()),
            Some(code) => Err(StoreError::internal(format!(
                "MongoDB refused to move a sync marker (code {code})"
            ))),
        }
    }

    /// The filter, the update and whether to create it, that move the marker of
    /// `intent` to `seq` unless it is already further, as `how` says.
    fn marker_move(
        &self,
        user_id: Uuid,
        intent: Intent,
        seq: i64,
        how: Mark,
    ) -> (Document, Vec<Document>, bool) {
        let now = bson::DateTime::from_chrono(Utc::now());
        let marker = |expires: Option<bson::DateTime>| {
            let mut marker = doc! {
                "_id": "$_id",
                "u": bson::Uuid::from(user_id),
                "k": intent.kind.as_str(),
                "i": bson::Uuid::from(intent.id),
                "seq": seq,
                "at": now,
            };
            if let Some(expires) = expires {
                marker.insert("expires_at", expires);
            }
            marker
        };
        let moved = match how {
            Mark::Live => marker(None),
            Mark::Deleted | Mark::DeletedIfMarked => {
                let retention = TimeDelta::from_std(self.retention()).unwrap_or(TimeDelta::MAX);
                let expires = now
                    .to_chrono()
                    .checked_add_signed(retention)
                    .unwrap_or(now.to_chrono());
                marker(Some(bson::DateTime::from_chrono(expires)))
            }
            Mark::Number => doc! { "$mergeObjects": ["$$ROOT", { "seq": seq }] },
        };
        // The condition on the number is in the update, not the filter, so the
        // filter is the `_id` alone: a point lookup on every server (SecantusDB
        // 0.7.0b3 scans the whole collection for an `_id` with any other condition,
        // which made a batch of writes slower with every marker, seen 2026-12-07).
        let update = vec![doc! { "$replaceWith": { "$cond": [
            { "$lt": [{ "$ifNull": ["$seq", -2_i64] }, seq] },
            moved,
            "$$ROOT",
        ] } }];
        let filter = doc! { "_id": marker_id(user_id, intent.kind, intent.id) };
        (filter, update, matches!(how, Mark::Live | Mark::Deleted))
    }

    /// Strikes `seqs` from the clock; returns those no longer noted there (a
    /// reader settled them), none when the clock is gone with its user.
    async fn strike(&self, user_id: Uuid, seqs: &[i64]) -> StoreResult<Vec<i64>> {
        let filter = doc! { "_id": bson::Uuid::from(user_id) };
        let update = doc! { "$pull": { "pending": { "seq": { "$in": seqs } } } };
        let timeout = self.timeout;
        let before = bounded(
            timeout,
            self.clocks
                .find_one_and_update(filter, update)
                .return_document(ReturnDocument::Before)
                .max_time(timeout),
        )
        .await?;
        let Some(before) = before else {
            return Ok(Vec::new());
        };
        let noted: HashSet<i64> = noted(&before).iter().map(|noted| noted.seq).collect();
        Ok(seqs
            .iter()
            .copied()
            .filter(|seq| !noted.contains(seq))
            .collect())
    }

    /// Deletes a deleted user's clock and markers.
    /// In `session`'s transaction where there is one, as the user's other data.
    pub async fn forget(
        &self,
        user_id: Uuid,
        mut session: Option<&mut mongodb::ClientSession>,
    ) -> StoreResult<()> {
        let markers = session.as_deref_mut();
        delete_owned(self.timeout, &self.markers, "u", user_id, markers).await?;
        delete_owned(self.timeout, &self.clocks, "_id", user_id, session).await
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn under_way(first: i64, intents: &[Intent]) -> Vec<Document> {
    let since = bson::DateTime::now();
    (first..)
        .zip(intents)
        .map(|(seq, intent)| {
            doc! {
                "seq": seq,
                "k": intent.kind.as_str(),
                "i": bson::Uuid::from(intent.id),
                "deletes": intent.deletes,
                "since": since,
            }
        })
        .collect()
}

/// A marker's `_id`: one per thing of a user.
fn marker_id(user_id: Uuid, kind: FeedKind, id: Uuid) -> String {
    format!("{user_id}:{}:{id}", kind.as_str())
}

fn stored_i64(document: &Document, field: &str) -> i64 {
    match document.get(field) {
        Some(Bson::Int64(value)) => *value,
        Some(Bson::Int32(value)) => i64::from(*value),
        Some(Bson::Double(value)) => *value as i64,
        _ => 0,
    }
}

fn stored_uuid(document: &Document, field: &str) -> Option<Uuid> {
    match document.get(field) {
        Some(Bson::Binary(binary)) => Uuid::from_slice(&binary.bytes).ok(),
        _ => None,
    }
}

fn stored_time(document: &Document, field: &str) -> DateTime<Utc> {
    match document.get(field) {
        Some(Bson::DateTime(at)) => at.to_chrono(),
        _ => DateTime::<Utc>::UNIX_EPOCH,
    }
}

/// A write noted as under way, as a reader finds it.
struct Noted {
    seq: i64,
    kind: FeedKind,
    id: Uuid,
    since: DateTime<Utc>,
}

fn noted(clock: &Document) -> Vec<Noted> {
    let Ok(pending) = clock.get_array("pending") else {
        return Vec::new();
    };
    pending
        .iter()
        .filter_map(|item| {
            let item = item.as_document()?;
            Some(Noted {
                seq: stored_i64(item, "seq"),
                kind: FeedKind::parse(item.get_str("k").ok()?)?,
                id: stored_uuid(item, "i")?,
                since: stored_time(item, "since"),
            })
        })
        .collect()
}

/// The entries of one kind that `filter` finds.
async fn entries_found<D: EntryDocument>(
    timeout: Duration,
    collection: &Collection<D::Doc>,
    filter: Document,
) -> StoreResult<Vec<crate::domain::Entry<D>>> {
    let found = detached(timeout, collection, move |collection| async move {
        collection.find(filter).await?.try_collect::<Vec<_>>().await
    })
    .await?;
    Ok(found.into_iter().map(D::from_doc).collect())
}

/// The read side: the feed's pages, with the things they name as they are now.
pub struct MongoFeed {
    clock: std::sync::Arc<FeedClock>,
    users: Collection<UserDoc>,
    meals: Collection<<MealData as EntryDocument>::Doc>,
    workouts: Collection<<WorkoutData as EntryDocument>::Doc>,
    body_metrics: Collection<<BodyMetricData as EntryDocument>::Doc>,
}

impl MongoFeed {
    pub fn new(
        clock: std::sync::Arc<FeedClock>,
        users: Collection<UserDoc>,
        meals: Collection<<MealData as EntryDocument>::Doc>,
        workouts: Collection<<WorkoutData as EntryDocument>::Doc>,
        body_metrics: Collection<<BodyMetricData as EntryDocument>::Doc>,
    ) -> Self {
        Self {
            clock,
            users,
            meals,
            workouts,
            body_metrics,
        }
    }

    fn timeout(&self) -> Duration {
        self.clock.timeout
    }

    async fn read_clock(&self, user_id: Uuid) -> StoreResult<Option<Document>> {
        let filter = doc! { "_id": bson::Uuid::from(user_id) };
        detached(
            self.timeout(),
            &self.clock.clocks,
            move |clocks| async move { clocks.find_one(filter).await },
        )
        .await
    }

    /// The horizon, after settling the writes noted so long ago they have landed or
    /// never will.
    async fn settled_head(&self, user_id: Uuid) -> StoreResult<FeedHead> {
        let Some(clock) = self.read_clock(user_id).await? else {
            // Nothing written since the feed began: what there is was numbered 0.
            return Ok(FeedHead {
                seq: 0,
                settled: true,
            });
        };
        let cutoff = Utc::now() - self.clock.expiry();
        let (expired, live): (Vec<_>, Vec<_>) = noted(&clock)
            .into_iter()
            .partition(|noted| noted.since < cutoff);
        for stale in &expired {
            self.settle(user_id, stale).await?;
        }
        Ok(match live.iter().map(|noted| noted.seq).min() {
            Some(lowest) => FeedHead {
                seq: lowest - 1,
                settled: false,
            },
            None => FeedHead {
                seq: stored_i64(&clock, "last"),
                settled: true,
            },
        })
    }

    /// Moves the marker of a write that expired under way to its number, as what is
    /// stored now says (there, or gone), then strikes it.
    async fn settle(&self, user_id: Uuid, stale: &Noted) -> StoreResult<()> {
        let exists = self.fetch(user_id, stale.kind, &[stale.id]).await?;
        let intent = Intent {
            kind: stale.kind,
            id: stale.id,
            deletes: exists.is_empty(),
        };
        let how = if exists.is_empty() {
            Mark::DeletedIfMarked
        } else {
            Mark::Live
        };
        self.clock.mark(user_id, intent, stale.seq, how).await?;
        tracing::info!(
            seq = stale.seq,
            "settled a write the sync clock noted as under way past its time"
        );
        self.clock.strike(user_id, &[stale.seq]).await.map(|_| ())
    }

    /// The things of one kind with these ids that `user_id` owns now.
    async fn fetch(
        &self,
        user_id: Uuid,
        kind: FeedKind,
        ids: &[Uuid],
    ) -> StoreResult<Vec<FeedRecord>> {
        let timeout = self.timeout();
        let owner = bson::Uuid::from(user_id);
        let ids: Vec<bson::Uuid> = ids.iter().copied().map(bson::Uuid::from).collect();
        let entries = doc! { "_id": { "$in": &ids }, "user_id": owner };
        Ok(match kind {
            FeedKind::Profile => {
                let filter = doc! { "_id": owner };
                let found = detached(timeout, &self.users, move |users| async move {
                    users.find_one(filter).await
                })
                .await?;
                found
                    .map(|user| FeedRecord::Profile(Box::new(User::from(user))))
                    .into_iter()
                    .collect()
            }
            FeedKind::MealEntry => entries_found::<MealData>(timeout, &self.meals, entries)
                .await?
                .into_iter()
                .map(FeedRecord::Meal)
                .collect(),
            FeedKind::WorkoutEntry => {
                entries_found::<WorkoutData>(timeout, &self.workouts, entries)
                    .await?
                    .into_iter()
                    .map(FeedRecord::Workout)
                    .collect()
            }
            FeedKind::BodyMetric => {
                entries_found::<BodyMetricData>(timeout, &self.body_metrics, entries)
                    .await?
                    .into_iter()
                    .map(FeedRecord::BodyMetric)
                    .collect()
            }
        })
    }

    /// Up to `limit` markers after `after`, up to `horizon`, in order.
    async fn markers(
        &self,
        user_id: Uuid,
        after: FeedPosition,
        horizon: i64,
        limit: usize,
    ) -> StoreResult<Vec<(MarkerKey, DateTime<Utc>)>> {
        // Bounds as half-open integer ranges (`$gte`, `$lt`): SecantusDB 0.7.0b3
        // leaves out the keys equal to a `$lte` bound on a compound index's middle
        // field (seen on 2026-12-07), which would lose the newest change.
        let owner = bson::Uuid::from(user_id);
        let mut filter = doc! { "u": owner, "seq": { "$lt": horizon + 1 } };
        match after.tie {
            None => {
                let from = after.seq.saturating_add(1);
                filter.insert("seq", doc! { "$gte": from, "$lt": horizon + 1 });
            }
            Some((kind, id)) => {
                filter.insert(
                    "$or",
                    vec![
                        doc! { "seq": { "$gt": after.seq } },
                        doc! { "seq": after.seq, "k": { "$gt": kind.as_str() } },
                        doc! { "seq": after.seq, "k": kind.as_str(), "i": { "$gt": bson::Uuid::from(id) } },
                    ],
                );
            }
        }
        let limit = i64::try_from(limit).expect("a page fits an i64");
        let found = detached(
            self.timeout(),
            &self.clock.markers,
            move |markers| async move {
                markers
                    .find(filter)
                    .sort(doc! { "seq": 1, "k": 1, "i": 1 })
                    .limit(limit)
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            },
        )
        .await?;
        Ok(found
            .iter()
            .filter_map(|marker| {
                let kind = FeedKind::parse(marker.get_str("k").ok()?)?;
                let id = stored_uuid(marker, "i")?;
                Some((
                    (stored_i64(marker, "seq"), kind, id),
                    stored_time(marker, "at"),
                ))
            })
            .collect())
    }
}

#[async_trait]
impl SyncFeed for MongoFeed {
    fn tombstone_retention(&self) -> Duration {
        self.clock.retention()
    }

    async fn head(&self, user_id: Uuid) -> StoreResult<FeedHead> {
        self.settled_head(user_id).await
    }

    /// The things a write touched since the reader fixed its `horizon`, by the rule
    /// "answered once": under way now, or with a marker moved past the horizon.
    ///
    /// Past the horizon is where every move since lands: numbers are taken above
    /// the clock's last, which is at or above the horizon, and a marker only rises.
    /// So this reads the few markers of the writes since (one range of the
    /// `{u, seq}` index), not every listed marker again by its id.
    async fn touched_since(
        &self,
        user_id: Uuid,
        horizon: i64,
    ) -> StoreResult<HashSet<(FeedKind, Uuid)>> {
        let mut touched: HashSet<(FeedKind, Uuid)> = HashSet::new();
        if let Some(clock) = self.read_clock(user_id).await? {
            touched.extend(noted(&clock).iter().map(|noted| (noted.kind, noted.id)));
        }
        // A snapshot's horizon comes back in a client's cursor: never overflow.
        let past = horizon.saturating_add(1);
        let filter = doc! { "u": bson::Uuid::from(user_id), "seq": { "$gte": past } };
        let moved = detached(
            self.timeout(),
            &self.clock.markers,
            move |markers| async move {
                markers
                    .find(filter)
                    .projection(doc! { "k": 1, "i": 1 })
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            },
        )
        .await?;
        touched.extend(moved.iter().filter_map(|marker| {
            let kind = marker.get_str("k").ok().and_then(FeedKind::parse)?;
            Some((kind, stored_uuid(marker, "i")?))
        }));
        Ok(touched)
    }

    async fn changes(
        &self,
        user_id: Uuid,
        after: FeedPosition,
        limit: usize,
    ) -> StoreResult<FeedPage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let horizon = self.settled_head(user_id).await?.seq;
        let listed = self.markers(user_id, after, horizon, limit).await?;
        let keys: Vec<MarkerKey> = listed.iter().map(|(key, _)| *key).collect();
        let (next, more) = next_position(&keys, limit, horizon);
        if listed.is_empty() {
            return Ok(FeedPage {
                changes: Vec::new(),
                next,
                more,
            });
        }
        let mut found: HashMap<(FeedKind, Uuid), FeedRecord> = HashMap::new();
        for kind in FeedKind::ALL {
            let ids: Vec<Uuid> = keys
                .iter()
                .filter(|key| key.1 == kind)
                .map(|key| key.2)
                .collect();
            if !ids.is_empty() {
                for record in self.fetch(user_id, kind, &ids).await? {
                    found.insert((kind, record.id()), record);
                }
            }
        }
        let touched = self.touched_since(user_id, horizon).await?;
        let changes = listed
            .into_iter()
            .filter(|((_, kind, id), _)| !touched.contains(&(*kind, *id)))
            .map(|((_, kind, id), at)| {
                found
                    .remove(&(kind, id))
                    .unwrap_or(FeedRecord::Deleted { kind, id, at })
            })
            .collect();
        Ok(FeedPage {
            changes,
            next,
            more,
        })
    }
}
