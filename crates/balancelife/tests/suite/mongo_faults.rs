//! Start-up selection and run-time outages against real, stopped, frozen and
//! restarted MongoDB servers.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde_json::json;

use balancelife::config::{MongoSettings, Settings, StoreFallback};
use balancelife::selection::{self, SelectionError};
use balancelife::store::mongo::MongoStore;
use balancelife::store::{Store, StoreKind};

use crate::support::TestApp;
use balancelife_testkit::servers::free_port;
use balancelife_testkit::servers::mongo::{MongoServer, fresh_database};

fn unreachable_settings() -> Settings {
    Settings {
        mongodb: Some(MongoSettings {
            timeout: Duration::from_millis(500),
            ..MongoSettings::new(format!("mongodb://127.0.0.1:{}/", free_port()))
        }),
        ..Settings::default()
    }
}

/// The service's settings with MongoDB as given.
fn on(mongodb: MongoSettings) -> Settings {
    Settings {
        mongodb: Some(mongodb),
        ..Settings::default()
    }
}

#[tokio::test]
async fn an_unreachable_mongodb_falls_back_to_memory_and_says_so() {
    let settings = unreachable_settings();

    let app = TestApp::from_settings(&settings).await;
    let health = app.get("/health", None).await;

    assert_eq!(health.body["store"], "memory");
    assert_eq!(health.body["status"], "degraded");
    let reason = health.body["store_reason"].as_str().unwrap();
    assert!(reason.contains("could not be reached"), "{reason}");
    assert!(
        !reason.contains("127.0.0.1"),
        "no addresses on a public endpoint: {reason}"
    );
    let catalogue = app.get("/api/v1/meal-packages", None).await;
    assert!(
        !catalogue.body["items"].as_array().unwrap().is_empty(),
        "the fallback serves the sample data"
    );
}

#[tokio::test]
async fn the_strict_setting_refuses_to_start_without_mongodb() {
    let mut settings = unreachable_settings();
    settings.mongodb.as_mut().unwrap().fallback = StoreFallback::None;

    let selected = selection::select(&settings).await;
    let decided = selection::decide(&settings).await;

    assert!(matches!(selected, Err(SelectionError::MongoUnreachable(_))));
    assert!(matches!(decided, Err(SelectionError::MongoUnreachable(_))));
}

#[tokio::test]
async fn a_reachable_mongodb_is_chosen() {
    let server = &*balancelife_testkit::servers::mongo::SHARED;
    let settings = on(server.settings(&fresh_database()));

    let decision = selection::decide(&settings).await.unwrap();
    let selected = selection::select(&settings).await.unwrap();

    assert_eq!(decision.kind, StoreKind::Mongodb);
    assert!(!decision.degraded);
    assert_eq!(selected.store.kind(), StoreKind::Mongodb);
}

