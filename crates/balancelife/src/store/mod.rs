//! The storage contract: what every backend (memory, MongoDB, the Redis-cached
//! decorator) promises, and the error it reports. Nothing here knows a driver.

pub mod batches;
pub mod cache;
mod encoded;
pub mod foods;
pub mod health;
pub mod kept_answers;
pub mod memory;
pub mod mongo;
mod page;
pub mod sync_feed;
pub mod sync_snapshot;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::{
    BodyMetricData, CustomExercise, DaySums, Email, Entry, EntryData, EntryPosition, MealData,
    MealPackage, Package, PackageFilter, Slug, User, WorkoutData, WorkoutPackage,
};

pub use batches::BatchStore;
pub use encoded::{Encoded, tag_of};
pub use foods::FoodStore;
pub use health::HealthStore;
pub use kept_answers::KeptAnswers;
pub use page::{DateRange, Page, PageLimit, PageRequest};
pub use sync_feed::SyncFeed;

/// Why a store operation failed. The API maps each variant to one status code. The
/// messages of `Conflict` and `Invalid` are written for clients; `Unavailable` and
/// `Internal` say what failed, with the driver's error as their source, for logs only.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The write clashes with existing data; the message is safe to show a client.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request is well-formed but the store cannot accept it; safe to show.
    #[error("invalid: {0}")]
    Invalid(String),
    /// A conditional write found another revision than the one it was based on:
    /// someone changed the record since the caller read it. Nothing was written.
    #[error("stale: the stored revision is not the one the write was based on")]
    Stale,
    /// The backend cannot be reached right now; the same call may succeed later.
    #[error("store unavailable: {context}")]
    Unavailable {
        context: String,
        #[source]
        source: Option<Cause>,
    },
    #[error("internal store error: {context}")]
    Internal {
        context: String,
        #[source]
        source: Option<Cause>,
    },
}

/// The error beneath a `StoreError`, shared so the error stays `Clone` (coalesced
/// reads hand one outcome to many waiters).
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The backend cannot be reached: `context` says what was tried.
    pub fn unavailable(context: impl Into<String>) -> Self {
        Self::Unavailable {
            context: context.into(),
            source: None,
        }
    }

    /// Something that should not fail did: `context` says what.
    pub fn internal(context: impl Into<String>) -> Self {
        Self::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// Whether a write that failed so may have been applied all the same: the
    /// backend did not answer in time (the write may have been done and only its
    /// answer lost), or answered something unexpected. Every other error means the
    /// write certainly did nothing.
    pub fn leaves_write_unknown(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Internal { .. })
    }

    /// The same error, caused by `cause` (kept only by `Unavailable` and `Internal`,
    /// whose details never reach a client).
    pub fn because(self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        match self {
            Self::Unavailable { context, .. } => Self::Unavailable {
                context,
                source: Some(Arc::new(cause)),
            },
            Self::Internal { context, .. } => Self::Internal {
                context,
                source: Some(Arc::new(cause)),
            },
            other => other,
        }
    }
}

/// `.optional()` on a store result: "not found" as `None`, so a caller that expects
/// absence says so in one word instead of a match arm.
pub trait Optional<T> {
    fn optional(self) -> StoreResult<Option<T>>;
}

impl<T> Optional<T> for StoreResult<T> {
    fn optional(self) -> StoreResult<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(StoreError::NotFound) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// The conflict a stale conditional update gets.
pub fn changed_concurrently() -> StoreError {
    StoreError::Conflict(
        "it was changed by another request meanwhile; read it again and retry".into(),
    )
}

/// The outcome of an idempotent write.
#[derive(Debug, Clone, PartialEq)]
pub enum Written<T> {
    /// Nothing had that id; it was stored.
    Created(T),
    /// The same content was already stored under that id; nothing changed.
    Unchanged(T),
    /// Different content under that id, same owner, was replaced: what is stored
    /// now and what was, as the write itself found it (a cache invalidates both).
    Replaced { stored: T, previous: T },
}

impl<T> Written<T> {
    pub fn into_inner(self) -> T {
        match self {
            Self::Created(v) | Self::Unchanged(v) | Self::Replaced { stored: v, .. } => v,
        }
    }

    pub fn was_created(&self) -> bool {
        matches!(self, Self::Created(_))
    }

    /// Whether the write changed what is stored.
    pub fn changed(&self) -> bool {
        !matches!(self, Self::Unchanged(_))
    }
}

/// Which backend serves requests, as reported by `/health` and `balancelife config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    Memory,
    Mongodb,
    Cached,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Mongodb => "mongodb",
            Self::Cached => "cached",
        }
    }
}

/// The state of one part of the storage stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ComponentStatus {
    Up,
    /// Working, but not as configured (the cache renewing its namespace).
    Degraded,
    Down,
}

