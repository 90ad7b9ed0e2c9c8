//! The cache on a Redis Cluster: found by itself, shown on `/health`, every script on
//! one slot, and a master lost under traffic costing no request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;

use balancelife::config::{RedisMode, Settings};
use balancelife::store::{RedisCache, Store};

use balancelife_testkit::fixtures::{at, date, entry, meal_package, unique_email, user};
use balancelife_testkit::servers::cluster::{self, RedisCluster};
use balancelife_testkit::servers::mongo;

use crate::support::{Cached, TestApp, until};

#[tokio::test]
async fn a_cluster_is_recognised_and_health_counts_its_masters() {
    let cached = Cached::on_cluster(&cluster::SHARED).await;
    let app = TestApp::cached(cached.store.clone());

    let health = app.get("/health", None).await;

    let redis = &health.body["components"]["redis"];
    assert_eq!(redis["mode"], "cluster", "{redis}");
    assert_eq!(redis["masters"], 3, "{redis}");
    assert_eq!(redis["status"], "up", "{redis}");
}

#[tokio::test]
async fn a_database_number_with_a_cluster_is_a_configuration_error() {
    let mut settings = cluster::SHARED.settings();
    settings.db = 2;

    let refused = RedisCache::start(&settings, &Settings::default().cache).await;

    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("REDIS_DB"), "{message}");
    settings.mode = RedisMode::Cluster;
    assert!(
        RedisCache::start(&settings, &Settings::default().cache)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn every_cached_read_and_write_runs_on_one_slot() {
    use balancelife::domain::MealData;
    use balancelife::store::{DateRange, PageLimit, PageRequest};
    let cached = Cached::on_cluster(&cluster::SHARED).await;
    let store = cached.store.clone();
    let owner = store
        .create_user(user(unique_email("slots")))
        .await
        .unwrap();
    let package = meal_package("cluster-bowl", &["quick"], true);
    store.meal_packages().upsert(package.clone()).await.unwrap();
    let meal = entry::<MealData>(owner.id, 1, at("2026-02-02", "08:00"));
    store.meal_entries().create(meal.clone()).await.unwrap();
    let week = DateRange::new(date("2026-02-01"), date("2026-02-07")).unwrap();

    for _ in 0..2 {
        store.get_user(owner.id).await.unwrap();
        store.get_user_by_email(&owner.email).await.unwrap();
        store.meal_packages().get(package.id).await.unwrap();
        store
            .meal_packages()
            .list(&Default::default(), PageRequest::first(PageLimit::DEFAULT))
            .await
            .unwrap();
        store
            .meal_entries()
            .list(owner.id, week, PageRequest::first(PageLimit::DEFAULT))
            .await
            .unwrap();
    }
    store
        .meal_entries()
        .delete(owner.id, meal.id)
        .await
        .unwrap();
    store.delete_user(owner.id).await.unwrap();

    let metrics = &store.cache().metrics;
    // A read by e-mail also reads the user's own record, a hit in both rounds.
    assert_eq!(
        cached.cache_hits(),
        7,
        "the second round came from the cluster"
    );
    assert_eq!(
        (
            metrics.redis_errors.get(),
            metrics.invalidation_failures.get()
        ),
        (0, 0),
        "no script was refused (a cross-slot script would be)"
    );
}

#[tokio::test]
async fn a_master_killed_under_traffic_fails_no_request_and_hits_return() {
    let mut cluster = RedisCluster::start();
    let cached = Cached::redis_only(
        mongo::SHARED.settings(&mongo::fresh_database()),
        cluster.settings(),
    )
    .await;
    let app = Arc::new(TestApp::cached(cached.store.clone()));
    let user = app.register("cluster-traffic", json!({})).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let traffic = {
        let (app, stop, served, failed) =
            (app.clone(), stop.clone(), served.clone(), failed.clone());
        let token = user.token.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Acquire) {
                for path in ["/api/v1/users/me", "/api/v1/meal-packages?limit=5"] {
                    let response = app.get(path, Some(&token)).await;
                    let counter = if response.status == StatusCode::OK {
                        &served
                    } else {
                        &failed
                    };
                    counter.fetch_add(1, Ordering::AcqRel);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    let victim = cluster.masters()[0];
    cluster.kill_node(victim);
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Release);
    traffic.await.unwrap();

    assert_eq!(failed.load(Ordering::Acquire), 0, "no request failed");
    assert!(served.load(Ordering::Acquire) > 20);
    let cache = cached.store.cache().clone();
    until("the cache serving again", Duration::from_secs(15), || {
        cache.is_serving()
    })
    .await;
    let hits = cache.metrics.hits.get();
    for _ in 0..3 {
        app.get("/api/v1/users/me", Some(&user.token)).await;
        app.get("/api/v1/meal-packages?limit=5", Some(&user.token))
            .await;
    }
    assert!(
        cache.metrics.hits.get() > hits,
        "hits again after the failover"
    );
}

#[tokio::test]
async fn slots_moved_under_traffic_fail_no_request_and_serve_nothing_stale() {
    let cluster = RedisCluster::start();
    let cached = Cached::with(
        mongo::SHARED.settings(&mongo::fresh_database()),
        cluster.settings(),
    )
    .await;
    let app = Arc::new(TestApp::cached(cached.store.clone()));
    let people = [
        app.register("reshard-a", json!({})).await,
        app.register("reshard-b", json!({})).await,
        app.register("reshard-c", json!({})).await,
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let (failed, stale, rounds) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    // Each person in turn: a new name, then reads that must show it.
    let traffic = {
        let (app, stop) = (app.clone(), stop.clone());
        let (failed, stale, rounds) = (failed.clone(), stale.clone(), rounds.clone());
        tokio::spawn(async move {
            let mut round = 0;
            while !stop.load(Ordering::Acquire) {
                for person in &people {
                    round += 1;
                    let name = format!("Name {round}");
                    let written = app
                        .patch(
                            "/api/v1/users/me",
                            Some(&person.token),
                            json!({ "name": name }),
                        )
                        .await;
                    if written.status != StatusCode::OK {
                        failed.fetch_add(1, Ordering::AcqRel);
                        continue;
                    }
                    for path in ["/api/v1/users/me", "/api/v1/meal-packages?limit=3"] {
                        let read = app.get(path, Some(&person.token)).await;
                        if read.status != StatusCode::OK {
                            failed.fetch_add(1, Ordering::AcqRel);
                        } else if path.ends_with("/me") && read.body["name"] != json!(name) {
                            stale.fetch_add(1, Ordering::AcqRel);
                        }
                    }
                }
                rounds.fetch_add(1, Ordering::AcqRel);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    let masters = cluster.masters();
    let (from, to) = (masters[0], masters[1]);
    tokio::task::spawn_blocking(move || {
        cluster.move_slots(from, to, 1500);
        cluster
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Release);
    traffic.await.unwrap();

    assert!(
        rounds.load(Ordering::Acquire) > 3,
        "traffic ran through the move"
    );
    assert_eq!(failed.load(Ordering::Acquire), 0, "no request failed");
    assert_eq!(
        stale.load(Ordering::Acquire),
        0,
        "no read older than its write"
    );
    assert!(cached.cache_hits() > 0);
}
