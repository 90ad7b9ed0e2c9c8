//! Registration, login and bearer tokens.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::spawn_app;

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
