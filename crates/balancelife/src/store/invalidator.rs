//! The change-stream invalidator: the safety net under the writers' own invalidation.
//!
//! A writer invalidates what it changed before it acknowledges (read-your-writes),
//! but it can die between its MongoDB write and its invalidation, or its invalidation
//! can be lost after a client-side timeout of a write the server still applied. So
//! one process at a time tails MongoDB's change stream over the five collections and
//! invalidates what each change touched, with the same keys as the writer
//! (`cache_keys::voids`; both are idempotent).
//!
//! One consumer, by lease: a document in MongoDB (`cache_invalidator`, one per cache
//! namespace and key version, `_id` `<namespace>:<version>`) names the holder and
//! when its lease ends. Per key version because releases of different key versions
//! (side by side during a rolling upgrade) cache apart: each must consume the stream
//! for its own keys, and would otherwise compete for one lease, one of them getting
//! no invalidations. The holder renews it every
//! `RENEW`; any other process takes it once it has lapsed (`LEASE`), and resumes the
//! stream from the token saved in the same document. A token is saved only for
//! changes whose invalidation Redis confirmed, so a new holder replays at most what
//! was not confirmed (again, harmlessly). Why a lease rather than every process
//! consuming: the cost per write stays one stream event and one Redis script
//! whatever the number of processes (every process consuming costs N of each: 3 at
//! 3 processes, 50 at 50, plus N cursors on the oplog); the price is a takeover
//! delay of at most `LEASE + RENEW` (500 ms) after the holder dies.
//!
//! What a change touched comes from its pre- and post-images (an entry's old and new
//! day, a user's old and new e-mail), which the invalidator turns on for the five
//! collections (`changeStreamPreAndPostImages`, MongoDB 6.0+). A change it cannot
//! map (no pre-image), a stream it cannot resume (the oplog moved past the token),
//! or a first start without a token, flush the whole cache (a new namespace epoch)
//! before the stream is trusted: nothing stale survives what nobody can vouch for.
//!
//! Clocks: lease expiry uses each process's clock; clocks that disagree by more than
//! the lease would let two processes consume at once, which costs double work, never
//! a stale value.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bson::{Bson, Document, doc};
use chrono::NaiveDate;
use mongodb::Database;
use mongodb::change_stream::ChangeStream;
use mongodb::change_stream::event::{ChangeStreamEvent, OperationType, ResumeToken};
use mongodb::error::ErrorKind;
use mongodb::options::{FullDocumentBeforeChangeType, FullDocumentType};
use parking_lot::Mutex;
use uuid::Uuid;

use super::cache_keys::voids;
use super::mongo::is_duplicate_key;
use super::redis_cache::{Invalidation, RedisCache};
use super::{ComponentHealth, ComponentStatus};
use crate::domain::Email;
use crate::domain::StatusFilter;

/// How long a lease lasts unless renewed.
const LEASE: Duration = Duration::from_millis(400);
/// How often the holder renews and the others try to take over.
const RENEW: Duration = Duration::from_millis(100);
/// How long one wait for changes lasts (the server's `maxAwaitTimeMS`).
const AWAIT: Duration = Duration::from_millis(100);
/// How often the confirmed resume token is saved at most.
const SAVE_EVERY: Duration = Duration::from_millis(100);

const COLLECTIONS: [&str; 5] = [
    "users",
    "meal_packages",
    "workout_packages",
    "meal_entries",
    "workout_entries",
];

/// The running invalidator; it stops when dropped.
pub struct Invalidator {
    task: tokio::task::JoinHandle<()>,
    state: Arc<Mutex<Role>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    Starting,
    Holder,
    Standby,
    /// MongoDB did not answer the last lease round.
    Unreachable,
}

impl Drop for Invalidator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Invalidator {
    /// Starts competing for the lease of `namespace` (the cache's) at the cache's
    /// key version, in `db`.
    pub fn start(db: Database, cache: Arc<RedisCache>, namespace: &str) -> Self {
        let state = Arc::new(Mutex::new(Role::Starting));
        let consumer = Consumer {
            lease: db.collection::<Document>("cache_invalidator"),
            db,
            lease_id: lease_id(namespace, cache.key_version()),
            cache,
            me: Uuid::now_v7().simple().to_string(),
            role: state.clone(),
        };
        Self {
            task: tokio::spawn(consumer.run()),
            state,
        }
    }

    /// Whether this process holds the lease and tails the stream now.
    pub fn is_holder(&self) -> bool {
        *self.state.lock() == Role::Holder
    }

