//! The `balancelife` binary as an operator meets it.

use std::process::Command;

use balancelife_testkit::servers::mongo::{SHARED, fresh_database};

use crate::support::binary::{balancelife, http, serve, serve_logged, stop};

#[test]
fn config_prints_the_settings_with_secrets_masked_and_the_store_choice() {
    let output = balancelife()
        .arg("config")
        .env("AUTH_TOKEN_SECRET", "cli-secret-cli-secret-cli-secret-cli")
        .env("REDIS_PASSWORD", "redis-pass-123")
        .output()
        .unwrap();

    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("HTTP_ADDR"));
    assert!(stdout.contains("Store: memory"));
    assert!(stdout.contains("MONGODB_URI is not set"));
    assert!(!stdout.contains("cli-secret"), "{stdout}");
    assert!(!stdout.contains("redis-pass-123"), "{stdout}");
}

/// A log file or the journal shows colour codes as noise (`\x1b[2m…`): text logs
/// carry them only to a terminal.
#[test]
fn text_logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let output = balancelife()
        .arg("serve")
        .env("LOG_FORMAT", "text")
        .env("MONGODB_URI", "mongodb://127.0.0.1:1/")
        .env("MONGODB_TIMEOUT_MS", "200")
        .env("STORE_FALLBACK", "none")
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ERROR"), "a log line was written: {stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

#[test]
fn a_malformed_setting_stops_start_up_naming_it() {
    let output = balancelife()
        .arg("serve")
        .env("HTTP_ADDR", "nowhere")
        .output()
        .unwrap();

    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("HTTP_ADDR"), "{stderr}");
}

#[test]
fn serve_answers_and_stops_gracefully_on_sigterm() {
    let (service, addr) = serve(|_| {});

    let health = http::get(&format!("http://{addr}/health"));

    assert_eq!(health["store"], "memory");
    stop(service);
}

#[test]
fn the_request_id_is_echoed_and_in_the_log_lines_of_the_request() {
    let (service, addr, logs) = serve_logged(|command| {
        command.env("LOG_LEVEL", "debug");
    });
    let response = http::run(async {
        reqwest::Client::new()
            .get(format!("http://{addr}/api/v1/meal-packages"))
            .header("x-request-id", "trace-me-0123")
            .send()
            .await
            .unwrap()
    });
    assert_eq!(response.headers()["x-request-id"], "trace-me-0123");
    stop(service);
    let logs = logs.lock().unwrap();
    let tagged: Vec<_> = logs
        .iter()
        .filter(|l| l.contains("trace-me-0123"))
        .collect();
    assert!(
        tagged.iter().any(|line| line.contains("\"status\":200")),
        "{tagged:?}"
    );
}

#[test]
fn users_and_entries_outlive_a_restart_of_the_service_on_mongodb() {
    let uri = SHARED.uri();
    let database = fresh_database();
    let with_mongo = |c: &mut Command| {
        c.env("MONGODB_URI", &uri)
            .env("MONGODB_DATABASE", &database);
    };
    let (first, addr) = serve(with_mongo);
    let session = http::post(
        &format!("http://{addr}/api/v1/auth/register"),
        None,
        serde_json::json!({"email": "durable@example.com", "password": "a long enough password", "name": "Durable"}),
    );
    let token = session["token"].as_str().unwrap().to_owned();
    let entry = http::post(
        &format!("http://{addr}/api/v1/workout-entries"),
        Some(&token),
        serde_json::json!({"started_at": "2026-02-06T07:00:00Z", "activity": "cycling", "title": "Commute",
                           "duration_s": 1500, "kcal_burned": 250}),
    );
    stop(first);

    let (second, addr) = serve(with_mongo);
    let health = http::get(&format!("http://{addr}/health"));
    let login = http::post(
        &format!("http://{addr}/api/v1/auth/login"),
        None,
        serde_json::json!({"email": "durable@example.com", "password": "a long enough password"}),
    );
    let token = login["token"]
        .as_str()
        .expect("the user survived the restart")
        .to_owned();
    let day = http::get_with(
        &format!("http://{addr}/api/v1/workout-entries?from=2026-02-06"),
        &token,
    );

    assert_eq!(health["store"], "mongodb");
    assert_eq!(day["items"][0]["id"], entry["id"]);
    stop(second);
}

