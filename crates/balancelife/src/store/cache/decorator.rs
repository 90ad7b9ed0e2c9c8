//! `CachedStore`: cache-aside in front of another store (MongoDB).
//!
//! Reads check Redis, else load from the store and fill Redis, with concurrent
//! identical reads coalesced into one load. Writes go to the store first and then
//! invalidate every key they affect, before they are acknowledged. Any Redis trouble
//! makes reads fall through to the store; see `redis` for why a fill can never
//! overwrite a later invalidation.
//!
//! What is cached: users by id and by e-mail, packages by id, package list pages, and
//! each user's entry list pages, each in the scope that owns it (see `keys`).
//! An entry list sits behind one guard counter per day it covers (and its user's
//! generation, bumped when the user goes), so an entry write invalidates exactly the
//! cached lists, and so the summaries, of the days it touched: the old day and the
//! new.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::domain::{
    BodyMetricData, CustomExercise, Email, Entry, EntryData, EntryPosition, Level, MealData,
    MealPackage, Package, PackageFilter, Slug, StatusFilter, User, WorkoutData, WorkoutPackage,
};
use crate::store::Encoded;
use crate::store::cache::codec::{decode, encode, encoded_len};
use crate::store::cache::day_sums;
use crate::store::cache::invalidator::Invalidator;
use crate::store::cache::keys::Invalidation;
use crate::store::cache::keys::{FEED, FEED_HEAD, PACKAGE, Scope, USER, entries_prefix, voids};
use crate::store::cache::redis::{Lookup, RedisCache};
use crate::store::cache::singleflight::Flights;
use crate::store::sync_feed::{FeedHead, FeedKind, FeedPage, FeedPosition, SyncFeed};
use crate::store::{
    ComponentHealth, DateRange, DaySumsByDate, EntryStore, Optional, PackageStore, Page,
    PageRequest, RenderEntries, RenderOne, RenderPage, Store, StoreError, StoreKind, StoreResult,
    Written, put_one_by_one, put_together,
};

/// The longest entry list range that is cached: a summary's year, plus one, plus
/// the days a summary reads of the body log around it for the weight trend (a
/// warm-up of 90 days and a gap of 30 on either side: `summary::trend_range`).
const MAX_CACHED_RANGE_DAYS: i64 = 367 + 90 + 2 * 30;

struct Core {
    inner: Arc<dyn Store>,
    cache: Arc<RedisCache>,
    flights: Flights,
}

impl Core {
    /// Cache-aside read of key `name` in `scope` (behind the scope's list guards
    /// `guards`), loading with `load`: from this process's tier (L1) when it holds
    /// the key, else through Redis, filling L1 on the way back.
    async fn read_through<T, F, Fut>(
        &self,
        scope: Scope,
        name: String,
        guards: Vec<String>,
        load: F,
    ) -> StoreResult<T>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = StoreResult<T>>,
    {
        let l1 = self.cache.l1_for(&scope);
        if let Some(value) = l1.and_then(|l1| l1.get::<T>(&scope, &name)) {
            return Ok(value);
        }
        let flight = flight_key(&scope, &name);
        let (result, shared) = self
            .flights
            .run(&flight, || async {
                // Only the load's own caller fills L1, under a ticket taken before
                // it reads Redis: a caller joining later could postdate an
                // invalidation the load did not see.
                let ticket = l1.and_then(|l1| l1.begin_fill(&scope, &name, &guards));
                let (result, encoded) = self.load_via_cache(&scope, &name, &guards, load).await;
                if let (Some(l1), Some(ticket), Ok(value)) = (l1, ticket, &result) {
                    let size = encoded.unwrap_or_else(|| encoded_len(value));
                    l1.fill(ticket, value.clone(), size);
                }
                result
            })
            .await;
        if shared {
            self.cache.metrics.coalesced.inc();
        }
        result
    }

