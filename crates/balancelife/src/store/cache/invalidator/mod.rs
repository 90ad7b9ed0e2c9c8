//! The change-stream invalidator: the safety net under the writers' own invalidation.
//!
//! A writer invalidates what it changed before it acknowledges (read-your-writes),
//! but it can die between its MongoDB write and its invalidation, or its invalidation
//! can be lost after a client-side timeout of a write the server still applied. So
//! one process at a time tails MongoDB's change stream over the five collections and
//! invalidates what each change touched, with the same keys as the writer
//! (`keys::voids`; both are idempotent).
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
//! day, a user's old and new e-mail), which every instance asks MongoDB to keep for
//! the five collections at start (`images`). Where MongoDB keeps none (an
//! older server, a user without the privilege to turn them on), a change names its
//! document alone, and voids what that document's user has cached: everything of
//! the user an entry belongs to, a user's record (their old e-mail's entry is
//! checked against the record on every read; see `CachedStore`). An entry's
//! deletion there names only its id, so while MongoDB is not known to keep images
//! of both entry collections this process's store deletes entries in a transaction
//! with a note naming the owner and day (`mongo::DeletionNotes`), whose insert the
//! stream voids; `/health` says the invalidator is degraded, and why. A stream it cannot resume (the oplog moved
//! past the token), a first start without a token, or a change that names no owner
//! although images are kept, flush the whole cache (a new namespace epoch) before
//! the stream is trusted: nothing stale survives what nobody can vouch for.
//!
//! Clocks: lease expiry uses each process's clock; clocks that disagree by more than
//! the lease would let two processes consume at once, which costs double work, never
//! a stale value.

mod images;
mod voids;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bson::{Document, doc};
use mongodb::Database;
use mongodb::change_stream::ChangeStream;
use mongodb::change_stream::event::{ChangeStreamEvent, ResumeToken};
use mongodb::error::ErrorKind;
use mongodb::options::{FullDocumentBeforeChangeType, FullDocumentType};
use parking_lot::Mutex;
use uuid::Uuid;

use crate::store::cache::redis::RedisCache;
use crate::store::mongo::collections;
use crate::store::mongo::collections::ENTRY_DELETIONS;
use crate::store::mongo::{DeletionNotes, MongoStore, is_duplicate_key};
use crate::store::{ComponentHealth, ComponentStatus};
use images::Images;
use voids::{Voided, voided};

/// How long a lease lasts unless renewed.
const LEASE: Duration = Duration::from_millis(400);
/// How often the holder renews and the others try to take over.
const RENEW: Duration = Duration::from_millis(100);
/// How long one wait for changes lasts (the server's `maxAwaitTimeMS`).
const AWAIT: Duration = Duration::from_millis(100);
/// How often the confirmed resume token is saved at most.
const SAVE_EVERY: Duration = Duration::from_millis(100);