#[test]
fn config_reports_the_same_decision_as_start_up() {
    let unreachable = format!(
        "mongodb://127.0.0.1:{}/",
        balancelife_testkit::servers::free_port()
    );
    let run = |uri: &str, fallback: &str| {
        let output = balancelife()
            .arg("config")
            .env("MONGODB_URI", uri)
            .env("MONGODB_TIMEOUT_MS", "500")
            .env("STORE_FALLBACK", fallback)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
        )
    };

    let (ok_reachable, reachable) = run(&SHARED.uri(), "memory");
    let (ok_fallback, fallback) = run(&unreachable, "memory");
    let (ok_strict, strict) = run(&unreachable, "none");

    assert!(
        ok_reachable && reachable.contains("Store: mongodb"),
        "{reachable}"
    );
    assert!(
        ok_fallback
            && fallback.contains("Store: memory")
            && fallback.contains("could not be reached"),
        "{fallback}"
    );
    assert!(!ok_strict && strict.contains("would not start"), "{strict}");
}

#[test]
fn with_redis_configured_the_service_runs_cached() {
    let redis_addr = balancelife_testkit::servers::redis::SHARED.addr();
    let namespace = format!("t{}", uuid::Uuid::now_v7().simple());
    let database = fresh_database();
    let configure = |c: &mut Command| {
        c.env("MONGODB_URI", SHARED.uri())
            .env("MONGODB_DATABASE", &database)
            .env("REDIS_ADDR", &redis_addr)
            .env("REDIS_NAMESPACE", &namespace)
            .env("INIT_SAMPLE_DATA", "true");
    };
    let mut config = balancelife();
    config.arg("config");
    configure(&mut config);
    let config = String::from_utf8(config.output().unwrap().stdout).unwrap();

    let (service, addr) = serve(configure);
    let health = http::get(&format!("http://{addr}/health"));
    let packages = http::get(&format!("http://{addr}/api/v1/meal-packages?limit=2"));
    let again = http::get(&format!("http://{addr}/api/v1/meal-packages?limit=2"));
    let metrics = reqwest_text(&format!("http://{addr}/metrics"));
    stop(service);

    assert!(config.contains("Store: cached"), "{config}");
    assert_eq!(health["store"], "cached", "{health}");
    assert_eq!(health["components"]["redis"]["status"], "up");
    assert_eq!(health["components"]["mongodb"]["status"], "up");
    assert_eq!(packages, again);
    // The second read came from memory or from Redis, depending on whether the
    // invalidation channel was confirmed yet.
    let count = |name: &str| {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .and_then(|value| value.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    assert_eq!(
        count("balancelife_cache_hits_total") + count("balancelife_l1_hits_total"),
        1,
        "{metrics}"
    );
}

fn reqwest_text(url: &str) -> String {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

#[test]
fn serve_exits_non_zero_when_strict_and_mongodb_is_unreachable() {
    let output = balancelife()
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env(
            "MONGODB_URI",
            format!(
                "mongodb://127.0.0.1:{}/",
                balancelife_testkit::servers::free_port()
            ),
        )
        .env("MONGODB_TIMEOUT_MS", "500")
        .env("STORE_FALLBACK", "none")
        .output()
        .unwrap();

    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(stderr.contains("STORE_FALLBACK=none"), "{stderr}");
}

#[test]
fn seed_is_idempotent() {
    let database = fresh_database();
    let seed = || {
        let output = balancelife()
            .arg("seed")
            .env("MONGODB_URI", SHARED.uri())
            .env("MONGODB_DATABASE", &database)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };

    let first = seed();
    let second = seed();

    assert!(!first.contains(" 0 documents created"), "{first}");
    assert!(second.contains(" 0 documents created"), "{second}");
}

#[test]
fn a_database_number_with_a_redis_cluster_found_at_start_exits_2_naming_it() {
    let cluster = &balancelife_testkit::servers::cluster::SHARED;
    let output = balancelife()
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env(
            "MONGODB_URI",
            balancelife_testkit::servers::mongo::SHARED.uri(),
        )
        .env("MONGODB_DATABASE", fresh_database())
        .env("REDIS_ADDR", cluster.seed_addrs().join(","))
        .env("REDIS_DB", "4")
        .output()
        .unwrap();

    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("REDIS_DB"), "{stderr}");
}
