//! Writes whose outcome is unknown: MongoDB applied the write, but its answer never
//! came back, or the write reached MongoDB only after the writer gave up on it, so
//! the writer reports the store unavailable. On a standalone server no change
//! stream covers such a write, so the writer itself must void whatever it could
//! have touched: an entry it may have moved or removed from a day nobody named,
//! and again once the write can no longer take effect. A proxy between the writer
//! and MongoDB drops what the server says back, or holds the write up on its way.

use std::time::Duration;

use chrono::Datelike;

use balancelife::config::MongoSettings;
use balancelife::domain::{MealData, MealEntry};
use balancelife::store::mongo::MongoStore;
use balancelife::store::{DateRange, PageLimit, PageRequest, Store, StoreError};
use balancelife_testkit::fixtures::{at, date, entry, unique_email, user};
use balancelife_testkit::proxy::TcpProxy;
use balancelife_testkit::servers::mongo::{SHARED, fresh_database};
use balancelife_testkit::servers::redis::SHARED as SHARED_REDIS;

use crate::support::{Cached, eventually};

/// The promise: another instance serves an acknowledged write within a second. A
/// write whose answer was lost was never acknowledged, but was done all the same.
const WITHIN: Duration = Duration::from_secs(1);

/// A writer whose MongoDB answers can be lost, a reader beside it, and MongoDB bare
/// (for what is really stored); one database, one key namespace, no change stream.
struct Instances {
    writer: Cached,
    reader: Cached,
    proxy: TcpProxy,
    bare: MongoStore,
    /// The user's meal on the last day of June, cached by both instances.
    meal: MealEntry,
}

const OLD_DAY: &str = "2026-06-30";
const NEW_DAY: &str = "2026-07-01";

async fn both_caching_a_meal() -> Instances {
    let direct = SHARED.settings(&fresh_database());
    let proxy = TcpProxy::start(format!("127.0.0.1:{}", SHARED.port).parse().unwrap());
    let through_proxy = MongoSettings {
        database: direct.database.clone(),
        timeout: Duration::from_secs(1),
        ..MongoSettings::new(format!("mongodb://{}/?directConnection=true", proxy.addr()))
    };
    let redis = SHARED_REDIS.settings();
    let writer = Cached::with(through_proxy, redis.clone()).await;
    let reader = Cached::with(direct.clone(), redis).await;
    let bare = MongoStore::connect(&direct).await.unwrap();
    let person = writer
        .store
        .create_user(user(unique_email("unknown")))
        .await
        .unwrap();
    let meal = entry::<MealData>(person.id, 1, at(OLD_DAY, "08:00"));
    writer
        .store
        .meal_entries()
        .create(meal.clone())
        .await
        .unwrap();
    let instances = Instances {
        writer,
        reader,
        proxy,
        bare,
        meal,
    };
    for instance in [&instances.writer, &instances.reader] {
        for _ in 0..2 {
            assert_eq!(instances.meals_on(instance, OLD_DAY).await, 1);
            assert_eq!(instances.meals_in_month_of(instance, OLD_DAY).await, 1);
            assert_eq!(instances.meals_on(instance, NEW_DAY).await, 0);
            assert_eq!(instances.meals_in_month_of(instance, NEW_DAY).await, 0);
        }
    }
    assert!(instances.writer.cache_hits() >= 4 && instances.reader.cache_hits() >= 4);
    instances
}

impl Instances {
    async fn meals_on(&self, instance: &Cached, day: &str) -> usize {
        let (user, day) = (self.meal.user_id, DateRange::day(date(day)));
        let page = PageRequest::first(PageLimit::DEFAULT);
        let listed = instance.store.meal_entries().list(user, day, page).await;
        listed.unwrap().items.len()
    }

    /// The meals of the calendar month of `day`, as its day sums count them.
    async fn meals_in_month_of(&self, instance: &Cached, day: &str) -> u64 {
        let first = date(day).with_day(1).unwrap();
        let month = DateRange::new(first, first + chrono::Months::new(1) - chrono::Days::new(1));
        let sums = instance
            .store
            .meal_entries()
            .day_sums(self.meal.user_id, month.unwrap())
            .await;
        sums.unwrap().values().map(|sums| sums.entries).sum()
    }