/// One part of the storage stack as `/health` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ComponentHealth {
    pub status: ComponentStatus,
    /// Whether data written here survives a restart of the service.
    pub persistent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub detail: Option<String>,
    /// Redis only: its `maxmemory-policy` (`unknown` where the server refuses to
    /// say). Anything but `noeviction` can evict a guard before the values that
    /// depend on it, so the component is degraded then.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub eviction_policy: Option<String>,
    /// Redis only: `standalone` or `cluster`, once the server has answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub mode: Option<String>,
    /// A Redis Cluster only: masters serving slots and not marked failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub masters: Option<u32>,
}

impl ComponentHealth {
    /// A component with no Redis-only fields.
    pub fn new(status: ComponentStatus, persistent: bool, detail: Option<String>) -> Self {
        Self {
            status,
            persistent,
            detail,
            eviction_policy: None,
            mode: None,
            masters: None,
        }
    }
}

/// The whole storage contract, held as `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync {
    fn kind(&self) -> StoreKind;

    /// The state of each component, keyed by name (`store`, later `mongodb`, `redis`).
    async fn health(&self) -> Vec<(&'static str, ComponentHealth)>;

    /// How long after its caller gave up on a write (a timeout) the backend may
    /// still apply it: past that, a write whose outcome was left unknown has been
    /// done or never will be, and a cache voids what it could have touched again.
    /// `None` where no write is left unknown.
    fn late_write_bound(&self) -> Option<Duration> {
        None
    }

    /// Conflict when the id or the e-mail is taken.
    async fn create_user(&self, user: User) -> StoreResult<User>;
    async fn get_user(&self, id: Uuid) -> StoreResult<User>;
    /// User `id` as stored, past any cache: what a conditional write is compared
    /// with (as `PackageStore::get_stored`).
    async fn get_user_stored(&self, id: Uuid) -> StoreResult<User> {
        self.get_user(id).await
    }
    async fn get_user_by_email(&self, email: &Email) -> StoreResult<User>;
    /// Replaces the stored user with the same id, if it is still the revision the
    /// caller `read` (the same `updated_at`); otherwise a conflict, so concurrent
    /// edits never silently undo each other (a profile edit must not restore an old
    /// password). Conflict too when the new e-mail is taken by someone else. A
    /// change of what `User::profile_differs` compares is numbered in the sync feed.
    async fn update_user(&self, user: User, read: &User) -> StoreResult<User>;
    /// Deletes the user and every entry and food they own. Once it returns, no entry of the
    /// user can be read; in a transaction where the backend has them. Returns the
    /// user as the deletion found it (its e-mail may have changed since anyone read it).
    async fn delete_user(&self, id: Uuid) -> StoreResult<User>;

    fn meal_packages(&self) -> &dyn PackageStore<MealPackage>;
    fn workout_packages(&self) -> &dyn PackageStore<WorkoutPackage>;
    /// The exercises administrators added to the bundled library, kept as the
    /// packages are (`exercise_book` puts the two together).
    fn custom_exercises(&self) -> &dyn PackageStore<CustomExercise>;
    fn meal_entries(&self) -> &dyn EntryStore<MealData>;
    fn workout_entries(&self) -> &dyn EntryStore<WorkoutData>;
    /// The body log: weigh-ins, body fat and girths (`domain::body_metric`).
    fn body_metrics(&self) -> &dyn EntryStore<BodyMetricData>;
    fn foods(&self) -> &dyn FoodStore;
    /// The feed of changes to what each user owns (`sync_feed`).
    fn sync_feed(&self) -> &dyn SyncFeed;
    /// The answers of batches of writes, by the ids their clients gave them.
    fn batches(&self) -> &dyn BatchStore;
    /// Samples from health platforms (`domain::health`).
    fn health_samples(&self) -> &dyn HealthStore;
    /// Answers computed from a user's data, kept for reuse (`kept_answers`).
    fn kept_answers(&self) -> &dyn KeptAnswers;

    /// This store past any cache: what an answer that outlives the cache's
    /// one-second promise is made from (a kept answer lives until its user
    /// writes again). The store itself where it has no cache.
    fn primary(&self) -> &dyn Store;
}

