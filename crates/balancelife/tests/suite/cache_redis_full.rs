//! A full Redis: at `maxmemory`, under the `noeviction` policy the cache requires, it
//! refuses every command that could grow its memory. Invalidations must run all the
//! same (they delete, bump small counters and publish), from writers and from the
//! change stream alike; fills and fill leases must not grow it.

use std::time::Duration;

use balancelife::domain::{MealData, PackageFilter, StatusFilter};
use balancelife::store::mongo::MongoStore;
use balancelife::store::{ComponentStatus, DateRange, PageLimit, PageRequest, Store, StoreError};
use balancelife_testkit::fixtures::{at, date, entry, meal_package, unique_email, user};
use balancelife_testkit::servers::mongo::{SHARED_REPLICA_SET, fresh_database};
use balancelife_testkit::servers::redis::RedisServer;

use crate::support::{Cached, eventually, until};

/// The promise: another instance serves an acknowledged write within a second.
const WITHIN: Duration = Duration::from_secs(1);

#[tokio::test]
async fn with_redis_full_every_write_still_reaches_the_other_instance_and_the_stream_moves_on() {
    let server = RedisServer::start();
    let (mongo, redis) = (
        SHARED_REPLICA_SET.settings(&fresh_database()),
        server.settings(),
    );
    let writer = Cached::instance(mongo.clone(), redis.clone()).await;
    let consumer = writer.store.clone();
    until("the writer holding the stream's lease", WITHIN * 5, || {
        consumer
            .invalidator()
            .is_some_and(|stream| stream.is_holder())
    })
    .await;
    let reader = Cached::instance(mongo.clone(), redis).await;
    // Writes no instance invalidates: only the change stream can.
    let bare = MongoStore::connect(&mongo).await.unwrap();

    let person = writer
        .store
        .create_user(user(unique_email("full")))
        .await
        .unwrap();
    let breakfast = entry::<MealData>(person.id, 1, at("2026-06-01", "08:00"));
    let lunch = entry::<MealData>(person.id, 2, at("2026-06-01", "12:00"));
    let meals = writer.store.meal_entries();
    meals.create(breakfast.clone()).await.unwrap();
    writer
        .store
        .meal_packages()
        .upsert(meal_package("full-first", &["quick"], true))
        .await
        .unwrap();
    // The stream's own invalidations of these could void the reader's first fills.
    let metrics = writer.store.cache().metrics.clone();
    until("the stream past the setup", WITHIN * 5, || {
        metrics.stream_invalidations.get() >= 3
    })
    .await;
    // The stream's first start flushed the whole cache (a new epoch), which the
    // reader learns within a recovery round.
    let (flushed, following) = (writer.store.cache().clone(), reader.store.cache().clone());
    until("the reader on the new epoch", WITHIN * 5, || {
        following.epoch() == flushed.epoch()
    })
    .await;

    let store = reader.store.clone();
    let day = DateRange::day(date("2026-06-01"));
    let month = DateRange::new(date("2026-06-01"), date("2026-06-30")).unwrap();
    let published = PackageFilter {
        status: StatusFilter::Published,
        ..PackageFilter::default()
    };
    let meals_of_the_day = || async {
        let page = PageRequest::first(PageLimit::DEFAULT);
        let listed = store.meal_entries().list(person.id, day, page).await;
        listed.unwrap().items.len()
    };
    let meals_in_the_month = || async {
        let sums = store.meal_entries().day_sums(person.id, month).await;
        sums.unwrap().values().map(|sums| sums.entries).sum::<u64>()
    };
    let catalogue = || async {
        let page = PageRequest::first(PageLimit::DEFAULT);
        let listed = store.meal_packages().list(&published, page).await.unwrap();
        listed.items.len()
    };
    for _ in 0..2 {
        assert_eq!(meals_of_the_day().await, 1);
        assert_eq!(meals_in_the_month().await, 1);
        assert_eq!(catalogue().await, 1);
        store.get_user(person.id).await.unwrap();
    }
    assert!(reader.cache_hits() >= 4, "the reader serves from the cache");

    server.fill_up();
    let fills_before = reader.store.cache().metrics.fills.get();

    meals.create(lunch.clone()).await.unwrap();
    eventually("the new meal in the day's list", WITHIN, || async {
        meals_of_the_day().await == 2
    })
    .await;
    eventually("the new meal in the month's sums", WITHIN, || async {
        meals_in_the_month().await == 2
    })
    .await;
    writer
        .store
        .meal_packages()
        .upsert(meal_package("full-second", &["quick"], true))
        .await
        .unwrap();
    eventually("the new package in the catalogue", WITHIN, || async {
        catalogue().await == 2
    })
    .await;
    bare.meal_entries()
        .delete(person.id, breakfast.id)
        .await
        .unwrap();
    eventually(
        "the stream's deletion in the day's list",
        WITHIN,
        || async { meals_of_the_day().await == 1 },
    )
    .await;
    writer.store.delete_user(person.id).await.unwrap();
    eventually("the user's deletion", WITHIN, || async {
        matches!(store.get_user(person.id).await, Err(StoreError::NotFound))
    })
    .await;

    assert_eq!(
        reader.store.cache().metrics.fills.get(),
        fills_before,
        "nothing is filled into a full Redis"
    );
    // Its refusals are answers, not errors: none counts against the breaker.
    for instance in [&writer, &reader] {
        assert_eq!(instance.store.cache().metrics.redis_errors.get(), 0);
    }
    assert!(reader.store.cache().metrics.redis_full_refusals.get() > 0);
    let cache = reader.store.cache().clone();
    until("/health saying Redis is full", WITHIN * 5, || {
        let health = cache.health();
        health.status == ComponentStatus::Degraded
            && health.detail.is_some_and(|detail| detail.contains("full"))
    })
    .await;
}
