//! The in-process tier in front of Redis (L1): what is read on almost every request
//! (users by id, packages by id, catalogue pages, a user's entry lists and day sums),
//! served from this process's memory.
//!
//! It may serve only while the invalidation channel is confirmed (see
//! `channel`): every write anywhere publishes what it voided, in the same Redis
//! script that voids it, and this tier drops those entries as the messages arrive.
//! The channel is confirmed by this process's own heartbeats coming back through it;
//! a heartbeat sent at `t` that came back means every invalidation published before
//! `t` has been applied, so the tier may serve until `t + lease`. Past that (a cut,
//! a lagging receiver, a frozen Redis) it empties itself at once and reads go to
//! Redis until a fresh heartbeat comes back.
//!
//! Entry lists and day sums sit behind guards (one per day, or month, they cover;
//! see `redis`): a write bumps its days' guards rather than naming every list it
//! voids, and its message names the guards. So a value behind guards is listed
//! under each of them too, and a bumped guard drops what is listed under it.
//!
//! Why fills carry a ticket: a read that missed, fetched v1 from Redis and is slow to
//! install it must not overwrite an invalidation that arrived meanwhile. The miss
//! registers a ticket; an invalidation of the key (or its scope, or a channel loss)
//! takes the ticket away; the fill installs only if its ticket is still there.
//!
//! Locks: the ticket lock is not re-entrant, so nothing that may empty the tier
//! (`is_serving`, `lapse`, `lose_channel`, the `invalidate*` family) is called while
//! it is held; under it only atomics are read, and the scope index and the values
//! map written. The scope index's lock is taken last and alone (the values map's
//! removal listener takes it, so the map is never called with it held).

pub(super) mod channel;
mod index;

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use moka::notification::RemovalCause;
use parking_lot::Mutex;

use crate::metrics::L1Metrics;
use crate::store::cache::keys::Scope;
use crate::store::cache::l1::index::ScopeIndex;

/// What an entry costs beside its encoded size: key, map slot, `Arc` and bookkeeping.
const ENTRY_OVERHEAD_BYTES: u32 = 160;

/// How many times its encoded size an entry is counted: the value, and the answer
/// the API may keep beside it (`derived`).
const COPIES: u32 = 2;

/// What each guard a value sits behind costs beside it: its listing's name and
/// slot in the index.
const GUARD_OVERHEAD_BYTES: u32 = 160;

/// The most guards a value held here may sit behind: a list over two months (a
/// day guard each). Longer lists stay in Redis: each guard is an index listing to
/// add and forget, under the ticket lock.
const MAX_GUARDS: usize = 62;

type Shared = Arc<dyn Any + Send + Sync>;

/// A cached value with its weight in bytes, and what was derived from it once.
#[derive(Clone)]
struct Held {
    value: Shared,
    weight: u32,
    derived: Arc<OnceLock<Shared>>,
    /// The token of the fill that installed it, and where the index lists it: under
    /// its scope, then under each guard it sits behind (see `index`).
    token: u64,
    listings: Arc<[Arc<str>]>,
}

type Tickets = Arc<Mutex<HashMap<Arc<str>, u64>>>;

/// A miss's right to install what it reads, if nothing voided the key meanwhile.
/// Dropped unused (the load failed, the request was cancelled), it takes itself
/// out of the register, so abandoned misses never pile up.
pub struct FillTicket {
    key: Arc<str>,
    /// Where the value read is to be listed: its scope, then each of its guards.
    listings: Arc<[Arc<str>]>,
    token: u64,
    /// Channel losses when the miss began: a loss since voids the ticket.
    losses: u64,
    tickets: Tickets,
}

impl Drop for FillTicket {
    fn drop(&mut self) {
        let mut tickets = self.tickets.lock();
        if tickets.get(&self.key) == Some(&self.token) {
            tickets.remove(&self.key);
        }
    }
}

pub struct L1 {
    values: moka::sync::Cache<Arc<str>, Held>,
    /// Misses that may install: key → ticket token.
    tickets: Tickets,
    /// The keys each scope holds, so a scope flush costs what the scope holds.
    index: Arc<ScopeIndex>,
    next_token: AtomicU64,
    /// Channel losses so far (a flush each).
    losses: AtomicU64,
    /// Until when (ms since `origin`) the tier may serve: the send time of the last
    /// heartbeat that came back, plus the lease. 0: not confirmed.
    serve_until_ms: AtomicU64,
    origin: Instant,
    lease: Duration,
    pub metrics: L1Metrics,
}