    async fn load_via_cache<T, F, Fut>(
        &self,
        scope: &Scope,
        name: &str,
        guards: &[String],
        load: F,
    ) -> (StoreResult<T>, Option<usize>)
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = StoreResult<T>>,
    {
        // The encoded size comes back with the value where it is known (what Redis
        // held, what was filled), so L1 need not encode it again to weigh it.
        // Another reader (maybe another process) holds the lease: give it a moment to
        // fill rather than piling onto the store too.
        for wait_ms in [5, 10, 20, 40] {
            match self.cache.lookup(scope, name, guards).await {
                Lookup::Hit(bytes) => match decode(&bytes) {
                    Some(value) => {
                        self.cache.metrics.hits.inc();
                        return (value, Some(bytes.len()));
                    }
                    None => break,
                },
                Lookup::Miss(lease) => {
                    self.cache.metrics.misses.inc();
                    let result = self.timed(load()).await;
                    let ttls = self.cache.ttls;
                    let mut encoded_size = None;
                    match &result {
                        Ok(value) => {
                            let encoded = encode(Some(value));
                            encoded_size = Some(encoded.len());
                            self.cache.fill(lease, encoded, ttls.value).await;
                        }
                        Err(StoreError::NotFound) => {
                            self.cache
                                .fill(lease, encode::<T>(None), ttls.not_found)
                                .await;
                        }
                        // Nothing to cache: give the lease back, so readers elsewhere
                        // go to the store now rather than wait for it to expire.
                        Err(_) => self.cache.release(lease).await,
                    }
                    return (result, encoded_size);
                }
                Lookup::Busy => tokio::time::sleep(Duration::from_millis(wait_ms)).await,
                Lookup::Unavailable => {
                    self.cache.metrics.bypassed.inc();
                    break;
                }
            }
        }
        (self.timed(load()).await, None)
    }

    async fn timed<T>(&self, call: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        self.cache.metrics.store_calls.inc();
        let started = Instant::now();
        let result = call.await;
        self.cache
            .metrics
            .store_latency_seconds
            .observe(started.elapsed().as_secs_f64());
        result
    }

    /// After a write attempt: unless the store certainly did nothing, invalidate what
    /// it changed in Redis and detach the in-process loads of those keys (and of
    /// `flight_prefixes`), before and after the invalidation: a read that starts
    /// while the invalidation is under way must not join a load from before it.
    ///
    /// A write whose outcome is unknown (the store did not answer in time) may
    /// still be under way: a slow server can apply it after this invalidation, and
    /// a read in between would cache what it replaced. So the same invalidation
    /// runs again once the store's bound on such a write has passed
    /// (`Store::late_write_bound`), plus `LATE_WRITE_MARGIN`.
    async fn after_write<T>(
        self: &Arc<Self>,
        result: &StoreResult<T>,
        changes: Vec<Invalidation>,
        flight_prefixes: &[String],
    ) {
        let unknown = match result {
            Ok(_) => false,
            Err(error) if error.leaves_write_unknown() => true,
            Err(_) => return,
        };
        self.void(&changes, flight_prefixes).await;
        let Some(bound) = self.inner.late_write_bound().filter(|_| unknown) else {
            return;
        };
        let (core, flight_prefixes) = (self.clone(), flight_prefixes.to_vec());
        tokio::spawn(async move {
            tokio::time::sleep(bound + LATE_WRITE_MARGIN).await;
            core.void(&changes, &flight_prefixes).await;
        });
    }

    async fn void(&self, changes: &[Invalidation], flight_prefixes: &[String]) {
        let mut detached: Vec<String> = flight_prefixes.to_vec();
        for change in changes {
            detached.extend(change.keys.iter().map(|key| flight_key(&change.scope, key)));
        }
        self.flights
            .detached_around(&detached, self.cache.invalidate(changes))
            .await;
    }
}

/// How long past the store's own bound a write left unknown is voided again: for
/// a server's time limit, checked between units of work (as MongoDB's is), to be
/// noticed, and for a commit that made it in time to be readable.
const LATE_WRITE_MARGIN: Duration = Duration::from_secs(1);

/// Runs a write and its invalidation to the end even when the request that started it
/// is dropped (the client left, the deadline passed): a write that reached the store
/// must invalidate the cache, or a stale value would outlive it. The write gets its
/// own handle on `owner`, since it may outlive the borrow it was started from.
async fn detached<S: Clone, T: Send + 'static, W>(
    owner: &S,
    write: impl FnOnce(S) -> W,
) -> StoreResult<T>
where
    W: Future<Output = StoreResult<T>> + Send + 'static,
{
    crate::store::spawned(write(owner.clone())).await
}

/// The whole calendar months that `range` touches, in order; `None` at the very
/// end of the calendar, where a month has no next one to end before.
fn months_covering(range: DateRange) -> Option<Vec<DateRange>> {
    let mut months = Vec::new();
    let mut first = range.from().with_day(1)?;
    while first <= range.to() {
        let next = first.checked_add_months(chrono::Months::new(1))?;
        months.push(DateRange::new(first, next.pred_opt()?).ok()?);
        first = next;
    }
    Some(months)
}