/// A read-mostly catalogue of one package kind, listed in slug order.
#[async_trait]
pub trait PackageStore<P: Package>: Send + Sync {
    async fn list(
        &self,
        filter: &PackageFilter,
        page: PageRequest<Slug>,
    ) -> StoreResult<Page<P, Slug>>;
    async fn get(&self, id: Uuid) -> StoreResult<P>;
    /// Package `id` as stored, past any cache: what a conditional write is compared
    /// with (a cached copy may lag another instance's write by a moment).
    async fn get_stored(&self, id: Uuid) -> StoreResult<P> {
        self.get(id).await
    }
    /// Inserts or replaces by id, unconditionally (seeding and tests); conflict when
    /// another package already has the slug.
    async fn upsert(&self, package: P) -> StoreResult<Written<P>>;
    /// Replaces the stored package of `package`'s id if it is still the revision
    /// `read` (the same `updated_at`): `Stale` otherwise, so two admins editing at
    /// once never overwrite each other. `NotFound` if there is none; a conflict when
    /// another package has the slug. `Replaced` carries the revision it replaced.
    async fn replace(&self, package: P, read: &P) -> StoreResult<Written<P>>;
    /// Deletes package `id` if it is still the revision `read` (the same
    /// `updated_at`): `Stale` otherwise, `NotFound` if there is none. Returns the
    /// package as the deletion found it. Whether it may go is the caller's rule
    /// (`Package::may_be_deleted`); the store only makes the deletion conditional.
    async fn delete(&self, id: Uuid, read: &P) -> StoreResult<P>;

    /// Package `id` as `render` answers it (`None`: not shown, so `NotFound`). A
    /// store that keeps packages in memory keeps the answer beside the package, so
    /// `render` must be the one function the API answers with.
    async fn get_rendered(&self, id: Uuid, render: RenderOne<P>) -> StoreResult<Encoded> {
        render_fresh(self, id, render).await
    }

    /// A page of the catalogue as `render` answers it, kept like `get_rendered`'s.
    async fn list_rendered(
        &self,
        filter: &PackageFilter,
        page: PageRequest<Slug>,
        render: RenderPage<P>,
    ) -> StoreResult<Encoded> {
        render_page_fresh(self, filter, page, render).await
    }
}

/// `get_rendered` from a package read afresh: the default, and a cache's miss.
async fn render_fresh<P: Package, S: PackageStore<P> + ?Sized>(
    store: &S,
    id: Uuid,
    render: RenderOne<P>,
) -> StoreResult<Encoded> {
    let package = store.get(id).await?;
    render(&package).ok_or(StoreError::NotFound)
}

/// `list_rendered` from a page read afresh: the default, and a cache's miss.
async fn render_page_fresh<P: Package, S: PackageStore<P> + ?Sized>(
    store: &S,
    filter: &PackageFilter,
    page: PageRequest<Slug>,
    render: RenderPage<P>,
) -> StoreResult<Encoded> {
    let page = store.list(filter, page).await?;
    Ok(render(&page.items, page.next.as_ref()))
}

/// Runs `call` as a task of its own, to its end even if the caller is dropped (its
/// client hung up, its deadline passed), and returns what it returns. Its panic goes
/// on in the caller, where the request's panic handling catches it; a task the
/// runtime dropped (it is shutting down) is an outage.
pub(crate) async fn spawned<T, E>(
    call: impl Future<Output = Result<T, E>> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    match tokio::spawn(call).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(StoreError::unavailable("the service is shutting down").into()),
    }
}

/// The owner of `entries` if they may be written together (`EntryStore::put_many`):
/// at least two, all of one owner, no id twice (the order of two writes of one
/// entry matters, of different ones not).
pub fn put_together<D: EntryData>(entries: &[Entry<D>]) -> Option<Uuid> {
    let owner = entries.first()?.user_id;
    let mut ids = HashSet::with_capacity(entries.len());
    let together = entries.len() >= 2
        && entries
            .iter()
            .all(|entry| entry.user_id == owner && ids.insert(entry.id));
    together.then_some(owner)
}

/// `put` of each of `entries` in turn: `put_many` where they cannot go together.
pub async fn put_one_by_one<D: EntryData, S: EntryStore<D> + ?Sized>(
    store: &S,
    entries: Vec<Entry<D>>,
) -> Vec<StoreResult<Written<Entry<D>>>> {
    let mut results = Vec::with_capacity(entries.len());
    for entry in entries {
        results.push(store.put(entry).await);
    }
    results
}

/// `list_rendered` of entries from a page read afresh: the default, and a cache's
/// miss.
async fn render_entries_fresh<D: EntryData, S: EntryStore<D> + ?Sized>(
    store: &S,
    user_id: Uuid,
    range: DateRange,
    page: PageRequest<EntryPosition>,
    render: RenderEntries<D>,
) -> StoreResult<Encoded> {
    let page = store.list(user_id, range, page).await?;
    Ok(render(&page.items, page.next.as_ref()))
}

/// How the API answers with one package: `None` when it is not shown.
pub type RenderOne<P> = fn(&P) -> Option<Encoded>;
/// How the API answers with a page of packages and the position after it.
pub type RenderPage<P> = fn(&[P], Option<&Slug>) -> Encoded;

