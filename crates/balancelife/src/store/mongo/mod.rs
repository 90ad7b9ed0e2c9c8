//! The MongoDB store: the persistent primary (official `mongodb` driver).
//!
//! Every call is bounded by `MONGODB_TIMEOUT_MS`, and connection trouble becomes
//! `StoreError::Unavailable` (a 503), never a write to somewhere else. The driver
//! reconnects by itself when the server returns.

mod batches;
mod bulk;
pub mod collections;
mod deletion_notes;
mod documents;
mod entries;
mod errors;
mod feed;
mod foods;
mod health;
mod indexes;
mod kept_answers;
mod migrations;
mod packages;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use mongodb::options::{
    Acknowledgment, ClientOptions, DatabaseOptions, ReadConcern, ReadPreference, SelectionCriteria,
    Tls, TlsOptions, TransactionOptions, WriteConcern,
};
use mongodb::{Client, ClientSession, Database};
use uuid::Uuid;

use self::batches::MongoBatches;
use self::collections::{
    CUSTOM_EXERCISES, FOODS, HEALTH_SAMPLES, KEPT_ANSWERS, MEAL_PACKAGES, SYNC_BATCHES,
    SYNC_CLOCKS, SYNC_MARKERS, USERS, WORKOUT_PACKAGES,
};
pub use self::deletion_notes::DeletionNotes;
use self::documents::{EntryDocument, UserDoc};
use self::entries::MongoEntries;
pub(super) use self::errors::is_duplicate_key;
use self::errors::{Rejected, bounded, detached, detached_write, insert_unless_taken};
use self::feed::{FeedClock, Intent, MongoFeed};
use self::foods::MongoFoods;
use self::health::MongoHealth;
use self::kept_answers::MongoKeptAnswers;
use self::packages::MongoPackages;
use super::{
    ComponentHealth, ComponentStatus, EntryStore, FoodStore, Optional, PackageStore, Store,
    StoreError, StoreKind, StoreResult,
};
use crate::config::MongoSettings;
use crate::domain::{
    BodyMetricData, CustomExercise, Email, MealData, MealPackage, User, WorkoutData, WorkoutPackage,
};
use crate::store::changed_concurrently;
use crate::store::sync_feed::{FeedKind, SyncFeed};
use crate::telemetry::ErrorChain;

pub struct MongoStore {
    db: Database,
    users: mongodb::Collection<UserDoc>,
    meal_packages: MongoPackages<MealPackage>,
    workout_packages: MongoPackages<WorkoutPackage>,
    custom_exercises: MongoPackages<CustomExercise>,
    meal_entries: MongoEntries<MealData>,
    workout_entries: MongoEntries<WorkoutData>,
    body_metrics: MongoEntries<BodyMetricData>,
    foods: MongoFoods,
    timeout: Duration,
    /// Replica sets and sharded clusters can delete a user and their entries in one
    /// transaction; a standalone server cannot.
    supports_transactions: bool,
    transactions: Transactions,
    /// Shared by both kinds of entries.
    deletion_notes: Arc<DeletionNotes>,
    /// Numbers the writes of users and entries in each user's sync feed.
    clock: Arc<FeedClock>,
    feed: MongoFeed,
    batches: MongoBatches,
    kept_answers: MongoKeptAnswers,
    health: MongoHealth,
}

impl MongoStore {
    /// Connects, checks that the server answers, creates the indexes and brings data
    /// an older release stored up to date (`migrations`). Fails with
    /// `Unavailable` when the server cannot be reached within the timeout, `Invalid`
    /// when the settings are wrong.
    pub async fn connect(settings: &MongoSettings) -> StoreResult<Self> {
        Self::connect_with(settings, None).await
    }

    /// `connect`, reporting every command the driver sends (and its outcome) to
    /// `events`: how a test sees what reaches the server, and with what options.
    pub async fn connect_reporting(
        settings: &MongoSettings,
        events: EventHandler<CommandEvent>,
    ) -> StoreResult<Self> {
        Self::connect_with(settings, Some(events)).await
    }

    async fn connect_with(
        settings: &MongoSettings,
        events: Option<EventHandler<CommandEvent>>,
    ) -> StoreResult<Self> {
        let timeout = settings.timeout;
        let (client, db, supports_transactions) = open(settings, events).await?;
        let store = Self::new(client, db, timeout, supports_transactions);
        indexes::ensure(&store.db, timeout).await?;
        migrations::run(&store.db, timeout).await?;
        Ok(store)
    }

