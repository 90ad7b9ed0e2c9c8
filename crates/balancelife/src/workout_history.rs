//! Each user's whole workout history, kept in process at the sync feed head it
//! was read at and brought forward by the feed's changes since, so that the
//! training numbers after a write cost the changes, not the year: a set logged
//! in a session is one changed workout, where the history is hundreds.
//!
//! A kept history is at least as new as the number it is kept at, as the
//! training answers are: a full read happens after the head was read, and a
//! history brought forward takes every workout the feed lists past the number
//! (as it is now) and every one a write past the page's horizon touched (read
//! again, past the cache), so nothing changed up to the horizon is missed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, Utc};
use uuid::Uuid;

use crate::domain::{Entry, Timezone, User, WorkoutData, earliest_day};
use crate::store::sync_feed::{FeedHead, FeedKind, FeedPosition, FeedRecord};
use crate::store::{DateRange, Store, StoreError, StoreResult, all_entries};

/// Every workout of `user`, oldest first: one list over every day an entry may
/// have (too long a range for the cache to hold; `WorkoutHistories` keeps it
/// instead).
pub async fn all_workouts(store: &dyn Store, user: &User) -> StoreResult<Vec<Entry<WorkoutData>>> {
    // Entries may be dated up to a day ahead.
    let last = user.timezone.local_date(Utc::now()) + Days::new(1);
    let range = DateRange::new(earliest_day(), last).expect("the day after today is after 2000");
    all_entries(store.workout_entries(), user.id, range).await
}

/// A history, oldest first, as the store lists it.
pub type Workouts = Arc<Vec<Entry<WorkoutData>>>;

/// The most changes a history is brought forward by; past them it is read whole
/// (an import, a sync of a phone's month offline).
const MOST_CHANGES: usize = 200;

/// How much the kept histories of one instance may weigh, in bytes, roughly: a
/// year of four sessions a week of 20 sets is a few hundred kilobytes.
const CAPACITY_BYTES: u64 = 128 * 1024 * 1024;

/// A history unread this long is dropped: its user has gone quiet.
const IDLE: Duration = Duration::from_secs(10 * 60);

/// How long a history is brought forward before it is read whole again: a change
/// the feed did not number (a migration, an edit made in the database by hand)
/// is then in the answers within this, as it was at the next write before
/// histories were kept.
const READ_WHOLE_EVERY: Duration = Duration::from_secs(10 * 60);

struct Kept {
    /// The feed number it is at least as new as.
    seq: i64,
    /// When it was last read whole: a history older than the feed keeps its
    /// tombstones may have missed a deletion.
    read_at: Instant,
    /// The user it is of: an account deleted and made again under the same id
    /// (the demo accounts are) starts its feed again.
    user_created_at: DateTime<Utc>,
    /// The time zone it was read in, which sets the last day a whole read lists.
    timezone: Timezone,
    workouts: Workouts,
}