/// In-process loads are keyed by scope and name, so a scope's can be detached at once.
fn flight_key(scope: &Scope, name: &str) -> String {
    format!("{scope}|{name}")
}

pub struct CachedStore {
    core: Arc<Core>,
    /// Tails MongoDB's changes where it has a change stream (replica sets, sharded
    /// clusters): the net under the writers' own invalidation.
    invalidator: Option<Invalidator>,
    meal_packages: CachedPackages<MealPackage>,
    workout_packages: CachedPackages<WorkoutPackage>,
    custom_exercises: CachedPackages<CustomExercise>,
    meal_entries: CachedEntries<MealData>,
    workout_entries: CachedEntries<WorkoutData>,
    body_metrics: CachedEntries<BodyMetricData>,
    feed: CachedFeed,
}

impl CachedStore {
    pub fn new(inner: Arc<dyn Store>, cache: Arc<RedisCache>) -> Self {
        let core = Arc::new(Core {
            inner,
            cache,
            flights: Flights::default(),
        });
        Self {
            meal_packages: CachedPackages::new(core.clone(), |s| s.meal_packages()),
            workout_packages: CachedPackages::new(core.clone(), |s| s.workout_packages()),
            custom_exercises: CachedPackages::new(core.clone(), |s| s.custom_exercises()),
            meal_entries: CachedEntries::new(core.clone(), |s| s.meal_entries()),
            workout_entries: CachedEntries::new(core.clone(), |s| s.workout_entries()),
            body_metrics: CachedEntries::new(core.clone(), |s| s.body_metrics()),
            feed: CachedFeed { core: core.clone() },
            core,
            invalidator: None,
        }
    }

    /// The store with a change-stream invalidator running beside it (stopped with it).
    pub fn with_invalidator(mut self, invalidator: Invalidator) -> Self {
        self.invalidator = Some(invalidator);
        self
    }

    pub fn invalidator(&self) -> Option<&Invalidator> {
        self.invalidator.as_ref()
    }

    pub fn cache(&self) -> &Arc<RedisCache> {
        &self.core.cache
    }
}

#[async_trait]
impl Store for CachedStore {
    /// `cached` while Redis serves; what is behind it while Redis is out.
    fn kind(&self) -> StoreKind {
        if self.core.cache.is_serving() {
            StoreKind::Cached
        } else {
            self.core.inner.kind()
        }
    }

    fn late_write_bound(&self) -> Option<Duration> {
        self.core.inner.late_write_bound()
    }

    async fn health(&self) -> Vec<(&'static str, ComponentHealth)> {
        let mut components = self.core.inner.health().await;
        components.push(("redis", self.core.cache.health()));
        components.push((
            "invalidator",
            self.invalidator
                .as_ref()
                .map_or_else(Invalidator::absent, Invalidator::health),
        ));
        components
    }