    /// Whether the configured server answers, without touching any data.
    pub async fn probe(settings: &MongoSettings) -> StoreResult<()> {
        open(settings, None).await.map(|_| ())
    }

    /// A refused user write, explained by the unique index it collided with as the
    /// server names it (`_id` or `email`); a server that does not name it is asked
    /// who holds the e-mail address.
    async fn explain_user_clash(&self, user: &User, rejected: Rejected) -> StoreError {
        match rejected {
            Rejected::Failed(error) => error,
            Rejected::Duplicate(Some(field)) if field == "email" => email_taken(),
            Rejected::Duplicate(Some(field)) if field == "_id" => id_taken(),
            Rejected::Duplicate(_) => match self.get_user_by_email(&user.email).await.optional() {
                Ok(Some(holder)) if holder.id != user.id => email_taken(),
                Ok(_) => id_taken(),
                Err(other) => other,
            },
        }
    }

    fn new(client: Client, db: Database, timeout: Duration, supports_transactions: bool) -> Self {
        let raw_users = db.collection::<Document>(USERS);
        let deletion_notes = Arc::new(DeletionNotes::new(
            db.collection(deletion_notes::COLLECTION),
        ));
        let transactions = Transactions {
            client: client.clone(),
            db: db.clone(),
            timeout,
        };
        let clock = Arc::new(FeedClock::new(
            db.collection(SYNC_CLOCKS),
            db.collection(SYNC_MARKERS),
            timeout,
        ));
        let shared = || (transactions.clone(), deletion_notes.clone(), clock.clone());
        let feed = MongoFeed::new(
            clock.clone(),
            db.collection(USERS),
            db.collection(MealData::COLLECTION),
            db.collection(WorkoutData::COLLECTION),
            db.collection(BodyMetricData::COLLECTION),
        );
        Self {
            batches: MongoBatches::new(db.collection(SYNC_BATCHES), timeout),
            kept_answers: MongoKeptAnswers::new(db.collection(KEPT_ANSWERS), timeout),
            health: MongoHealth::new(db.collection(HEALTH_SAMPLES), raw_users.clone(), timeout),
            users: db.collection(USERS),
            meal_packages: MongoPackages::new(db.collection(MEAL_PACKAGES), timeout),
            workout_packages: MongoPackages::new(db.collection(WORKOUT_PACKAGES), timeout),
            custom_exercises: MongoPackages::new(db.collection(CUSTOM_EXERCISES), timeout),
            meal_entries: MongoEntries::new(
                db.collection(MealData::COLLECTION),
                raw_users.clone(),
                timeout,
                shared(),
            ),
            workout_entries: MongoEntries::new(
                db.collection(WorkoutData::COLLECTION),
                raw_users.clone(),
                timeout,
                shared(),
            ),
            body_metrics: MongoEntries::new(
                db.collection(BodyMetricData::COLLECTION),
                raw_users,
                timeout,
                shared(),
            ),
            foods: MongoFoods::new(db.collection(FOODS), timeout),
            db,
            timeout,
            supports_transactions,
            transactions,
            deletion_notes,
            clock,
            feed,
        }
    }

    /// How long the sync feed keeps a deletion's tombstone (`SYNC_TOMBSTONE_DAYS`).
    pub fn set_tombstone_retention(&self, retention: Duration) {
        self.clock.set_retention(retention);
    }

    fn profile_intent(id: Uuid) -> Intent {
        Intent {
            kind: FeedKind::Profile,
            id,
            deletes: false,
        }
    }

