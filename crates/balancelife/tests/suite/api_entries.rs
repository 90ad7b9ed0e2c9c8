//! Meal and workout entries through the API.

use axum::http::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::support::{TestApp, TestResponse, TestUser, spawn_app};

#[tokio::test]
async fn a_demo_user_logs_a_meal_and_finds_it_by_date() {
    let app = spawn_app().await;
    let demo = app.demo_login(0).await;

    let created = app
        .post(
            "/api/v1/meal-entries",
            Some(&demo.token),
            TestApp::meal_body("2026-02-10T11:45:00Z"),
        )
        .await;
    let listed = app
        .get(
            "/api/v1/meal-entries?from=2026-02-10&to=2026-02-10",
            Some(&demo.token),
        )
        .await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        created.headers["location"],
        format!("/api/v1/meal-entries/{id}")
    );
    assert_eq!(created.body["source"], "manual");
    assert_eq!(created.body["local_date"], "2026-02-10");
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["items"], json!([created.body]));
    assert_eq!(listed.body["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn the_local_date_follows_the_users_time_zone() {
    let app = spawn_app().await;
    let berlin = app
        .register("berlin", json!({"timezone": "Europe/Berlin"}))
        .await;
    let new_york = app
        .register("newyork", json!({"timezone": "America/New_York"}))
        .await;

    // 23:30 on 1 March in Berlin is 22:30 UTC; 23:30 in New York is 04:30 UTC the next day.
    let late_berlin = app
        .post(
            "/api/v1/meal-entries",
            Some(&berlin.token),
            TestApp::meal_body("2026-03-01T23:30:00+01:00"),
        )
        .await;
    let late_ny = app
        .post(
            "/api/v1/workout-entries",
            Some(&new_york.token),
            TestApp::workout_body("2026-03-02T04:30:00Z"),
        )
        .await;

    assert_eq!(late_berlin.body["local_date"], "2026-03-01");
    assert_eq!(
        late_berlin.body["eaten_at"], "2026-03-01T22:30:00Z",
        "stored in UTC"
    );
    assert_eq!(late_ny.body["local_date"], "2026-03-01");
}

#[tokio::test]
async fn posting_the_same_client_id_twice_creates_one_entry() {
    let app = spawn_app().await;
    let user = app.register("idem", json!({})).await;
    let id = Uuid::now_v7().to_string();
    let (first, retry, different) =
        post_twice_then_change(&app, &user, &id, "2026-02-11T08:00:00Z").await;

    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body, first.body);
    assert_eq!(different.status, StatusCode::CONFLICT);
    let listed = app
        .get("/api/v1/meal-entries?from=2026-02-11", Some(&user.token))
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

/// Posts a meal under client id `id` twice, then a third time with other content.
async fn post_twice_then_change(
    app: &TestApp,
    user: &TestUser,
    id: &str,
    eaten_at: &str,
) -> (TestResponse, TestResponse, TestResponse) {
    let mut body = TestApp::meal_body(eaten_at);
    body["id"] = json!(id);
    let first = app
        .post("/api/v1/meal-entries", Some(&user.token), body.clone())
        .await;
    let retry = app
        .post("/api/v1/meal-entries", Some(&user.token), body.clone())
        .await;
    body["kcal"] = json!(999);
    let different = app
        .post("/api/v1/meal-entries", Some(&user.token), body)
        .await;
    (first, retry, different)
}

#[tokio::test]
async fn put_creates_then_replaces_and_repeating_it_changes_nothing() {
    let app = spawn_app().await;
    let user = app.register("put", json!({})).await;
    let path = format!("/api/v1/workout-entries/{}", Uuid::now_v7());
    let body = TestApp::workout_body("2026-02-12T07:00:00Z");

    let created = app.put(&path, Some(&user.token), body.clone()).await;
    let repeated = app.put(&path, Some(&user.token), body.clone()).await;
    let mut changed = body.clone();
    changed["title"] = json!("Evening run");
    let replaced = app.put(&path, Some(&user.token), changed).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(repeated.status, StatusCode::OK);
    assert_eq!(
        repeated.body, created.body,
        "a repeat changes nothing, not even updated_at"
    );
    assert_eq!(replaced.status, StatusCode::OK);
    assert_eq!(replaced.body["title"], "Evening run");
    assert_eq!(replaced.body["created_at"], created.body["created_at"]);
}

#[tokio::test]
async fn ids_that_phones_make_are_accepted_and_keep_writes_idempotent() {
    let app = spawn_app().await;
    let user = app.register("v4ids", json!({})).await;
    // As `crypto.randomUUID()` prints it, and as iOS' `UUID().uuidString` does (upper case).
    let posted = Uuid::new_v4().to_string();
    let put = Uuid::new_v4().to_string().to_uppercase();
    let (first, retry, different) =
        post_twice_then_change(&app, &user, &posted, "2026-02-13T08:00:00Z").await;
    let path = format!("/api/v1/workout-entries/{put}");
    let workout = TestApp::workout_body("2026-02-13T07:00:00Z");
    let created = app.put(&path, Some(&user.token), workout.clone()).await;
    let repeated = app.put(&path, Some(&user.token), workout).await;

    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["id"], posted);
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body, first.body);
    assert_eq!(different.status, StatusCode::CONFLICT);
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["id"], put.to_lowercase());
    assert_eq!(repeated.status, StatusCode::OK);
    assert_eq!(repeated.body, created.body);
    let fetched = app
        .get(&format!("/api/v1/meal-entries/{posted}"), Some(&user.token))
        .await;
    assert_eq!(fetched.body, first.body);
}