    async fn create_user(&self, user: User) -> StoreResult<User> {
        detached(&self.core, |core| async move {
            let changes = voids::user_written(user.id, &[&user.email]);
            let result = core.inner.create_user(user).await;
            core.after_write(&result, changes, &[]).await;
            result
        })
        .await
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<User> {
        let inner = &self.core.inner;
        self.core
            .read_through(Scope::user(id), USER.to_owned(), vec![], || {
                inner.get_user(id)
            })
            .await
    }

    async fn get_user_stored(&self, id: Uuid) -> StoreResult<User> {
        self.core.inner.get_user_stored(id).await
    }

    /// Served from the cache only while the user's own record (voided by every
    /// write to it, the change stream's included) still has that address: a change
    /// stream without pre-images cannot name the address a user had, and the entry
    /// under it could otherwise sign a changed or deleted user in until the TTL.
    async fn get_user_by_email(&self, email: &Email) -> StoreResult<User> {
        let inner = &self.core.inner;
        let found = self
            .core
            .read_through(Scope::email(email), USER.to_owned(), vec![], || {
                inner.get_user_by_email(email)
            })
            .await?;
        match self.get_user(found.id).await.optional()? {
            Some(current) if current.email == *email => Ok(current),
            _ => inner.get_user_by_email(email).await,
        }
    }

    async fn update_user(&self, user: User, read: &User) -> StoreResult<User> {
        let read = read.clone();
        detached(&self.core, |core| async move {
            // The old e-mail's key must go too: the one `read` holds, as the write
            // applies only over that revision (a write over another is refused,
            // and changes nothing to void).
            let changes = voids::user_written(user.id, &[&user.email, &read.email]);
            let result = core.inner.update_user(user, &read).await;
            core.after_write(&result, changes, &[]).await;
            result
        })
        .await
    }

    async fn delete_user(&self, id: Uuid) -> StoreResult<User> {
        detached(&self.core, |core| async move {
            // Read first too, for the address to void should the deletion's answer
            // be lost (a timeout after the server did it).
            let before = core.inner.get_user(id).await?;
            let result = core.inner.delete_user(id).await;
            // The whole user scope goes (the record and every entry list), and the
            // e-mail the user had when deleted: a change of address in between must
            // not leave the new one able to log in.
            let changes = match &result {
                Ok(deleted) => voids::user_deleted(id, &[&before.email, &deleted.email]),
                Err(_) => voids::user_deleted(id, &[&before.email]),
            };
            let flights = [flight_key(&Scope::user(id), "")];
            core.after_write(&result, changes, &flights).await;
            result
        })
        .await
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

    fn sync_feed(&self) -> &dyn SyncFeed {
        &self.feed
    }

    /// Not cached: read once per batch, by the batch's first request.
    fn batches(&self) -> &dyn crate::store::BatchStore {
        self.core.inner.batches()
    }

    /// Not cached: written in batches by a phone, read by the same phone.
    fn health_samples(&self) -> &dyn crate::store::HealthStore {
        self.core.inner.health_samples()
    }

    fn foods(&self) -> &dyn crate::store::FoodStore {
        self.core.inner.foods()
    }

    /// Not cached: an instance reads an answer when its own memo has none (a
    /// change, or a minute gone), and checks it on reading.
    fn kept_answers(&self) -> &dyn crate::store::KeptAnswers {
        self.core.inner.kept_answers()
    }

    fn primary(&self) -> &dyn Store {
        self.core.inner.primary()
    }
}

type PackageSelector<P> = fn(&dyn Store) -> &dyn PackageStore<P>;

struct CachedPackages<P: Package> {
    core: Arc<Core>,
    select: PackageSelector<P>,
    /// `meal-package` or `workout-package`.
    noun: String,
}

impl<P: Package> Clone for CachedPackages<P> {
    fn clone(&self) -> Self {
        Self {
            core: self.core.clone(),
            select: self.select,
            noun: self.noun.clone(),
        }
    }
}

impl<P: Package> CachedPackages<P> {
    fn new(core: Arc<Core>, select: PackageSelector<P>) -> Self {
        Self {
            core,
            select,
            noun: crate::store::cache::keys::package_noun::<P>(),
        }
    }

    fn inner(&self) -> &dyn PackageStore<P> {
        (self.select)(self.core.inner.as_ref())
    }

    fn catalogue(&self, listing: StatusFilter) -> Scope {
        Scope::catalogue(&self.noun, listing)
    }

    /// Runs `write` to the end, then voids the package and the listings it was or
    /// is in, as `listed_in` reads them from the outcome (every listing on an error,
    /// which may hide a write that was applied).
    async fn written<T: Send + Sync + 'static>(
        &self,
        id: Uuid,
        write: impl Future<Output = StoreResult<T>> + Send + 'static,
        listed_in: fn(&T) -> Vec<StatusFilter>,
    ) -> StoreResult<T> {
        detached(self, |this| async move {
            let result = write.await;
            let listings = result
                .as_ref()
                .map_or_else(|_| StatusFilter::EVERY.to_vec(), listed_in);
            let flights: Vec<String> = listings
                .iter()
                .map(|listing| flight_key(&this.catalogue(*listing), ""))
                .collect();
            let changes = voids::package_written(&this.noun, id, &listings);
            this.core.after_write(&result, changes, &flights).await;
            result
        })
        .await
    }
}

/// The cached name of one page of a catalogue listing (the scope holds the status).
fn page_name(filter: &PackageFilter, page: &PageRequest<Slug>) -> String {
    format!(
        "page:{}:{}:{}:{}",
        filter.tag.as_ref().map_or("-", |t| t.as_str()),
        filter.level.map_or("-", Level::as_str),
        page.limit.get(),
        page.after.as_ref().map_or("-", |s| s.as_str()),
    )
}

#[async_trait]
impl<P: Package> PackageStore<P> for CachedPackages<P> {
    async fn list(
        &self,
        filter: &PackageFilter,
        page: PageRequest<Slug>,
    ) -> StoreResult<Page<P, Slug>> {
        let name = page_name(filter, &page);
        let load = || async {
            let page = self.inner().list(filter, page.clone()).await?;
            Ok((page.items, page.next))
        };
        let (items, next) = self
            .core
            .read_through(self.catalogue(filter.status), name, vec![], load)
            .await?;
        Ok(Page { items, next })
    }

