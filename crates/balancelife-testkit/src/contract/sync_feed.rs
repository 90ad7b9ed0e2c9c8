//! The contract cases of the sync feed. Each takes a fresh, empty store.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use balancelife::domain::*;
use balancelife::store::sync_feed::{FeedKind, FeedPosition, FeedRecord};
use balancelife::store::{DateRange, Store, all_entries};

use crate::fixtures::{self, EntryFixture, unique_email};

type S = Arc<dyn Store>;

async fn new_user(store: &S) -> User {
    store
        .create_user(fixtures::user(unique_email("syncer")))
        .await
        .unwrap()
}

/// Every change after `after`, `page` at a time, and the position after them.
pub async fn read_all(
    store: &S,
    user_id: Uuid,
    mut after: FeedPosition,
    page: usize,
) -> (Vec<FeedRecord>, FeedPosition) {
    let mut all = Vec::new();
    loop {
        let read = store
            .sync_feed()
            .changes(user_id, after, page)
            .await
            .unwrap();
        assert!(read.changes.len() <= page);
        all.extend(read.changes);
        after = read.next;
        if !read.more {
            return (all, after);
        }
    }
}

fn summary(records: &[FeedRecord]) -> Vec<(FeedKind, Uuid, bool)> {
    records
        .iter()
        .map(|record| {
            (
                record.kind(),
                record.id(),
                matches!(record, FeedRecord::Deleted { .. }),
            )
        })
        .collect()
}

pub async fn the_sync_feed_lists_each_things_latest_change_in_commit_order_with_tombstones(
    store: S,
) {
    let user = new_user(&store).await;
    let other = new_user(&store).await;
    let at = balancelife::domain::now();
    let first_meal = fixtures::entry::<MealData>(user.id, 1, at);
    let run = fixtures::entry::<WorkoutData>(user.id, 2, at);
    let second_meal = fixtures::entry::<MealData>(user.id, 3, at);
    let weigh_in = fixtures::entry::<BodyMetricData>(user.id, 5, at);
    store
        .meal_entries()
        .create(first_meal.clone())
        .await
        .unwrap();
    store.workout_entries().create(run.clone()).await.unwrap();
    store
        .meal_entries()
        .create(second_meal.clone())
        .await
        .unwrap();
    store
        .meal_entries()
        .create(fixtures::entry::<MealData>(other.id, 4, at))
        .await
        .unwrap();
    store.body_metrics().create(weigh_in.clone()).await.unwrap();
    let mut changed = first_meal.clone();
    changed.data = first_meal.data.altered();
    changed.updated_at = first_meal.updated_at + TimeDelta::milliseconds(1);
    store
        .meal_entries()
        .update(changed.clone(), first_meal.updated_at)
        .await
        .unwrap();
    store
        .meal_entries()
        .delete(user.id, second_meal.id)
        .await
        .unwrap();
    // Favourites are not the profile: no change of it.
    let mut starred = user.clone();
    starred.favourite_foods = vec![Uuid::now_v7()];
    starred.updated_at = user.updated_at + TimeDelta::milliseconds(1);
    let starred = store.update_user(starred, &user).await.unwrap();

    for page in [1, 2, 10] {
        let (records, end) = read_all(&store, user.id, FeedPosition::START, page).await;
        assert_eq!(
            summary(&records),
            [
                (FeedKind::Profile, user.id, false),
                (FeedKind::WorkoutEntry, run.id, false),
                (FeedKind::BodyMetric, weigh_in.id, false),
                (FeedKind::MealEntry, first_meal.id, false),
                (FeedKind::MealEntry, second_meal.id, true),
            ],
            "pages of {page}"
        );
        assert_eq!(
            records[3],
            FeedRecord::Meal(changed.clone()),
            "as it is now"
        );
        assert_eq!(records[2], FeedRecord::BodyMetric(weigh_in.clone()));
        let (nothing, same) = read_all(&store, user.id, end, page).await;
        assert!(nothing.is_empty(), "nothing changed since");
        assert_eq!(same, end, "the position stays");
    }

    let (_, end) = read_all(&store, user.id, FeedPosition::START, 10).await;
    let mut renamed = starred.clone();
    renamed.name = "Renamed While Away".try_into().unwrap();
    renamed.updated_at = starred.updated_at + TimeDelta::milliseconds(1);
    store.update_user(renamed.clone(), &starred).await.unwrap();
    let (since, _) = read_all(&store, user.id, end, 10).await;
    assert_eq!(since, [FeedRecord::Profile(Box::new(renamed))]);
    let (others, _) = read_all(&store, other.id, FeedPosition::START, 10).await;
    assert_eq!(others.len(), 2, "the other user's profile and meal only");
}

