//! The sync feed's part of the storage contract: every change to what a user owns
//! (their profile, their meal and workout entries), numbered in the order the
//! changes were committed, deletions included, so a phone that was offline asks
//! for what changed since it last looked.
//!
//! Each thing a user owns has one *marker*: its kind, its id and the number (`seq`,
//! per user, rising) of its latest change. A write takes the next number before it
//! writes and moves the thing's marker to it after; a reader lists markers past the
//! client's position and answers each with the thing as it is now, or a tombstone
//! where it is gone. Two rules make that exact under concurrent writers:
//!
//! - a reader reads no further than the *horizon*: the highest number below every
//!   write still under way, so no write can later land behind the position it
//!   hands out;
//! - an item is answered with what is stored now, and left out of the page when a
//!   write past the horizon touched it meanwhile (it comes again at that write's
//!   number), so no change is answered twice.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StoreResult;
use crate::domain::{BodyMetricData, Entry, EntryData, EntryKind, MealData, User, WorkoutData};

/// What kind of thing a change is about. Its name orders changes numbered alike
/// (only data from before the feed existed shares a number: 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    BodyMetric,
    MealEntry,
    Profile,
    WorkoutEntry,
}

impl FeedKind {
    pub const ALL: [Self; 4] = [
        Self::BodyMetric,
        Self::MealEntry,
        Self::Profile,
        Self::WorkoutEntry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BodyMetric => "body_metric",
            Self::MealEntry => "meal_entry",
            Self::Profile => "profile",
            Self::WorkoutEntry => "workout_entry",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The kind of an entry type's changes.
    pub fn of_entries<D: EntryData>() -> Self {
        match D::KIND {
            EntryKind::Meal => Self::MealEntry,
            EntryKind::Workout => Self::WorkoutEntry,
            EntryKind::BodyMetric => Self::BodyMetric,
        }
    }
}

impl PartialOrd for FeedKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By name, as MongoDB sorts the stored names.
impl Ord for FeedKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// One marker's place in a user's feed: (number, kind, id).
pub type MarkerKey = (i64, FeedKind, Uuid);

/// A place in a user's feed: after the marker `(seq, kind, id)`, or after every
/// marker numbered `seq` when `tie` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPosition {
    pub seq: i64,
    pub tie: Option<(FeedKind, Uuid)>,
}

impl FeedPosition {
    /// Before every change.
    pub const START: Self = Self { seq: -1, tie: None };

    /// After every change numbered up to `seq`.
    pub fn through(seq: i64) -> Self {
        Self { seq, tie: None }
    }

    /// Just after the marker `key`.
    pub fn at(key: MarkerKey) -> Self {
        Self {
            seq: key.0,
            tie: Some((key.1, key.2)),
        }
    }

    /// Whether marker `key` lies after this place.
    pub fn precedes(&self, key: &MarkerKey) -> bool {
        match self.tie {
            None => key.0 > self.seq,
            Some((kind, id)) => *key > (self.seq, kind, id),
        }
    }
}

/// What a change left: the thing as it is now, or its tombstone.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedRecord {
    Profile(Box<User>),
    Meal(Entry<MealData>),
    Workout(Entry<WorkoutData>),
    BodyMetric(Entry<BodyMetricData>),
    Deleted {
        kind: FeedKind,
        id: Uuid,
        at: DateTime<Utc>,
    },
}

impl FeedRecord {
    pub fn kind(&self) -> FeedKind {
        match self {
            Self::Profile(_) => FeedKind::Profile,
            Self::Meal(_) => FeedKind::MealEntry,
            Self::Workout(_) => FeedKind::WorkoutEntry,
            Self::BodyMetric(_) => FeedKind::BodyMetric,
            Self::Deleted { kind, .. } => *kind,
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Self::Profile(user) => user.id,
            Self::Meal(entry) => entry.id,
            Self::Workout(entry) => entry.id,
            Self::BodyMetric(entry) => entry.id,
            Self::Deleted { id, .. } => *id,
        }
    }
}