/// The running invalidator; it stops when dropped.
pub struct Invalidator {
    task: tokio::task::JoinHandle<()>,
    state: Arc<Mutex<Role>>,
    /// Where MongoDB keeps pre-images, once read.
    images: Arc<Mutex<Option<Images>>>,
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
    /// key version, in `mongo`'s database. Until it knows MongoDB keeps pre-images
    /// of both entry collections, `mongo` notes its entry deletions for the stream.
    pub fn start(mongo: &MongoStore, cache: Arc<RedisCache>, namespace: &str) -> Self {
        let state = Arc::new(Mutex::new(Role::Starting));
        let images = Arc::new(Mutex::new(None));
        let deletion_notes = mongo.deletion_notes();
        deletion_notes.turn(true);
        let db = mongo.database().clone();
        let consumer = Consumer {
            lease: db.collection::<Document>(collections::CACHE_INVALIDATOR),
            db,
            lease_id: lease_id(namespace, cache.key_version()),
            cache,
            me: Uuid::now_v7().simple().to_string(),
            role: state.clone(),
            images: images.clone(),
            deletion_notes,
        };
        Self {
            task: tokio::spawn(consumer.run()),
            state,
            images,
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
        let (mut status, detail) = match &*self.state.lock() {
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
        let mut detail = detail.to_owned();
        if let Some(shortfall) = self.images.lock().as_ref().and_then(Images::shortfall) {
            if status == ComponentStatus::Up {
                status = ComponentStatus::Degraded;
            }
            detail = format!("{detail}; {shortfall}");
        }
        ComponentHealth::new(status, false, Some(detail))
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
    images: Arc<Mutex<Option<Images>>>,
    /// This process's store's, turned off once entries are known to keep images.
    deletion_notes: Arc<DeletionNotes>,
}

type Events = ChangeStream<ChangeStreamEvent<Document>>;

/// Where this instance stands with the invalidator's lease.
enum Lease {
    /// Another instance holds it, or none could be taken: nothing to read.
    Standby,
    /// This instance holds it and reads the stream.
    Holding(Tail),
}

/// What one step of reading the stream leaves the holder to do.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Continue,
    /// A change was not confirmed: give the lease up.
    StepDown,
}

/// What a holder keeps: the stream once it is open, and the position of the last
/// change it confirmed and has not saved yet. Stepping down drops both.
#[derive(Default)]
struct Tail {
    stream: Option<Events>,
    confirmed: Option<ResumeToken>,
}

impl Consumer {
    async fn run(self) {
        let mut lease = Lease::Standby;
        let mut next_claim = Instant::now();
        let mut last_saved = Instant::now();
        // Read (and turned on where it can be) once per process, before any stream
        // is opened: every instance's `/health` tells whether MongoDB keeps them.
        let mut images: Option<Images> = None;
        loop {
            if images.is_none() {
                images = self.read_images().await;
            }
            if Instant::now() >= next_claim {
                next_claim = Instant::now() + RENEW;
                lease = self.renew(lease).await;
            }
            let (Lease::Holding(tail), Some(images)) = (&mut lease, images.as_ref()) else {
                tokio::time::sleep(RENEW).await;
                continue;
            };
            if self.tail(tail, images, &mut last_saved).await == Step::StepDown {
                // Not confirmed: what was is saved; give the lease up (an instance
                // that reaches Redis takes over from the saved token, so the change
                // comes round again) and stand by for a while.
                self.release().await;
                lease = self.step_down(Role::Standby);
                next_claim = Instant::now() + LEASE * 2;
            }
        }
    }

    /// Which collections keep pre-images, with the deletion notes turned on where
    /// entries keep none; `None` while that cannot be read.
    async fn read_images(&self) -> Option<Images> {
        match images::ensure(&self.db, &collections::DATA).await {
            Ok(found) => {
                let entries_kept = collections::ENTRIES
                    .iter()
                    .all(|collection| found.kept_for(collection));
                self.deletion_notes.turn(!entries_kept);
                *self.images.lock() = Some(found.clone());
                Some(found)
            }
            Err(error) => {
                tracing::debug!(%error, "which collections keep pre-images could not be read");
                None
            }
        }
    }

    /// One lease round: takes or keeps the lease, or steps down.
    async fn renew(&self, lease: Lease) -> Lease {
        // Only an instance that reaches Redis may hold the lease: one that cannot
        // would keep it while invalidating nothing.
        let claimed = if self.cache.is_serving() {
            self.claim().await
        } else {
            Ok(false)
        };
        match (claimed, lease) {
            (Ok(true), Lease::Standby) => {
                self.cache.metrics.stream_lease_takeovers.inc();
                tracing::info!("this instance now invalidates from the change stream");
                *self.role.lock() = Role::Holder;
                Lease::Holding(Tail::default())
            }
            (Ok(true), holding @ Lease::Holding(_)) => holding,
            (Ok(false), lease) => {
                if let Lease::Holding(_) = lease {
                    self.release().await;
                }
                self.step_down(Role::Standby)
            }
            (Err(error), _) => {
                tracing::debug!(%error, "the invalidator's lease could not be renewed");
                self.step_down(Role::Unreachable)
            }
        }
    }

    fn step_down(&self, role: Role) -> Lease {
        *self.role.lock() = role;
        Lease::Standby
    }

    /// Reads the next change, if any, and invalidates it; saves the position now
    /// and then. `StepDown` when a change could not be confirmed.
    async fn tail(&self, tail: &mut Tail, images: &Images, last_saved: &mut Instant) -> Step {
        let Some(events) = tail.stream.as_mut() else {
            match self.open(images).await {
                Ok(opened) => tail.stream = Some(opened),
                Err(error) => {
                    tracing::warn!(%error, "the change stream could not be opened; retrying");
                    tokio::time::sleep(RENEW).await;
                }
            }
            return Step::Continue;
        };
        match events.next_if_any().await {
            Ok(Some(event)) => {
                let token = event.id.clone();
                if !self.apply(event, images).await {
                    self.save(&mut tail.confirmed, last_saved, true).await;
                    return Step::StepDown;
                }
                tail.confirmed = Some(token);
            }
            // Nothing new: every change so far was confirmed, so the stream's own
            // position can be saved, and a quiet stream's token keeps up with the oplog.
            Ok(None) => tail.confirmed = events.resume_token().or(tail.confirmed.take()),
            Err(error) => {
                // Reopened from the saved token; one the server refuses is handled
                // there (`open`).
                tracing::warn!(%error, "the change stream failed; resuming");
                self.save(&mut tail.confirmed, last_saved, true).await;
                tail.stream = None;
            }
        }
        self.save(&mut tail.confirmed, last_saved, false).await;
        Step::Continue
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

    /// Opens the stream after the saved token; without one, or when the token is too
    /// old, flushes the whole cache first and starts from now.
    async fn open(&self, images: &Images) -> mongodb::error::Result<Events> {
        let saved = self
            .lease
            .find_one(doc! { "_id": &self.lease_id })
            .await?
            .and_then(|lease| lease.get("token").cloned())
            .and_then(|token| bson::from_bson::<ResumeToken>(token).ok());
        let resuming = saved.is_some();
        match self.watch(saved, images).await {
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
                let stream = self.watch(None, images).await?;
                self.start_afresh().await;
                self.save_token(stream.resume_token()).await;
                Ok(stream)
            }
            Err(error) => Err(error),
        }
    }

    /// The stream after `after` (or from now). An update event carries the
    /// document as it was written where post-images are kept; where they are not,
    /// as it is when the event is read (`updateLookup`), which still names its
    /// owner (an entry's and a user's never change).
    async fn watch(
        &self,
        after: Option<ResumeToken>,
        images: &Images,
    ) -> mongodb::error::Result<Events> {
        let pipeline = [doc! { "$match": { "$or": [
            {
                "ns.coll": { "$in": collections::DATA.to_vec() },
                "operationType": { "$in": ["insert", "update", "replace", "delete"] },
            },
            // Notes of entry deletions, when they are written (not when they expire).
            { "ns.coll": ENTRY_DELETIONS, "operationType": "insert" },
        ]}}];
        let full_document = if images.kept_everywhere() {
            FullDocumentType::WhenAvailable
        } else {
            FullDocumentType::UpdateLookup
        };
        let watch = self
            .db
            .watch()
            .pipeline(pipeline)
            .full_document(full_document)
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
    async fn apply(&self, event: ChangeStreamEvent<Document>, images: &Images) -> bool {
        let lag = event
            .wall_time
            .map(|at| (chrono::Utc::now().timestamp_millis() - at.timestamp_millis()) as f64 / 1e3);
        let collection = || event.ns.as_ref().and_then(|ns| ns.coll.clone());
        let changes = match voided(&event, images) {
            Voided::Keys(changes) => changes,
            Voided::Nobody => {
                tracing::debug!(
                    collection = collection(),
                    "a change without images names no owner; its writer's invalidation covers it"
                );
                return true;
            }
            Voided::Unknown => {
                tracing::warn!(
                    collection = collection(),
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

/// The `_id` of the lease (and saved token) of the invalidator of cache namespace
/// `namespace` at key version `key_version`.
pub fn lease_id(namespace: &str, key_version: &str) -> String {
    format!("{namespace}:{key_version}")
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