    async fn get(&self, id: Uuid) -> StoreResult<P> {
        self.core
            .read_through(
                Scope::package(&self.noun, id),
                PACKAGE.to_owned(),
                vec![],
                || self.inner().get(id),
            )
            .await
    }

    async fn get_stored(&self, id: Uuid) -> StoreResult<P> {
        self.inner().get_stored(id).await
    }

    /// From memory, the answer encoded once beside the package, when it is held there.
    async fn get_rendered(&self, id: Uuid, render: RenderOne<P>) -> StoreResult<Encoded> {
        let scope = Scope::package(&self.noun, id);
        let held = self
            .core
            .cache
            .l1_for(&scope)
            .and_then(|l1| l1.derived(&scope, PACKAGE, |package: &P| render(package)));
        match held {
            Some(answer) => answer.ok_or(StoreError::NotFound),
            None => crate::store::render_fresh(self, id, render).await,
        }
    }

    async fn list_rendered(
        &self,
        filter: &PackageFilter,
        page: PageRequest<Slug>,
        render: RenderPage<P>,
    ) -> StoreResult<Encoded> {
        let (scope, name) = (self.catalogue(filter.status), page_name(filter, &page));
        let held = self.core.cache.l1_for(&scope).and_then(|l1| {
            l1.derived(&scope, &name, |(items, next): &(Vec<P>, Option<Slug>)| {
                render(items, next.as_ref())
            })
        });
        match held {
            Some(answer) => Ok(answer),
            None => crate::store::render_page_fresh(self, filter, page, render).await,
        }
    }

    async fn upsert(&self, package: P) -> StoreResult<Written<P>> {
        let this = self.clone();
        let id = package.id();
        self.written(
            id,
            async move { this.inner().upsert(package).await },
            listings_of_written,
        )
        .await
    }

    async fn replace(&self, package: P, read: &P) -> StoreResult<Written<P>> {
        let (this, read) = (self.clone(), read.clone());
        let id = package.id();
        self.written(
            id,
            async move { this.inner().replace(package, &read).await },
            listings_of_written,
        )
        .await
    }

    async fn delete(&self, id: Uuid, read: &P) -> StoreResult<P> {
        let (this, read) = (self.clone(), read.clone());
        self.written(
            id,
            async move { this.inner().delete(id, &read).await },
            |deleted: &P| StatusFilter::showing(deleted.status()).collect(),
        )
        .await
    }
}

/// The listings a written package was or is in.
fn listings_of_written<P: Package>(written: &Written<P>) -> Vec<StatusFilter> {
    match written {
        Written::Replaced { stored, previous } => [stored, previous]
            .into_iter()
            .flat_map(|package| StatusFilter::showing(package.status()))
            .collect(),
        Written::Created(package) | Written::Unchanged(package) => {
            StatusFilter::showing(package.status()).collect()
        }
    }
}

/// Many writes' results as one for the cache: unknown if any write's outcome is
/// (everything of the user is voided), else done if any was, else refused.
fn outcome_of_all<T>(results: &[StoreResult<T>]) -> StoreResult<()> {
    let unknown = results
        .iter()
        .filter_map(|result| result.as_ref().err())
        .find(|error| error.leaves_write_unknown());
    if let Some(error) = unknown {
        return Err(error.clone());
    }
    match results.iter().find_map(|result| result.as_ref().err()) {
        Some(error) if !results.iter().any(Result::is_ok) => Err(error.clone()),
        _ => Ok(()),
    }
}

type EntrySelector<D> = fn(&dyn Store) -> &dyn EntryStore<D>;

struct CachedEntries<D: EntryData> {
    core: Arc<Core>,
    select: EntrySelector<D>,
}

impl<D: EntryData> Clone for CachedEntries<D> {
    fn clone(&self) -> Self {
        Self {
            core: self.core.clone(),
            select: self.select,
        }
    }
}

impl<D: EntryData> CachedEntries<D> {
    fn new(core: Arc<Core>, select: EntrySelector<D>) -> Self {
        Self { core, select }
    }

