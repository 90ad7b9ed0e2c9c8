//! The cache's key layout: every key belongs to one scope, and a scope's keys share
//! a Redis Cluster hash tag (so one slot) and a generation.
//!
//! | scope | hash tag | keys | invalidated by |
//! |---|---|---|---|
//! | a user | `{u:<id>}` | `user`, `meal-entries:…`, `workout-entries:…`, `body-metric-entries:…`, `feed-head`, day guards `meal-day:<date>`, `workout-day:<date>`, `body-metric-day:<date>`, the `feed` guard, `gen` | the user's writes (`user`, `feed`), entry writes (their days' guards, `feed`), deleting the user (`gen`) |
//! | an e-mail | `{e:<sha-256 of it>}` | `user`, `gen` | creating, changing or deleting the user with that e-mail |
//! | a package | `{meal-package:<id>}`, `{workout-package:<id>}`, `{custom-exercise:<id>}` | `package`, `gen` | writing that package |
//! | a catalogue listing | `{meal-packages:<status>}`, `{workout-packages:<status>}`, `{custom-exercises:<status>}` (`published`, `draft`, `archived`, `all`) | `page:…`, `gen` | writing a package of its kind that was or is in that listing (`gen`) |
//!
//! Each lookup reads its own scope's generation and guards, never a key every
//! operation reads, so load spreads over a cluster's masters. A scope is flushed by
//! bumping its generation; the whole cache, by changing the namespace.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use uuid::Uuid;

use crate::domain::{Email, Package, StatusFilter};

/// What one write voids in one scope: values to delete (with their leases) and guards
/// to bump. A flush of the scope bumps its generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    pub scope: Scope,
    pub keys: Vec<String>,
    pub guards: Vec<String>,
}

impl Invalidation {
    pub fn keys(scope: Scope, keys: &[&str]) -> Self {
        Self {
            scope,
            keys: keys.iter().map(|&key| key.to_owned()).collect(),
            guards: Vec::new(),
        }
    }

    pub fn guards(scope: Scope, guards: Vec<String>) -> Self {
        Self {
            scope,
            keys: Vec::new(),
            guards,
        }
    }

    /// Voids everything cached in the scope.
    pub fn flush(scope: Scope) -> Self {
        Self::guards(scope, vec![GENERATION.to_owned()])
    }
}

/// The noun a package's keys are named by: `meal-package`, `workout-package` or
/// `custom-exercise`.
pub fn package_noun<P: Package>() -> String {
    P::NOUN.replace(' ', "-")
}

/// The owner of a group of keys: the content of their hash tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope(String);

impl Scope {
    pub fn user(id: Uuid) -> Self {
        Self(format!("u:{id}"))
    }

    /// By a digest, not the address: the address could hold `{` or `}` (which would
    /// change the hash tag), and key names show up in monitoring tools.
    pub fn email(email: &Email) -> Self {
        Self(format!("e:{}", email.digest()))
    }

    /// `noun` is `package_noun`'s.
    pub fn package(noun: &str, id: Uuid) -> Self {
        Self(format!("{noun}:{id}"))
    }

    /// Every list page of one kind of package with one status filter: a draft's
    /// edits leave the public catalogue's pages cached.
    pub fn catalogue(noun: &str, listing: StatusFilter) -> Self {
        Self(format!("{noun}s:{}", listing.as_str()))
    }
}