    /// Moves the meal to `NEW_DAY` by a `PUT` through the writer, which the proxy
    /// keeps from being answered in time: the writer reports MongoDB unavailable.
    async fn move_the_meal_unanswered(&self) -> MealEntry {
        let mut moved = self.meal.clone();
        moved.local_date = date(NEW_DAY);
        moved.data.eaten_at = at(NEW_DAY, "08:00");
        let put = self.writer.store.meal_entries().put(moved.clone()).await;
        assert!(
            matches!(put, Err(StoreError::Unavailable { .. })),
            "{put:?}"
        );
        moved
    }

    /// Whether `instance` serves `meals` on `day` and in its month.
    async fn serves(&self, instance: &Cached, day: &str, meals: usize) -> bool {
        self.meals_on(instance, day).await == meals
            && self.meals_in_month_of(instance, day).await == meals as u64
    }

    /// Each instance serves `meals` on `day` and in its month: the writer at once,
    /// the reader within the promise.
    async fn both_serve(&self, day: &str, meals: usize) {
        assert!(
            self.serves(&self.writer, day, meals).await,
            "the writer, {day}"
        );
        eventually(&format!("the reader serving {day}"), WITHIN, || async {
            self.serves(&self.reader, day, meals).await
        })
        .await;
    }
}

#[tokio::test]
async fn an_entry_moved_by_a_put_whose_answer_was_lost_is_not_served_on_its_old_day() {
    let instances = both_caching_a_meal().await;

    instances.proxy.swallow_reply_to("findAndModify");
    let moved = instances.move_the_meal_unanswered().await;

    let stored = instances
        .bare
        .meal_entries()
        .get(moved.user_id, moved.id)
        .await;
    assert_eq!(
        stored.unwrap().local_date,
        date(NEW_DAY),
        "the move was done"
    );
    instances.both_serve(OLD_DAY, 0).await;
    instances.both_serve(NEW_DAY, 1).await;
}

#[tokio::test]
async fn an_entry_removed_by_a_delete_whose_answer_was_lost_is_not_served() {
    let instances = both_caching_a_meal().await;
    let meal = &instances.meal;

    instances.proxy.swallow_reply_to("findAndModify");
    let deleted = instances
        .writer
        .store
        .meal_entries()
        .delete(meal.user_id, meal.id)
        .await;

    assert!(
        matches!(deleted, Err(StoreError::Unavailable { .. })),
        "{deleted:?}"
    );
    let stored = instances
        .bare
        .meal_entries()
        .get(meal.user_id, meal.id)
        .await;
    assert!(
        matches!(stored, Err(StoreError::NotFound)),
        "the deletion was done"
    );
    instances.both_serve(OLD_DAY, 0).await;
}

/// How long the proxy holds a write up: past the writer's timeout (1 s), so the
/// writer voids before MongoDB has it and reads cache the day as it was; within
/// the timeout again plus a second, when the writer voids a second time.
const HELD: Duration = Duration::from_millis(2_200);

/// From the writer giving up until it voids again: MongoDB's bound on a write it
/// had in hand (the timeout) and the service's margin on it (a second).
const VOIDED_AGAIN: Duration = Duration::from_secs(2);

#[tokio::test]
async fn an_entry_moved_by_a_put_that_reached_mongodb_after_the_writer_gave_up_is_not_served_on_its_old_day()
 {
    let instances = both_caching_a_meal().await;

    instances.proxy.delay_request("findAndModify", HELD);
    let moved = instances.move_the_meal_unanswered().await;

    let stored = || async {
        let stored = instances.bare.meal_entries().get(moved.user_id, moved.id);
        stored.await.unwrap().local_date
    };
    // While the write is on its way, both read the days: each caches them as they
    // are, after the writer's first invalidation.
    for instance in [&instances.writer, &instances.reader] {
        instances.serves(instance, OLD_DAY, 1).await;
        instances.serves(instance, NEW_DAY, 0).await;
    }
    eventually("MongoDB doing the held-up move", HELD * 2, || async {
        stored().await == date(NEW_DAY)
    })
    .await;
    for (instance, name) in [(&instances.writer, "writer"), (&instances.reader, "reader")] {
        for (day, meals) in [(OLD_DAY, 0), (NEW_DAY, 1)] {
            eventually(
                &format!("the {name} serving {day} as MongoDB has it"),
                VOIDED_AGAIN + WITHIN,
                || instances.serves(instance, day, meals),
            )
            .await;
        }
    }
    // And from then on: nothing brings the old day back.
    for instance in [&instances.writer, &instances.reader] {
        assert!(instances.serves(instance, OLD_DAY, 0).await);
        assert!(instances.serves(instance, NEW_DAY, 1).await);
    }
}
