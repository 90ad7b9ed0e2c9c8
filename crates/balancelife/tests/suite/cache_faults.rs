//! Redis failing under a running service: killed, frozen (SIGSTOP), restarted, or
//! absent at start. No request may fail, none may hang, and no value may be stale
//! after an acknowledged write.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use balancelife::config::{RedisSettings, Settings};
use balancelife::store::{ComponentStatus, Store, StoreKind};

use crate::support::{Cached, TestApp, TestUser, until};
use balancelife_testkit::servers::redis::RedisServer;
use balancelife_testkit::servers::{free_port, mongo};

async fn app_with_user(cached: &Cached) -> (TestApp, TestUser) {
    let app = TestApp::cached(cached.store.clone());
    let user = app.register("cachefault", json!({})).await;
    (app, user)
}

#[tokio::test]
async fn killing_redis_under_traffic_fails_no_request() {
    let mut server = RedisServer::start();
    let cached = Cached::on(&server).await;
    let (app, user) = app_with_user(&cached).await;
    let package = app.get("/api/v1/meal-packages?limit=1", None).await;
    assert_eq!(package.status, StatusCode::OK);

    let mut statuses = Vec::new();
    for n in 0..150 {
        if n == 50 {
            server.kill();
        }
        statuses.push(app.get("/api/v1/users/me", Some(&user.token)).await.status);
        statuses.push(app.get("/api/v1/meal-packages?limit=1", None).await.status);
    }

    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    // What is held in memory may serve on until the channel reports Redis gone;
    // then reads go to Redis, fail there, and MongoDB answers.
    let l1 = cached.store.cache().l1().unwrap().clone();
    until("the in-process tier off", Duration::from_secs(2), || {
        !l1.is_serving()
    })
    .await;
    for _ in 0..5 {
        let response = app.get("/api/v1/users/me", Some(&user.token)).await;
        assert_eq!(response.status, StatusCode::OK);
    }
    assert!(!cached.store.cache().is_serving());
    assert_eq!(
        cached.store.kind(),
        StoreKind::Mongodb,
        "MongoDB alone while Redis is gone"
    );
}

#[tokio::test]
async fn a_frozen_redis_costs_little_time_and_a_write_made_meanwhile_is_read_back() {
    let server = RedisServer::start();
    let mut settings = server.settings();
    settings.timeout = Duration::from_millis(50);
    let cached =
        Cached::redis_only(mongo::SHARED.settings(&mongo::fresh_database()), settings).await;
    let (app, user) = app_with_user(&cached).await;
    app.get("/api/v1/users/me", Some(&user.token)).await;

    server.freeze();
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let response = app.get("/api/v1/users/me", Some(&user.token)).await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(response.status, StatusCode::OK);
    }
    let breaker = app.get("/health", None).await.body["components"]["redis"].clone();
    let renamed = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"name": "Renamed While Frozen"}),
        )
        .await;
    server.thaw();
    let right_after = app.get("/api/v1/users/me", Some(&user.token)).await;

    assert!(
        slowest < Duration::from_millis(500),
        "slowest request while frozen: {slowest:?}"
    );
    assert_eq!(breaker["status"], "down", "the breaker opened: {breaker}");
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(right_after.body["name"], "Renamed While Frozen");
    let cache = cached.store.cache().clone();
    // Serving, and done renewing the scopes whose invalidation the freeze swallowed.
    until("the cache serving again", Duration::from_secs(10), || {
        cache.health().status == ComponentStatus::Up
    })
    .await;
    let hits_before = cache.metrics.hits.get();
    let first = app.get("/api/v1/users/me", Some(&user.token)).await;
    let second = app.get("/api/v1/users/me", Some(&user.token)).await;
    assert_eq!(first.body["name"], "Renamed While Frozen");
    assert_eq!(second.body["name"], "Renamed While Frozen");
    assert!(
        cache.metrics.hits.get() > hits_before,
        "the cache is used again"
    );
}

#[tokio::test]
async fn a_restarted_redis_is_used_again() {
    let mut server = RedisServer::start();
    let cached = Cached::on(&server).await;
    let (app, user) = app_with_user(&cached).await;

    server.restart();
    let response = app.get("/api/v1/users/me", Some(&user.token)).await;
    let cache = cached.store.cache().clone();
    until("the cache serving again", Duration::from_secs(10), || {
        cache.is_serving()
    })
    .await;
    let hits_before = cache.metrics.hits.get();
    app.get("/api/v1/users/me", Some(&user.token)).await;
    app.get("/api/v1/users/me", Some(&user.token)).await;

    assert_eq!(response.status, StatusCode::OK);
    assert!(
        cache.metrics.hits.get() > hits_before,
        "hits after the restart"
    );
    assert_eq!(cached.store.kind(), StoreKind::Cached);
}

