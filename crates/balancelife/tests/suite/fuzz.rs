//! Schema-driven fuzzing: schemathesis generates requests from `/openapi.json` and
//! sends them to the real binary, signed in as a test user. A run fails on any 5xx,
//! any status, header, content type or body the document does not describe, any
//! invalid input that is accepted, any ignored authentication, and anything deleted
//! that can still be read (see `tests/fuzz/schemathesis.toml`). The seed is fixed, so
//! a run is repeatable. Afterwards the service's logs, at debug level, are searched
//! for the token secret, the test user's password and its token.

use std::path::PathBuf;
use std::process::Command;

use serde_json::json;

use crate::support::TestApp;
use crate::support::binary::{Logs, http, serve_logged, stop};
use balancelife_testkit::servers::mongo::{SHARED, fresh_database};
use balancelife_testkit::servers::redis::RedisServer;

const SCHEMATHESIS_VERSION: &str = "4.32.5";
const TOKEN_SECRET: &str = "fuzz-token-secret-fuzz-token-secret-0123";
const PASSWORD: &str = "fuzz-password-that-must-stay-secret";
const FUZZ_BARCODE: &str = "4006381333931";

/// The schemathesis executable: `$SCHEMATHESIS`, or the one `scripts/test` installs.
fn schemathesis() -> PathBuf {
    let path = std::env::var_os("SCHEMATHESIS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/schemathesis"),
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "schemathesis is not installed at {}: run scripts/test, which installs it, or \
         `pip install schemathesis=={SCHEMATHESIS_VERSION}` and set SCHEMATHESIS to its path",
        path.display()
    );
    path
}

