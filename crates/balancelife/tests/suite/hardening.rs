//! Abuse limits, hostile input and what leaves the service: rate limits with
//! `Retry-After`, query-operator look-alikes refused as values, security headers,
//! and no secret in any log line.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::json;

use balancelife::config::Settings;

use crate::support::{RunningServer, TestApp, spawn_app};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;

    for response in [
        app.get("/health", None).await,
        app.get("/api/v1/nothing", None).await,
    ] {
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            (
                "content-security-policy",
                "default-src 'none'; frame-ancestors 'none'",
            ),
            ("referrer-policy", "no-referrer"),
            ("cache-control", "no-store"),
        ] {
            assert_eq!(
                response.headers.get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn password_guessing_on_one_account_is_slowed_down() {
    let app = spawn_app().await;
    let user = app.register("guessed", json!({})).await;
    let attempt = |email: String| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": "a wrong guess"}),
            )
            .await
        }
    };

    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(attempt(user.email.clone()).await);
    }
    let elsewhere = attempt("someone.else@example.com".into()).await;

    // Registration took one attempt of this e-mail's budget of ten a minute.
    assert!(
        statuses[..9]
            .iter()
            .all(|r| r.status == StatusCode::UNAUTHORIZED)
    );
    let limited = statuses.last().unwrap();
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.error_code(), "too_many_requests");
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        elsewhere.status,
        StatusCode::UNAUTHORIZED,
        "other accounts are unaffected"
    );
}

/// Timing must not tell whether an e-mail address has an account. Rather than time
/// requests (which would make a flaky test), this counts the expensive part: an
/// unknown address pays for exactly one Argon2 verification, as a known one does,
/// and both get the same answer byte for byte.
#[tokio::test]
async fn a_failed_login_does_the_same_work_whether_or_not_the_account_exists() {
    let app = spawn_app().await;
    let user = app.register("timed", json!({})).await;
    let hasher = &app.state.hasher;
    let mut answers = Vec::new();
    for email in [user.email.as_str(), "nobody.here@example.com"] {
        let before = hasher.verifications();
        let response = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": "a wrong guess"}),
            )
            .await;
        assert_eq!(hasher.verifications() - before, 1, "{email}");
        answers.push((response.status, response.body));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert_eq!(answers[0].1["error"]["code"], "invalid_credentials");
}

