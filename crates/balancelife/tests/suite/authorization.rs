//! The authorization matrix: every user and entry endpoint, called with no token,
//! with another user's token, and with the owner's token.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, TestUser, spawn_app};

struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    owner_status: StatusCode,
    /// What another signed-in user gets: the same 404 as for a missing id.
    stranger_status: StatusCode,
}

/// Each endpoint with a fresh resource of `owner`, so destructive calls do not
/// disturb the next case.
async fn cases(app: &TestApp, owner: &TestUser) -> Vec<Case> {
    let mut cases = vec![
        Case {
            method: Method::GET,
            path: "/api/v1/users/me".into(),
            body: None,
            owner_status: StatusCode::OK,
            stranger_status: StatusCode::OK,
        },
        Case {
            method: Method::PATCH,
            path: "/api/v1/users/me".into(),
            body: Some(json!({"name": "Still Me"})),
            owner_status: StatusCode::OK,
            stranger_status: StatusCode::OK,
        },
        Case {
            method: Method::GET,
            path: format!("/api/v1/users/{}", owner.id),
            body: None,
            owner_status: StatusCode::OK,
            stranger_status: StatusCode::NOT_FOUND,
        },
    ];
    for (collection, body) in [
        ("meal-entries", TestApp::meal_body("2026-02-01T12:00:00Z")),
        (
            "workout-entries",
            TestApp::workout_body("2026-02-01T07:00:00Z"),
        ),
    ] {
        let make = || async {
            let created = app
                .post(
                    &format!("/api/v1/{collection}"),
                    Some(&owner.token),
                    body.clone(),
                )
                .await;
            assert_eq!(created.status, StatusCode::CREATED);
            format!(
                "/api/v1/{collection}/{}",
                created.body["id"].as_str().unwrap()
            )
        };
        let item = |method, path: String, body: Option<Value>, owner_status| Case {
            method,
            path,
            body,
            owner_status,
            stranger_status: StatusCode::NOT_FOUND,
        };
        cases.push(Case {
            method: Method::GET,
            path: format!("/api/v1/{collection}?from=2026-02-01"),
            body: None,
            owner_status: StatusCode::OK,
            stranger_status: StatusCode::OK,
        });
        cases.push(Case {
            method: Method::POST,
            path: format!("/api/v1/{collection}"),
            body: Some(body.clone()),
            owner_status: StatusCode::CREATED,
            stranger_status: StatusCode::CREATED,
        });
        cases.push(item(Method::GET, make().await, None, StatusCode::OK));
        cases.push(item(
            Method::PUT,
            make().await,
            Some(body.clone()),
            StatusCode::OK,
        ));
        cases.push(item(
            Method::PATCH,
            make().await,
            Some(json!({"notes": "edited"})),
            StatusCode::OK,
        ));
        cases.push(item(
            Method::DELETE,
            make().await,
            None,
            StatusCode::NO_CONTENT,
        ));
    }
    cases.push(Case {
        method: Method::DELETE,
        path: "/api/v1/users/me".into(),
        body: Some(json!({"current_password": "a long enough password"})),
        owner_status: StatusCode::NO_CONTENT,
        stranger_status: StatusCode::NO_CONTENT,
    });
    cases
}

#[tokio::test]
async fn every_endpoint_needs_a_token_and_hides_other_users_data() {
    let app = spawn_app().await;
    let owner = app.register("owner", json!({})).await;
    let cases = cases(&app, &owner).await;

    for case in &cases {
        let anonymous = app
            .call(case.method.clone(), &case.path, None, case.body.clone())
            .await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{} {} without a token",
            case.method,
            case.path
        );
        assert_eq!(anonymous.error_code(), "unauthorized");

        // A fresh stranger each time: some cases delete the caller.
        let stranger = app.register("stranger", json!({})).await;
        let as_stranger = app
            .call(
                case.method.clone(),
                &case.path,
                Some(&stranger.token),
                case.body.clone(),
            )
            .await;
        assert_eq!(
            as_stranger.status, case.stranger_status,
            "{} {} as a stranger: {}",
            case.method, case.path, as_stranger.body
        );
        if case.stranger_status == StatusCode::OK && case.path.contains("entries?") {
            assert_eq!(
                as_stranger.body["items"],
                json!([]),
                "a stranger lists none of the owner's entries"
            );
        }
        if case.stranger_status == StatusCode::OK && case.path == "/api/v1/users/me" {
            assert_eq!(
                as_stranger.body["id"],
                stranger.id.to_string(),
                "me is always the caller"
            );
        }
    }
    for case in &cases {
        let as_owner = app
            .call(
                case.method.clone(),
                &case.path,
                Some(&owner.token),
                case.body.clone(),
            )
            .await;
        assert_eq!(
            as_owner.status, case.owner_status,
            "{} {} as the owner: {}",
            case.method, case.path, as_owner.body
        );
    }
}

#[tokio::test]
async fn an_admin_sees_no_other_users_entries_either() {
    let app = spawn_app().await;
    let owner = app.register("private", json!({})).await;
    let admin = app.demo_login(1).await;
    let created = app
        .post(
            "/api/v1/meal-entries",
            Some(&owner.token),
            TestApp::meal_body("2026-02-03T12:00:00Z"),
        )
        .await;
    let path = format!(
        "/api/v1/meal-entries/{}",
        created.body["id"].as_str().unwrap()
    );

    assert_eq!(
        app.get(&path, Some(&admin.token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&path, Some(&admin.token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&path, Some(&owner.token)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_stranger_cannot_reuse_an_entry_id_with_post() {
    let app = spawn_app().await;
    let owner = app.register("first-id", json!({})).await;
    let stranger = app.register("same-id", json!({})).await;
    let mut body = TestApp::meal_body("2026-02-04T12:00:00Z");
    body["id"] = json!(Uuid::now_v7().to_string());
    app.post("/api/v1/meal-entries", Some(&owner.token), body.clone())
        .await;

    let response = app
        .post("/api/v1/meal-entries", Some(&stranger.token), body)
        .await;

    assert_eq!(
        response.status,
        StatusCode::NOT_FOUND,
        "the id's existence is not revealed"
    );
}

#[tokio::test]
async fn a_stranger_cannot_claim_an_entry_id_with_put() {
    let app = spawn_app().await;
    let owner = app.register("claimed", json!({})).await;
    let stranger = app.register("claimer", json!({})).await;
    let path = format!("/api/v1/meal-entries/{}", Uuid::now_v7());
    let created = app
        .put(
            &path,
            Some(&owner.token),
            TestApp::meal_body("2026-02-02T12:00:00Z"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);

    let mut hijack = TestApp::meal_body("2026-02-02T12:00:00Z");
    hijack["name"] = json!("Hijacked");
    let response = app.put(&path, Some(&stranger.token), hijack).await;

    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, Some(&owner.token)).await.body, created.body);
}
