//! Malformed requests: every one gets a 4xx with the JSON error body, never a 500.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::support::{TestApp, spawn_app};

fn raw(
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let user = app.register("malformed", json!({})).await;

    for body in ["{", "{\"kcal\": }", "{\"kcal\": 1,", "\u{0}", ""] {
        let response = app
            .send(raw(
                "POST",
                "/api/v1/meal-entries",
                &user.token,
                "application/json",
                body,
            ))
            .await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{body:?}: {}",
            response.body
        );
        assert_eq!(response.error_code(), "malformed_json");
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = spawn_app().await;
    let user = app.register("mediatype", json!({})).await;

    let response = app
        .send(raw(
            "POST",
            "/api/v1/meal-entries",
            &user.token,
            "text/plain",
            "{}",
        ))
        .await;

    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(response.error_code(), "unsupported_media_type");
}

/// A JSON-based media type (`application/…+json`) is JSON to every endpoint that
/// takes a body, the import of an export file included.
#[tokio::test]
async fn a_json_based_media_type_is_taken_as_json_everywhere() {
    let app = spawn_app().await;
    let user = app.register("jsonbased", json!({})).await;
    let entry = TestApp::meal_body(&chrono::Utc::now().to_rfc3339()).to_string();
    let file = json!({"format": "balancelife-export", "version": 1}).to_string();

    let logged = app
        .send(raw(
            "POST",
            "/api/v1/meal-entries",
            &user.token,
            "application/vnd.example+json",
            entry,
        ))
        .await;
    let imported = app
        .send(raw(
            "POST",
            "/api/v1/import",
            &user.token,
            "application/vnd.example+json; charset=utf-8",
            file,
        ))
        .await;

    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.body);
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let app = spawn_app().await;
    let user = app.register("oversized", json!({})).await;
    let mut body = TestApp::meal_body("2026-02-01T12:00:00Z");
    body["notes"] = json!("x".repeat(70 * 1024));

    let response = app
        .send(raw(
            "POST",
            "/api/v1/meal-entries",
            &user.token,
            "application/json",
            body.to_string(),
        ))
        .await;

    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.error_code(), "payload_too_large");
}

#[tokio::test]
async fn a_json_body_of_the_wrong_shape_is_a_422() {
    let app = spawn_app().await;
    let user = app.register("shape", json!({})).await;

    for body in [json!([]), json!("text"), json!(42)] {
        let response = app
            .post("/api/v1/meal-entries", Some(&user.token), body.clone())
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            response.body
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let app = spawn_app().await;

    let missing = app.get("/api/v1/nothing-here", None).await;
    let wrong_method = app.delete("/api/v1/meal-packages", None).await;

    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error_code(), "not_found");
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error_code(), "method_not_allowed");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;

    let ok = app.get("/health", None).await;
    let error = app.get("/api/v1/nothing-here", None).await;

    for response in [ok, error] {
        let id = response
            .headers
            .get("x-request-id")
            .expect("x-request-id is set");
        assert!(uuid::Uuid::parse_str(id.to_str().unwrap()).is_ok());
    }
}

#[tokio::test]
async fn health_reports_the_store_and_its_reason() {
    let app = spawn_app().await;

    let response = app.get("/health", None).await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body["status"], "ok");
    assert_eq!(response.body["store"], "memory");
    assert_eq!(response.body["store_reason"], "chosen by the test");
    assert_eq!(response.body["components"]["store"]["status"], "up");
    assert_eq!(response.body["components"]["store"]["persistent"], false);
    assert_eq!(response.body["version"], env!("CARGO_PKG_VERSION"));
}