impl Scope {
    /// A scope as the invalidation channel carries it (its `Display` form).
    pub fn from_wire(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of a scope's generation key, itself a guard of every key in the scope.
pub const GENERATION: &str = "gen";

/// A user's record, in the user's scope or the e-mail's.
pub const USER: &str = "user";

/// The newest change of a user's sync feed every reader may see, in the user's
/// scope, behind the `FEED` guard.
pub const FEED_HEAD: &str = "feed-head";

/// The guard every write of a user's profile or entries bumps: what the cached
/// head of their sync feed sits behind.
pub const FEED: &str = "feed";

/// A package by id, in the package's scope.
pub const PACKAGE: &str = "package";

/// The start of the names of a user's entry list pages of one kind (`meal`, `workout`).
pub fn entries_prefix(kind: &str) -> String {
    format!("{kind}-entries:")
}

/// The guard of one day of a user's entries of one kind.
pub fn day_guard(kind: &str, day: NaiveDate) -> String {
    format!("{kind}-day:{day}")
}

/// The guard of one calendar month of a user's entries of one kind, bumped with
/// each of its days': what the month's day sums sit behind (one guard to read,
/// not thirty-one).
pub fn month_guard(kind: &str, day: NaiveDate) -> String {
    format!("{kind}-month:{}", day.format("%Y-%m"))
}

/// What a write voids, written once for the writer (which invalidates before it
/// acknowledges) and for the change-stream invalidator (which catches what a writer
/// could not): the same keys either way, and both idempotent.
pub mod voids {
    use super::*;

    /// A user created or changed: the record, and each address it had or has.
    pub fn user_written(id: Uuid, emails: &[&Email]) -> Vec<Invalidation> {
        let mut record = Invalidation::keys(Scope::user(id), &[USER]);
        record.guards.push(FEED.to_owned());
        let mut changes = vec![record];
        for email in dedup(emails) {
            changes.push(Invalidation::keys(Scope::email(email), &[USER]));
        }
        changes
    }

    /// A user deleted: everything in their scope (record and entry lists), and each
    /// address they had.
    pub fn user_deleted(id: Uuid, emails: &[&Email]) -> Vec<Invalidation> {
        let mut changes = vec![everything_of_user(id)];
        for email in dedup(emails) {
            changes.push(Invalidation::keys(Scope::email(email), &[USER]));
        }
        changes
    }

    /// Everything cached of a user (record, entry lists, day sums): for an entry
    /// write of theirs whose days are not all known.
    pub fn everything_of_user(id: Uuid) -> Invalidation {
        Invalidation::flush(Scope::user(id))
    }

    /// A package written: it, and the pages of each listing it was or is in
    /// (`StatusFilter::EVERY` when that is not known).
    pub fn package_written(noun: &str, id: Uuid, listings: &[StatusFilter]) -> Vec<Invalidation> {
        let mut listings = listings.to_vec();
        listings.sort_by_key(|listing| listing.as_str());
        listings.dedup();
        let mut changes = vec![Invalidation::keys(Scope::package(noun, id), &[PACKAGE])];
        for listing in listings {
            changes.push(Invalidation::flush(Scope::catalogue(noun, listing)));
        }
        changes
    }

    /// Entries of one kind written on `days` of a user: the lists covering them, and
    /// the day sums of their months.
    pub fn entry_days(kind: &str, user_id: Uuid, days: &[NaiveDate]) -> Invalidation {
        let mut guards: Vec<String> = days
            .iter()
            .flat_map(|day| [day_guard(kind, *day), month_guard(kind, *day)])
            .chain([FEED.to_owned()])
            .collect();
        guards.sort();
        guards.dedup();
        Invalidation::guards(Scope::user(user_id), guards)
    }

    fn dedup<'a>(emails: &[&'a Email]) -> Vec<&'a Email> {
        let mut unique: Vec<&Email> = Vec::new();
        for email in emails {
            if !unique.contains(email) {
                unique.push(email);
            }
        }
        unique
    }
}

/// The version of what the cache holds. It changes whenever a cached value changes
/// shape, or what the invalidation channel says does, so a new release never
/// decodes an old one's values, and the two never share a channel: v3 came with
/// entries whose macros may be unknown and catalogue packages with drafts and
/// authors; v4 with entry lists and day sums in the in-process tier, so with the
/// guards a write bumps named on the channel; v5 with workouts' sets, packages'
/// exercise ids and profiles' target plans (an older release would cache them
/// without, and a newer one read that as none).
pub const KEY_VERSION: &str = "v5";

/// Builds full key names under one namespace (`<namespace>:<KEY_VERSION>:<epoch>:`).
#[derive(Debug)]
pub struct Keyspace {
    prefix: String,
    version: String,
    /// Changed to flush the whole cache at once: a new epoch names new keys, and the
    /// old ones expire unread. Every process reads it from Redis (`epoch_key`) now
    /// and then, never on the request path.
    epoch: AtomicU64,
}

impl Keyspace {
    /// The version in the prefix changes whenever what is stored changes shape, so a
    /// new release never decodes an old one's values.
    pub fn new(namespace: &str) -> Self {
        Self::versioned(namespace, KEY_VERSION)
    }