    /// Stops at once, as if the process had died: the lease is not given back.
    pub fn kill(&self) {
        self.task.abort();
    }

    pub fn health(&self) -> ComponentHealth {
        let (status, detail) = match &*self.state.lock() {
            Role::Starting => (ComponentStatus::Up, "starting"),
            Role::Holder => (
                ComponentStatus::Up,
                "this instance tails MongoDB's change stream and invalidates every change",
            ),
            Role::Standby => (
                ComponentStatus::Up,
                "another instance tails the change stream; this one takes over if it stops",
            ),
            Role::Unreachable => (
                ComponentStatus::Down,
                "MongoDB does not answer; the lease passes to an instance it answers",
            ),
        };
        ComponentHealth::new(status, false, Some(detail.to_owned()))
    }

    /// What `/health` says where there is no invalidator: MongoDB has no change streams.
    pub fn absent() -> ComponentHealth {
        ComponentHealth::new(
            ComponentStatus::Up,
            false,
            Some(
                "off: MongoDB is a standalone server, without change streams, so a write whose \
                 writer dies before invalidating can be served stale until the cache TTL"
                    .to_owned(),
            ),
        )
    }
}

struct Consumer {
    db: Database,
    lease: mongodb::Collection<Document>,
    cache: Arc<RedisCache>,
    /// The `_id` of this namespace and key version's lease document.
    lease_id: String,
    me: String,
    role: Arc<Mutex<Role>>,
}

type Events = ChangeStream<ChangeStreamEvent<Document>>;

impl Consumer {
    async fn run(self) {
        let mut stream: Option<Events> = None;
        let mut holding = false;
        let mut next_claim = Instant::now();
        let mut confirmed: Option<ResumeToken> = None;
        let mut last_saved = Instant::now();
        let mut images_tried = false;
        loop {
            if Instant::now() >= next_claim {
                next_claim = Instant::now() + RENEW;
                // Only an instance that reaches Redis may hold the lease: one that
                // cannot would keep it while invalidating nothing.
                let claimed = if self.cache.is_serving() {
                    self.claim().await
                } else {
                    Ok(false)
                };
                match claimed {
                    Ok(true) if !holding => {
                        holding = true;
                        self.cache.metrics.stream_lease_takeovers.inc();
                        tracing::info!("this instance now invalidates from the change stream");
                        *self.role.lock() = Role::Holder;
                    }
                    Ok(true) => {}
                    Ok(false) => {
                        if holding {
                            self.release().await;
                        }
                        holding = false;
                        stream = None;
                        confirmed = None;
                        *self.role.lock() = Role::Standby;
                    }
                    Err(error) => {
                        tracing::debug!(%error, "the invalidator's lease could not be renewed");
                        holding = false;
                        stream = None;
                        confirmed = None;
                        *self.role.lock() = Role::Unreachable;
                    }
                }
            }
            if !holding {
                tokio::time::sleep(RENEW).await;
                continue;
            }
            if !images_tried {
                // Once per process: a refusal (old server, restricted user) will not change.
                self.turn_on_images().await;
                images_tried = true;
            }
            let Some(events) = stream.as_mut() else {
                match self.open().await {
                    Ok(opened) => stream = Some(opened),
                    Err(error) => {
                        tracing::warn!(%error, "the change stream could not be opened; retrying");
                        tokio::time::sleep(RENEW).await;
                    }
                }
                continue;
            };
            match events.next_if_any().await {
                Ok(Some(event)) => {
                    let token = event.id.clone();
                    if self.apply(event).await {
                        confirmed = Some(token);
                    } else {
                        // Not confirmed: save what was, give the lease up (an instance
                        // that reaches Redis takes over from the saved token, so the
                        // change comes round again) and stand by for a while.
                        self.save(&mut confirmed, &mut last_saved, true).await;
                        self.release().await;
                        holding = false;
                        stream = None;
                        *self.role.lock() = Role::Standby;
                        next_claim = Instant::now() + LEASE * 2;
                    }
                }
                // Nothing new: every change so far was confirmed, so the stream's own
                // position can be saved, and a quiet stream's token keeps up with the oplog.
                Ok(None) => confirmed = events.resume_token().or(confirmed.take()),
                Err(error) => {
                    // Reopened from the saved token; one the server refuses is handled
                    // there (`open`).
                    tracing::warn!(%error, "the change stream failed; resuming");
                    self.save(&mut confirmed, &mut last_saved, true).await;
                    stream = None;
                }
            }
            self.save(&mut confirmed, &mut last_saved, false).await;
        }
    }