#[tokio::test]
async fn redis_absent_at_start_is_picked_up_when_it_arrives() {
    let port = free_port();
    let settings = Settings {
        mongodb: Some(mongo::SHARED.settings(&mongo::fresh_database())),
        redis: Some(RedisSettings {
            namespace: format!("t{}", uuid::Uuid::now_v7().simple()),
            ..RedisSettings::new(format!("127.0.0.1:{port}"))
        }),
        ..Settings::default()
    };
    let selected = balancelife::selection::select(&settings).await.unwrap();
    let store: Arc<dyn Store> = selected.store;
    assert_eq!(
        store.kind(),
        StoreKind::Mongodb,
        "MongoDB alone while Redis is absent"
    );

    let _server = RedisServer::start_on(port);

    let deadline = Instant::now() + Duration::from_secs(10);
    while store.kind() != StoreKind::Cached {
        assert!(Instant::now() < deadline, "the cache was not picked up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let health: std::collections::BTreeMap<_, _> = store.health().await.into_iter().collect();
    assert_eq!(health["redis"].status, ComponentStatus::Up);
}

#[tokio::test]
async fn metrics_show_hits_misses_and_the_breaker() {
    let cached = Cached::on(&balancelife_testkit::servers::redis::SHARED).await;
    let (app, user) = app_with_user(&cached).await;
    app.get("/api/v1/users/me", Some(&user.token)).await;
    app.get("/api/v1/users/me", Some(&user.token)).await;

    let response = app
        .send(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;

    assert_eq!(response.status, StatusCode::OK);
    let text = response.body.as_str().unwrap_or_default().to_owned();
    for metric in [
        "balancelife_cache_hits_total",
        "balancelife_cache_misses_total",
        "balancelife_cache_fills_rejected_stale_total",
        "balancelife_redis_timeouts_total",
        "balancelife_cache_breaker_state",
        "balancelife_store_latency_seconds_bucket",
        "balancelife_stream_invalidations_total",
        "balancelife_stream_lease_takeovers_total",
        "balancelife_stream_resumes_total",
        "balancelife_cache_namespace_bumps_total",
        "balancelife_stream_lag_seconds_bucket",
    ] {
        assert!(text.contains(metric), "{metric} missing from:\n{text}");
    }
}

#[tokio::test]
async fn a_connection_gone_silent_is_replaced_and_the_cache_serves_again() {
    let server = RedisServer::start();
    let proxy = balancelife_testkit::proxy::TcpProxy::start(
        server.addr().parse().expect("a socket address"),
    );
    let mut settings = server.settings();
    settings.addr = proxy.addr().into();
    settings.timeout = Duration::from_millis(50);
    let cached =
        Cached::redis_only(mongo::SHARED.settings(&mongo::fresh_database()), settings).await;
    let (app, user) = app_with_user(&cached).await;
    app.get("/api/v1/users/me", Some(&user.token)).await;

    // Redis' end of the connection vanishes without a word (no reset, no FIN), as
    // behind a NAT that forgot it or after a failover to another address.
    proxy.silence_open_connections();
    for _ in 0..5 {
        let response = app.get("/api/v1/users/me", Some(&user.token)).await;
        assert_eq!(response.status, StatusCode::OK, "MongoDB answers meanwhile");
    }
    let cache = cached.store.cache().clone();
    until("the cache serving again", Duration::from_secs(10), || {
        cache.is_serving()
    })
    .await;
    let hits_before = cache.metrics.hits.get();
    app.get("/api/v1/users/me", Some(&user.token)).await;
    app.get("/api/v1/users/me", Some(&user.token)).await;

    assert!(
        cache.metrics.hits.get() > hits_before,
        "hits again, over a new connection"
    );
}

#[tokio::test]
async fn log_in_limits_are_shared_by_every_instance_and_kept_by_each_without_redis() {
    let mut server = RedisServer::start();
    let first = Cached::with(
        mongo::SHARED.settings(&mongo::fresh_database()),
        server.settings(),
    )
    .await;
    let mut apps = vec![TestApp::cached(first.store.clone())];
    for _ in 0..2 {
        apps.push(TestApp::cached(first.second_process().await.store.clone()));
    }
    let per_minute = Settings::default().auth.attempts_per_minute as usize;
    let wrong_password = |email: &str| json!({"email": email, "password": "not-the-password"});

    // Signing up is the first attempt on the address; then wrong passwords, round
    // robin over three instances.
    let user = apps[0].register("shared-limits", json!({})).await;
    let mut statuses = Vec::new();
    for attempt in 0..per_minute {
        let app = &apps[attempt % 3];
        let response = app
            .post("/api/v1/auth/login", None, wrong_password(&user.email))
            .await;
        statuses.push(response.status);
    }

    let refused_at = statuses
        .iter()
        .position(|status| *status == StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused_at,
        Some(per_minute - 1),
        "three instances allow what one allows: {statuses:?}"
    );

    // Without Redis each instance counts on its own, with the same budget.
    server.kill();
    let email = "nobody-yet@example.test";
    for app in &apps {
        let mut local = Vec::new();
        for _ in 0..=per_minute {
            local.push(
                app.post("/api/v1/auth/login", None, wrong_password(email))
                    .await
                    .status,
            );
        }
        assert_eq!(
            local
                .iter()
                .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
                .count(),
            1,
            "each instance limits on its own: {local:?}"
        );
    }
}