/// How the API answers with a page of entries and the position after it.
pub type RenderEntries<D> = fn(&[Entry<D>], Option<&EntryPosition>) -> Encoded;

/// One kind of log entry. Every read and write is scoped to the owner: another
/// user's entry is `NotFound`, never visible.
#[async_trait]
pub trait EntryStore<D: EntryData>: Send + Sync {
    /// Idempotent on the id: the same content again is `Unchanged`, different content
    /// is a conflict. `NotFound` if the id belongs to someone else (so nobody learns
    /// that it exists) or the owner does not exist.
    async fn create(&self, entry: Entry<D>) -> StoreResult<Written<Entry<D>>>;
    /// Create or replace by id: `Created`, `Unchanged` or `Replaced` (keeping the
    /// original `created_at`, with the entry it replaced as the replacement found it);
    /// `NotFound` if the id belongs to someone else.
    async fn put(&self, entry: Entry<D>) -> StoreResult<Written<Entry<D>>>;
    /// `put` of each entry, in order, each answered as its own `put` would be: a
    /// phone's offline log sent as one batch. A store that can write them together
    /// does so when they are one owner's, with ids all different (`put_together`);
    /// by default, and otherwise, they are put one by one. An error for the whole
    /// call (the owner is gone, the store is down) is each entry's.
    async fn put_many(
        &self,
        entries: Vec<Entry<D>>,
    ) -> StoreResult<Vec<StoreResult<Written<Entry<D>>>>> {
        Ok(put_one_by_one(self, entries).await)
    }
    async fn get(&self, user_id: Uuid, id: Uuid) -> StoreResult<Entry<D>>;
    /// Replaces an existing entry of the owner if it is still the version the caller
    /// read (`expected_updated_at`, else a conflict); `NotFound` if there is none.
    async fn update(
        &self,
        entry: Entry<D>,
        expected_updated_at: DateTime<Utc>,
    ) -> StoreResult<Entry<D>>;
    /// Returns the entry as the deletion found it.
    async fn delete(&self, user_id: Uuid, id: Uuid) -> StoreResult<Entry<D>>;
    /// `delete`, if the entry is still the version the caller read
    /// (`expected_updated_at`, else a conflict and nothing is deleted): a `DELETE`
    /// with `If-Match`. `NotFound` if there is none.
    async fn delete_unchanged(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected_updated_at: DateTime<Utc>,
    ) -> StoreResult<Entry<D>>;
    /// The owner's entries whose local date is in `range`, ordered by
    /// (local_date, occurred_at, id).
    async fn list(
        &self,
        user_id: Uuid,
        range: DateRange,
        page: PageRequest<EntryPosition>,
    ) -> StoreResult<Page<Entry<D>, EntryPosition>>;

    /// A page of the owner's entries as `render` answers it. A store that keeps
    /// lists in memory keeps the answer beside the list, so `render` must be the one
    /// function the API answers with.
    async fn list_rendered(
        &self,
        user_id: Uuid,
        range: DateRange,
        page: PageRequest<EntryPosition>,
        render: RenderEntries<D>,
    ) -> StoreResult<Encoded> {
        render_entries_fresh(self, user_id, range, page, render).await
    }

    /// Whether any entry, of any user, was logged from package `package_id`.
    async fn names_package(&self, package_id: Uuid) -> StoreResult<bool>;

    /// The sums of each day in `range` that has entries, in date order. By default
    /// the entries are read page by page and added up (the memory store's range
    /// scan); MongoDB groups them on the server, and the cache keeps the result.
    async fn day_sums(&self, user_id: Uuid, range: DateRange) -> StoreResult<DaySumsByDate> {
        let mut sums = DaySumsByDate::new();
        let mut page = PageRequest::first(PageLimit::LARGEST);
        loop {
            let next = self.list(user_id, range, page.clone()).await?;
            for entry in &next.items {
                sums.entry(entry.local_date)
                    .or_default()
                    .add(&entry.data.sums());
            }
            match next.next {
                Some(after) => page.after = Some(after),
                None => return Ok(sums),
            }
        }
    }
}

/// Day sums by date, in date order.
pub type DaySumsByDate = std::collections::BTreeMap<chrono::NaiveDate, DaySums>;

/// Every entry of `user_id` in `range`, page by page (each page through whatever the
/// store does, the cache included).
pub async fn all_entries<D: EntryData>(
    entries: &dyn EntryStore<D>,
    user_id: Uuid,
    range: DateRange,
) -> StoreResult<Vec<Entry<D>>> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(PageLimit::LARGEST);
    loop {
        let next = entries.list(user_id, range, page.clone()).await?;
        all.extend(next.items);
        match next.next {
            Some(after) => page.after = Some(after),
            None => return Ok(all),
        }
    }
}