#[tokio::test]
async fn one_client_address_cannot_sign_up_without_limit() {
    let mut settings = Settings::default();
    settings.auth.attempts_per_minute = 2;
    let server = RunningServer::start(settings).await;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();

    let mut statuses = Vec::new();
    let mut retry_after = Vec::new();
    for n in 0..8 {
        let body = json!({"email": format!("signup{n}@example.com"), "password": "a long enough password", "name": "Signup"});
        let response = client
            .post(format!("{base}/api/v1/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        retry_after.push(response.headers().get("retry-after").cloned());
    }
    // Log-ins share the address's budget: with fresh e-mails, still refused.
    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "fresh@example.com", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    server.stop().await;

    assert_eq!(
        &statuses[..6],
        &[201; 6],
        "three times the per-e-mail budget per address"
    );
    assert_eq!(&statuses[6..], &[429, 429]);
    let seconds: u64 = retry_after[6]
        .as_ref()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    assert_eq!(login.status().as_u16(), 429);
    assert!(login.headers().contains_key("retry-after"));
}

/// A client that never finishes its headers (slowloris), or never sends a byte, loses
/// the connection once the header timeout (here 1 s) has passed, and the service
/// keeps serving others.
#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut settings = Settings::default();
    settings.http.header_timeout = Duration::from_secs(1);
    let server = RunningServer::start(settings).await;
    let addr = server.addr;
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();

    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(15),
        slow.read_to_end(&mut rest),
    )
    .await;
    let silent_closed = tokio::time::timeout(
        std::time::Duration::from_secs(15),
        silent.read_to_end(&mut Vec::new()),
    )
    .await;
    let others = reqwest::get(format!("http://{addr}/livez")).await.unwrap();
    // Hung up here, so that shutting down cannot wait on it if the test fails.
    drop((slow, silent));
    server.stop().await;

    assert!(
        closed.is_ok(),
        "the half-sent request still holds its connection"
    );
    assert!(
        silent_closed.is_ok(),
        "a silent client still holds its connection"
    );
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    assert_eq!(others.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn sign_ups_for_one_e_mail_are_limited_too() {
    let app = spawn_app().await;
    let body = json!({"email": "taken@example.com", "password": "a long enough password", "name": "Taken"});
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(app.post("/api/v1/auth/register", None, body.clone()).await);
    }
    assert_eq!(statuses[0].status, StatusCode::CREATED);
    assert!(
        statuses[1..10]
            .iter()
            .all(|r| r.status == StatusCode::CONFLICT)
    );
    assert_eq!(statuses[10].status, StatusCode::TOO_MANY_REQUESTS);
    assert!(statuses[10].headers.contains_key("retry-after"));
}

/// Each case is a request that would be accepted but for one operator look-alike in
/// one place; the answer must be a 422 naming exactly that place.
#[tokio::test]
async fn query_operator_look_alikes_are_refused_as_values() {
    use base64::Engine;
    let app = spawn_app().await;
    let user = app.register("operators", json!({})).await;
    let token = Some(user.token.as_str());
    let meal = |field: &str, value: serde_json::Value| {
        let mut body = crate::support::TestApp::meal_body("2026-01-02T12:00:00Z");
        body[field] = value;
        body
    };
    let import = |entry: serde_json::Value, profile: serde_json::Value| {
        json!({"format": "balancelife-export", "version": 1, "profile": profile,
               "meal_entries": [entry]})
    };
    let mut exported = meal("id", json!(uuid::Uuid::now_v7().to_string()));
    exported["local_date"] = json!("2026-01-02");
    let with = |field: &str, value: serde_json::Value| {
        let mut entry = exported.clone();
        entry[field] = value;
        entry
    };
    let operator_cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"$gt":""}"#);
    let package = "/api/v1/workout-packages/019a0000-0000-7000-8000-000000000000/apply";

    let cases = [
        (
            app.post(
                "/api/v1/auth/login",
                None,
                json!({"email": {"$gt": ""}, "password": "x"}),
            )
            .await,
            "email",
        ),
        (
            app.post(
                "/api/v1/auth/login",
                None,
                json!({"email": "a@example.com", "password": "x", "$where": "sleep(1000)"}),
            )
            .await,
            "$where",
        ),
        (
            app.post(
                "/api/v1/meal-entries",
                token,
                meal("id", json!({"$gt": ""})),
            )
            .await,
            "id",
        ),
        (
            app.post(
                "/api/v1/meal-entries",
                token,
                meal("name", json!({"$ne": null})),
            )
            .await,
            "name",
        ),
        (
            app.post(
                "/api/v1/meal-entries",
                token,
                meal("package_id", json!({"$ne": null})),
            )
            .await,
            "package_id",
        ),
        (
            app.post("/api/v1/meal-entries", token, meal("$where", json!("1")))
                .await,
            "$where",
        ),
        (
            app.post(
                package,
                token,
                json!({"date": {"$gt": ""}, "week": 1, "day": 1}),
            )
            .await,
            "date",
        ),
        (
            app.patch(
                "/api/v1/users/me",
                token,
                json!({"timezone": {"$regex": ".*"}}),
            )
            .await,
            "timezone",
        ),
        (
            app.post(
                "/api/v1/import",
                token,
                import(with("user_id", json!({"$ne": null})), json!({})),
            )
            .await,
            "meal_entries[0].user_id",
        ),
        (
            app.post(
                "/api/v1/import",
                token,
                import(with("local_date", json!({"$gt": ""})), json!({})),
            )
            .await,
            "meal_entries[0].local_date",
        ),
        (
            app.post(
                "/api/v1/import",
                token,
                import(exported.clone(), json!({"name": {"$where": "1"}})),
            )
            .await,
            "profile.name.$where",
        ),
        (
            app.get("/api/v1/meal-packages?tag[$gt]=", None).await,
            "tag[$gt]",
        ),
        (
            app.get("/api/v1/meal-packages?tag=%7B%22%24ne%22%3A1%7D", None)
                .await,
            "tag",
        ),
        (
            app.get(
                &format!("/api/v1/meal-entries?from=2026-01-01&cursor={operator_cursor}"),
                token,
            )
            .await,
            "cursor",
        ),
        (
            app.get(
                "/api/v1/meal-entries?from=2026-01-01&$where=sleep(1)",
                token,
            )
            .await,
            "$where",
        ),
        (
            app.get("/api/v1/meal-packages/%7B%22%24gt%22%3A%22%22%7D", None)
                .await,
            "id",
        ),
        (
            app.get("/api/v1/users/%7B%22%24where%22%3A1%7D", token)
                .await,
            "id",
        ),
    ];

    for (n, (response, field)) in cases.iter().enumerate() {
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "case {n}: {}",
            response.body
        );
        assert_eq!(response.error_code(), "validation_failed", "case {n}");
        assert_eq!(
            response.error_field(),
            *field,
            "case {n}: {}",
            response.body
        );
    }
    // And the import that carried no operator is fine.
    let clean = app
        .post(
            "/api/v1/import",
            token,
            import(exported, json!({"name": "Ada"})),
        )
        .await;
    assert_eq!(clean.status, StatusCode::OK, "{}", clean.body);
}

