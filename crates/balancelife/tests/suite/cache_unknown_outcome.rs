//! Writes whose outcome is unknown: MongoDB applied the write, but its answer never
//! came back, so the writer reports the store unavailable. On a standalone server no
//! change stream covers such a write, so the writer itself must void whatever it
//! could have touched: an entry it may have moved or removed from a day nobody
//! named. The answer is lost by a proxy between the writer and MongoDB, which passes
//! the write on and drops what the server says back.

use std::time::Duration;

use chrono::Datelike;

use balancelife::config::MongoSettings;
use balancelife::domain::{MealData, MealEntry};
use balancelife::store::{DateRange, MongoStore, PageLimit, PageRequest, Store, StoreError};
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

    /// Each instance serves `meals` on `day` and in its month: the writer at once,
    /// the reader within the promise.
    async fn both_serve(&self, day: &str, meals: usize) {
        assert_eq!(
            self.meals_on(&self.writer, day).await,
            meals,
            "the writer, {day}"
        );
        assert_eq!(
            self.meals_in_month_of(&self.writer, day).await,
            meals as u64,
            "the writer, the month of {day}"
        );
        eventually(&format!("the reader serving {day}"), WITHIN, || async {
            self.meals_on(&self.reader, day).await == meals
                && self.meals_in_month_of(&self.reader, day).await == meals as u64
        })
        .await;
    }
}

#[tokio::test]
async fn an_entry_moved_by_a_put_whose_answer_was_lost_is_not_served_on_its_old_day() {
    let instances = both_caching_a_meal().await;
    let mut moved = instances.meal.clone();
    moved.local_date = date(NEW_DAY);
    moved.data.eaten_at = at(NEW_DAY, "08:00");

    instances.proxy.swallow_reply_to("findAndModify");
    let put = instances
        .writer
        .store
        .meal_entries()
        .put(moved.clone())
        .await;

    assert!(
        matches!(put, Err(StoreError::Unavailable { .. })),
        "{put:?}"
    );
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
