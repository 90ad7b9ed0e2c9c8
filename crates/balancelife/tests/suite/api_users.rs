//! `/users/me` and `/users/{id}`.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::spawn_app;

#[tokio::test]
async fn patching_me_changes_only_the_given_fields_and_null_clears() {
    let app = spawn_app().await;
    let user = app
        .register("patch", json!({"height_cm": 170, "goal": "maintain"}))
        .await;

    let response = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"name": "Renamed", "height_cm": null, "weight_kg": 64.5}),
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["name"], "Renamed");
    assert_eq!(response.body["height_cm"], serde_json::Value::Null);
    assert_eq!(response.body["weight_kg"], 64.5);
    assert_eq!(response.body["goal"], "maintain", "absent fields stay");
    let me = app.get("/api/v1/users/me", Some(&user.token)).await;
    assert_eq!(me.body, response.body);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one() {
    let app = spawn_app().await;
    let user = app.register("password", json!({})).await;

    let without = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"password": "a brand new password"}),
        )
        .await;
    let wrong = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"password": "a brand new password", "current_password": "wrong"}),
        )
        .await;
    let right = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"password": "a brand new password", "current_password": "a long enough password"}),
        )
        .await;

    assert_eq!(without.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(without.error_field(), "current_password");
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(right.status, StatusCode::OK);
    let old = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": user.email, "password": "a long enough password"}),
        )
        .await;
    let new = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": user.email, "password": "a brand new password"}),
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    assert_eq!(new.status, StatusCode::OK);
}

#[tokio::test]
async fn taking_someone_elses_email_conflicts() {
    let app = spawn_app().await;
    let first = app.register("first", json!({})).await;
    let second = app.register("second", json!({})).await;

    let response = app
        .patch(
            "/api/v1/users/me",
            Some(&second.token),
            json!({"email": first.email, "current_password": "a long enough password"}),
        )
        .await;

    assert_eq!(response.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn deleting_me_removes_my_entries_and_voids_my_token() {
    let app = spawn_app().await;
    let user = app.register("leaver", json!({})).await;
    let created = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            crate::support::TestApp::meal_body("2026-02-01T12:00:00Z"),
        )
        .await;
    let entry_id: uuid::Uuid = created.body["id"].as_str().unwrap().parse().unwrap();

    let deleted = app
        .call(
            Method::DELETE,
            "/api/v1/users/me",
            Some(&user.token),
            Some(json!({"current_password": "a long enough password"})),
        )
        .await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&user.token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let stored = app.state.store.meal_entries().get(user.id, entry_id).await;
    assert!(matches!(
        stored,
        Err(balancelife::store::StoreError::NotFound)
    ));
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": user.email, "password": "a long enough password"}),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_user_reads_themself_an_admin_reads_anyone_others_see_nothing() {
    let app = spawn_app().await;
    let alice = app.register("alice", json!({})).await;
    let bob = app.register("bob", json!({})).await;
    let admin = app.demo_login(1).await;
    let alice_path = format!("/api/v1/users/{}", alice.id);

    let by_self = app.get(&alice_path, Some(&alice.token)).await;
    let by_other = app.get(&alice_path, Some(&bob.token)).await;
    let by_admin = app.get(&alice_path, Some(&admin.token)).await;
    let missing = app
        .get(
            &format!("/api/v1/users/{}", uuid::Uuid::now_v7()),
            Some(&admin.token),
        )
        .await;

    assert_eq!(by_self.status, StatusCode::OK);
    assert_eq!(by_other.status, StatusCode::NOT_FOUND);
    assert_eq!(by_admin.status, StatusCode::OK);
    assert_eq!(by_admin.body["email"], alice.email);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_password_change_signs_every_other_device_out() {
    let app = spawn_app().await;
    let user = app.register("rotate", json!({})).await;
    let second_session = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": user.email, "password": "a long enough password"}),
        )
        .await;
    let second_token = second_session.body["token"].as_str().unwrap().to_owned();

    let changed = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"password": "a different password", "current_password": "a long enough password"}),
        )
        .await;

    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&user.token)).await.status,
        StatusCode::OK,
        "the device that proved the old password stays signed in"
    );
    assert_eq!(
        app.get("/api/v1/users/me", Some(&second_token))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let fresh = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": user.email, "password": "a different password"}),
        )
        .await;
    let fresh_token = fresh.body["token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/users/me", Some(fresh_token)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn changing_the_email_needs_the_current_password() {
    let app = spawn_app().await;
    let user = app.register("moving", json!({})).await;
    let new_email = format!("moved-{}@example.test", uuid::Uuid::now_v7().simple());

    let without = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"email": new_email}),
        )
        .await;
    let with = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"email": new_email, "current_password": "a long enough password"}),
        )
        .await;

    assert_eq!(without.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(without.error_field(), "current_password");
    assert_eq!(with.status, StatusCode::OK, "{}", with.body);
    assert_eq!(with.body["email"], new_email);
}

#[tokio::test]
async fn fields_that_cannot_be_cleared_refuse_null() {
    let app = spawn_app().await;
    let user = app.register("nulls", json!({})).await;

    for field in ["name", "email", "timezone"] {
        let response = app
            .patch(
                "/api/v1/users/me",
                Some(&user.token),
                json!({ field: null }),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            response.body
        );
        assert_eq!(response.error_field(), field);
    }
    let lonely = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"current_password": "a long enough password"}),
        )
        .await;
    assert_eq!(lonely.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(lonely.error_field(), "current_password");
}

/// A token alone (stolen, or a session left open) does not delete the account: the
/// current password must come with it.
#[tokio::test]
async fn deleting_me_needs_the_current_password() {
    let app = spawn_app().await;
    let user = app.register("careful", json!({})).await;
    let delete = |body: Option<serde_json::Value>| {
        let (app, token) = (&app, user.token.clone());
        async move {
            app.call(Method::DELETE, "/api/v1/users/me", Some(&token), body)
                .await
        }
    };

    let without_body = delete(None).await;
    let without_password = delete(Some(json!({}))).await;
    let wrong = delete(Some(json!({"current_password": "not my password"}))).await;
    let still_there = app.get("/api/v1/users/me", Some(&user.token)).await;
    let right = delete(Some(json!({"current_password": "a long enough password"}))).await;

    assert_eq!(without_body.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(without_password.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(without_password.error_field(), "current_password");
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.error_field(), "current_password");
    assert_eq!(still_there.status, StatusCode::OK);
    assert_eq!(right.status, StatusCode::NO_CONTENT, "{}", right.body);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&user.token)).await.status,
        StatusCode::UNAUTHORIZED
    );
}