    /// Under another key version than this release's: what a release before or
    /// after it uses (tests of a rolling upgrade run two side by side).
    pub fn versioned(namespace: &str, version: &str) -> Self {
        Self {
            prefix: format!("{namespace}:{version}:"),
            version: version.to_owned(),
            epoch: AtomicU64::new(0),
        }
    }

    /// The key version in the prefix.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `<prefix><epoch>:{<scope>}:<name>`
    pub fn key(&self, scope: &Scope, name: &str) -> String {
        let epoch = self.epoch.load(Ordering::Acquire);
        format!("{}{epoch}:{{{scope}}}:{name}", self.prefix)
    }

    /// A shared counter (rate limits): its own hash tag, outside the epoch.
    pub fn counter(&self, subject: &str) -> String {
        format!("{}{{rl:{subject}}}", self.prefix)
    }

    /// The Pub/Sub channel on which invalidations reach every instance's L1.
    pub fn channel(&self) -> String {
        format!("{}l1", self.prefix)
    }

    /// The Pub/Sub channel of one instance's heartbeats: only that instance listens
    /// to it, so a heartbeat costs one delivery per node it is sent through, however
    /// many instances there are.
    pub fn heartbeat_channel(&self, instance: u64) -> String {
        format!("{}l1:heartbeat:{instance:016x}", self.prefix)
    }

    /// Where the current epoch is kept: a key of its own, outside every scope.
    pub fn epoch_key(&self) -> String {
        format!("{}epoch", self.prefix)
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Moves to `epoch` if it is newer than the one in use.
    pub fn advance_to(&self, epoch: u64) -> bool {
        self.epoch.fetch_max(epoch, Ordering::AcqRel) < epoch
    }

    /// The fill lease of a key: in its slot, beside it.
    pub fn lease(key: &str) -> String {
        format!("{key}:lease")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The part Redis Cluster hashes: between the first `{` and the next `}`.
    fn hash_tag(key: &str) -> &str {
        let open = key.find('{').expect("a hash tag");
        let close = key[open..].find('}').expect("a closed hash tag") + open;
        &key[open + 1..close]
    }

    #[test]
    fn every_key_of_a_scope_and_its_lease_hash_to_the_scopes_tag() {
        let keys = Keyspace::new("bl");
        let id = Uuid::now_v7();
        let email: Email = "Odd{name}@example.com".parse().unwrap();
        for scope in [
            Scope::user(id),
            Scope::email(&email),
            Scope::package("meal-package", id),
            Scope::catalogue("workout-package", StatusFilter::Draft),
        ] {
            for name in [
                GENERATION,
                "user",
                "meal-entries:2026-01-01:2026-01-07:50:-",
            ] {
                let key = keys.key(&scope, name);
                assert_eq!(hash_tag(&key), scope.to_string(), "{key}");
                assert_eq!(hash_tag(&Keyspace::lease(&key)), scope.to_string());
            }
        }
    }

    #[test]
    fn an_entry_write_bumps_its_days_and_their_months_once_each() {
        let day = |text: &str| text.parse::<NaiveDate>().unwrap();
        let voided = voids::entry_days(
            "meal",
            Uuid::nil(),
            &[day("2026-05-31"), day("2026-06-01"), day("2026-06-01")],
        );
        assert_eq!(
            voided.guards,
            [
                "feed",
                "meal-day:2026-05-31",
                "meal-day:2026-06-01",
                "meal-month:2026-05",
                "meal-month:2026-06",
            ]
        );
    }

    #[test]
    fn scopes_of_different_owners_differ() {
        let a: Email = "a@example.com".parse().unwrap();
        let b: Email = "b@example.com".parse().unwrap();
        assert_ne!(Scope::email(&a), Scope::email(&b));
        assert_ne!(
            Scope::package("meal-package", Uuid::nil()),
            Scope::package("workout-package", Uuid::nil())
        );
        assert_eq!(
            Keyspace::new("bl").key(&Scope::user(Uuid::nil()), "user"),
            "bl:v5:0:{u:00000000-0000-0000-0000-000000000000}:user"
        );
        let keys = Keyspace::new("bl");
        assert!(keys.advance_to(3));
        assert!(!keys.advance_to(2), "an epoch never goes back");
        assert!(
            keys.key(&Scope::user(Uuid::nil()), "user")
                .starts_with("bl:v5:3:{u:")
        );
    }
}