impl L1 {
    /// A tier of at most `capacity_bytes`, whose entries live at most `ttl`, that may
    /// serve up to `lease` after the send time of the last confirmed heartbeat.
    pub fn new(capacity_bytes: u64, ttl: Duration, lease: Duration) -> Self {
        let metrics = L1Metrics::default();
        let evictions = metrics.evictions.clone();
        let index = Arc::new(ScopeIndex::default());
        let unlist = index.clone();
        let values = moka::sync::Cache::builder()
            .max_capacity(capacity_bytes)
            .weigher(|_key: &Arc<str>, held: &Held| held.weight)
            .time_to_live(ttl)
            .eviction_listener(move |key: Arc<Arc<str>>, held: Held, cause| {
                if cause == RemovalCause::Size {
                    evictions.inc();
                }
                for listing in held.listings.iter() {
                    unlist.forget(listing, &key, held.token);
                }
            })
            .build();
        Self {
            values,
            tickets: Tickets::default(),
            index,
            next_token: AtomicU64::new(1),
            losses: AtomicU64::new(0),
            serve_until_ms: AtomicU64::new(0),
            origin: Instant::now(),
            lease,
            metrics,
        }
    }

    /// The value of `name` in `scope`, if held and the tier may serve.
    pub fn get<T: Clone + 'static>(&self, scope: &Scope, name: &str) -> Option<T> {
        if !self.is_serving() {
            return None;
        }
        let found = self
            .values
            .get(key(scope, name).as_str())
            .and_then(|held| held.value.downcast_ref::<T>().cloned());
        match found {
            Some(_) => self.metrics.hits.inc(),
            None => self.metrics.misses.inc(),
        };
        found
    }

    /// What `derive` makes of the value of `name` in `scope` (the API's encoded
    /// answer), made once per value and dropped with it; `None` when the value is not
    /// held or the tier may not serve (a miss is not counted: the caller's read is).
    pub fn derived<T, M>(
        &self,
        scope: &Scope,
        name: &str,
        derive: impl FnOnce(&T) -> M,
    ) -> Option<M>
    where
        T: 'static,
        M: Clone + Send + Sync + 'static,
    {
        if !self.is_serving() {
            return None;
        }
        let held = self.values.get(key(scope, name).as_str())?;
        let value = held.value.downcast_ref::<T>()?;
        let derived = held
            .derived
            .get_or_init(|| Arc::new(derive(value)) as Shared)
            .downcast_ref::<M>()?
            .clone();
        self.metrics.hits.inc();
        Some(derived)
    }

    /// Whether `name` of `scope` is held (served or not).
    pub fn holds(&self, scope: &Scope, name: &str) -> bool {
        self.values.contains_key(key(scope, name).as_str())
    }

    /// Registers a miss of `name` in `scope`, behind `guards` (besides its scope's
    /// generation); `None` while the tier may not serve. Taken before the read of the
    /// tier below, so that anything voiding the key (or bumping one of its guards)
    /// after that read started also voids the ticket.
    pub fn begin_fill(&self, scope: &Scope, name: &str, guards: &[String]) -> Option<FillTicket> {
        if guards.len() > MAX_GUARDS || !self.is_serving() {
            return None;
        }
        let scope_text = scope.to_string();
        let listings: Arc<[Arc<str>]> = std::iter::once(scope_text.clone())
            .chain(guards.iter().map(|guard| guard_listing(&scope_text, guard)))
            .map(Arc::from)
            .collect();
        let key: Arc<str> = key(scope, name).into();
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let losses = self.losses.load(Ordering::Acquire);
        self.tickets.lock().insert(key.clone(), token);
        Some(FillTicket {
            key,
            listings,
            token,
            losses,
            tickets: self.tickets.clone(),
        })
    }

    /// Installs `value` (`encoded_len` bytes once encoded) unless its key was voided,
    /// or the channel lost, since the ticket was taken.
    pub fn fill<T: Send + Sync + 'static>(&self, ticket: FillTicket, value: T, encoded_len: usize) {
        // Asked before the ticket lock is taken: the first to find the lease run out
        // empties the tier, which takes that lock (it is not re-entrant).
        if !self.is_serving() {
            return;
        }
        // The guard is a local, so it is released before the ticket's own drop runs.
        let mut tickets = self.tickets.lock();
        if tickets.get(&ticket.key) != Some(&ticket.token) {
            return;
        }
        tickets.remove(&ticket.key);
        // Under the lock, only what takes no lock: a lease that ran out since the
        // look above is left for the next reader to find (and empty the tier).
        if self.losses.load(Ordering::Acquire) != ticket.losses || !self.lease_holds() {
            return;
        }
        // Every listing but the scope's is a guard's.
        let guards = u32::try_from(ticket.listings.len() - 1).unwrap_or(u32::MAX);
        let weight = u32::try_from(encoded_len)
            .unwrap_or(u32::MAX)
            .saturating_mul(COPIES)
            .saturating_add(ENTRY_OVERHEAD_BYTES)
            .saturating_add(guards.saturating_mul(GUARD_OVERHEAD_BYTES));
        // Listed and inserted under the ticket lock: an invalidation that takes the
        // lock next finds the value in place (and listed) and removes it.
        for listing in ticket.listings.iter() {
            self.index.add(listing, &ticket.key, ticket.token);
        }
        self.values.insert(
            ticket.key.clone(),
            Held {
                value: Arc::new(value),
                weight,
                derived: Arc::default(),
                token: ticket.token,
                listings: ticket.listings.clone(),
            },
        );
    }

    /// Drops `name` of `scope` and voids its tickets.
    pub fn invalidate(&self, scope: &Scope, name: &str) {
        let key = key(scope, name);
        self.tickets.lock().remove(key.as_str());
        self.values.invalidate(key.as_str());
    }

    /// Drops everything held of `scope` and voids its tickets; returns how many
    /// entries it dropped. It touches the scope's own entries, found in the index,
    /// and the misses under way (a handful), never the rest of the tier: scopes are
    /// flushed on every package write, user deletion and renewal after an outage.
    pub fn invalidate_scope(&self, scope: &Scope) -> usize {
        self.drop_listed(scope, [scope.to_string()])
    }

    /// Drops what sits behind any of `guards` of `scope` (a write bumped them), and
    /// voids every fill of the scope under way: a ticket does not say which guards
    /// its read sits behind, and a miss that loses its fill only costs a later miss.
    /// Returns how many entries it dropped.
    pub fn invalidate_guards(&self, scope: &Scope, guards: &[String]) -> usize {
        let scope_text = scope.to_string();
        let listings = guards.iter().map(|guard| guard_listing(&scope_text, guard));
        self.drop_listed(scope, listings)
    }

    /// Voids every fill of `scope` under way and drops what the index lists under
    /// `listings` (the scope's, or some of its guards'); returns how many entries.
    fn drop_listed(&self, scope: &Scope, listings: impl IntoIterator<Item = String>) -> usize {
        let prefix = key(scope, "");
        // Tickets and listings under one hold of the ticket lock, under which fills
        // list and install: a fill done before is listed and taken here, a fill
        // after finds its ticket gone.
        let mut keys: Vec<Arc<str>> = {
            let mut tickets = self.tickets.lock();
            tickets.retain(|key, _| !key.starts_with(&prefix));
            listings
                .into_iter()
                .flat_map(|listing| self.index.take(&listing))
                .collect()
        };
        // A value behind two of the guards is listed under both.
        keys.sort_unstable();
        keys.dedup();
        for key in &keys {
            self.values.invalidate(key.as_ref());
        }
        keys.len()
    }

    /// Drops everything (a new namespace epoch, a flush ordered by another instance).
    pub fn invalidate_all(&self) {
        // Under one hold of the ticket lock, as in `invalidate_scope`.
        {
            let mut tickets = self.tickets.lock();
            tickets.clear();
            self.index.clear();
        }
        self.values.invalidate_all();
    }

    /// A heartbeat sent at `sent` came back through the channel: every invalidation
    /// published before it has been applied. After a lapse the tier is emptied
    /// first: a reader that fell that far behind may have been dropped messages.
    pub fn confirm(&self, sent: Instant) {
        if self.lease_lapsed() {
            self.lapse();
        }
        let until = self.millis_at(sent + self.lease);
        // A heartbeat so late that its lease is already over grants nothing.
        if until > self.millis_at(Instant::now()) {
            self.serve_until_ms.fetch_max(until, Ordering::AcqRel);
        }
    }

    /// The channel is lost or late: stop serving and empty the tier at once. Returns
    /// whether it was serving until now.
    pub fn lose_channel(&self) -> bool {
        let was_confirmed = self.serve_until_ms.swap(0, Ordering::AcqRel) != 0;
        self.losses.fetch_add(1, Ordering::AcqRel);
        self.invalidate_all();
        if was_confirmed {
            self.metrics.channel_losses.inc();
        }
        was_confirmed
    }

    /// Whether the tier may serve now: the channel is confirmed and its lease holds.
    /// The first to find the lease run out empties the tier, there and then (so it
    /// takes the ticket lock: never call it with that lock held).
    pub fn is_serving(&self) -> bool {
        if self.lease_holds() {
            return true;
        }
        if self.serve_until_ms.load(Ordering::Acquire) != 0 {
            self.lapse();
        }
        false
    }

    /// Whether the channel is confirmed and its lease holds, without acting on it.
    fn lease_holds(&self) -> bool {
        let until = self.serve_until_ms.load(Ordering::Acquire);
        until != 0 && self.millis_at(Instant::now()) < until
    }

    /// The lease ran out without a heartbeat back: the channel is late or cut.
    pub fn lapse(&self) {
        if self.lose_channel() {
            tracing::warn!(
                "the cache's invalidation channel fell behind or was cut; the in-process tier is emptied until it is confirmed again"
            );
        }
    }

    /// Whether a lease was granted and has run out (the caller should flush).
    pub fn lease_lapsed(&self) -> bool {
        let until = self.serve_until_ms.load(Ordering::Acquire);
        until != 0 && self.millis_at(Instant::now()) >= until
    }

    /// Publishes the sizes to the metrics (called now and then, not per read).
    pub fn publish_sizes(&self) {
        self.values.run_pending_tasks();
        let entries = i64::try_from(self.values.entry_count()).unwrap_or(i64::MAX);
        let bytes = i64::try_from(self.values.weighted_size()).unwrap_or(i64::MAX);
        self.metrics.entries.set(entries);
        self.metrics.bytes.set(bytes);
    }

    fn millis_at(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_millis())
            .unwrap_or(u64::MAX)
            // 0 means "not confirmed".
            .max(1)
    }
}