/// One page of a user's feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub changes: Vec<FeedRecord>,
    /// Where the next page starts: past this page, never past the horizon.
    pub next: FeedPosition,
    /// Whether more changes were there to read (the page is full).
    pub more: bool,
}

/// The newest change of a user that every reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedHead {
    pub seq: i64,
    /// False while a write below the newest number is still under way: the head
    /// moves when it ends, so a poll at it may not be answered "nothing".
    pub settled: bool,
}

/// How long a deletion's tombstone is kept by default: a month offline.
pub const DEFAULT_TOMBSTONE_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The most changes one page holds.
pub const MAX_PAGE: usize = 1_000;

/// The feed of changes to what each user owns.
#[async_trait]
pub trait SyncFeed: Send + Sync {
    /// How long a tombstone is kept. A position handed out longer ago than this
    /// (less the time a write may take) may have missed a deletion: the client must
    /// read everything again.
    fn tombstone_retention(&self) -> Duration;

    /// The newest change of `user_id` every reader may see (the horizon).
    async fn head(&self, user_id: Uuid) -> StoreResult<FeedHead>;

    /// Up to `limit` (at most `MAX_PAGE`) changes of `user_id` after `after`, in
    /// commit order; each thing once, at its latest change, as it is now.
    async fn changes(
        &self,
        user_id: Uuid,
        after: FeedPosition,
        limit: usize,
    ) -> StoreResult<FeedPage>;

    /// The things of `user_id` a write past `horizon` touched: under way now, or
    /// changed since. What a snapshot at `horizon` leaves out (`sync_snapshot`), for
    /// the feed after it to give.
    async fn touched_since(
        &self,
        user_id: Uuid,
        horizon: i64,
    ) -> StoreResult<HashSet<(FeedKind, Uuid)>>;
}

/// How a page ends, from the markers read (at most `limit`, in order) and the
/// horizon they were read below.
pub fn next_position(read: &[MarkerKey], limit: usize, horizon: i64) -> (FeedPosition, bool) {
    match read.last() {
        Some(last) if read.len() >= limit => (FeedPosition::at(*last), true),
        _ => (FeedPosition::through(horizon), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_order_by_name_and_positions_by_number_then_kind_then_id() {
        let mut kinds = FeedKind::ALL.to_vec();
        kinds.sort();
        let names: Vec<_> = kinds.iter().map(|kind| kind.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        for kind in FeedKind::ALL {
            assert_eq!(FeedKind::parse(kind.as_str()), Some(kind));
        }

        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let after = FeedPosition::at((0, FeedKind::Profile, a));
        assert!(!after.precedes(&(0, FeedKind::MealEntry, b)));
        assert!(!after.precedes(&(0, FeedKind::Profile, a)));
        assert!(after.precedes(&(0, FeedKind::Profile, b)));
        assert!(after.precedes(&(0, FeedKind::WorkoutEntry, a)));
        assert!(after.precedes(&(1, FeedKind::MealEntry, a)));
        assert!(FeedPosition::START.precedes(&(0, FeedKind::MealEntry, a)));
        assert!(!FeedPosition::through(3).precedes(&(3, FeedKind::WorkoutEntry, b)));
    }

    #[test]
    fn a_full_page_ends_at_its_last_marker_and_a_short_one_at_the_horizon() {
        let read = [
            (4, FeedKind::MealEntry, Uuid::nil()),
            (6, FeedKind::Profile, Uuid::nil()),
        ];
        assert_eq!(
            next_position(&read, 2, 9),
            (FeedPosition::at(read[1]), true)
        );
        assert_eq!(
            next_position(&read, 3, 9),
            (FeedPosition::through(9), false)
        );
        assert_eq!(next_position(&[], 3, 9), (FeedPosition::through(9), false));
    }
}
