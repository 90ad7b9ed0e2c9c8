//! Registration, login, bearer tokens and the web app's cookie session.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, spawn_app};

#[tokio::test]
async fn registering_returns_the_user_and_a_working_token() {
    let app = spawn_app().await;

    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "New.Person@Example.com", "password": "a long enough password", "name": "New Person",
                   "timezone": "Asia/Tokyo", "goal": "lose", "daily_kcal_target": 1800}),
        )
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let user = &response.body["user"];
    assert_eq!(
        user["email"], "new.person@example.com",
        "e-mails are stored lower-cased"
    );
    assert_eq!(user["role"], "user");
    assert_eq!(user["timezone"], "Asia/Tokyo");
    assert_eq!(user["daily_kcal_target"], 1800.0);
    assert!(user.get("password_hash").is_none());
    assert!(
        !response.body.to_string().contains("argon2"),
        "no hash anywhere in the body"
    );
    assert_eq!(response.body["token_type"], "Bearer");
    let token = response.body["token"].as_str().unwrap();
    let me = app.get("/api/v1/users/me", Some(token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], user["id"]);
}

#[tokio::test]
async fn an_email_registers_once_whatever_its_case() {
    let app = spawn_app().await;
    let first = app.register("dup", json!({})).await;

    let again = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": first.email.to_uppercase(), "password": "another good password", "name": "Dup"}),
        )
        .await;

    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error_code(), "conflict");
}

#[tokio::test]
async fn clients_cannot_choose_their_role() {
    let app = spawn_app().await;

    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "sneaky@example.com", "password": "a long enough password", "name": "Sneaky", "role": "admin"}),
        )
        .await;

    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.error_field(), "role");
}

#[tokio::test]
async fn registration_names_the_invalid_field() {
    let app = spawn_app().await;
    let valid =
        json!({"email": "ok@example.com", "password": "a long enough password", "name": "Ok"});
    for (field, value) in [
        ("email", json!("not-an-email")),
        ("email", json!({"$gt": ""})),
        ("password", json!("short")),
        ("name", json!("   ")),
        ("timezone", json!("Mars/Olympus")),
        ("height_cm", json!(-5)),
        ("weight_kg", json!(1000)),
        ("daily_kcal_target", json!(50000)),
        ("goal", json!("bulk")),
        ("birth_date", json!("2999-01-01")),
    ] {
        let mut body = valid.clone();
        body[field] = value.clone();

        let response = app.post("/api/v1/auth/register", None, body).await;

        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}: {}",
            response.body
        );
        assert_eq!(response.error_field(), field);
    }
}

#[tokio::test]
async fn a_demo_user_logs_in_with_the_documented_password() {
    let app = spawn_app().await;

    let demo = app.demo_login(0).await;

    let me = app.get("/api/v1/users/me", Some(&demo.token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], demo.email);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let user = app.register("login", json!({})).await;

    let wrong_password = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": user.email, "password": "not the password"}),
        )
        .await;
    let unknown_email = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "nobody@example.com", "password": "not the password"}),
        )
        .await;
    let right = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": user.email.to_uppercase(), "password": "a long enough password"}),
        )
        .await;

    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.status, unknown_email.status);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(right.status, StatusCode::OK);
    assert_eq!(right.body["user"]["id"], user.id.to_string());
}

#[tokio::test]
async fn missing_malformed_and_foreign_tokens_are_refused() {
    let app = spawn_app().await;
    let user = app.register("tokens", json!({})).await;
    let foreign_keys = balancelife::auth::TokenKeys::new(
        &"some-other-service-secret-0123456789".to_owned().into(),
        std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(60),
    );
    let stored = app.state.store.get_user(user.id).await.unwrap();
    let forged = foreign_keys.issue(&stored);

    for (label, header) in [
        ("missing", None),
        ("garbage", Some("garbage".to_owned())),
        ("forged", Some(forged)),
        (
            "truncated",
            Some(user.token[..user.token.len() - 4].to_owned()),
        ),
    ] {
        let response = app.get("/api/v1/users/me", header.as_deref()).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(response.error_code(), "unauthorized", "{label}");
    }
    let mut request = axum::http::Request::builder().uri("/api/v1/users/me");
    request = request.header("authorization", format!("Basic {}", user.token));
    let wrong_scheme = app
        .send(request.body(axum::body::Body::empty()).unwrap())
        .await;
    assert_eq!(wrong_scheme.status, StatusCode::UNAUTHORIZED);
}

