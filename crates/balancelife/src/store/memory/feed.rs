//! The in-memory store's sync feed: each user's markers, moved under the same lock
//! as the write they number, so the horizon is always the newest number.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound::{Excluded, Unbounded};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::store::sync_feed::{FeedKind, FeedPosition, MarkerKey};

/// Every user's feed. Taken after the users and entry locks, never before.
pub struct Feeds {
    by_user: HashMap<Uuid, UserFeed>,
    retention: Duration,
}

#[derive(Default)]
struct UserFeed {
    last: i64,
    /// Each thing's latest change.
    markers: HashMap<(FeedKind, Uuid), Marker>,
    order: BTreeSet<MarkerKey>,
    /// The deleted things' markers by when, to drop once their time is up.
    deletions: BTreeSet<(DateTime<Utc>, FeedKind, Uuid)>,
}

#[derive(Debug, Clone, Copy)]
struct Marker {
    seq: i64,
    at: DateTime<Utc>,
    deleted: bool,
}

/// A marker as a page lists it.
#[derive(Debug, Clone, Copy)]
pub struct Listed {
    pub key: MarkerKey,
    pub at: DateTime<Utc>,
}

impl Feeds {
    pub fn new(retention: Duration) -> Self {
        Self {
            by_user: HashMap::new(),
            retention,
        }
    }

    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// Numbers a change of `(kind, id)`, owned by `user_id`; called while the write
    /// it numbers holds its lock.
    pub fn record(&mut self, user_id: Uuid, kind: FeedKind, id: Uuid, deleted: bool) {
        let now = Utc::now();
        let retention = TimeDelta::from_std(self.retention).unwrap_or(TimeDelta::MAX);
        let feed = self.by_user.entry(user_id).or_default();
        feed.last += 1;
        let marker = Marker {
            seq: feed.last,
            at: now,
            deleted,
        };
        if let Some(old) = feed.markers.insert((kind, id), marker) {
            feed.order.remove(&(old.seq, kind, id));
            if old.deleted {
                feed.deletions.remove(&(old.at, kind, id));
            }
        }
        feed.order.insert((marker.seq, kind, id));
        if deleted {
            feed.deletions.insert((now, kind, id));
        }
        while let Some(&(at, kind, id)) = feed.deletions.first() {
            if now - at < retention {
                break;
            }
            feed.deletions.pop_first();
            if let Some(gone) = feed.markers.remove(&(kind, id)) {
                feed.order.remove(&(gone.seq, kind, id));
            }
        }
    }

    pub fn forget(&mut self, user_id: Uuid) {
        self.by_user.remove(&user_id);
    }

    pub fn head(&self, user_id: Uuid) -> i64 {
        self.by_user.get(&user_id).map_or(0, |feed| feed.last)
    }

    /// The things whose latest change is past `seq`.
    pub fn past(&self, user_id: Uuid, seq: i64) -> Vec<(FeedKind, Uuid)> {
        let Some(feed) = self.by_user.get(&user_id) else {
            return Vec::new();
        };
        let start = Excluded((seq, FeedKind::WorkoutEntry, Uuid::max()));
        feed.order
            .range((start, Unbounded))
            .map(|&(_, kind, id)| (kind, id))
            .collect()
    }

    /// Up to `limit` markers after `after`, in order.
    pub fn page(&self, user_id: Uuid, after: FeedPosition, limit: usize) -> Vec<Listed> {
        let Some(feed) = self.by_user.get(&user_id) else {
            return Vec::new();
        };
        let start = match after.tie {
            Some((kind, id)) => Excluded((after.seq, kind, id)),
            // Past every marker numbered `after.seq`: kinds and ids sort after nil.
            None => Excluded((after.seq, FeedKind::WorkoutEntry, Uuid::max())),
        };
        feed.order
            .range((start, Unbounded))
            .take(limit)
            .map(|&key| Listed {
                key,
                at: feed.markers[&(key.1, key.2)].at,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thing_is_listed_once_at_its_latest_change_and_a_page_resumes_after_it() {
        let mut feeds = Feeds::new(Duration::from_secs(60));
        let user = Uuid::now_v7();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        feeds.record(user, FeedKind::MealEntry, a, false);
        feeds.record(user, FeedKind::WorkoutEntry, b, false);
        feeds.record(user, FeedKind::MealEntry, a, true);
        assert_eq!(feeds.head(user), 3);

        let all = feeds.page(user, FeedPosition::START, 10);
        let keys: Vec<_> = all.iter().map(|listed| listed.key).collect();
        assert_eq!(
            keys,
            [(2, FeedKind::WorkoutEntry, b), (3, FeedKind::MealEntry, a)]
        );
        let rest = feeds.page(user, FeedPosition::at(keys[0]), 10);
        assert_eq!(rest.len(), 1);
        assert!(feeds.page(user, FeedPosition::through(3), 10).is_empty());
        assert!(feeds.page(Uuid::nil(), FeedPosition::START, 10).is_empty());
    }

    #[test]
    fn a_tombstone_is_dropped_once_its_time_is_up() {
        let mut feeds = Feeds::new(Duration::ZERO);
        let user = Uuid::now_v7();
        feeds.record(user, FeedKind::MealEntry, Uuid::now_v7(), true);
        feeds.record(user, FeedKind::Profile, user, false);
        let keys: Vec<_> = feeds
            .page(user, FeedPosition::START, 10)
            .iter()
            .map(|listed| listed.key)
            .collect();
        assert_eq!(keys, [(2, FeedKind::Profile, user)]);
    }
}