    /// Whether entry deletions are noted for a change stream without pre-images
    /// (see `DeletionNotes`); the invalidator turns them on and off.
    pub fn deletion_notes(&self) -> Arc<DeletionNotes> {
        self.deletion_notes.clone()
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Bulk-loads meal entries (see `MongoEntries::insert_many_unchecked`).
    pub async fn insert_meal_entries_unchecked(
        &self,
        entries: &[crate::domain::MealEntry],
    ) -> StoreResult<()> {
        self.meal_entries.insert_many_unchecked(entries).await
    }

    /// Replaces user `user.id` if it is still the revision `expected_updated_at`.
    async fn replace_user(
        &self,
        user: User,
        expected_updated_at: DateTime<Utc>,
    ) -> StoreResult<User> {
        let filter = doc! {
            "_id": bson::Uuid::from(user.id),
            "updated_at": bson::DateTime::from_chrono(expected_updated_at),
        };
        let (document, timeout) = (UserDoc::from(&user), self.timeout);
        let replace = detached_write(timeout, &self.users, move |users| async move {
            users
                .find_one_and_replace(filter, document)
                .max_time(timeout)
                .await
        });
        let replaced = match replace.await {
            Ok(replaced) => replaced,
            Err(rejected) => return Err(self.explain_user_clash(&user, rejected).await),
        };
        if replaced.is_none() {
            // Gone, or changed since the caller read it.
            self.get_user(user.id).await?;
            return Err(changed_concurrently());
        }
        Ok(user)
    }

    /// Whether user deletion runs as one transaction on this server.
    pub fn supports_transactions(&self) -> bool {
        self.supports_transactions
    }

    /// Deletes the user and their entries atomically, where the server allows it.
    async fn delete_user_in_transaction(&self, id: Uuid) -> StoreResult<User> {
        let user_filter = doc! { "_id": bson::Uuid::from(id) };
        let entry_filter = doc! { "user_id": bson::Uuid::from(id) };
        let mut session = self.transactions.begin().await?;
        let deleted = bounded(
            self.timeout,
            self.users
                .find_one_and_delete(user_filter)
                .session(&mut session),
        )
        .await?;
        let Some(deleted) = deleted else {
            let _ = session.abort_transaction().await;
            return Err(StoreError::NotFound);
        };
        let meals = self
            .meal_entries
            .collection()
            .delete_many(entry_filter.clone())
            .session(&mut session);
        bounded(self.timeout, meals).await?;
        let workouts = self
            .workout_entries
            .collection()
            .delete_many(entry_filter.clone())
            .session(&mut session);
        bounded(self.timeout, workouts).await?;
        let metrics = self
            .body_metrics
            .collection()
            .delete_many(entry_filter)
            .session(&mut session);
        bounded(self.timeout, metrics).await?;
        self.foods.delete_owned_by(id, Some(&mut session)).await?;
        self.health.delete_owned_by(id, Some(&mut session)).await?;
        self.batches.delete_owned_by(id, Some(&mut session)).await?;
        self.kept_answers
            .delete_owned_by(id, Some(&mut session))
            .await?;
        self.clock.forget(id, Some(&mut session)).await?;
        bounded(self.timeout, session.commit_transaction()).await?;
        Ok(User::from(deleted))
    }

    /// Without transactions: entries first, then the user, then entries again. At no
    /// point is there a deleted user with entries; an entry created concurrently with
    /// the deletion is swept by the second pass.
    async fn delete_user_in_steps(&self, id: Uuid) -> StoreResult<User> {
        self.get_user(id).await?;
        self.meal_entries.delete_owned_by(id).await?;
        self.workout_entries.delete_owned_by(id).await?;
        self.body_metrics.delete_owned_by(id).await?;
        let deleted = bounded(
            self.timeout,
            self.users
                .find_one_and_delete(doc! { "_id": bson::Uuid::from(id) })
                .max_time(self.timeout),
        )
        .await?;
        self.meal_entries.delete_owned_by(id).await?;
        self.workout_entries.delete_owned_by(id).await?;
        self.body_metrics.delete_owned_by(id).await?;
        self.foods.delete_owned_by(id, None).await?;
        self.health.delete_owned_by(id, None).await?;
        self.batches.delete_owned_by(id, None).await?;
        self.kept_answers.delete_owned_by(id, None).await?;
        self.clock.forget(id, None).await?;
        deleted.map(User::from).ok_or(StoreError::NotFound)
    }
}

/// Where multi-document transactions are begun.
#[derive(Clone)]
pub(super) struct Transactions {
    client: Client,
    db: Database,
    timeout: Duration,
}

impl Transactions {
    /// A session with a transaction begun. It commits with the database's write
    /// concern, which does not reach a transaction's commit by itself, and within
    /// the timeout, which bounds when what it wrote can still take effect.
    pub(super) async fn begin(&self) -> StoreResult<ClientSession> {
        let mut session = bounded(self.timeout, self.client.start_session()).await?;
        let options = TransactionOptions::builder()
            .write_concern(self.db.write_concern().cloned())
            .max_commit_time(self.timeout)
            .build();
        bounded(
            self.timeout,
            session.start_transaction().with_options(options),
        )
        .await?;
        Ok(session)
    }
}

/// Connections per MongoDB server unless `MONGODB_URI` says `maxPoolSize`: the
/// connection pooling specification's default, which most drivers keep.
const DEFAULT_MAX_POOL_SIZE: u32 = 100;

/// A client for the configured server, after it answered `hello`; and whether it can
/// run multi-document transactions (replica sets and sharded clusters can). There,
/// the database reads with read concern `majority`: whatever is read may be cached
/// for every instance, and only what a majority holds cannot be rolled back after a
/// failover (a rolled-back write has no change event, so nothing would void its
/// cached copy). It writes with write concern `majority` to match: a write
/// acknowledged by the primary alone would not be in the majority snapshot the
/// writer reads next, which could then refill the cache with the value the write
/// just voided. A standalone server has nothing to roll back from.
async fn open(
    settings: &MongoSettings,
    events: Option<EventHandler<CommandEvent>>,
) -> StoreResult<(Client, Database, bool)> {
    use secrecy::ExposeSecret;
    let uri = &settings.uri;
    let timeout = settings.timeout;
    // Parsing may resolve DNS (mongodb+srv), so it is bounded too. Its error text
    // could quote the URI, credentials included, so it is not passed on.
    let mut options = tokio::time::timeout(timeout, ClientOptions::parse(uri.expose_secret()))
        .await
        .map_err(|_| StoreError::unavailable("resolving MONGODB_URI timed out"))?
        .map_err(|_| {
            StoreError::Invalid("MONGODB_URI is not a valid MongoDB connection string".into())
        })?;
    refuse_secondary_reads(&options)?;
    let write_concern = majority_write_concern(&options)?;
    options.app_name = Some("balancelife".into());
    // The Rust driver's default pool is 10 connections, where the other drivers'
    // is 100: sixteen clients each reading a summary (two months at once) already
    // queue for connections, and a queued request is served only when the pool
    // hears of a freed or new connection (see `errors::detached`).
    options.max_pool_size = options.max_pool_size.or(Some(DEFAULT_MAX_POOL_SIZE));
    options.server_selection_timeout = Some(timeout);
    options.connect_timeout = Some(timeout);
    options.command_event_handler = events;
    if let Some(ca_file) = &settings.cert_path {
        if !ca_file.is_file() {
            return Err(StoreError::Invalid(format!(
                "MONGODB_CERT_PATH {} is not a readable file",
                ca_file.display()
            )));
        }
        options.tls = Some(Tls::Enabled(
            TlsOptions::builder().ca_file_path(ca_file.clone()).build(),
        ));
    }
    let client = Client::with_options(options).map_err(errors::classify)?;
    let db = client.database(&settings.database);
    let hello = bounded(timeout, db.run_command(doc! { "hello": 1 })).await?;
    let supports_transactions =
        hello.contains_key("setName") || hello.get_str("msg") == Ok("isdbgrid");
    let db = if supports_transactions {
        let majority = DatabaseOptions::builder()
            .read_concern(ReadConcern::majority())
            .write_concern(write_concern)
            .build();
        client.database_with_options(&settings.database, majority)
    } else {
        db
    };
    Ok((client, db, supports_transactions))
}

/// Every read must see every acknowledged write: a cache fill from a secondary that
/// has not replicated a write yet would store a value older than it, under a lease
/// the write already voided. So reads go to the primary, and a connection string that
/// asks otherwise is refused rather than silently overridden.
fn refuse_secondary_reads(options: &ClientOptions) -> StoreResult<()> {
    match &options.selection_criteria {
        None | Some(SelectionCriteria::ReadPreference(ReadPreference::Primary)) => Ok(()),
        Some(_) => Err(StoreError::Invalid(
            "MONGODB_URI asks for a readPreference other than primary; BalanceLife reads \
             from the primary only (a read from a secondary could miss an acknowledged \
             write and cache it), so remove readPreference from MONGODB_URI"
                .into(),
        )),
    }
}

/// The write concern of a replica set's writes: `majority`, keeping what else
/// `MONGODB_URI` says of it (`wtimeoutMS`, `journal`). A `w` other than `majority`
/// is refused, as a `readPreference` is, rather than silently overridden: fewer
/// acknowledgements would let a read just after a write miss it (above), and a tag
/// set's may or may not include a majority.
fn majority_write_concern(options: &ClientOptions) -> StoreResult<WriteConcern> {
    let mut concern = options.write_concern.clone().unwrap_or_default();
    match &concern.w {
        None | Some(Acknowledgment::Majority) => {
            concern.w = Some(Acknowledgment::Majority);
            Ok(concern)
        }
        Some(_) => Err(StoreError::Invalid(
            "MONGODB_URI asks for a write concern other than w=majority; BalanceLife waits \
             for a majority to acknowledge each write (reads see majority-committed data \
             only, so a write acknowledged by fewer could be missed by the read after it \
             and cached), so remove w from MONGODB_URI"
                .into(),
        )),
    }
}

fn id_taken() -> StoreError {
    StoreError::Conflict("a user with this id already exists".into())
}

fn email_taken() -> StoreError {
    StoreError::Conflict("this e-mail address is already registered".into())
}

#[async_trait]
impl Store for MongoStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Mongodb
    }

    /// Every write carries `maxTimeMS` of the timeout (see `errors::bounded`): one
    /// the server had in hand when its caller gave up is done within the timeout
    /// or abandoned. (One held up on the way to the server for longer still, which
    /// no time limit of MongoDB's can bound, is left to the change stream.)
    fn late_write_bound(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    async fn health(&self) -> Vec<(&'static str, ComponentHealth)> {
        let ping = bounded(self.timeout, self.db.run_command(doc! { "ping": 1 })).await;
        let health = match ping {
            Ok(_) => ComponentHealth::new(ComponentStatus::Up, true, None),
            Err(error) => {
                tracing::warn!(error = %ErrorChain(&error), "MongoDB health check failed");
                ComponentHealth::new(
                    ComponentStatus::Down,
                    true,
                    Some("MongoDB does not answer; requests that need it get 503".into()),
                )
            }
        };
        vec![("mongodb", health)]
    }

    async fn create_user(&self, user: User) -> StoreResult<User> {
        // A new user's feed starts with the profile, numbered 0 as what was there
        // before the feed is: marked before the user exists, so nobody can have
        // read past it, and no number is taken.
        let profile = Self::profile_intent(user.id);
        self.clock.mark_first(user.id, profile).await?;
        let insert = insert_unless_taken(self.timeout, &self.users, &UserDoc::from(&user)).await;
        let refused = match insert {
            Ok(true) => return Ok(user),
            Ok(false) => id_taken(),
            Err(rejected) => self.explain_user_clash(&user, rejected).await,
        };
        // Unless another user holds the id (whose marker it is), or the insert
        // may yet land.
        let nobody = matches!(self.get_user(user.id).await, Err(StoreError::NotFound));
        if nobody && !refused.leaves_write_unknown() {
            self.clock.unmark_first(user.id, profile).await;
        }
        Err(refused)
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<User> {
        let filter = doc! { "_id": bson::Uuid::from(id) };
        let found = detached(self.timeout, &self.users, move |users| async move {
            users.find_one(filter).await
        })
        .await?;
        found.map(User::from).ok_or(StoreError::NotFound)
    }

    async fn get_user_by_email(&self, email: &Email) -> StoreResult<User> {
        let filter = doc! { "email": email.as_str() };
        let found = detached(self.timeout, &self.users, move |users| async move {
            users.find_one(filter).await
        })
        .await?;
        found.map(User::from).ok_or(StoreError::NotFound)
    }

    async fn update_user(&self, user: User, read: &User) -> StoreResult<User> {
        if user.profile_differs(read) {
            let (id, expected) = (user.id, read.updated_at);
            let write = self.replace_user(user, expected);
            self.clock
                .numbered(id, Self::profile_intent(id), write, |_| true)
                .await
        } else {
            self.replace_user(user, read.updated_at).await
        }
    }

    async fn delete_user(&self, id: Uuid) -> StoreResult<User> {
        if self.supports_transactions {
            self.delete_user_in_transaction(id).await
        } else {
            self.delete_user_in_steps(id).await
        }
    }

    fn meal_packages(&self) -> &dyn PackageStore<MealPackage> {
        &self.meal_packages
    }

    fn workout_packages(&self) -> &dyn PackageStore<WorkoutPackage> {
        &self.workout_packages
    }

    fn custom_exercises(&self) -> &dyn PackageStore<CustomExercise> {
        &self.custom_exercises
    }

    fn meal_entries(&self) -> &dyn EntryStore<MealData> {
        &self.meal_entries
    }

    fn workout_entries(&self) -> &dyn EntryStore<WorkoutData> {
        &self.workout_entries
    }

    fn body_metrics(&self) -> &dyn EntryStore<BodyMetricData> {
        &self.body_metrics
    }

    fn foods(&self) -> &dyn FoodStore {
        &self.foods
    }

    fn sync_feed(&self) -> &dyn SyncFeed {
        &self.feed
    }

    fn batches(&self) -> &dyn super::BatchStore {
        &self.batches
    }

    fn health_samples(&self) -> &dyn super::HealthStore {
        &self.health
    }

    fn kept_answers(&self) -> &dyn super::KeptAnswers {
        &self.kept_answers
    }

    fn primary(&self) -> &dyn Store {
        self
    }
}