impl Kept {
    /// Roughly what it holds in memory, in bytes.
    fn weight(&self) -> u32 {
        let bytes: usize = self
            .workouts
            .iter()
            .map(|workout| {
                let data = &workout.data;
                std::mem::size_of::<Entry<WorkoutData>>()
                    + data.title.as_str().len()
                    + data.notes.as_ref().map_or(0, |notes| notes.as_str().len())
                    + data
                        .sets
                        .iter()
                        .map(|set| std::mem::size_of_val(set) + set.exercise_id.as_str().len())
                        .sum::<usize>()
            })
            .sum();
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

/// The kept histories, one instance's.
pub struct WorkoutHistories {
    kept: moka::sync::Cache<Uuid, Arc<Kept>>,
}

impl Default for WorkoutHistories {
    fn default() -> Self {
        Self {
            kept: moka::sync::Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                .weigher(|_, kept: &Arc<Kept>| kept.weight())
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

impl WorkoutHistories {
    /// `user`'s workouts, at least as new as `head` (read before calling): kept,
    /// brought forward, or read whole past the cache. Kept for the next caller
    /// when no write of the user was under way at `head`.
    pub async fn at(
        &self,
        store: &dyn Store,
        user: &User,
        head: FeedHead,
    ) -> StoreResult<Workouts> {
        if let Some(workouts) = self.kept_at(store, user, head).await {
            return Ok(workouts);
        }
        let read_at = Instant::now();
        let workouts = Arc::new(all_workouts(store.primary(), user).await?);
        if head.settled {
            self.keep(user, head.seq, read_at, workouts.clone());
        }
        Ok(workouts)
    }

    /// `user`'s workouts at least as new as `head` if this instance keeps them,
    /// brought forward if need be; `None` where they would have to be read whole
    /// (or the feed could not be read: a whole read may still work).
    pub async fn kept_at(
        &self,
        store: &dyn Store,
        user: &User,
        head: FeedHead,
    ) -> Option<Workouts> {
        let kept = self.kept.get(&user.id).filter(|kept| {
            kept.user_created_at == user.created_at && kept.timezone == user.timezone
        })?;
        if kept.seq >= head.seq {
            return Some(kept.workouts.clone());
        }
        let primary = store.primary();
        let retention = primary.sync_feed().tombstone_retention() / 2;
        if kept.read_at.elapsed() >= READ_WHOLE_EVERY.min(retention) {
            return None;
        }
        let (seq, workouts) = match brought_forward(primary, user.id, &kept).await {
            Ok(brought) => brought?,
            Err(error) => {
                tracing::debug!(%error, "the feed could not bring a history forward; reading it whole");
                return None;
            }
        };
        let workouts = Arc::new(workouts);
        if head.settled {
            self.keep(user, seq, kept.read_at, workouts.clone());
        }
        Some(workouts)
    }

    /// Keeps `workouts` at `seq`, unless a request beside this one kept a newer
    /// history meanwhile.
    fn keep(&self, user: &User, seq: i64, read_at: Instant, workouts: Workouts) {
        let newer_kept = self
            .kept
            .get(&user.id)
            .is_some_and(|kept| kept.user_created_at == user.created_at && kept.seq > seq);
        if newer_kept {
            return;
        }
        let kept = Kept {
            seq,
            read_at,
            user_created_at: user.created_at,
            timezone: user.timezone,
            workouts,
        };
        self.kept.insert(user.id, Arc::new(kept));
    }
}

/// `kept` with the workouts changed since it, and the number the result is at
/// least as new as; `None` when there are too many changes to bring forward.
async fn brought_forward(
    store: &dyn Store,
    user_id: Uuid,
    kept: &Kept,
) -> StoreResult<Option<(i64, Vec<Entry<WorkoutData>>)>> {
    let feed = store.sync_feed();
    let page = feed
        .changes(user_id, FeedPosition::through(kept.seq), MOST_CHANGES)
        .await?;
    if page.more {
        return Ok(None);
    }
    // Each changed workout as it is now, `None` where it is gone.
    let mut changed: HashMap<Uuid, Option<Entry<WorkoutData>>> = HashMap::new();
    for record in page.changes {
        match record {
            FeedRecord::Workout(workout) => {
                changed.insert(workout.id, Some(workout));
            }
            FeedRecord::Deleted {
                kind: FeedKind::WorkoutEntry,
                id,
                ..
            } => {
                changed.insert(id, None);
            }
            _ => {}
        }
    }
    // What a write past the horizon touched was left out of the page: read it
    // as it is now.
    let horizon = page.next.seq;
    let touched: Vec<Uuid> = feed
        .touched_since(user_id, horizon)
        .await?
        .into_iter()
        .filter(|(kind, _)| *kind == FeedKind::WorkoutEntry)
        .map(|(_, id)| id)
        .collect();
    if touched.len() > MOST_CHANGES {
        return Ok(None);
    }
    for id in touched {
        let now = match store.workout_entries().get(user_id, id).await {
            Ok(workout) => Some(workout),
            Err(StoreError::NotFound) => None,
            Err(error) => return Err(error),
        };
        changed.insert(id, now);
    }
    let mut workouts: Vec<Entry<WorkoutData>> = kept
        .workouts
        .iter()
        .filter(|workout| !changed.contains_key(&workout.id))
        .cloned()
        .collect();
    workouts.extend(changed.into_values().flatten());
    workouts.sort_by_key(Entry::position);
    Ok(Some((horizon, workouts)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    async fn head(store: &MemoryStore, user: &User) -> FeedHead {
        store.sync_feed().head(user.id).await.unwrap()
    }

    /// A copy of `workout` under a new id, the same day.
    fn another(workout: &Entry<WorkoutData>) -> Entry<WorkoutData> {
        Entry {
            id: Uuid::now_v7(),
            ..workout.clone()
        }
    }

    /// The history after a new session, an edit and a deletion is the one a whole
    /// read gives; a workout only the kept history has shows that it was brought
    /// forward, not read again, until too many changes make it read whole.
    #[tokio::test]
    async fn a_history_brought_forward_by_the_feed_is_the_one_read_whole() {
        let store = MemoryStore::new();
        let now = Utc::now();
        crate::sample::load(&store, now).await.unwrap();
        let user = crate::sample::demo_users(now).remove(0);
        let histories = WorkoutHistories::default();
        let at = head(&store, &user).await;
        let first = histories.at(&store, &user, at).await.unwrap();
        assert!(first.len() >= 2, "{} demo workouts", first.len());
        let fake = another(&first[0]);
        let mut with_fake = first.to_vec();
        with_fake.push(fake.clone());
        with_fake.sort_by_key(Entry::position);
        histories.keep(&user, at.seq, Instant::now(), Arc::new(with_fake));

        let workouts = store.workout_entries();
        workouts.create(another(&first[0])).await.unwrap();
        let mut edited = first[0].clone();
        edited.data.title = "Edited on the phone".try_into().unwrap();
        workouts.put(edited).await.unwrap();
        workouts.delete(user.id, first[1].id).await.unwrap();
        let brought = histories
            .at(&store, &user, head(&store, &user).await)
            .await
            .unwrap();
        let whole = all_workouts(&store, &user).await.unwrap();
        let real: Vec<Entry<WorkoutData>> = brought
            .iter()
            .filter(|w| w.id != fake.id)
            .cloned()
            .collect();
        assert_eq!(real, whole, "the same workouts, in the same order");
        assert!(
            brought.iter().any(|w| w.id == fake.id),
            "brought forward, not read again"
        );
        let now_head = head(&store, &user).await;
        let made_again = User {
            created_at: user.created_at + chrono::Duration::seconds(1),
            ..user.clone()
        };
        let elsewhere = User {
            timezone: "Pacific/Kiritimati".parse().unwrap(),
            ..user.clone()
        };
        for (other, why) in [
            (made_again, "an account made again"),
            (elsewhere, "another time zone"),
        ] {
            let kept = histories.kept_at(&store, &other, now_head).await;
            assert!(kept.is_none(), "{why}: not the history kept");
        }

        for _ in 0..=MOST_CHANGES {
            workouts.create(another(&first[0])).await.unwrap();
        }
        let read_again = histories
            .at(&store, &user, head(&store, &user).await)
            .await
            .unwrap();
        let whole = all_workouts(&store, &user).await.unwrap();
        assert_eq!(*read_again, whole, "too many changes: read whole");
    }
}