pub async fn paging_the_sync_feed_while_others_write_misses_nothing_and_repeats_nothing(store: S) {
    const WRITERS: usize = 3;
    const WRITES: usize = 24;
    let user = new_user(&store).await;
    let writing = std::sync::atomic::AtomicBool::new(true);
    let writers = futures_util::future::join_all((0..WRITERS).map(|writer| {
        let store = store.clone();
        async move {
            // Each writer its own entries, so every write changes something.
            let mut random = StdRng::seed_from_u64(0x5eed_0000 + writer as u64);
            let mut live: Vec<Entry<MealData>> = Vec::new();
            for n in 0..WRITES {
                let choice = random.random_range(0..10);
                if live.is_empty() || choice < 4 {
                    let at = balancelife::domain::now();
                    let entry = fixtures::entry::<MealData>(user.id, n as u32, at);
                    store.meal_entries().create(entry.clone()).await.unwrap();
                    live.push(entry);
                } else if choice < 8 {
                    let index = random.random_range(0..live.len());
                    let mut next = live[index].clone();
                    next.data = next.data.altered();
                    next.updated_at += TimeDelta::milliseconds(1);
                    let read = live[index].updated_at;
                    live[index] = store.meal_entries().update(next, read).await.unwrap();
                } else {
                    let gone = live.swap_remove(random.random_range(0..live.len()));
                    store.meal_entries().delete(user.id, gone.id).await.unwrap();
                }
            }
        }
    }));
    let writers = async {
        writers.await;
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
    };
    let reader = async {
        let mut copy: HashMap<Uuid, Option<FeedRecord>> = HashMap::new();
        let mut after = FeedPosition::START;
        loop {
            let done = !writing.load(std::sync::atomic::Ordering::Relaxed);
            let page = store.sync_feed().changes(user.id, after, 3).await.unwrap();
            for record in page.changes {
                let id = record.id();
                let deleted = matches!(record, FeedRecord::Deleted { .. });
                let held = copy.get(&id).cloned().flatten();
                match (&held, deleted) {
                    (Some(FeedRecord::Deleted { .. }), true) => {
                        panic!("{id}: its deletion came twice")
                    }
                    (Some(before), false) => {
                        assert_ne!(before, &record, "{id}: the same state came twice")
                    }
                    _ => {}
                }
                copy.insert(id, Some(record));
            }
            after = page.next;
            // Read to the end after every write had ended: nothing can be missing.
            if done && !page.more {
                return copy;
            }
            tokio::task::yield_now().await;
        }
    };
    let ((), copy) = tokio::join!(writers, reader);

    let everything = DateRange::new(
        Utc::now().date_naive() - TimeDelta::days(2),
        Utc::now().date_naive() + TimeDelta::days(2),
    )
    .unwrap();
    let stored = all_entries(store.meal_entries(), user.id, everything)
        .await
        .unwrap();
    let held: HashMap<Uuid, Entry<MealData>> = copy
        .into_values()
        .flatten()
        .filter_map(|record| match record {
            FeedRecord::Meal(entry) => Some((entry.id, entry)),
            _ => None,
        })
        .collect();
    assert_eq!(held.len(), stored.len(), "the copy holds what is stored");
    for entry in stored {
        assert_eq!(held.get(&entry.id), Some(&entry), "as stored");
    }
}