    fn inner(&self) -> &dyn EntryStore<D> {
        (self.select)(self.core.inner.as_ref())
    }

    /// A write on `days` of a user's entries voids the cached lists covering them.
    ///
    /// One whose outcome is unknown (MongoDB did not answer in time: it may have
    /// done the write and only its answer was lost) voids everything cached of the
    /// user instead: the write may have moved or removed the entry from a day only
    /// the store knew. Chosen over reading the entry's day before every write: that
    /// costs a round trip on every `PUT` and `DELETE` to cover a rare failure, and
    /// still misses a move by a concurrent request between the read and the write.
    async fn written<T>(&self, user_id: Uuid, days: &[Option<NaiveDate>], result: &StoreResult<T>) {
        let kind = D::KIND.as_str();
        let scope = Scope::user(user_id);
        let (change, flights) = match result {
            Err(error) if error.leaves_write_unknown() => {
                (voids::everything_of_user(user_id), [flight_key(&scope, "")])
            }
            // A write refused still moves the entry's place in the sync feed (a
            // reader may have left it out of a page while the write was under way).
            Err(_) => {
                let feed = Invalidation::guards(scope.clone(), vec![FEED.to_owned()]);
                self.core
                    .void(&[feed], &[flight_key(&scope, FEED_HEAD)])
                    .await;
                return;
            }
            _ => {
                let days: Vec<NaiveDate> = days.iter().flatten().copied().collect();
                (
                    voids::entry_days(kind, user_id, &days),
                    [flight_key(&scope, &entries_prefix(kind))],
                )
            }
        };
        self.core.after_write(result, vec![change], &flights).await;
    }

    /// A deletion voids the lists of the day the entry was on.
    async fn deleted(&self, user_id: Uuid, result: &StoreResult<Entry<D>>) {
        let day = result.as_ref().ok().map(|deleted| deleted.local_date);
        self.written(user_id, &[day], result).await;
    }

    /// The day sums of one calendar month (`month`), cached behind the month's guard
    /// (bumped with each of its days'), and assembled on a miss from each day's
    /// own (`day_sums`): an entry write costs the next summary the days it touched.
    /// Named under the entry lists' prefix, so writes detach its loads like theirs.
    async fn month_sums(&self, user_id: Uuid, month: DateRange) -> StoreResult<DaySumsByDate> {
        let kind = D::KIND.as_str();
        let scope = Scope::user(user_id);
        let name = format!("{}sums:{}", entries_prefix(kind), month.from());
        let guards = vec![crate::store::cache::keys::month_guard(kind, month.from())];
        let from_days = || {
            // Timed once, as the month's load: its day lookups and the reads of the
            // days Redis lacked count as one store call.
            day_sums::month_from_days(&self.core.cache, &scope, kind, month, |days| {
                self.inner().day_sums(user_id, days)
            })
        };
        self.core
            .read_through(scope.clone(), name, guards, from_days)
            .await
    }

    /// The day an existing entry of the user is on: its lists go stale too when the
    /// entry moves away or disappears.
    async fn current_day(&self, user_id: Uuid, id: Uuid) -> StoreResult<Option<NaiveDate>> {
        let entry = self.inner().get(user_id, id).await.optional()?;
        Ok(entry.map(|entry| entry.local_date))
    }
}

#[async_trait]
impl<D: EntryData> EntryStore<D> for CachedEntries<D> {
    async fn create(&self, entry: Entry<D>) -> StoreResult<Written<Entry<D>>> {
        detached(self, |this| async move {
            let (user_id, day) = (entry.user_id, entry.local_date);
            let result = this.inner().create(entry).await;
            this.written(user_id, &[Some(day)], &result).await;
            result
        })
        .await
    }

    async fn put(&self, entry: Entry<D>) -> StoreResult<Written<Entry<D>>> {
        detached(self, |this| async move {
            let (user_id, day) = (entry.user_id, entry.local_date);
            let result = this.inner().put(entry).await;
            // The day the replaced entry was on, as the write found it.
            let before = match &result {
                Ok(Written::Replaced { previous, .. }) => Some(previous.local_date),
                _ => None,
            };
            this.written(user_id, &[Some(day), before], &result).await;
            result
        })
        .await
    }