/// `?$where=…` on every documented operation, including those that take no query
/// parameters at all, is refused and named, before anything else runs.
#[tokio::test]
async fn an_operator_in_the_query_string_of_any_operation_is_refused() {
    let app = spawn_app().await;
    let user = app.register("query-operators", json!({})).await;
    let document = app.get("/openapi.json", None).await.body;
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let path = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
            let method = axum::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .call(
                    method.clone(),
                    &format!("{path}?$where=sleep(1000)"),
                    Some(&user.token),
                    None,
                )
                .await;
            assert_eq!(
                response.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{method} {path}: {}",
                response.body
            );
            assert_eq!(response.error_field(), "$where", "{method} {path}");
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked}");
}

#[test]
fn secrets_and_passwords_never_reach_the_logs() {
    let secrets = [
        "log-test-token-secret-0123456789abcdef",
        "log-test-redis-password",
        "log-test-mongo-password",
        "a password only the user knows",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_balancelife"))
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env("LOG_LEVEL", "trace")
        .env("LOG_FORMAT", "json")
        .env("AUTH_TOKEN_SECRET", secrets[0])
        .env("REDIS_PASSWORD", secrets[1])
        .env(
            "MONGODB_URI",
            format!("mongodb://admin:{}@127.0.0.1:1/", secrets[2]),
        )
        .env("MONGODB_TIMEOUT_MS", "300")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        let mut buffer = [0_u8; 4096];
        while let Ok(n) = stderr.read(&mut buffer) {
            if n == 0 {
                break;
            }
            let chunk = String::from_utf8_lossy(&buffer[..n]).into_owned();
            let _ = lines_tx.send(chunk.clone());
            all.push_str(&chunk);
        }
        all
    });
    let mut seen = String::new();
    let addr = loop {
        seen.push_str(
            &lines_rx
                .recv_timeout(std::time::Duration::from_secs(30))
                .expect("the service starts"),
        );
        if let Some(line) = seen.lines().find(|l| l.contains("\"listening\"")) {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            break event["addr"].as_str().unwrap().to_owned();
        }
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let base = format!("http://{addr}/api/v1");
        let body = json!({"email": "logged@example.com", "password": secrets[3], "name": "Logged"});
        client
            .post(format!("{base}/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        client
            .post(format!("{base}/auth/login"))
            .json(&body.clone())
            .send()
            .await
            .unwrap();
        let wrong =
            json!({"email": "logged@example.com", "password": format!("{} wrong", secrets[3])});
        client
            .post(format!("{base}/auth/login"))
            .json(&wrong)
            .send()
            .await
            .unwrap();
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let logs = reader.join().unwrap();

    assert!(logs.contains("listening"), "the logs were captured: {logs}");
    for secret in secrets {
        assert!(
            !logs.contains(secret),
            "a secret reached the logs: {secret}"
        );
    }
}

/// Tokens made here exactly as the service makes them are accepted (the control), and
/// every variation of one is refused through the API: expired, signed with another
/// HMAC algorithm under the same secret, unsigned, claiming RS256, or carrying
/// another user's claims under a genuine signature.
#[tokio::test]
async fn only_unexpired_untampered_hs256_tokens_are_accepted() {
    use base64::Engine;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);

    let app = spawn_app().await;
    let user = app.register("tokens", json!({})).await;
    let other = app.register("tokens-other", json!({})).await;
    let stored = app.state.store.get_user(user.id).await.unwrap();
    let fingerprint = balancelife::auth::token::credentials_fingerprint(&stored.password_hash);
    let key = EncodingKey::from_secret(crate::support::app::TOKEN_SECRET.as_bytes());
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| json!({"sub": user.id, "iss": "balancelife", "iat": now, "exp": exp, "crd": fingerprint});
    let sign = |algorithm, claims: &serde_json::Value| {
        jsonwebtoken::encode(&Header::new(algorithm), claims, &key).unwrap()
    };
    let status_with = |token: String| {
        let app = &app;
        async move { app.get("/api/v1/users/me", Some(&token)).await.status }
    };

    let control = sign(Algorithm::HS256, &claims(now + 600));
    assert_eq!(status_with(control.clone()).await, StatusCode::OK);

    let mut refused = vec![
        ("expired", sign(Algorithm::HS256, &claims(now - 60))),
        ("HS384", sign(Algorithm::HS384, &claims(now + 600))),
        ("HS512", sign(Algorithm::HS512, &claims(now + 600))),
    ];
    let [_, payload, _]: [&str; 3] = control.split('.').collect::<Vec<_>>().try_into().unwrap();
    let unsigned_header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    refused.push(("alg none", format!("{unsigned_header}.{payload}.")));
    // HMAC-SHA256 by hand, so the forgeries do not depend on jsonwebtoken.
    let hmac = |message: &str| {
        use sha2::Digest;
        let key = crate::support::app::TOKEN_SECRET.as_bytes();
        let mut padded = [0_u8; 64];
        padded[..key.len()].copy_from_slice(key);
        let (inner_pad, outer_pad): (Vec<u8>, Vec<u8>) =
            padded.iter().map(|b| (b ^ 0x36, b ^ 0x5c)).unzip();
        let inner = sha2::Sha256::new()
            .chain_update(&inner_pad)
            .chain_update(message.as_bytes())
            .finalize();
        b64(&sha2::Sha256::new()
            .chain_update(&outer_pad)
            .chain_update(inner)
            .finalize())
    };
    let hs_header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let by_hand = format!("{hs_header}.{payload}");
    let by_hand = format!("{by_hand}.{}", hmac(&by_hand));
    assert_eq!(
        status_with(by_hand).await,
        StatusCode::OK,
        "the HMAC by hand"
    );
    // RS256 in the header, the body signed with the secret as if it were a public key.
    let rs_header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
    let confused = format!("{rs_header}.{payload}");
    refused.push(("RS256 header", format!("{confused}.{}", hmac(&confused))));
    // Another user's claims under this token's signature.
    let [header, _, signature]: [&str; 3] =
        control.split('.').collect::<Vec<_>>().try_into().unwrap();
    let other_payload = other.token.split('.').nth(1).unwrap();
    refused.push(("tampered", format!("{header}.{other_payload}.{signature}")));

    for (what, token) in refused {
        assert_eq!(status_with(token).await, StatusCode::UNAUTHORIZED, "{what}");
    }
}

#[tokio::test]
async fn imports_may_be_larger_than_other_bodies_but_not_without_limit() {
    let app = spawn_app().await;
    let user = app.register("big-import", json!({})).await;
    let token = Some(user.token.as_str());
    let padded_file = |bytes: usize| {
        json!({"format": "balancelife-export", "version": 1,
               "profile": {"note": "x".repeat(bytes)}})
    };

    let medium = app
        .post("/api/v1/import", token, padded_file(200 * 1024))
        .await;
    let huge = app
        .post("/api/v1/import", token, padded_file(2 * 1024 * 1024))
        .await;
    let mut entry = crate::support::TestApp::meal_body("2026-01-02T12:00:00Z");
    entry["notes"] = json!("x".repeat(70 * 1024));
    let large_entry = app.post("/api/v1/meal-entries", token, entry).await;

    assert_eq!(medium.status, StatusCode::OK, "{}", medium.body);
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.error_code(), "payload_too_large");
    assert_eq!(large_entry.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(large_entry.error_code(), "payload_too_large");
}

/// One client guessing an account's password from its own address spends that
/// client's budget for the account, never the account's own: the owner, signing in
/// from elsewhere meanwhile, gets in.
async fn an_attacker_elsewhere_cannot_lock_the_owner_out(app: TestApp) {
    let user = app.register("hammered", json!({})).await;
    let login = "/api/v1/auth/login";
    let (attacker, owner) = ("192.0.2.66", "2001:db8:7::1");
    let wrong = json!({"email": user.email, "password": "a wrong guess"});
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let response = app
            .call_from(attacker, Method::POST, login, None, Some(wrong.clone()))
            .await;
        statuses.push(response.status);
    }
    let right = json!({"email": user.email, "password": "a long enough password"});
    let owner_signs_in = app
        .call_from(owner, Method::POST, login, None, Some(right))
        .await;

    assert_eq!(
        owner_signs_in.status,
        StatusCode::OK,
        "{}",
        owner_signs_in.body
    );
    let limited = statuses
        .iter()
        .position(|status| *status == StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited, Some(10), "the attacker is limited: {statuses:?}");
}

