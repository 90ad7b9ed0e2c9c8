//! A first sync's snapshot: everything a user has now, read kind by kind in the
//! order of the store's own indexes, rather than change by change through the feed.
//! The feed looks each thing up by its id, which for a phone's first sync is ten
//! thousand point lookups where one range read per page does.
//!
//! A snapshot is taken *at* a horizon (`SyncFeed::head`): it leaves out whatever a
//! write past the horizon touched (`SyncFeed::touched_since`), so each thing it
//! gives is as it was at the horizon, and the feed after
//! `FeedPosition::through(horizon)` gives the rest, each change once (the feed's two
//! rules, in `sync_feed`, hold for it as for a page of the feed). It gives no
//! tombstones: a phone syncing from nothing has nothing to delete.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::sync_feed::FeedRecord;
use super::{DateRange, EntryStore, PageLimit, PageRequest, Store, StoreResult};
use crate::domain::{Entry, EntryData, EntryPosition};

/// Where a snapshot goes on: the profile first, then each kind of entry in its
/// owner's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", content = "after", rename_all = "snake_case")]
pub enum SnapshotPosition {
    Profile,
    Meals(Option<EntryPosition>),
    Workouts(Option<EntryPosition>),
    BodyMetrics(Option<EntryPosition>),
}

/// One page of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotPage {
    /// Fewer than asked for when writes past the horizon touched some.
    pub records: Vec<FeedRecord>,
    /// Where the next page starts; `None` once the snapshot is whole.
    pub next: Option<SnapshotPosition>,
}

/// Up to `limit` of `user_id`'s things from `at` on, as they were at `horizon`:
/// the profile and each kind of entry in turn, as many as the page holds.
pub async fn snapshot(
    store: &dyn Store,
    user_id: Uuid,
    horizon: i64,
    at: SnapshotPosition,
    limit: usize,
) -> StoreResult<SnapshotPage> {
    let mut records = Vec::new();
    let mut next = Some(at);
    while let Some(at) = next
        && records.len() < limit
    {
        let (read, after) = section(store, user_id, at, limit - records.len()).await?;
        records.extend(read);
        next = after;
    }
    // Read after the things, so a write that changed one before it was read is
    // seen here (under way, or moved past the horizon) and the thing left out.
    let touched = store.sync_feed().touched_since(user_id, horizon).await?;
    records.retain(|record| !touched.contains(&(record.kind(), record.id())));
    Ok(SnapshotPage { records, next })
}

/// Up to `limit` things of the section `at` is in, and where the snapshot goes on.
async fn section(
    store: &dyn Store,
    user_id: Uuid,
    at: SnapshotPosition,
    limit: usize,
) -> StoreResult<(Vec<FeedRecord>, Option<SnapshotPosition>)> {
    Ok(match at {
        SnapshotPosition::Profile => {
            let user = store.get_user_stored(user_id).await?;
            let profile = FeedRecord::Profile(Box::new(user));
            (vec![profile], Some(SnapshotPosition::Meals(None)))
        }
        SnapshotPosition::Meals(after) => {
            let (meals, more) = entries(store.meal_entries(), user_id, after, limit).await?;
            let next = match more {
                Some(after) => SnapshotPosition::Meals(Some(after)),
                None => SnapshotPosition::Workouts(None),
            };
            (
                meals.into_iter().map(FeedRecord::Meal).collect(),
                Some(next),
            )
        }
        SnapshotPosition::Workouts(after) => {
            let (workouts, more) = entries(store.workout_entries(), user_id, after, limit).await?;
            let next = match more {
                Some(after) => SnapshotPosition::Workouts(Some(after)),
                None => SnapshotPosition::BodyMetrics(None),
            };
            (
                workouts.into_iter().map(FeedRecord::Workout).collect(),
                Some(next),
            )
        }
        SnapshotPosition::BodyMetrics(after) => {
            let (metrics, more) = entries(store.body_metrics(), user_id, after, limit).await?;
            let next = more.map(|after| SnapshotPosition::BodyMetrics(Some(after)));
            (
                metrics.into_iter().map(FeedRecord::BodyMetric).collect(),
                next,
            )
        }
    })
}

/// Up to `limit` of the owner's entries after `after`, in their order, and where
/// the next ones start, if any.
async fn entries<D: EntryData>(
    store: &dyn EntryStore<D>,
    user_id: Uuid,
    after: Option<EntryPosition>,
    limit: usize,
) -> StoreResult<(Vec<Entry<D>>, Option<EntryPosition>)> {
    // Every day there is: a range past any a cache holds, so read from the store.
    let everything = DateRange::new(NaiveDate::MIN, NaiveDate::MAX)
        .expect("the first day is not after the last");
    let page = PageRequest {
        after,
        limit: PageLimit::bulk(limit),
    };
    let read = store.list(user_id, everything, page).await?;
    Ok((read.items, read.next))
}