    /// Written together by the store, and voided together: the days of them all in
    /// one invalidation.
    async fn put_many(
        &self,
        entries: Vec<Entry<D>>,
    ) -> StoreResult<Vec<StoreResult<Written<Entry<D>>>>> {
        let Some(user_id) = put_together(&entries) else {
            return Ok(put_one_by_one(self, entries).await);
        };
        detached(self, |this| async move {
            let mut days: Vec<Option<NaiveDate>> =
                entries.iter().map(|entry| Some(entry.local_date)).collect();
            let results = this.inner().put_many(entries).await;
            let each = match &results {
                Ok(results) => results.as_slice(),
                Err(_) => &[],
            };
            // The days the replaced entries were on, as the writes found them.
            days.extend(each.iter().map(|result| match result {
                Ok(Written::Replaced { previous, .. }) => Some(previous.local_date),
                _ => None,
            }));
            let overall = match &results {
                Ok(results) => outcome_of_all(results),
                Err(error) => Err(error.clone()),
            };
            this.written(user_id, &days, &overall).await;
            results
        })
        .await
    }

    async fn get(&self, user_id: Uuid, id: Uuid) -> StoreResult<Entry<D>> {
        self.inner().get(user_id, id).await
    }

    /// Asked before a package is deleted, which is rare: not worth a cache.
    async fn names_package(&self, package_id: Uuid) -> StoreResult<bool> {
        self.inner().names_package(package_id).await
    }

    async fn update(
        &self,
        entry: Entry<D>,
        expected_updated_at: DateTime<Utc>,
    ) -> StoreResult<Entry<D>> {
        detached(self, |this| async move {
            let (user_id, day) = (entry.user_id, entry.local_date);
            let before = this.current_day(user_id, entry.id).await?;
            let result = this.inner().update(entry, expected_updated_at).await;
            this.written(user_id, &[Some(day), before], &result).await;
            result
        })
        .await
    }

    async fn delete(&self, user_id: Uuid, id: Uuid) -> StoreResult<Entry<D>> {
        detached(self, |this| async move {
            let result = this.inner().delete(user_id, id).await;
            this.deleted(user_id, &result).await;
            result
        })
        .await
    }

    async fn delete_unchanged(
        &self,
        user_id: Uuid,
        id: Uuid,
        expected_updated_at: DateTime<Utc>,
    ) -> StoreResult<Entry<D>> {
        detached(self, |this| async move {
            let deleted = this
                .inner()
                .delete_unchanged(user_id, id, expected_updated_at);
            let result = deleted.await;
            this.deleted(user_id, &result).await;
            result
        })
        .await
    }

    /// Assembled from whole calendar months, each cached on its own: a year is a
    /// dozen lookups, and a write recomputes the days it touched (see `day_sums`).
    async fn day_sums(&self, user_id: Uuid, range: DateRange) -> StoreResult<DaySumsByDate> {
        if range.days() > MAX_CACHED_RANGE_DAYS {
            self.core.cache.metrics.bypassed.inc();
            return self.core.timed(self.inner().day_sums(user_id, range)).await;
        }
        let Some(months) = months_covering(range) else {
            // The calendar's last month: nothing to cache it by.
            return self.inner().day_sums(user_id, range).await;
        };
        let months = months
            .into_iter()
            .map(|month| self.month_sums(user_id, month));
        let mut sums = DaySumsByDate::new();
        for month in futures_util::future::try_join_all(months).await? {
            sums.extend(month.into_iter().filter(|(day, _)| range.contains(*day)));
        }
        Ok(sums)
    }

    async fn list(
        &self,
        user_id: Uuid,
        range: DateRange,
        page: PageRequest<EntryPosition>,
    ) -> StoreResult<Page<Entry<D>, EntryPosition>> {
        // One guard per day: past a year (exports read "everything") the guards would
        // cost Redis more than the store read, so such lists are not cached.
        if range.days() > MAX_CACHED_RANGE_DAYS {
            self.core.cache.metrics.bypassed.inc();
            return self
                .core
                .timed(self.inner().list(user_id, range, page))
                .await;
        }
        let kind = D::KIND.as_str();
        let name = list_name(kind, range, &page);
        let load = || async {
            let page = self.inner().list(user_id, range, page.clone()).await?;
            Ok((page.items, page.next))
        };
        // One guard per day of the range (beside the user's generation, bumped when
        // the user goes): a write invalidates exactly the lists that cover its days.
        let guards = range
            .dates()
            .map(|day| crate::store::cache::keys::day_guard(kind, day))
            .collect();
        let (items, next) = self
            .core
            .read_through(Scope::user(user_id), name, guards, load)
            .await?;
        Ok(Page { items, next })
    }