#[tokio::test]
async fn an_attacker_elsewhere_cannot_lock_the_owner_out_on_one_instance() {
    an_attacker_elsewhere_cannot_lock_the_owner_out(spawn_app().await).await;
}

#[tokio::test]
async fn an_attacker_elsewhere_cannot_lock_the_owner_out_with_shared_limits() {
    an_attacker_elsewhere_cannot_lock_the_owner_out(crate::support::Backend::Cached.app().await)
        .await;
}

/// A stolen token must not let its holder guess the password (and then change it):
/// a wrong `current_password` counts as a failed log-in of the account.
#[tokio::test]
async fn guessing_the_current_password_is_limited_like_signing_in() {
    let app = spawn_app().await;
    let user = app.register("stolen-token", json!({})).await;
    let mut statuses = Vec::new();
    for n in 0..40 {
        let guess =
            json!({"password": "a brand new password", "current_password": format!("guess {n}")});
        let response = if n % 2 == 0 {
            app.patch("/api/v1/users/me", Some(&user.token), guess)
                .await
        } else {
            let guess = json!({"current_password": format!("guess {n}")});
            app.call(
                Method::DELETE,
                "/api/v1/users/me",
                Some(&user.token),
                Some(guess),
            )
            .await
        };
        statuses.push(response.status);
    }
    let login = app.log_in(&user.email, "a long enough password").await;

    let first_refusal = statuses
        .iter()
        .position(|status| *status == StatusCode::TOO_MANY_REQUESTS);
    // Signing up took one attempt of the ten a minute.
    assert_eq!(first_refusal, Some(9), "{statuses:?}");
    assert!(
        statuses[..9]
            .iter()
            .all(|status| *status == StatusCode::UNPROCESSABLE_ENTITY),
        "{statuses:?}"
    );
    assert!(
        statuses[9..]
            .iter()
            .all(|status| *status == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(
        login.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the guesses were the account's log-in attempts"
    );
}

/// Changing one's own e-mail address answers 409 for a taken one: with the right
/// password it is a way to ask whether an address has an account, so it is limited
/// as signing up is, per address tried.
#[tokio::test]
async fn probing_addresses_by_changing_ones_own_is_limited_like_signing_up() {
    let app = spawn_app().await;
    let prober = app.register("prober", json!({})).await;
    let mut statuses = Vec::new();
    for n in 0..40 {
        let taken = app.register(&format!("taken{n}"), json!({})).await;
        let change = json!({"email": taken.email, "current_password": "a long enough password"});
        let response = app
            .patch("/api/v1/users/me", Some(&prober.token), change)
            .await;
        statuses.push(response.status);
    }
    let answered = statuses
        .iter()
        .filter(|status| **status == StatusCode::CONFLICT)
        .count();
    assert!(
        answered < 10,
        "at most an e-mail budget of answers: {statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}