/// The tier's key of `name` in `scope`: the scope first, so a scope is a prefix.
fn key(scope: &Scope, name: &str) -> String {
    format!("{scope}|{name}")
}

/// What the index lists the values behind `guard` of `scope` under: beside the
/// scopes, under a name no scope has (a scope holds no `#`).
fn guard_listing(scope: &str, guard: &str) -> String {
    format!("{scope}#{guard}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn confirmed_tier() -> L1 {
        confirmed(1 << 20, Duration::from_secs(60), Duration::from_secs(60))
    }

    /// A tier of `capacity` bytes whose entries live `ttl`, confirmed now for `lease`.
    fn confirmed(capacity: u64, ttl: Duration, lease: Duration) -> L1 {
        let tier = L1::new(capacity, ttl, lease);
        tier.confirm(Instant::now());
        tier
    }

    fn fill(tier: &L1, scope: &Scope, name: &str, value: &str) {
        let ticket = tier.begin_fill(scope, name, &[]).expect("a serving tier");
        tier.fill(ticket, value.to_owned(), value.len());
    }

    #[test]
    fn nothing_is_served_before_the_channel_is_confirmed() {
        let tier = L1::new(1 << 20, Duration::from_secs(60), Duration::from_secs(60));
        let scope = Scope::user(Uuid::nil());
        assert!(tier.begin_fill(&scope, "user", &[]).is_none());
        assert_eq!(tier.get::<String>(&scope, "user"), None);
        tier.confirm(Instant::now());
        fill(&tier, &scope, "user", "v1");
        assert_eq!(tier.get::<String>(&scope, "user").as_deref(), Some("v1"));
    }

    #[test]
    fn an_invalidation_during_a_fill_wins() {
        let tier = confirmed_tier();
        let scope = Scope::package("meal-package", Uuid::nil());
        let ticket = tier.begin_fill(&scope, "package", &[]).unwrap();
        tier.invalidate(&scope, "package");
        tier.fill(ticket, "old".to_owned(), 3);
        assert_eq!(tier.get::<String>(&scope, "package"), None);

        let ticket = tier.begin_fill(&scope, "package", &[]).unwrap();
        tier.invalidate_scope(&scope);
        tier.fill(ticket, "old".to_owned(), 3);
        assert_eq!(tier.get::<String>(&scope, "package"), None);
    }

    #[test]
    fn an_abandoned_miss_leaves_nothing_behind() {
        let tier = confirmed_tier();
        let scope = Scope::package("meal-package", Uuid::nil());
        for _ in 0..100 {
            drop(tier.begin_fill(&scope, "package", &[]));
        }
        assert!(tier.tickets.lock().is_empty());
        let older = tier.begin_fill(&scope, "package", &[]).unwrap();
        let newer = tier.begin_fill(&scope, "package", &[]).unwrap();
        drop(older);
        tier.fill(newer, "v1".to_owned(), 2);
        assert_eq!(tier.get::<String>(&scope, "package").as_deref(), Some("v1"));
        assert!(tier.tickets.lock().is_empty());
    }

    #[test]
    fn a_scope_flush_drops_its_entries_only() {
        let tier = confirmed_tier();
        let (catalogue, other) = (
            Scope::catalogue("meal-package", crate::domain::StatusFilter::Published),
            Scope::catalogue("workout-package", crate::domain::StatusFilter::Published),
        );
        fill(&tier, &catalogue, "page:1", "a");
        fill(&tier, &catalogue, "page:2", "b");
        fill(&tier, &other, "page:1", "c");
        tier.invalidate_scope(&catalogue);
        assert_eq!(tier.get::<String>(&catalogue, "page:1"), None);
        assert_eq!(tier.get::<String>(&catalogue, "page:2"), None);
        assert_eq!(tier.get::<String>(&other, "page:1").as_deref(), Some("c"));
    }

    #[test]
    fn a_scope_flush_touches_only_what_the_scope_holds() {
        let tier = confirmed_tier();
        let (flushed, other) = (
            Scope::user(Uuid::from_u128(1)),
            Scope::user(Uuid::from_u128(2)),
        );
        for n in 0..1000 {
            fill(&tier, &other, &format!("page:{n}"), "x");
        }
        fill(&tier, &flushed, "user", "v1");
        // Filled again: the older value's removal is reported, and must not unlist
        // the newer one.
        fill(&tier, &flushed, "user", "v2");
        fill(&tier, &flushed, "page:1", "p");
        tier.invalidate(&flushed, "page:1");
        fill(&tier, &flushed, "page:2", "p");

        let dropped = tier.invalidate_scope(&flushed);

        assert_eq!(
            dropped, 2,
            "the scope's two entries, nothing else looked at"
        );
        assert_eq!(tier.get::<String>(&flushed, "user"), None);
        assert_eq!(tier.get::<String>(&flushed, "page:2"), None);
        assert_eq!(tier.get::<String>(&other, "page:999").as_deref(), Some("x"));
        assert_eq!(tier.index.len(), 1000);
    }

    fn fill_behind(tier: &L1, scope: &Scope, name: &str, guards: &[&str]) {
        let guards: Vec<String> = guards.iter().map(|&guard| guard.to_owned()).collect();
        let ticket = tier.begin_fill(scope, name, &guards).unwrap();
        tier.fill(ticket, name.to_owned(), name.len());
    }

    #[test]
    fn a_bumped_guard_drops_what_sits_behind_it_and_nothing_else() {
        let tier = confirmed_tier();
        let (scope, other) = (
            Scope::user(Uuid::from_u128(1)),
            Scope::user(Uuid::from_u128(2)),
        );
        fill_behind(&tier, &scope, "monday", &["day:1"]);
        fill_behind(&tier, &scope, "week", &["day:1", "day:2"]);
        fill_behind(&tier, &scope, "wednesday", &["day:3"]);
        fill_behind(&tier, &other, "tuesday", &["day:2"]);
        fill(&tier, &scope, "user", "v1");

        assert_eq!(tier.invalidate_guards(&scope, &["day:2".to_owned()]), 1);
        assert_eq!(tier.get::<String>(&scope, "week"), None);
        assert_eq!(
            tier.get::<String>(&scope, "monday").as_deref(),
            Some("monday")
        );
        assert_eq!(
            tier.get::<String>(&other, "tuesday").as_deref(),
            Some("tuesday")
        );
        assert_eq!(tier.get::<String>(&scope, "user").as_deref(), Some("v1"));

        assert_eq!(
            tier.invalidate_guards(&scope, &["day:1".to_owned(), "day:9".to_owned()]),
            1
        );
        assert_eq!(tier.get::<String>(&scope, "monday"), None);
        assert_eq!(
            tier.get::<String>(&scope, "wednesday").as_deref(),
            Some("wednesday")
        );

        // A scope flush takes what sits behind guards too, with its listings.
        tier.invalidate_scope(&scope);
        tier.values.run_pending_tasks();
        assert_eq!(tier.get::<String>(&scope, "wednesday"), None);
        assert_eq!(
            tier.index.len(),
            2,
            "only the other user's value, listed twice"
        );
    }

    #[test]
    fn a_value_behind_too_many_guards_is_not_held() {
        let tier = confirmed_tier();
        let scope = Scope::user(Uuid::nil());
        let guards: Vec<String> = (0..=MAX_GUARDS).map(|day| format!("day:{day}")).collect();
        assert!(tier.begin_fill(&scope, "a long list", &guards).is_none());
        assert!(
            tier.begin_fill(&scope, "two months", &guards[..MAX_GUARDS])
                .is_some()
        );
    }

    #[test]
    fn a_guard_bumped_during_a_fill_wins() {
        let tier = confirmed_tier();
        let scope = Scope::user(Uuid::nil());
        let ticket = tier
            .begin_fill(&scope, "monday", &["day:1".to_owned()])
            .unwrap();
        tier.invalidate_guards(&scope, &["day:1".to_owned()]);
        tier.fill(ticket, "old".to_owned(), 3);
        assert_eq!(tier.get::<String>(&scope, "monday"), None);
        assert!(tier.tickets.lock().is_empty());
    }

    #[test]
    fn a_value_behind_guards_leaves_every_listing_when_it_expires() {
        let tier = confirmed(1 << 20, Duration::from_millis(20), Duration::from_secs(60));
        let scope = Scope::user(Uuid::nil());
        fill_behind(&tier, &scope, "week", &["day:1", "day:2", "day:3"]);
        assert_eq!(tier.index.len(), 4);
        std::thread::sleep(Duration::from_millis(40));
        tier.values.run_pending_tasks();
        assert_eq!(tier.index.len(), 0);
    }

    #[test]
    fn entries_that_expire_or_are_evicted_leave_the_index() {
        let tier = confirmed(1 << 20, Duration::from_millis(20), Duration::from_secs(60));
        let scope = Scope::user(Uuid::nil());
        fill(&tier, &scope, "user", "v1");
        std::thread::sleep(Duration::from_millis(40));
        tier.values.run_pending_tasks();
        assert_eq!(tier.index.len(), 0, "expired");

        // Room for a few entries only: the rest are evicted as they come.
        let small = confirmed(4096, Duration::from_secs(60), Duration::from_secs(60));
        for n in 0..200 {
            fill(&small, &scope, &format!("page:{n}"), "x");
        }
        small.values.run_pending_tasks();
        assert!(small.index.len() < 50, "{} listed", small.index.len());
        assert_eq!(
            small.index.len(),
            usize::try_from(small.values.entry_count()).unwrap()
        );
    }

    #[test]
    fn a_lost_channel_empties_the_tier_and_voids_fills_under_way() {
        let tier = confirmed_tier();
        let scope = Scope::user(Uuid::nil());
        fill(&tier, &scope, "user", "v1");
        let ticket = tier.begin_fill(&scope, "other", &[]).unwrap();
        assert!(tier.lose_channel());
        assert!(!tier.is_serving());
        tier.confirm(Instant::now());
        tier.fill(ticket, "old".to_owned(), 3);
        assert_eq!(tier.get::<String>(&scope, "user"), None, "emptied");
        assert_eq!(tier.get::<String>(&scope, "other"), None, "voided fill");
        assert_eq!(tier.metrics.channel_losses.get(), 1);
    }

    #[test]
    fn the_lease_runs_out_without_fresh_heartbeats() {
        let tier = confirmed(1 << 20, Duration::from_secs(60), Duration::from_millis(20));
        let scope = Scope::user(Uuid::nil());
        fill(&tier, &scope, "user", "v1");
        std::thread::sleep(Duration::from_millis(40));
        assert!(tier.lease_lapsed());
        assert!(!tier.is_serving(), "the first to look empties it");
        assert!(!tier.lease_lapsed());
        assert_eq!(tier.metrics.channel_losses.get(), 1);
        tier.confirm(Instant::now());
        assert_eq!(tier.get::<String>(&scope, "user"), None, "emptied");
    }

    /// Runs `work` on a thread of its own and returns what it returns, failing the
    /// test if it has not ended within `limit`: a deadlock fails the suite instead of
    /// hanging it (the stuck thread is left behind).
    fn ends_within<T: Send + 'static>(
        limit: Duration,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let (done, ended) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(work());
        });
        ended
            .recv_timeout(limit)
            .unwrap_or_else(|_| panic!("still running after {limit:?}: deadlocked"))
    }

    #[test]
    fn a_fill_that_finds_the_lease_run_out_installs_nothing_and_returns() {
        let tier = Arc::new(confirmed(
            1 << 20,
            Duration::from_secs(60),
            Duration::from_millis(20),
        ));
        let scope = Scope::user(Uuid::nil());
        let ticket = tier.begin_fill(&scope, "user", &[]).unwrap();
        std::thread::sleep(Duration::from_millis(60));

        let filling = tier.clone();
        let filled_scope = scope.clone();
        ends_within(Duration::from_secs(5), move || {
            filling.fill(ticket, "v1".to_owned(), 2);
            // And the tier is usable afterwards: the ticket lock is free.
            filling.invalidate(&filled_scope, "other");
        });

        assert!(!tier.is_serving(), "the lapse was noticed");
        tier.confirm(Instant::now());
        assert_eq!(
            tier.get::<String>(&scope, "user"),
            None,
            "nothing installed"
        );
        assert!(tier.tickets.lock().is_empty());
    }

    #[test]
    fn a_heartbeat_back_late_grants_the_lease_from_its_sending() {
        let lease = Duration::from_secs(1);
        let tier = L1::new(1 << 20, Duration::from_secs(60), lease);
        // Sent 600 ms ago, back only now: the tier may serve for what is left of
        // the lease, 400 ms, not for a whole lease from now.
        let sent = Instant::now()
            .checked_sub(Duration::from_millis(600))
            .expect("a clock 600 ms old");
        tier.confirm(sent);
        assert!(tier.is_serving(), "inside the lease");

        std::thread::sleep(
            (sent + lease + Duration::from_millis(50)).saturating_duration_since(Instant::now()),
        );

        assert!(
            !tier.is_serving(),
            "still serving {:?} after the heartbeat was sent, past its lease of {lease:?}",
            sent.elapsed()
        );
    }

    #[test]
    fn what_is_derived_is_made_once_and_goes_with_its_value() {
        let tier = confirmed_tier();
        let scope = Scope::package("meal-package", Uuid::nil());
        fill(&tier, &scope, "package", "v1");
        let mut made = 0;
        for _ in 0..3 {
            let derived = tier.derived(&scope, "package", |value: &String| {
                made += 1;
                format!("<{value}>")
            });
            assert_eq!(derived.as_deref(), Some("<v1>"));
        }
        assert_eq!(made, 1);
        tier.invalidate(&scope, "package");
        assert_eq!(
            tier.derived(&scope, "package", |v: &String| v.clone()),
            None
        );
        fill(&tier, &scope, "package", "v2");
        assert_eq!(
            tier.derived(&scope, "package", |v: &String| format!("<{v}>"))
                .as_deref(),
            Some("<v2>")
        );
    }

    #[test]
    fn a_value_of_another_type_is_a_miss() {
        let tier = confirmed_tier();
        let scope = Scope::user(Uuid::nil());
        fill(&tier, &scope, "user", "v1");
        assert_eq!(tier.get::<u64>(&scope, "user"), None);
    }
}