    /// From memory, the answer encoded once beside the list, when it is held there.
    async fn list_rendered(
        &self,
        user_id: Uuid,
        range: DateRange,
        page: PageRequest<EntryPosition>,
        render: RenderEntries<D>,
    ) -> StoreResult<Encoded> {
        let scope = Scope::user(user_id);
        let name = list_name(D::KIND.as_str(), range, &page);
        let held = self.core.cache.l1_for(&scope).and_then(|l1| {
            l1.derived(
                &scope,
                &name,
                |(items, next): &(Vec<Entry<D>>, Option<EntryPosition>)| {
                    render(items, next.as_ref())
                },
            )
        });
        match held {
            Some(answer) => Ok(answer),
            None => crate::store::render_entries_fresh(self, user_id, range, page, render).await,
        }
    }
}

/// The sync feed through the cache: a poll that has seen everything is answered
/// from the cached head of the user's feed (in L1 or Redis), without the store.
/// The head sits behind the `feed` guard every write of the user bumps; it may lag
/// a write by as long as any cached value may, which delays a change, never loses
/// one: a position is only ever handed out by the store below.
struct CachedFeed {
    core: Arc<Core>,
}

impl CachedFeed {
    fn inner(&self) -> &dyn SyncFeed {
        self.core.inner.sync_feed()
    }

    /// The head as cached. An unsettled one (a write under way) is kept too, and
    /// never answers a poll: the write voids it when it ends.
    async fn cached_head(&self, user_id: Uuid) -> StoreResult<FeedHead> {
        self.core
            .read_through(
                Scope::user(user_id),
                FEED_HEAD.to_owned(),
                vec![FEED.to_owned()],
                || self.inner().head(user_id),
            )
            .await
    }
}

#[async_trait]
impl SyncFeed for CachedFeed {
    fn tombstone_retention(&self) -> Duration {
        self.inner().tombstone_retention()
    }

    async fn head(&self, user_id: Uuid) -> StoreResult<FeedHead> {
        self.cached_head(user_id).await
    }

    async fn changes(
        &self,
        user_id: Uuid,
        after: FeedPosition,
        limit: usize,
    ) -> StoreResult<FeedPage> {
        if after.tie.is_none()
            && let Ok(head) = self.cached_head(user_id).await
            && head.settled
            && after.seq >= head.seq
        {
            return Ok(FeedPage {
                changes: Vec::new(),
                next: after,
                more: false,
            });
        }
        self.core
            .timed(self.inner().changes(user_id, after, limit))
            .await
    }

    async fn touched_since(
        &self,
        user_id: Uuid,
        horizon: i64,
    ) -> StoreResult<HashSet<(FeedKind, Uuid)>> {
        self.core
            .timed(self.inner().touched_since(user_id, horizon))
            .await
    }
}

/// The key name of a page of a user's entry list of `kind` (lists longer than
/// `MAX_CACHED_RANGE_DAYS` have one too, and are never held).
fn list_name(kind: &str, range: DateRange, page: &PageRequest<EntryPosition>) -> String {
    let after = page.after.as_ref().map_or("-".to_owned(), |p| {
        format!(
            "{}|{}|{}",
            p.local_date,
            p.occurred_at.timestamp_millis(),
            p.id
        )
    });
    format!(
        "{}{}:{}:{}:{after}",
        entries_prefix(kind),
        range.from(),
        range.to(),
        page.limit.get()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_range_is_covered_by_whole_calendar_months() {
        let range = DateRange::new(date("2026-01-30"), date("2026-03-02")).unwrap();
        let months: Vec<(NaiveDate, NaiveDate)> = months_covering(range)
            .unwrap()
            .into_iter()
            .map(|month| (month.from(), month.to()))
            .collect();
        assert_eq!(
            months,
            [
                (date("2026-01-01"), date("2026-01-31")),
                (date("2026-02-01"), date("2026-02-28")),
                (date("2026-03-01"), date("2026-03-31")),
            ]
        );
        assert_eq!(
            months_covering(DateRange::day(date("2028-02-29")))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(months_covering(DateRange::day(NaiveDate::MAX)), None);
        assert_eq!(range.dates().count(), 32);
    }
}