/// Polls `path` until it answers `status`, for at most `within`.
async fn eventually(
    app: &TestApp,
    path: &str,
    token: &str,
    status: StatusCode,
    within: Duration,
) -> crate::support::TestResponse {
    let deadline = Instant::now() + within;
    loop {
        let response = app.get(path, Some(token)).await;
        if response.status == status || Instant::now() > deadline {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn an_outage_answers_503_and_an_acknowledged_write_survives_a_restart() {
    let mut server = MongoServer::start();
    let mut settings = server.settings(&fresh_database());
    settings.timeout = Duration::from_secs(1);
    let app = TestApp::new(std::sync::Arc::new(
        MongoStore::connect(&settings).await.unwrap(),
    ));
    let user = app.register("outage", json!({})).await;
    let created = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            TestApp::meal_body("2026-02-05T12:00:00Z"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let path = format!(
        "/api/v1/meal-entries/{}",
        created.body["id"].as_str().unwrap()
    );

    server.stop();
    let read = app.get(&path, Some(&user.token)).await;
    let write = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            TestApp::meal_body("2026-02-05T13:00:00Z"),
        )
        .await;
    let health = app.get("/health", None).await;

    assert_eq!(
        read.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        read.body
    );
    assert_eq!(read.error_code(), "unavailable");
    assert_eq!(
        write.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "never a silent write elsewhere"
    );
    assert_eq!(health.body["components"]["mongodb"]["status"], "down");

    server.restart();
    let back = eventually(
        &app,
        &path,
        &user.token,
        StatusCode::OK,
        Duration::from_secs(30),
    )
    .await;

    assert_eq!(
        back.status,
        StatusCode::OK,
        "the service recovers by itself: {}",
        back.body
    );
    assert_eq!(back.body, created.body, "the acknowledged write is intact");
    let day = app
        .get("/api/v1/meal-entries?from=2026-02-05", Some(&user.token))
        .await;
    assert_eq!(
        day.body["items"].as_array().unwrap().len(),
        1,
        "the refused write left nothing behind"
    );
}

#[tokio::test]
async fn a_frozen_mongodb_gives_a_prompt_503_and_work_resumes_when_it_thaws() {
    let server = MongoServer::start();
    let mut settings = server.settings(&fresh_database());
    settings.timeout = Duration::from_secs(1);
    let app = TestApp::new(std::sync::Arc::new(
        MongoStore::connect(&settings).await.unwrap(),
    ));
    let user = app.register("frozen", json!({})).await;

    server.freeze();
    let started = Instant::now();
    let frozen = app.get("/api/v1/users/me", Some(&user.token)).await;
    let waited = started.elapsed();
    server.thaw();
    let thawed = eventually(
        &app,
        "/api/v1/users/me",
        &user.token,
        StatusCode::OK,
        Duration::from_secs(30),
    )
    .await;

    assert_eq!(frozen.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        waited < Duration::from_secs(10),
        "the request did not hang: {waited:?}"
    );
    assert_eq!(thawed.status, StatusCode::OK);
}

/// A store that hangs longer than the request may take: the deadline answers first,
/// with 503 `timeout`, not the store's own 503 `unavailable` seconds later.
#[tokio::test]
async fn the_request_deadline_answers_before_a_frozen_store_does() {
    let server = MongoServer::start();
    let mut settings = on(MongoSettings {
        timeout: Duration::from_secs(30),
        ..server.settings(&fresh_database())
    });
    // Generous enough for signing up (an Argon2 hash) on a busy machine.
    settings.http.request_timeout = Duration::from_secs(2);
    let app = TestApp::from_settings(&settings).await;
    let user = app.register("deadline", json!({})).await;

    server.freeze();
    let frozen = app.get("/api/v1/users/me", Some(&user.token)).await;
    server.thaw();

    assert_eq!(frozen.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(frozen.error_code(), "timeout", "{}", frozen.body);
}

#[tokio::test]
async fn a_read_preference_other_than_primary_is_refused_at_start() {
    for preference in [
        "secondary",
        "secondaryPreferred",
        "primaryPreferred",
        "nearest",
    ] {
        let message = refused_at_start(&format!("readPreference={preference}")).await;
        assert!(message.contains("readPreference"), "{message}");
    }
    assert_started_with("readPreference=primary").await;
}

/// Reads see majority-committed data only, so a write acknowledged by fewer could
/// be missed by the read after it: a weaker `w` is refused rather than overridden.
#[tokio::test]
async fn a_write_concern_other_than_majority_is_refused_at_start() {
    for concern in ["w=0", "w=1", "w=2", "w=datacenters"] {
        let message = refused_at_start(concern).await;
        assert!(message.contains("w=majority"), "{message}");
    }
    assert_started_with("w=majority&wtimeoutMS=2000").await;
}

/// Why the service refuses to start with `option` added to `MONGODB_URI`.
async fn refused_at_start(option: &str) -> String {
    let mut mongodb = balancelife_testkit::servers::mongo::SHARED.settings(&fresh_database());
    mongodb.uri = with_option(&mongodb, option);
    match selection::select(&on(mongodb)).await {
        Err(SelectionError::Misconfigured(message)) => message,
        Err(other) => panic!("{option}: refused for another reason: {other}"),
        Ok(selected) => panic!("{option}: started on {:?}", selected.decision.kind),
    }
}

/// The service starts on MongoDB with `option` added to `MONGODB_URI`.
async fn assert_started_with(option: &str) {
    let mut mongodb = balancelife_testkit::servers::mongo::SHARED.settings(&fresh_database());
    mongodb.uri = with_option(&mongodb, option);
    let selected = selection::select(&on(mongodb)).await.unwrap();
    assert_eq!(selected.decision.kind, StoreKind::Mongodb, "{option}");
}

/// The settings' connection string with one more option.
fn with_option(settings: &MongoSettings, option: &str) -> secrecy::SecretString {
    let uri = settings.uri.expose_secret();
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{option}").into()
}

/// A production start during a MongoDB outage (`MONGODB_URI` set, unreachable, the
/// default `STORE_FALLBACK=memory`), as the binary runs it: the fallback may serve
/// the sample catalogue, but no demo account (the README publishes their passwords,
/// one is an administrator), and every answer says that nothing written is kept.
#[test]
fn a_start_during_an_outage_serves_no_demo_account_and_says_nothing_is_kept() {
    use crate::support::binary::{http, serve};
    let (service, addr) = serve(|command| {
        command
            .env(
                "MONGODB_URI",
                format!("mongodb://127.0.0.1:{}/", free_port()),
            )
            .env("MONGODB_TIMEOUT_MS", "500");
    });
    let base = format!("http://{addr}");
    let answers = http::run(async {
        let client = reqwest::Client::new();
        let mut answers = Vec::new();
        for account in &balancelife::sample::DEMO_ACCOUNTS {
            let body = json!({"email": account.email, "password": account.password});
            let response = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&body)
                .send()
                .await
                .unwrap();
            answers.push(response);
        }
        for path in [
            "/health",
            "/livez",
            "/api/v1/meal-packages",
            "/api/v1/nothing",
        ] {
            answers.push(client.get(format!("{base}{path}")).send().await.unwrap());
        }
        answers
    });
    let health = http::get(&format!("{base}/health"));
    let catalogue = http::get(&format!("{base}/api/v1/meal-packages"));
    drop(service);

    for login in &answers[..2] {
        assert_eq!(
            login.status(),
            reqwest::StatusCode::UNAUTHORIZED,
            "{}",
            login.url()
        );
    }
    assert!(
        !catalogue["items"].as_array().unwrap().is_empty(),
        "the sample catalogue is served"
    );
    for answer in &answers {
        let warning = answer
            .headers()
            .get("x-store-warning")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        assert!(
            warning.contains("nothing written is kept"),
            "{} {}: {warning:?}",
            answer.status(),
            answer.url()
        );
    }
    assert_eq!(health["store"], "memory");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["persistent"], false, "{health}");
}

/// Clients that hang up while their reads wait for a MongoDB connection leave
/// nothing behind that holds up the reads after them. The driver hands a connection
/// to one queued request per pool event (or per 500 ms tick), abandoned requests
/// included, so a burst of them used to keep the next read waiting past the store's
/// deadline.
#[tokio::test]
async fn reads_abandoned_in_a_burst_do_not_hold_up_the_next_one() {
    let settings = balancelife_testkit::servers::mongo::SHARED.settings(&fresh_database());
    let store = std::sync::Arc::new(MongoStore::connect(&settings).await.unwrap());
    let stored = store
        .create_user(balancelife_testkit::fixtures::user(
            balancelife_testkit::fixtures::unique_email("burst"),
        ))
        .await
        .unwrap();

    for burst in 1..=6 {
        let reads: Vec<_> = (0..40)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.get_user(stored.id).await })
            })
            .collect();
        // Long enough for the reads to have asked the pool, not to have finished.
        tokio::time::sleep(Duration::from_millis(5)).await;
        for read in &reads {
            read.abort();
        }

        let started = Instant::now();
        let next = store.get_user(stored.id).await;
        assert!(
            next.is_ok(),
            "burst {burst}: the next read failed after {:?}: {next:?}",
            started.elapsed()
        );
    }
}