#[tokio::test]
async fn put_refuses_ids_that_are_not_rfc_9562_uuids_or_disagree_with_the_body() {
    let app = spawn_app().await;
    let user = app.register("putids", json!({})).await;
    let mut body = TestApp::meal_body("2026-02-12T07:00:00Z");

    let mut refused = Vec::new();
    for not_an_id in [Uuid::nil(), Uuid::max()] {
        let answer = app
            .put(
                &format!("/api/v1/meal-entries/{not_an_id}"),
                Some(&user.token),
                body.clone(),
            )
            .await;
        refused.push(answer);
    }
    body["id"] = json!(Uuid::now_v7().to_string());
    let mismatch = app
        .put(
            &format!("/api/v1/meal-entries/{}", Uuid::new_v4()),
            Some(&user.token),
            body,
        )
        .await;

    for answer in refused {
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer.error_field(), "id");
    }
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(mismatch.error_field(), "id");
}

#[tokio::test]
async fn patch_updates_fields_clears_nullables_and_moves_the_day() {
    let app = spawn_app().await;
    let user = app.register("patcher", json!({})).await;
    let created = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            TestApp::meal_body("2026-02-13T12:00:00Z"),
        )
        .await;
    let path = format!(
        "/api/v1/meal-entries/{}",
        created.body["id"].as_str().unwrap()
    );

    let patched = app
        .patch(
            &path,
            Some(&user.token),
            json!({"eaten_at": "2026-02-14T08:00:00Z", "fiber_g": null, "notes": "moved"}),
        )
        .await;

    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["local_date"], "2026-02-14");
    assert_eq!(patched.body["fiber_g"], serde_json::Value::Null);
    assert_eq!(patched.body["notes"], "moved");
    assert_eq!(patched.body["kcal"], created.body["kcal"]);
    let old_day = app
        .get("/api/v1/meal-entries?from=2026-02-13", Some(&user.token))
        .await;
    let new_day = app
        .get("/api/v1/meal-entries?from=2026-02-14", Some(&user.token))
        .await;
    assert!(old_day.body["items"].as_array().unwrap().is_empty());
    assert_eq!(new_day.body["items"][0], patched.body);
}

