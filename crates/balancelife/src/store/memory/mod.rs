//! An in-process store behind locks: the embedded default for development and the
//! fallback when MongoDB cannot be reached. Nothing in it survives a restart.
//!
//! Entries are indexed per user in a `BTreeMap` keyed by their list position, so a
//! one-day query is a range scan whose cost does not grow with the user's history.
//!
//! The catalogue keeps its answers encoded, as the cached store's in-process tier
//! does: it is read far more often than it is edited, and encoding a package is
//! most of what a read costs.

mod batches;
mod feed;
mod foods;
mod health;
mod kept_answers;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::{Mutex, RwLock};
use uuid::Uuid;

use self::batches::BatchTable;
use self::feed::Feeds;
use self::foods::FoodTable;
use self::health::HealthTable;
use self::kept_answers::AnswerTable;
use super::sync_feed::{
    DEFAULT_TOMBSTONE_RETENTION, FeedHead, FeedKind, FeedPage, FeedPosition, FeedRecord, SyncFeed,
    next_position,
};
use super::{
    ComponentHealth, ComponentStatus, DateRange, Encoded, EntryStore, FoodStore, PackageStore,
    Page, PageRequest, RenderOne, RenderPage, Store, StoreError, StoreKind, StoreResult, Written,
    changed_concurrently,
};
use crate::domain::{
    BodyMetricData, CustomExercise, Email, Entry, EntryData, EntryPosition, MealData, MealPackage,
    Package, PackageFilter, Slug, User, WorkoutData, WorkoutPackage,
};

#[derive(Default)]
struct Users {
    by_id: HashMap<Uuid, User>,
    id_by_email: HashMap<Email, Uuid>,
}

/// Lock order, everywhere: `users` first, then the meal entries, the workout
/// entries, the body measurements, and the sync feed last. Entry writes hold the users read lock so a
/// concurrent user deletion cannot leave orphans behind, and number their change in
/// the feed before they let go of their table.
pub struct MemoryStore {
    users: Arc<RwLock<Users>>,
    feeds: Arc<Mutex<Feeds>>,
    batches: BatchTable,
    kept_answers: AnswerTable,
    health: HealthTable,
    meal_packages: PackageTable<MealPackage>,
    workout_packages: PackageTable<WorkoutPackage>,
    custom_exercises: PackageTable<CustomExercise>,
    meal_entries: EntryTable<MealData>,
    workout_entries: EntryTable<WorkoutData>,
    body_metrics: EntryTable<BodyMetricData>,
    foods: FoodTable,
}

impl MemoryStore {
    /// An empty store. See `crate::sample::load` for the demo catalogue and users.
    pub fn new() -> Self {
        Self::with_tombstone_retention(DEFAULT_TOMBSTONE_RETENTION)
    }