/// A request with the given cookies and headers.
async fn with_cookies(
    app: &TestApp,
    method: axum::http::Method,
    path: &str,
    cookies: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> crate::support::TestResponse {
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("cookie", cookies);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string())),
        None => request.body(axum::body::Body::empty()),
    };
    app.send(request.unwrap()).await
}

#[tokio::test]
async fn the_web_apps_session_lives_in_cookies_that_scripts_cannot_read_or_forge_from_elsewhere() {
    let app = spawn_app().await;
    let opened = open_session(&app, &[]).await;
    assert!(
        opened.body.get("token").is_none(),
        "the token stays out of the body"
    );
    let set = set_cookies(&opened);
    let session = set.iter().find(|c| c.starts_with("bl_session=")).unwrap();
    let csrf = set.iter().find(|c| c.starts_with("bl_csrf=")).unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(
        !csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"),
        "{csrf}"
    );
    let value = |cookie: &str| cookie.split(';').next().unwrap().to_owned();
    let cookies = format!("{}; {}", value(session), value(csrf));
    let csrf_token = value(csrf).trim_start_matches("bl_csrf=").to_owned();
    let meal = TestApp::meal_body("2026-03-01T12:00:00Z");
    let path = "/api/v1/meal-entries";
    use axum::http::Method;

    let me = with_cookies(&app, Method::GET, "/api/v1/users/me", &cookies, &[], None).await;
    let forged = with_cookies(&app, Method::POST, path, &cookies, &[], Some(meal.clone())).await;
    let elsewhere = with_cookies(
        &app,
        Method::POST,
        path,
        &cookies,
        &[
            ("x-csrf-token", &csrf_token),
            ("origin", "https://elsewhere.example"),
            ("host", "app.example"),
        ],
        Some(meal.clone()),
    )
    .await;
    let from_the_app = with_cookies(
        &app,
        Method::POST,
        path,
        &cookies,
        &[
            ("x-csrf-token", &csrf_token),
            ("origin", "http://app.example"),
            ("host", "app.example"),
        ],
        Some(meal),
    )
    .await;
    let closed = with_cookies(&app, Method::DELETE, "/api/v1/session", &cookies, &[], None).await;

    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.body["email"],
        balancelife::sample::DEMO_ACCOUNTS[0].email
    );
    for refused in [&forged, &elsewhere] {
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(refused.error_code(), "cross_site_request");
    }
    assert_eq!(
        from_the_app.status,
        StatusCode::CREATED,
        "{}",
        from_the_app.body
    );
    assert_eq!(closed.status, StatusCode::NO_CONTENT);
    let cleared: Vec<&str> = closed
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cleared.len(), 2);
    assert!(
        cleared.iter().all(|c| c.contains("Max-Age=0")),
        "{cleared:?}"
    );

    // Without the app's proof, a sign-out only clears the cookies (a page elsewhere
    // could send it); with it, the session's device is signed out and its token,
    // replayed, is refused.
    let still = with_cookies(&app, Method::GET, "/api/v1/users/me", &cookies, &[], None).await;
    assert_eq!(still.status, StatusCode::OK);
    let from_the_app = [
        ("x-csrf-token", csrf_token.as_str()),
        ("origin", "http://app.example"),
        ("host", "app.example"),
    ];
    let signed_out = with_cookies(
        &app,
        Method::DELETE,
        "/api/v1/session",
        &cookies,
        &from_the_app,
        None,
    )
    .await;
    assert_eq!(signed_out.status, StatusCode::NO_CONTENT);
    let replayed = with_cookies(&app, Method::GET, "/api/v1/users/me", &cookies, &[], None).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
}