#[tokio::test]
async fn delete_removes_the_entry() {
    let app = spawn_app().await;
    let user = app.register("deleter", json!({})).await;
    let created = app
        .post(
            "/api/v1/workout-entries",
            Some(&user.token),
            TestApp::workout_body("2026-02-15T06:00:00Z"),
        )
        .await;
    let path = format!(
        "/api/v1/workout-entries/{}",
        created.body["id"].as_str().unwrap()
    );

    let deleted = app.delete(&path, Some(&user.token)).await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&path, Some(&user.token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&path, Some(&user.token)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn lists_page_through_a_range_in_order() {
    let app = spawn_app().await;
    let user = app.register("pager", json!({"timezone": "UTC"})).await;
    for time in [
        "2026-02-16T20:00:00Z",
        "2026-02-16T08:00:00Z",
        "2026-02-17T12:00:00Z",
        "2026-02-18T12:00:00Z",
        "2026-02-19T12:00:00Z",
    ] {
        let r = app
            .post(
                "/api/v1/meal-entries",
                Some(&user.token),
                TestApp::meal_body(time),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }

    let mut times = Vec::new();
    let mut path = "/api/v1/meal-entries?from=2026-02-16&to=2026-02-18&limit=2".to_owned();
    loop {
        let page = app.get(&path, Some(&user.token)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        times.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["eaten_at"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!(
                    "/api/v1/meal-entries?from=2026-02-16&to=2026-02-18&limit=2&cursor={cursor}"
                )
            }
            None => break,
        }
    }

    assert_eq!(
        times,
        [
            "2026-02-16T08:00:00Z",
            "2026-02-16T20:00:00Z",
            "2026-02-17T12:00:00Z",
            "2026-02-18T12:00:00Z"
        ]
    );
}

#[tokio::test]
async fn bad_ranges_name_the_parameter() {
    let app = spawn_app().await;
    let user = app.register("ranges", json!({})).await;
    for (query, field) in [
        ("", "from"),
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("from=2026-02-10&to=2026-02-01", "to"),
        ("from=2024-01-01&to=2026-01-01", "to"),
        ("from=2026-02-10&cursor=AAAA", "cursor"),
    ] {
        let response = app
            .get(&format!("/api/v1/meal-entries?{query}"), Some(&user.token))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            response.body
        );
        assert_eq!(response.error_field(), field, "{query}");
    }
}

#[tokio::test]
async fn entries_from_a_package_must_name_a_real_one_with_its_version() {
    let app = spawn_app().await;
    let user = app.register("packaged", json!({})).await;
    let packages = app.get("/api/v1/meal-packages?limit=1", None).await;
    let package = &packages.body["items"][0];
    let mut body = TestApp::meal_body("2026-02-20T12:00:00Z");

    body["package_id"] = package["id"].clone();
    let without_version = app
        .post("/api/v1/meal-entries", Some(&user.token), body.clone())
        .await;
    body["package_version"] = package["version"].clone();
    let valid = app
        .post("/api/v1/meal-entries", Some(&user.token), body.clone())
        .await;
    body["package_id"] = json!(Uuid::now_v7().to_string());
    let unknown = app
        .post("/api/v1/meal-entries", Some(&user.token), body.clone())
        .await;
    body["package_id"] = package["id"].clone();
    body["source"] = json!("manual");
    let contradictory = app
        .post("/api/v1/meal-entries", Some(&user.token), body)
        .await;

    assert_eq!(without_version.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(without_version.error_field(), "package_version");
    assert_eq!(valid.status, StatusCode::CREATED, "{}", valid.body);
    assert_eq!(valid.body["source"], "package");
    assert_eq!(valid.body["package_id"], package["id"]);
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.error_field(), "package_id");
    assert_eq!(contradictory.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(contradictory.error_field(), "source");
}

#[tokio::test]
async fn entry_bodies_name_the_invalid_field() {
    let app = spawn_app().await;
    let user = app.register("validation", json!({})).await;
    for (field, value) in [
        ("kcal", json!(-1)),
        ("kcal", json!(25000)),
        ("protein_g", json!("lots")),
        ("slot", json!("brunch")),
        ("unit", json!("bucket")),
        ("quantity", json!(0)),
        ("name", json!("")),
        ("name", json!("x".repeat(121))),
        ("eaten_at", json!("yesterday")),
        ("eaten_at", json!("1999-12-31T23:00:00Z")),
        ("eaten_at", json!("2999-01-01T00:00:00Z")),
        ("id", json!("not-a-uuid")),
        ("id", json!({"$gt": ""})),
        ("sodium_mg", json!(1e9)),
    ] {
        let mut body = TestApp::meal_body("2026-02-21T12:00:00Z");
        body[field] = value.clone();

        let response = app
            .post("/api/v1/meal-entries", Some(&user.token), body)
            .await;

        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}: {}",
            response.body
        );
        assert_eq!(response.error_field(), field, "{field}={value}");
    }
    for (field, value) in [
        ("effort", json!(11)),
        ("duration_s", json!(0)),
        ("avg_heart_rate", json!(400)),
        ("activity", json!("napping")),
    ] {
        let mut body = TestApp::workout_body("2026-02-21T12:00:00Z");
        body[field] = value.clone();

        let response = app
            .post("/api/v1/workout-entries", Some(&user.token), body)
            .await;

        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}: {}",
            response.body
        );
        assert_eq!(response.error_field(), field);
    }
    let mut missing = TestApp::meal_body("2026-02-21T12:00:00Z");
    missing.as_object_mut().unwrap().remove("kcal");
    let response = app
        .post("/api/v1/meal-entries", Some(&user.token), missing)
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.error_field(), "kcal");
}