    /// An empty store whose sync feed keeps deletions for `retention`.
    pub fn with_tombstone_retention(retention: Duration) -> Self {
        let users = Arc::new(RwLock::new(Users::default()));
        let feeds = Arc::new(Mutex::new(Feeds::new(retention)));
        Self {
            meal_packages: PackageTable::default(),
            workout_packages: PackageTable::default(),
            custom_exercises: PackageTable::default(),
            meal_entries: EntryTable::new(users.clone(), feeds.clone()),
            workout_entries: EntryTable::new(users.clone(), feeds.clone()),
            body_metrics: EntryTable::new(users.clone(), feeds.clone()),
            foods: FoodTable::default(),
            health: HealthTable::new(users.clone()),
            users,
            feeds,
            batches: BatchTable::default(),
            kept_answers: AnswerTable::default(),
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Memory
    }

    async fn health(&self) -> Vec<(&'static str, ComponentHealth)> {
        vec![(
            "store",
            ComponentHealth::new(
                ComponentStatus::Up,
                false,
                Some("in-memory store: data is lost when the service stops".into()),
            ),
        )]
    }

    async fn create_user(&self, user: User) -> StoreResult<User> {
        let mut users = self.users.write();
        if users.by_id.contains_key(&user.id) {
            return Err(StoreError::Conflict(
                "a user with this id already exists".into(),
            ));
        }
        if users.id_by_email.contains_key(&user.email) {
            return Err(email_taken());
        }
        users.id_by_email.insert(user.email.clone(), user.id);
        users.by_id.insert(user.id, user.clone());
        self.feeds
            .lock()
            .record(user.id, FeedKind::Profile, user.id, false);
        Ok(user)
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<User> {
        self.users
            .read()
            .by_id
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn get_user_by_email(&self, email: &Email) -> StoreResult<User> {
        let users = self.users.read();
        users
            .id_by_email
            .get(email)
            .and_then(|id| users.by_id.get(id))
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn update_user(&self, user: User, read: &User) -> StoreResult<User> {
        let mut users = self.users.write();
        let (old_email, profile_changed) = match users.by_id.get(&user.id) {
            Some(existing) if existing.updated_at != read.updated_at => {
                return Err(changed_concurrently());
            }
            Some(existing) => (existing.email.clone(), existing.profile_differs(&user)),
            None => return Err(StoreError::NotFound),
        };
        if old_email != user.email {
            if users.id_by_email.contains_key(&user.email) {
                return Err(email_taken());
            }
            users.id_by_email.remove(&old_email);
            users.id_by_email.insert(user.email.clone(), user.id);
        }
        users.by_id.insert(user.id, user.clone());
        if profile_changed {
            self.feeds
                .lock()
                .record(user.id, FeedKind::Profile, user.id, false);
        }
        Ok(user)
    }

    async fn delete_user(&self, id: Uuid) -> StoreResult<User> {
        let mut users = self.users.write();
        let user = users.by_id.remove(&id).ok_or(StoreError::NotFound)?;
        users.id_by_email.remove(&user.email);
        self.meal_entries.remove_owner(id);
        self.workout_entries.remove_owner(id);
        self.body_metrics.remove_owner(id);
        self.foods.remove_owner(id);
        self.health.remove_owner(id);
        self.batches.remove_owner(id);
        self.kept_answers.remove_owner(id);
        self.feeds.lock().forget(id);
        Ok(user)
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
        self
    }

    fn batches(&self) -> &dyn super::BatchStore {
        &self.batches
    }

    fn kept_answers(&self) -> &dyn super::KeptAnswers {
        &self.kept_answers
    }

    fn primary(&self) -> &dyn Store {
        self
    }

    fn health_samples(&self) -> &dyn super::HealthStore {
        &self.health
    }
}

#[async_trait]
impl SyncFeed for MemoryStore {
    fn tombstone_retention(&self) -> Duration {
        self.feeds.lock().retention()
    }

    async fn head(&self, user_id: Uuid) -> StoreResult<FeedHead> {
        Ok(FeedHead {
            seq: self.feeds.lock().head(user_id),
            settled: true,
        })
    }

    /// Writes here move their marker under the write's own lock: none is ever
    /// under way.
    async fn touched_since(
        &self,
        user_id: Uuid,
        horizon: i64,
    ) -> StoreResult<HashSet<(FeedKind, Uuid)>> {
        Ok(self
            .feeds
            .lock()
            .past(user_id, horizon)
            .into_iter()
            .collect())
    }

    async fn changes(
        &self,
        user_id: Uuid,
        after: FeedPosition,
        limit: usize,
    ) -> StoreResult<FeedPage> {
        // Every lock in order, so the page is one moment's state.
        let users = self.users.read();
        let meals = self.meal_entries.rows.read();
        let workouts = self.workout_entries.rows.read();
        let metrics = self.body_metrics.rows.read();
        let feeds = self.feeds.lock();
        let horizon = feeds.head(user_id);
        let listed = feeds.page(user_id, after, limit);
        let changes = listed
            .iter()
            .map(|listed| {
                let (_, kind, id) = listed.key;
                let found = match kind {
                    FeedKind::Profile => users
                        .by_id
                        .get(&id)
                        .map(|user| FeedRecord::Profile(Box::new(user.clone()))),
                    FeedKind::MealEntry => meals.owned(user_id, id).cloned().map(FeedRecord::Meal),
                    FeedKind::WorkoutEntry => workouts
                        .owned(user_id, id)
                        .cloned()
                        .map(FeedRecord::Workout),
                    FeedKind::BodyMetric => metrics
                        .owned(user_id, id)
                        .cloned()
                        .map(FeedRecord::BodyMetric),
                };
                found.unwrap_or(FeedRecord::Deleted {
                    kind,
                    id,
                    at: listed.at,
                })
            })
            .collect();
        let keys: Vec<_> = listed.iter().map(|listed| listed.key).collect();
        let (next, more) = next_position(&keys, limit, horizon);
        Ok(FeedPage {
            changes,
            next,
            more,
        })
    }
}

fn email_taken() -> StoreError {
    StoreError::Conflict("this e-mail address is already registered".into())
}

/// Packages by slug (the list order), with an id index for lookups, and the answers
/// already encoded from them.
struct PackageTable<P> {
    rows: RwLock<PackageRows<P>>,
    /// Filled while `rows` is held for reading and emptied while it is held for
    /// writing, so no answer outlives the write after it.
    rendered: Mutex<Rendered>,
}

/// Answers encoded by the API's render functions (told apart by address), kept
/// until the table is next written.
#[derive(Default)]
struct Rendered {
    /// By package id; `None` where the function shows nothing (a draft, to the public).
    one: HashMap<(Uuid, usize), Option<Encoded>>,
    /// By everything a page depends on. Bounded: the cursors and tags asked for are
    /// the clients' choice.
    pages: HashMap<(PageKey, usize), Encoded>,
}

/// A page's filter, its size and where it starts.
type PageKey = (PackageFilter, usize, Option<Slug>);

/// The most pages kept; past it they are all dropped and encoded again as asked.
const RENDERED_PAGES_AT_MOST: usize = 1024;

struct PackageRows<P> {
    by_slug: BTreeMap<Slug, P>,
    slug_by_id: HashMap<Uuid, Slug>,
}

impl<P> Default for PackageTable<P> {
    fn default() -> Self {
        Self {
            rows: RwLock::new(PackageRows {
                by_slug: BTreeMap::new(),
                slug_by_id: HashMap::new(),
            }),
            rendered: Mutex::default(),
        }
    }
}

#[async_trait]
impl<P: Package> PackageStore<P> for PackageTable<P> {
    async fn list(
        &self,
        filter: &PackageFilter,
        page: PageRequest<Slug>,
    ) -> StoreResult<Page<P, Slug>> {
        Ok(self.rows.read().page(filter, page))
    }

    async fn get(&self, id: Uuid) -> StoreResult<P> {
        self.rows
            .read()
            .by_id(id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn get_rendered(&self, id: Uuid, render: RenderOne<P>) -> StoreResult<Encoded> {
        let rows = self.rows.read();
        let key = (id, render as usize);
        let kept = self.rendered.lock().one.get(&key).cloned();
        let answer = match kept {
            Some(answer) => answer,
            None => {
                let answer = render(rows.by_id(id).ok_or(StoreError::NotFound)?);
                self.rendered.lock().one.insert(key, answer.clone());
                answer
            }
        };
        answer.ok_or(StoreError::NotFound)
    }

    async fn list_rendered(
        &self,
        filter: &PackageFilter,
        page: PageRequest<Slug>,
        render: RenderPage<P>,
    ) -> StoreResult<Encoded> {
        let rows = self.rows.read();
        let key = (
            (filter.clone(), page.limit.get(), page.after.clone()),
            render as usize,
        );
        if let Some(answer) = self.rendered.lock().pages.get(&key) {
            return Ok(answer.clone());
        }
        let found = rows.page(filter, page);
        let answer = render(&found.items, found.next.as_ref());
        let mut rendered = self.rendered.lock();
        if rendered.pages.len() >= RENDERED_PAGES_AT_MOST {
            rendered.pages.clear();
        }
        rendered.pages.insert(key, answer.clone());
        Ok(answer)
    }

    async fn upsert(&self, package: P) -> StoreResult<Written<P>> {
        self.write(package, |_| Ok(()))
    }

    async fn replace(&self, package: P, read: &P) -> StoreResult<Written<P>> {
        self.write(package, |stored| match stored {
            None => Err(StoreError::NotFound),
            Some(stored) if stored.authorship().updated_at != read.authorship().updated_at => {
                Err(StoreError::Stale)
            }
            Some(_) => Ok(()),
        })
    }

    async fn delete(&self, id: Uuid, read: &P) -> StoreResult<P> {
        let mut rows = self.rows.write();
        *self.rendered.lock() = Rendered::default();
        let slug = rows
            .slug_by_id
            .get(&id)
            .ok_or(StoreError::NotFound)?
            .clone();
        let stored = rows.by_slug.get(&slug).expect("indexes agree");
        if stored.authorship().updated_at != read.authorship().updated_at {
            return Err(StoreError::Stale);
        }
        rows.slug_by_id.remove(&id);
        Ok(rows.by_slug.remove(&slug).expect("indexes agree"))
    }
}

impl<P: Package> PackageRows<P> {
    fn by_id(&self, id: Uuid) -> Option<&P> {
        self.slug_by_id
            .get(&id)
            .and_then(|slug| self.by_slug.get(slug))
    }

    fn page(&self, filter: &PackageFilter, page: PageRequest<Slug>) -> Page<P, Slug> {
        use std::ops::Bound::{Excluded, Unbounded};
        let start = page.after.map_or(Unbounded, Excluded);
        let items = self
            .by_slug
            .range((start, Unbounded))
            .map(|(_, package)| package)
            .filter(|package| package.matches(filter))
            .take(page.limit.get() + 1)
            .cloned()
            .collect();
        Page::from_overfetched(items, page.limit, |p: &P| p.slug().clone())
    }
}

impl<P: Package> PackageTable<P> {
    /// Stores `package` if `allowed` accepts what is stored under its id now, all
    /// under one lock.
    fn write(
        &self,
        package: P,
        allowed: impl FnOnce(Option<&P>) -> StoreResult<()>,
    ) -> StoreResult<Written<P>> {
        let mut rows = self.rows.write();
        *self.rendered.lock() = Rendered::default();
        let stored = rows
            .slug_by_id
            .get(&package.id())
            .and_then(|slug| rows.by_slug.get(slug));
        allowed(stored)?;
        if let Some(holder) = rows.by_slug.get(package.slug())
            && holder.id() != package.id()
        {
            return Err(StoreError::Conflict(format!(
                "another {} already has this slug",
                P::NOUN
            )));
        }
        let written = match rows.slug_by_id.get(&package.id()).cloned() {
            None => Written::Created(package.clone()),
            Some(old_slug) => {
                let old = rows.by_slug.remove(&old_slug).expect("indexes agree");
                if old == package {
                    Written::Unchanged(package.clone())
                } else {
                    Written::Replaced {
                        stored: package.clone(),
                        previous: old,
                    }
                }
            }
        };
        rows.slug_by_id.insert(package.id(), package.slug().clone());
        rows.by_slug.insert(package.slug().clone(), package);
        Ok(written)
    }
}

/// One kind of entry: every entry by id, and each owner's entries in list order.
struct EntryTable<D> {
    users: Arc<RwLock<Users>>,
    rows: RwLock<EntryRows<D>>,
    feeds: Arc<Mutex<Feeds>>,
}

struct EntryRows<D> {
    by_id: HashMap<Uuid, Entry<D>>,
    by_owner: HashMap<Uuid, BTreeSet<EntryPosition>>,
}

impl<D: EntryData> EntryTable<D> {
    fn new(users: Arc<RwLock<Users>>, feeds: Arc<Mutex<Feeds>>) -> Self {
        Self {
            users,
            feeds,
            rows: RwLock::new(EntryRows {
                by_id: HashMap::new(),
                by_owner: HashMap::new(),
            }),
        }
    }

    /// Called by `delete_user` while it holds the users write lock.
    fn remove_owner(&self, user_id: Uuid) {
        let mut rows = self.rows.write();
        if let Some(positions) = rows.by_owner.remove(&user_id) {
            for position in &positions {
                rows.by_id.remove(&position.id);
            }
        }
    }

    /// Runs a write with the owner guaranteed to exist until it finishes.
    fn write_for_owner<T>(
        &self,
        user_id: Uuid,
        write: impl FnOnce(&mut EntryRows<D>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let users = self.users.read();
        if !users.by_id.contains_key(&user_id) {
            return Err(StoreError::NotFound);
        }
        write(&mut self.rows.write())
    }

    /// Numbers the change of entry `id` in its owner's feed; called while the
    /// write holds the table.
    fn record(&self, user_id: Uuid, id: Uuid, deleted: bool) {
        self.feeds
            .lock()
            .record(user_id, FeedKind::of_entries::<D>(), id, deleted);
    }
}

impl<D: EntryData> EntryRows<D> {
    fn insert(&mut self, entry: Entry<D>) {
        let owner = self.by_owner.entry(entry.user_id).or_default();
        if let Some(old) = self.by_id.get(&entry.id) {
            owner.remove(&old.position());
        }
        owner.insert(entry.position());
        self.by_id.insert(entry.id, entry);
    }

    fn owned(&self, user_id: Uuid, id: Uuid) -> Option<&Entry<D>> {
        self.by_id.get(&id).filter(|e| e.user_id == user_id)
    }
}

impl<D: EntryData> EntryTable<D> {
    /// Deletes the owner's entry, if it is still the revision `expected` (when
    /// given): otherwise a conflict, `NotFound` when there is none.
    fn delete_if(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected: Option<DateTime<Utc>>,
    ) -> StoreResult<Entry<D>> {
        let mut rows = self.rows.write();
        let entry = rows.owned(user_id, id).ok_or(StoreError::NotFound)?;
        if expected.is_some_and(|expected| entry.updated_at != expected) {
            return Err(changed_concurrently());
        }
        let position = entry.position();
        let deleted = rows.by_id.remove(&id).expect("just found");
        if let Some(owner) = rows.by_owner.get_mut(&user_id) {
            owner.remove(&position);
        }
        self.record(user_id, id, true);
        Ok(deleted)
    }
}

#[async_trait]
impl<D: EntryData> EntryStore<D> for EntryTable<D> {
    async fn create(&self, entry: Entry<D>) -> StoreResult<Written<Entry<D>>> {
        self.write_for_owner(entry.user_id, |rows| match rows.by_id.get(&entry.id) {
            Some(existing) if existing.user_id != entry.user_id => Err(StoreError::NotFound),
            Some(existing) if existing.same_content(&entry) => {
                Ok(Written::Unchanged(existing.clone()))
            }
            Some(_) => Err(StoreError::Conflict(
                "an entry with this id already exists with other content".into(),
            )),
            None => {
                rows.insert(entry.clone());
                self.record(entry.user_id, entry.id, false);
                Ok(Written::Created(entry))
            }
        })
    }

    async fn put(&self, mut entry: Entry<D>) -> StoreResult<Written<Entry<D>>> {
        self.write_for_owner(entry.user_id, |rows| match rows.by_id.get(&entry.id) {
            Some(existing) if existing.user_id != entry.user_id => Err(StoreError::NotFound),
            Some(existing) if existing.same_content(&entry) => {
                Ok(Written::Unchanged(existing.clone()))
            }
            Some(existing) => {
                let previous = existing.clone();
                entry.created_at = existing.created_at;
                rows.insert(entry.clone());
                self.record(entry.user_id, entry.id, false);
                Ok(Written::Replaced {
                    stored: entry,
                    previous,
                })
            }
            None => {
                rows.insert(entry.clone());
                self.record(entry.user_id, entry.id, false);
                Ok(Written::Created(entry))
            }
        })
    }

    async fn get(&self, user_id: Uuid, id: Uuid) -> StoreResult<Entry<D>> {
        self.rows
            .read()
            .owned(user_id, id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn update(
        &self,
        mut entry: Entry<D>,
        expected_updated_at: DateTime<Utc>,
    ) -> StoreResult<Entry<D>> {
        self.write_for_owner(entry.user_id, |rows| {
            let existing = rows
                .owned(entry.user_id, entry.id)
                .ok_or(StoreError::NotFound)?;
            if existing.updated_at != expected_updated_at {
                return Err(changed_concurrently());
            }
            entry.created_at = existing.created_at;
            rows.insert(entry.clone());
            self.record(entry.user_id, entry.id, false);
            Ok(entry)
        })
    }

    async fn delete(&self, user_id: Uuid, id: Uuid) -> StoreResult<Entry<D>> {
        self.delete_if(user_id, id, None)
    }

    async fn delete_unchanged(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected_updated_at: DateTime<Utc>,
    ) -> StoreResult<Entry<D>> {
        self.delete_if(user_id, id, Some(expected_updated_at))
    }

    async fn names_package(&self, package_id: Uuid) -> StoreResult<bool> {
        Ok(self.rows.read().by_id.values().any(|entry| {
            entry
                .data
                .package()
                .is_some_and(|p| p.package_id == package_id)
        }))
    }

    async fn list(
        &self,
        user_id: Uuid,
        range: DateRange,
        page: PageRequest<EntryPosition>,
    ) -> StoreResult<Page<Entry<D>, EntryPosition>> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let rows = self.rows.read();
        let Some(owner) = rows.by_owner.get(&user_id) else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let range_start = EntryPosition {
            local_date: range.from(),
            occurred_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
            id: Uuid::nil(),
        };
        let start = match page.after {
            Some(after) if after >= range_start => Excluded(after),
            _ => Included(range_start),
        };
        let items = owner
            .range((start, Unbounded))
            .take_while(|position| position.local_date <= range.to())
            .take(page.limit.get() + 1)
            .map(|position| rows.by_id[&position.id].clone())
            .collect();
        Ok(Page::from_overfetched(items, page.limit, Entry::position))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::domain::StatusFilter;
    use crate::store::PageLimit;

    static RENDERS: AtomicUsize = AtomicUsize::new(0);

    fn counted(package: &MealPackage) -> Option<Encoded> {
        RENDERS.fetch_add(1, Ordering::SeqCst);
        Some(Encoded::encode(package))
    }

    #[tokio::test]
    async fn a_package_is_encoded_once_until_the_catalogue_is_written() {
        let store = MemoryStore::new();
        crate::sample::load_catalogue(&store).await.unwrap();
        let packages = store.meal_packages();
        let every = PackageFilter {
            status: StatusFilter::All,
            ..PackageFilter::default()
        };
        let listed = packages
            .list(&every, PageRequest::first(PageLimit::LARGEST))
            .await
            .unwrap();
        let first = listed.items[0].clone();

        let once = packages.get_rendered(first.id, counted).await.unwrap();
        let again = packages.get_rendered(first.id, counted).await.unwrap();
        assert_eq!(once, again);
        assert_eq!(RENDERS.load(Ordering::SeqCst), 1, "encoded once");

        let mut changed = first.clone();
        changed.duration_days += 1;
        packages.replace(changed, &first).await.unwrap();
        let stored = packages.get(first.id).await.unwrap();
        let after = packages.get_rendered(first.id, counted).await.unwrap();
        assert_eq!(
            after,
            Encoded::encode(&stored),
            "the write is served at once"
        );
        assert_eq!(RENDERS.load(Ordering::SeqCst), 2);
        assert!(matches!(
            packages.get_rendered(Uuid::nil(), counted).await,
            Err(StoreError::NotFound)
        ));
    }
}