/// The demo user signs in to a cookie session, the request carrying `headers`.
async fn open_session(app: &TestApp, headers: &[(&str, &str)]) -> crate::support::TestResponse {
    let account = &balancelife::sample::DEMO_ACCOUNTS[0];
    let body = json!({"email": account.email, "password": account.password});
    let opened = with_cookies(
        app,
        axum::http::Method::POST,
        "/api/v1/session",
        "",
        headers,
        Some(body),
    )
    .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
    opened
}

/// The `Set-Cookie` values of an answer.
fn set_cookies(response: &crate::support::TestResponse) -> Vec<String> {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

/// The demo user's cookie session: the `Cookie` header the browser would send, and
/// the CSRF token the app repeats in `X-CSRF-Token`.
async fn cookie_session(app: &TestApp) -> (String, String) {
    let opened = open_session(app, &[]).await;
    let pairs: Vec<(String, String)> = set_cookies(&opened)
        .iter()
        .filter_map(|cookie| {
            let (name, value) = cookie.split(';').next()?.split_once('=')?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    let csrf = pairs
        .iter()
        .find(|(name, _)| name.ends_with("bl_csrf"))
        .map(|(_, value)| value.clone())
        .expect("a CSRF cookie");
    let cookies = pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    (cookies, csrf)
}

/// Every method that writes, on a route that takes it, signed in by the cookie alone
/// or with a CSRF token that is not the session's: each is refused before it is
/// looked at any further, and nothing changes.
#[tokio::test]
async fn a_cookie_write_of_any_method_without_the_sessions_csrf_token_is_refused() {
    use axum::http::Method;
    let app = spawn_app().await;
    let (cookies, _) = cookie_session(&app).await;
    let bearer = app.demo_login(0).await;
    let meal = TestApp::meal_body("2026-03-01T12:00:00Z");
    let created = app
        .post("/api/v1/meal-entries", Some(&bearer.token), meal.clone())
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let entry = format!(
        "/api/v1/meal-entries/{}",
        created.body["id"].as_str().unwrap()
    );
    let fresh = format!("/api/v1/meal-entries/{}", uuid::Uuid::now_v7());
    let writes = [
        (Method::POST, "/api/v1/meal-entries", Some(meal.clone())),
        (Method::PUT, fresh.as_str(), Some(meal)),
        (
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"name": "Forged"})),
        ),
        (Method::PATCH, entry.as_str(), Some(json!({"kcal": 1}))),
        (Method::DELETE, entry.as_str(), None),
    ];
    for (method, path, body) in writes {
        for header in [None, Some("not-the-sessions-token")] {
            let headers: Vec<(&str, &str)> = header
                .map(|token| ("x-csrf-token", token))
                .into_iter()
                .collect();
            let response =
                with_cookies(&app, method.clone(), path, &cookies, &headers, body.clone()).await;
            assert_eq!(
                response.status,
                StatusCode::FORBIDDEN,
                "{method} {path} with CSRF header {header:?}: {}",
                response.body
            );
            assert_eq!(response.error_code(), "cross_site_request");
        }
    }
    let me = app.get("/api/v1/users/me", Some(&bearer.token)).await;
    assert_ne!(me.body["name"], "Forged");
    let kept = app.get(&entry, Some(&bearer.token)).await;
    assert_eq!(kept.status, StatusCode::OK);
    assert_eq!(kept.body["kcal"], 420.0);
    assert_eq!(
        app.get(&fresh, Some(&bearer.token)).await.status,
        StatusCode::NOT_FOUND
    );
}

