//! The change-stream invalidator where MongoDB keeps no pre-images: the service
//! signs in as a least-privilege user, who may read, write and watch but not turn
//! pre- and post-images on (`collMod` is refused). A change then names its document
//! but not always what it replaced, so the stream voids the scope of the user the
//! document names, never the whole cache for a routine write, and `/health` says
//! the invalidator is degraded, and why. An entry's deletion names only its id, so
//! the deleting instance notes whose it was in the same transaction.

use std::time::Duration;

use balancelife::config::RedisSettings;
use balancelife::domain::{MealData, User};
use balancelife::store::mongo::MongoStore;
use balancelife::store::{ComponentStatus, DateRange, PageLimit, PageRequest, Store, StoreError};
use balancelife_testkit::fixtures::{at, date, entry, renamed, unique_email, user};
use balancelife_testkit::proxy::TcpProxy;
use balancelife_testkit::servers::mongo::{MongoServer, fresh_database};
use balancelife_testkit::servers::redis::{RedisServer, SHARED as SHARED_REDIS};

use crate::support::{Cached, TestApp, eventually, until};

/// The promise: every instance serves an acknowledged write within a second.
const WITHIN: Duration = Duration::from_secs(1);

#[tokio::test]
async fn without_pre_images_a_change_voids_only_the_user_it_names_and_health_says_so() {
    let server = MongoServer::start_least_privilege(&fresh_database());
    let (mongo, redis) = (server.app_settings(), SHARED_REDIS.settings());
    let consumer = Cached::instance(mongo.clone(), redis.clone()).await;
    let store = consumer.store.clone();
    until("the lease taken", WITHIN * 5, || {
        store.invalidator().is_some_and(|stream| stream.is_holder())
    })
    .await;
    let reader = Cached::instance(mongo.clone(), redis).await;
    // Writes no instance invalidates: only the change stream can.
    let bare = MongoStore::connect(&mongo).await.unwrap();

    let health = TestApp::cached(reader.store.clone())
        .get("/health", None)
        .await
        .body;
    assert_eq!(health["status"], "degraded", "{health}");
    let invalidator = &health["components"]["invalidator"];
    assert_eq!(invalidator["status"], "degraded", "{health}");
    assert!(
        invalidator["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("pre-images")),
        "{health}"
    );
    let holder = consumer.store.health().await;
    let (_, holder) = holder
        .iter()
        .find(|(name, _)| *name == "invalidator")
        .unwrap();
    assert_eq!(holder.status, ComponentStatus::Degraded, "{holder:?}");

    let alice = bare.create_user(user(unique_email("alice"))).await.unwrap();
    let bob = bare.create_user(user(unique_email("bob"))).await.unwrap();
    let day = DateRange::day(date("2026-06-01"));
    let next_day = DateRange::day(date("2026-06-02"));
    let meals = bare.meal_entries();
    let alices_meal = entry::<MealData>(alice.id, 1, at("2026-06-01", "08:00"));
    meals.create(alices_meal.clone()).await.unwrap();
    meals
        .create(entry::<MealData>(bob.id, 2, at("2026-06-01", "09:00")))
        .await
        .unwrap();
    let metrics = consumer.store.cache().metrics.clone();
    until("the stream past the setup", WITHIN * 5, || {
        metrics.stream_invalidations.get() >= 4
    })
    .await;
    // The stream's first start flushed the whole cache (a new epoch), which the
    // reader learns within a recovery round.
    let (flushed, following) = (consumer.store.cache().clone(), reader.store.cache().clone());
    until("the reader on the new epoch", WITHIN * 5, || {
        following.epoch() == flushed.epoch()
    })
    .await;

    let cached = reader.store.clone();
    let listed = |owner: &User, range: DateRange| {
        let (cached, owner) = (cached.clone(), owner.id);
        async move {
            let page = PageRequest::first(PageLimit::DEFAULT);
            let listed = cached.meal_entries().list(owner, range, page).await;
            listed.unwrap().items
        }
    };
    for _ in 0..2 {
        for person in [&alice, &bob] {
            cached.get_user(person.id).await.unwrap();
            cached.get_user_by_email(&person.email).await.unwrap();
            assert_eq!(listed(person, day).await.len(), 1);
        }
        assert!(listed(&alice, next_day).await.is_empty());
    }
    let hits = reader.cache_hits();
    assert!(hits >= 7, "the reader serves from the cache ({hits} hits)");
    // The first consumer's start flushed the cache once (nothing vouched for
    // what came before it); no routine write may do so again.
    let flushes = || {
        [&consumer, &reader].map(|instance| instance.store.cache().metrics.namespace_bumps.get())
    };
    let flushes_before = flushes();

    // Routine writes: a user's record changed (a replacement), their meal moved
    // (an update) and replaced (a replacement), a meal added (an insert).
    let mut changed = renamed(&alice, "Alice Renamed");
    changed.email = unique_email("alice-new");
    bare.update_user(changed.clone(), &alice).await.unwrap();
    eventually("the new record", WITHIN, || async {
        cached.get_user(alice.id).await.unwrap() == changed
    })
    .await;
    eventually("the old address gone", WITHIN, || async {
        matches!(
            cached.get_user_by_email(&alice.email).await,
            Err(StoreError::NotFound)
        )
    })
    .await;
    assert_eq!(
        cached.get_user_by_email(&changed.email).await.unwrap(),
        changed
    );

    let mut moved = alices_meal.clone();
    moved.local_date = next_day.from();
    moved.data.eaten_at = at("2026-06-02", "08:00");
    moved.updated_at = alices_meal.updated_at + chrono::Duration::milliseconds(1);
    let moved = meals.update(moved, alices_meal.updated_at).await.unwrap();
    eventually("the meal moved off its day", WITHIN, || async {
        listed(&alice, day).await.is_empty() && listed(&alice, next_day).await.len() == 1
    })
    .await;
    let mut replaced = moved.clone();
    replaced.local_date = day.from();
    replaced.data.eaten_at = at("2026-06-01", "10:00");
    meals.put(replaced).await.unwrap();
    eventually("the meal replaced onto its first day", WITHIN, || async {
        listed(&alice, day).await.len() == 1 && listed(&alice, next_day).await.is_empty()
    })
    .await;
    meals
        .create(entry::<MealData>(alice.id, 3, at("2026-06-02", "19:00")))
        .await
        .unwrap();
    eventually("the meal added", WITHIN, || async {
        listed(&alice, next_day).await.len() == 1
    })
    .await;

    // Nobody else's cache went: Bob is still served from it, by both tiers.
    assert_eq!(flushes(), flushes_before, "no whole-cache flush");
    let (user_reads, hits) = (reader.probe.user_reads(), reader.cache_hits());
    cached.get_user(bob.id).await.unwrap();
    cached.get_user_by_email(&bob.email).await.unwrap();
    assert_eq!(listed(&bob, day).await.len(), 1);
    assert_eq!(
        reader.probe.user_reads(),
        user_reads,
        "Bob's record is cached"
    );
    assert!(reader.cache_hits() >= hits + 3, "Bob's list is cached too");
}

/// The writer is cut off from Redis when it deletes a meal, so its own
/// invalidation is lost, and it is gone before it could renew it: only the stream
/// can void the day's list another instance cached, and the deletion's own event
/// names the meal's id alone.
#[tokio::test]
async fn without_pre_images_an_entry_deleted_by_a_writer_cut_off_from_redis_is_not_served() {
    let server = MongoServer::start_least_privilege(&fresh_database());
    let mongo = server.app_settings();
    let redis_server = RedisServer::start();
    let redis = redis_server.settings();
    let reader = Cached::instance(mongo.clone(), redis.clone()).await;
    let store = reader.store.clone();
    until("the reader holding the lease", WITHIN * 5, || {
        store.invalidator().is_some_and(|stream| stream.is_holder())
    })
    .await;
    let proxy = TcpProxy::start(redis_server.addr().parse().unwrap());
    let writer_redis = RedisSettings {
        addr: proxy.addr().into(),
        timeout: Duration::from_millis(100),
        ..redis.clone()
    };
    let writer = Cached::instance(mongo.clone(), writer_redis).await;
    assert!(writer.mongo.deletion_notes().are_on());
    let owner = writer
        .store
        .create_user(user(unique_email("deleted-meal")))
        .await
        .unwrap();
    let meal = entry::<MealData>(owner.id, 1, at("2026-06-01", "08:00"));
    let meals = writer.store.meal_entries();
    meals.create(meal.clone()).await.unwrap();
    let day = DateRange::day(date("2026-06-01"));
    let listed = || async {
        let page = PageRequest::first(PageLimit::DEFAULT);
        let listed = reader.store.meal_entries().list(owner.id, day, page).await;
        listed.unwrap().items.len()
    };
    // The stream's own invalidation of the creation may void a first fill.
    eventually(
        "the reader serving the meal from its cache",
        WITHIN * 5,
        || async {
            let hits = reader.cache_hits();
            listed().await == 1 && reader.cache_hits() > hits
        },
    )
    .await;
    let flushes = reader.store.cache().metrics.namespace_bumps.get();

    proxy.partition();
    meals
        .delete(owner.id, meal.id)
        .await
        .expect("the deletion is acknowledged though its invalidation was lost");
    drop(writer);

    eventually("the reader no longer serving the meal", WITHIN, || async {
        listed().await == 0
    })
    .await;
    assert_eq!(
        reader.store.cache().metrics.namespace_bumps.get(),
        flushes,
        "no whole-cache flush"
    );
}