    /// Takes or renews the lease; false while another holds it.
    async fn claim(&self) -> mongodb::error::Result<bool> {
        let now = now_ms();
        let filter = doc! {
            "_id": &self.lease_id,
            "$or": [{ "holder": &self.me }, { "expires_at": { "$lt": now } }],
        };
        let lease_ms = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
        let update = doc! { "$set": { "holder": &self.me, "expires_at": now + lease_ms } };
        match self.lease.update_one(filter, update).upsert(true).await {
            Ok(result) => Ok(result.matched_count == 1 || result.upserted_id.is_some()),
            // The document exists and the filter did not match it: someone else holds it.
            Err(error) if is_duplicate_key(&error) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Lets the lease lapse at once, so another instance need not wait it out.
    async fn release(&self) {
        let filter = doc! { "_id": &self.lease_id, "holder": &self.me };
        let update = doc! { "$set": { "expires_at": 0_i64 } };
        if let Err(error) = self.lease.update_one(filter, update).await {
            tracing::debug!(%error, "the invalidator's lease could not be given up");
        }
    }

    /// Asks MongoDB to keep pre- and post-images of the five collections, so a
    /// change says what it replaced (MongoDB 6.0+; refused by older servers and
    /// restricted users, and then changes without images flush the whole cache).
    async fn turn_on_images(&self) {
        for collection in COLLECTIONS {
            let command = doc! {
                "collMod": collection,
                "changeStreamPreAndPostImages": { "enabled": true },
            };
            if let Err(error) = self.db.run_command(command).await {
                tracing::warn!(%error, collection, "pre-images could not be turned on; changes without them flush the whole cache");
            }
        }
    }

    /// Opens the stream after the saved token; without one, or when the token is too
    /// old, flushes the whole cache first and starts from now.
    async fn open(&self) -> mongodb::error::Result<Events> {
        let saved = self
            .lease
            .find_one(doc! { "_id": &self.lease_id })
            .await?
            .and_then(|lease| lease.get("token").cloned())
            .and_then(|token| bson::from_bson::<ResumeToken>(token).ok());
        let resuming = saved.is_some();
        match self.watch(saved).await {
            Ok(stream) if resuming => {
                self.cache.metrics.stream_resumes.inc();
                Ok(stream)
            }
            Ok(stream) => {
                self.start_afresh().await;
                self.save_token(stream.resume_token()).await;
                Ok(stream)
            }
            // The server refuses the token: the oplog has moved past it, or it is not
            // one this deployment knows (restored from a backup, another cluster).
            Err(error) if resuming && is_command_error(&error) => {
                tracing::warn!(%error, "the change stream cannot resume from its saved token; flushing the whole cache");
                // The stream first, then the flush: a change between the two is seen
                // by the stream, one before it is voided by the flush.
                let stream = self.watch(None).await?;
                self.start_afresh().await;
                self.save_token(stream.resume_token()).await;
                Ok(stream)
            }
            Err(error) => Err(error),
        }
    }

    async fn watch(&self, after: Option<ResumeToken>) -> mongodb::error::Result<Events> {
        let pipeline = [doc! { "$match": {
            "ns.coll": { "$in": COLLECTIONS.to_vec() },
            "operationType": { "$in": ["insert", "update", "replace", "delete"] },
        }}];
        let watch = self
            .db
            .watch()
            .pipeline(pipeline)
            .full_document(FullDocumentType::WhenAvailable)
            .full_document_before_change(FullDocumentBeforeChangeType::WhenAvailable)
            .max_await_time(AWAIT);
        match after {
            Some(token) => watch.start_after(token).await,
            None => watch.await,
        }
    }

    /// Nobody can vouch for the changes before now: flush everything (retrying until
    /// Redis confirms; until then nothing newer is trusted either).
    async fn start_afresh(&self) {
        while !self.cache.bump_namespace().await {
            tokio::time::sleep(RENEW).await;
        }
    }

    /// Invalidates what one change touched; true once Redis confirmed it.
    async fn apply(&self, event: ChangeStreamEvent<Document>) -> bool {
        let lag = event
            .wall_time
            .map(|at| (chrono::Utc::now().timestamp_millis() - at.timestamp_millis()) as f64 / 1e3);
        let changes = match voided(&event) {
            Some(changes) => changes,
            None => {
                tracing::warn!(
                    collection = event.ns.as_ref().and_then(|ns| ns.coll.clone()),
                    "a change without its pre-image cannot be mapped to keys; flushing the whole cache"
                );
                return self.cache.bump_namespace().await;
            }
        };
        let confirmed = self.cache.invalidate(&changes).await;
        if confirmed {
            self.cache.metrics.stream_invalidations.inc();
            if let Some(lag) = lag {
                self.cache.metrics.stream_lag_seconds.observe(lag.max(0.0));
            }
        }
        confirmed
    }

    /// Saves the confirmed token, at most every `SAVE_EVERY` unless `now`.
    async fn save(&self, confirmed: &mut Option<ResumeToken>, last: &mut Instant, now: bool) {
        if confirmed.is_some() && (now || last.elapsed() >= SAVE_EVERY) {
            self.save_token(confirmed.take()).await;
            *last = Instant::now();
        }
    }

    async fn save_token(&self, token: Option<ResumeToken>) {
        let Some(Ok(token)) = token.map(|token| bson::to_bson(&token)) else {
            return;
        };
        let filter = doc! { "_id": &self.lease_id, "holder": &self.me };
        let update = doc! { "$set": { "token": token } };
        if let Err(error) = self.lease.update_one(filter, update).await {
            tracing::debug!(%error, "the change stream's token could not be saved");
        }
    }
}

/// What a change voids, or `None` when it cannot be told (an image is missing).
fn voided(event: &ChangeStreamEvent<Document>) -> Option<Vec<Invalidation>> {
    let collection = event.ns.as_ref()?.coll.as_deref()?;
    let id = event
        .document_key
        .as_ref()
        .and_then(|key| uuid_in(key, "_id"));
    let before = event.full_document_before_change.as_ref();
    let after = event.full_document.as_ref();
    let deleted = event.operation_type == OperationType::Delete;
    let inserted = event.operation_type == OperationType::Insert;
    let is_package = collection == "meal_packages" || collection == "workout_packages";
    // What was there before and what is there now, wherever it tells which keys go
    // (a package's id is enough).
    let needs_before = !inserted;
    let needs_after = !deleted;
    if !is_package && ((needs_before && before.is_none()) || (needs_after && after.is_none())) {
        return None;
    }
    match collection {
        "users" => {
            let id = id?;
            let emails: Vec<Email> = [before, after]
                .into_iter()
                .flatten()
                .filter_map(|user| user.get_str("email").ok()?.parse().ok())
                .collect();
            let emails: Vec<&Email> = emails.iter().collect();
            Some(if deleted {
                voids::user_deleted(id, &emails)
            } else {
                voids::user_written(id, &emails)
            })
        }
        // Every listing: the id is all an event is sure to carry.
        "meal_packages" => Some(voids::package_written(
            "meal-package",
            id?,
            &StatusFilter::EVERY,
        )),
        "workout_packages" => Some(voids::package_written(
            "workout-package",
            id?,
            &StatusFilter::EVERY,
        )),
        "meal_entries" | "workout_entries" => {
            let kind = collection.trim_end_matches("_entries");
            let mut by_user: Vec<(Uuid, Vec<NaiveDate>)> = Vec::new();
            for entry in [before, after].into_iter().flatten() {
                let user = uuid_in(entry, "user_id")?;
                let day: NaiveDate = entry.get_str("local_date").ok()?.parse().ok()?;
                match by_user.iter_mut().find(|(owner, _)| *owner == user) {
                    Some((_, days)) => days.push(day),
                    None => by_user.push((user, vec![day])),
                }
            }
            if by_user.is_empty() {
                return None;
            }
            Some(
                by_user
                    .iter()
                    .map(|(user, days)| voids::entry_days(kind, *user, days))
                    .collect(),
            )
        }
        _ => Some(Vec::new()),
    }
}

/// The `_id` of the lease (and saved token) of the invalidator of cache namespace
/// `namespace` at key version `key_version`.
pub fn lease_id(namespace: &str, key_version: &str) -> String {
    format!("{namespace}:{key_version}")
}

fn uuid_in(document: &Document, field: &str) -> Option<Uuid> {
    match document.get(field)? {
        Bson::Binary(binary) => Uuid::from_slice(&binary.bytes).ok(),
        Bson::String(text) => text.parse().ok(),
        _ => None,
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The server answered and refused (not a network failure). Opening a stream from a
/// saved token, that means the token cannot be resumed from: the oplog has moved past
/// it (286 ChangeStreamHistoryLost), or the deployment does not know it (260, 280, or
/// a server's own code for a malformed token).
fn is_command_error(error: &mongodb::error::Error) -> bool {
    matches!(error.kind.as_ref(), ErrorKind::Command(_))
}