/// A cookie planted from a sibling host or over plain HTTP (`bl_csrf=attacker`), with
/// the same value in the header, beside a genuine session cookie: the token must be
/// the session's own, not merely equal to a cookie.
#[tokio::test]
async fn a_csrf_token_the_attacker_planted_does_not_pass_for_the_sessions() {
    use axum::http::Method;
    let app = spawn_app().await;
    let (cookies, csrf) = cookie_session(&app).await;
    let session = cookies
        .split("; ")
        .find(|cookie| cookie.starts_with("bl_session="))
        .expect("a session cookie");
    let planted = format!("{session}; bl_csrf=attacker");
    let meal = TestApp::meal_body("2026-03-01T12:00:00Z");
    let path = "/api/v1/meal-entries";

    let forged = with_cookies(
        &app,
        Method::POST,
        path,
        &planted,
        &[("x-csrf-token", "attacker")],
        Some(meal.clone()),
    )
    .await;
    let genuine = with_cookies(
        &app,
        Method::POST,
        path,
        &planted,
        &[("x-csrf-token", &csrf)],
        Some(meal),
    )
    .await;

    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert_eq!(forged.error_code(), "cross_site_request");
    assert_eq!(genuine.status, StatusCode::CREATED, "{}", genuine.body);
}

/// Behind a proxy that ends TLS (`X-Forwarded-Proto: https`) the cookies are
/// `Secure` and named `__Host-…`, which a browser takes only from this host over
/// HTTPS, for the whole site; a session cookie under the plain name is then not
/// accepted, since a sibling host or plain HTTP could have set it.
#[tokio::test]
async fn over_https_the_cookies_are_host_only_and_secure() {
    let app = spawn_app().await;
    let https = ("x-forwarded-proto", "https");
    let set = set_cookies(&open_session(&app, &[https]).await);
    for name in ["__Host-bl_session=", "__Host-bl_csrf="] {
        let cookie = set
            .iter()
            .find(|cookie| cookie.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {set:?}"));
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert!(cookie.contains("; Path=/;"), "{cookie}");
        assert!(!cookie.contains("Domain"), "{cookie}");
    }
    let session = set[0].split(';').next().unwrap().to_owned();
    let token = session.split_once('=').unwrap().1;
    let me = |cookie: String| {
        let app = &app;
        async move {
            let path = "/api/v1/users/me";
            with_cookies(app, axum::http::Method::GET, path, &cookie, &[https], None).await
        }
    };
    assert_eq!(me(session.clone()).await.status, StatusCode::OK);
    assert_eq!(
        me(format!("bl_session={token}")).await.status,
        StatusCode::UNAUTHORIZED,
        "a plain-named session cookie over HTTPS"
    );
}

/// `COOKIE_SECURE=always`: the same without a proxy that says so.
#[tokio::test]
async fn the_operator_can_make_the_cookies_secure_always() {
    let mut settings = balancelife::config::Settings::default();
    settings.auth.cookie_secure = balancelife::config::CookieSecure::Always;
    let app = TestApp::from_settings(&settings).await;
    let set = set_cookies(&open_session(&app, &[]).await);
    assert_eq!(set.len(), 2, "{set:?}");
    for cookie in &set {
        assert!(cookie.starts_with("__Host-bl_"), "{cookie}");
        assert!(cookie.contains("; Secure"), "{cookie}");
    }
}

/// What the web app asks on opening: 200 whether or not anyone is signed in.
#[tokio::test]
async fn asking_whether_a_session_is_open_is_never_an_error() {
    use axum::http::Method;
    let app = spawn_app().await;
    let (cookies, _) = cookie_session(&app).await;
    let ask = |cookies: String| {
        let app = &app;
        async move { with_cookies(app, Method::GET, "/api/v1/session", &cookies, &[], None).await }
    };

    let nobody = ask(String::new()).await;
    let void = ask("bl_session=not-a-token".to_owned()).await;
    let signed_in = ask(cookies).await;

    for signed_out in [&nobody, &void] {
        assert_eq!(signed_out.status, StatusCode::OK, "{}", signed_out.body);
        assert_eq!(signed_out.body, json!({"signed_in": false, "user": null}));
    }
    assert_eq!(signed_in.status, StatusCode::OK);
    assert_eq!(signed_in.body["signed_in"], true);
    assert_eq!(
        signed_in.body["user"]["email"],
        balancelife::sample::DEMO_ACCOUNTS[0].email
    );
}