#[tokio::test]
async fn a_rejected_write_leaves_the_entry_as_it_was() {
    let app = spawn_app().await;
    let user = app.register("lossless", json!({})).await;
    let created = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            TestApp::meal_body("2026-02-22T12:00:00Z"),
        )
        .await;
    let path = format!(
        "/api/v1/meal-entries/{}",
        created.body["id"].as_str().unwrap()
    );

    let rejected = app
        .patch(&path, Some(&user.token), json!({"name": "ok", "kcal": -5}))
        .await;

    assert_eq!(rejected.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get(&path, Some(&user.token)).await.body, created.body);
}

#[tokio::test]
async fn patch_refuses_null_for_fields_that_cannot_be_cleared() {
    let app = spawn_app().await;
    let user = app.register("patchnull", json!({})).await;
    let created = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            TestApp::meal_body("2026-02-23T12:00:00Z"),
        )
        .await;
    let path = format!(
        "/api/v1/meal-entries/{}",
        created.body["id"].as_str().unwrap()
    );

    for field in ["name", "eaten_at", "kcal", "slot"] {
        let response = app
            .patch(&path, Some(&user.token), json!({ field: null }))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            response.body
        );
        assert_eq!(response.error_field(), field);
    }
    assert_eq!(app.get(&path, Some(&user.token)).await.body, created.body);
}

#[tokio::test]
async fn editing_an_entry_keeps_its_day_even_after_a_time_zone_change() {
    let app = spawn_app().await;
    let user = app
        .register("traveller", json!({"timezone": "Europe/Berlin"}))
        .await;
    // 23:30 in Berlin on 24 Feb; in Tokyo it is already 25 Feb.
    let created = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            TestApp::meal_body("2026-02-24T22:30:00Z"),
        )
        .await;
    let path = format!(
        "/api/v1/meal-entries/{}",
        created.body["id"].as_str().unwrap()
    );
    app.patch(
        "/api/v1/users/me",
        Some(&user.token),
        json!({"timezone": "Asia/Tokyo"}),
    )
    .await;

    let patched = app
        .patch(&path, Some(&user.token), json!({"notes": "late snack"}))
        .await;

    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(created.body["local_date"], "2026-02-24");
    assert_eq!(patched.body["local_date"], "2026-02-24");
}

#[tokio::test]
async fn a_package_version_newer_than_the_package_is_refused() {
    let app = spawn_app().await;
    let user = app.register("versions", json!({})).await;
    let packages = app.get("/api/v1/workout-packages?limit=1", None).await;
    let package = &packages.body["items"][0];
    let mut body = TestApp::workout_body("2026-02-25T07:00:00Z");
    body["package_id"] = package["id"].clone();
    body["package_version"] = json!(package["version"].as_i64().unwrap() + 1);

    let response = app
        .post("/api/v1/workout-entries", Some(&user.token), body)
        .await;

    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.error_field(), "package_version");
}

#[tokio::test]
async fn a_body_must_be_a_json_object() {
    let app = spawn_app().await;
    let user = app.register("arrays", json!({})).await;
    let body = json!([
        "2026-02-25T12:00:00Z",
        "lunch",
        "Soup",
        300,
        "g",
        400,
        20,
        50,
        10,
        null,
        null,
        null,
        null,
        null,
        null,
        null
    ]);

    let response = app
        .post("/api/v1/meal-entries", Some(&user.token), body)
        .await;

    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.error_field(), "body");
}