/// Signs up the test user, signs in the demo administrator and runs schemathesis as
/// the administrator against the service at `addr`; returns the token it used.
fn fuzz(addr: &str, examples: u32) -> String {
    let session = http::post(
        &format!("http://{addr}/api/v1/auth/register"),
        None,
        json!({"email": "fuzz@example.com", "password": PASSWORD, "name": "Fuzz"}),
    );
    assert!(session["token"].is_string(), "signed up: {session}");
    // Fuzzed as the demo administrator, so that the catalogue's writes are reached.
    let coach = &balancelife::sample::DEMO_ACCOUNTS[1];
    let admin = http::post(
        &format!("http://{addr}/api/v1/auth/login"),
        None,
        json!({"email": coach.email, "password": coach.password}),
    );
    assert_eq!(admin["user"]["role"], "admin", "{admin}");
    let token = admin["token"].as_str().expect("signed in").to_owned();
    // A food everyone sees, so that lookups by its barcode and id reach more than 404.
    let food = http::post(
        &format!("http://{addr}/api/v1/foods"),
        Some(&token),
        json!({
            "name": {"text": "Fuzzed oats"},
            "nutrients": {"energy_kcal": 370},
            "barcodes": [FUZZ_BARCODE],
            "public": true,
        }),
    );
    let food_id = food["id"].as_str().expect("a food created").to_owned();
    // And a recipe of it, the administrator's own, for the recipe operations.
    let recipe = http::post(
        &format!("http://{addr}/api/v1/recipes"),
        Some(&token),
        json!({
            "name": {"text": "Fuzzed porridge"},
            "ingredients": [{"food_id": food_id, "grams": 60}],
            "servings": 1,
        }),
    );
    let recipe_id = recipe["id"].as_str().expect("a recipe created").to_owned();
    // And a published custom exercise, for the custom exercise operations.
    let exercise = http::post(
        &format!("http://{addr}/api/v1/custom-exercises"),
        Some(&token),
        json!({
            "slug": "fuzzed-press",
            "name": "Fuzzed press",
            "category": "strength",
            "level": "beginner",
            "primary_muscles": ["shoulders"],
        }),
    );
    let exercise_id = exercise["id"]
        .as_str()
        .expect("an exercise added")
        .to_owned();
    let published = http::post(
        &format!("http://{addr}/api/v1/custom-exercises/{exercise_id}/publish"),
        Some(&token),
        json!({}),
    );
    assert_eq!(published["status"], "published", "{published}");
    // And an entry of each kind, so that their operations by id do not depend on
    // the fuzzer's own creations being accepted to reach more than 404.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let entry_id = |path: &str, body| {
        let created = http::post(&format!("http://{addr}/api/v1/{path}"), Some(&token), body);
        created["id"].as_str().expect("an entry created").to_owned()
    };
    let meal_id = entry_id("meal-entries", TestApp::meal_body(&now));
    let workout_id = entry_id("workout-entries", TestApp::workout_body(&now));
    let weigh_in_id = entry_id("body-metrics", json!({"measured_at": now, "weight_kg": 80}));
    // Its scratch files (Hypothesis's, schemathesis's) go to a directory of its own.
    let scratch = tempfile::tempdir().unwrap();
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/schemathesis.toml");
    let output = Command::new(schemathesis())
        .current_dir(scratch.path())
        .env(
            "HYPOTHESIS_STORAGE_DIRECTORY",
            scratch.path().join("hypothesis"),
        )
        .env("BALANCELIFE_FUZZ_URL", format!("http://{addr}"))
        .env("BALANCELIFE_FUZZ_TOKEN", &token)
        .env(
            "BALANCELIFE_FUZZ_MEAL_PACKAGE",
            balancelife::sample::meal_packages()[0].id.to_string(),
        )
        .env(
            "BALANCELIFE_FUZZ_WORKOUT_PACKAGE",
            balancelife::sample::workout_packages()[0].id.to_string(),
        )
        .env("BALANCELIFE_FUZZ_BARCODE", FUZZ_BARCODE)
        .env("BALANCELIFE_FUZZ_FOOD", &food_id)
        .env("BALANCELIFE_FUZZ_RECIPE", &recipe_id)
        .env("BALANCELIFE_FUZZ_CUSTOM_EXERCISE", &exercise_id)
        .env("BALANCELIFE_FUZZ_MEAL_ENTRY", &meal_id)
        .env("BALANCELIFE_FUZZ_WORKOUT_ENTRY", &workout_id)
        .env("BALANCELIFE_FUZZ_BODY_METRIC", &weigh_in_id)
        .env("NO_COLOR", "1")
        .arg("--config-file")
        .arg(&config)
        .args(["run", "--max-examples", &examples.to_string()])
        .arg(format!("http://{addr}/openapi.json"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems ({}):\n{report}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let cases_passed = report
        .lines()
        .find_map(|line| {
            line.trim()
                .split_once(" generated, ")?
                .1
                .split_once(" passed")
        })
        .and_then(|(passed, _)| passed.parse::<u32>().ok());
    assert!(
        cases_passed.is_some_and(|n| n > 0),
        "no test case passed:\n{report}"
    );
    assert!(!report.contains(&token), "the report shows the token");
    token
}

fn assert_no_secrets(logs: &Logs, more: &[&str]) {
    let logs = logs.lock().unwrap().join("\n");
    assert!(
        logs.lines().count() > 100,
        "too few log lines to mean anything"
    );
    for secret in [TOKEN_SECRET, PASSWORD].iter().chain(more) {
        assert!(
            !logs.contains(secret),
            "a secret reached the logs: {secret}"
        );
    }
}

fn fuzzing_service(command: &mut Command) {
    command
        .env("AUTH_TOKEN_SECRET", TOKEN_SECRET)
        // Sign-up and log-in are fuzzed too; their limits are tested elsewhere.
        .env("AUTH_ATTEMPTS_PER_MINUTE", "10000")
        .env("LOG_LEVEL", "debug");
}

#[test]
fn the_service_on_the_memory_store_keeps_to_its_openapi_document() {
    let (service, addr, logs) = serve_logged(fuzzing_service);
    let token = fuzz(&addr, 25);
    stop(service);
    assert_no_secrets(&logs, &[&token]);
}

#[test]
fn the_service_on_cached_mongodb_keeps_to_its_openapi_document() {
    let redis_password = "fuzz-redis-password-0123";
    let redis = RedisServer::start_with_password(redis_password);
    let database = fresh_database();
    let (service, addr, logs) = serve_logged(|command| {
        fuzzing_service(command);
        command
            .env("MONGODB_URI", SHARED.uri())
            .env("MONGODB_DATABASE", &database)
            .env("STORE_FALLBACK", "none")
            .env("INIT_SAMPLE_DATA", "true")
            .env("REDIS_ADDR", redis.addr())
            .env("REDIS_PASSWORD", redis_password);
    });
    let health = http::get(&format!("http://{addr}/health"));
    assert_eq!(health["store"], "cached", "{health}");
    let token = fuzz(&addr, 25);
    stop(service);
    assert_no_secrets(&logs, &[&token, redis_password]);
}
