//! HTTP caching of reads: ETags, 304 Not Modified, and who may keep what.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use tower::ServiceExt;

use std::time::{Duration, Instant};

use balancelife::store::Store;
use balancelife_testkit::fixtures::meal_package;
use balancelife_testkit::servers::redis::SHARED as SHARED_REDIS;

use crate::support::{Backend, Cached, TestApp, TestResponse};

/// A GET with `If-None-Match`.
async fn revalidate(app: &TestApp, path: &str, token: Option<&str>, tag: &str) -> TestResponse {
    let mut request = Request::get(path).header(header::IF_NONE_MATCH, tag);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

fn header_of(response: &TestResponse, name: header::HeaderName) -> &str {
    response
        .headers
        .get(name)
        .map_or("", |value| value.to_str().unwrap_or_default())
}

#[tokio::test]
async fn the_catalogue_is_public_and_answers_304_to_its_own_tag() {
    let app = Backend::Memory.app().await;
    let list = app.get("/api/v1/meal-packages?limit=2", None).await;
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/meal-packages/{id}");

    let first = app.get(&path, None).await;
    let tag = header_of(&first, header::ETAG).to_owned();
    let again = revalidate(&app, &path, None, &tag).await;
    let other = revalidate(&app, &path, None, "\"not-this-one\"").await;
    let listed_again = revalidate(
        &app,
        "/api/v1/meal-packages?limit=2",
        None,
        header_of(&list, header::ETAG),
    )
    .await;

    assert_eq!(first.status, StatusCode::OK);
    assert!(
        tag.starts_with('"') && tag.len() > 10,
        "a strong tag: {tag}"
    );
    assert_eq!(
        header_of(&first, header::CACHE_CONTROL),
        "public, max-age=60"
    );
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.body, serde_json::Value::Null, "no body");
    assert_eq!(header_of(&again, header::ETAG), tag);
    assert_eq!(
        header_of(&again, header::CACHE_CONTROL),
        "public, max-age=60"
    );
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.body, first.body);
    assert_eq!(
        listed_again.status,
        StatusCode::NOT_MODIFIED,
        "list pages too"
    );
}

#[tokio::test]
async fn personal_reads_are_private_and_change_their_tag_when_they_change() {
    let app = Backend::Memory.app().await;
    let user = app.register("etag", json!({})).await;
    let me = app.get("/api/v1/users/me", Some(&user.token)).await;
    let tag = header_of(&me, header::ETAG).to_owned();

    let unchanged = revalidate(&app, "/api/v1/users/me", Some(&user.token), &tag).await;
    app.patch(
        "/api/v1/users/me",
        Some(&user.token),
        json!({"name": "Renamed Person"}),
    )
    .await;
    let changed = revalidate(&app, "/api/v1/users/me", Some(&user.token), &tag).await;
    let day = app
        .get(
            "/api/v1/meal-entries?from=2026-01-01&to=2026-01-01",
            Some(&user.token),
        )
        .await;

    assert_eq!(header_of(&me, header::CACHE_CONTROL), "private, no-cache");
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert_eq!(changed.status, StatusCode::OK, "a new name, a new tag");
    assert_eq!(changed.body["name"], "Renamed Person");
    assert_ne!(header_of(&changed, header::ETAG), tag);
    assert_eq!(header_of(&day, header::CACHE_CONTROL), "private, no-cache");
    assert!(!header_of(&day, header::ETAG).is_empty());
}

#[tokio::test]
async fn answers_with_tokens_errors_and_exports_are_not_kept() {
    let app = Backend::Memory.app().await;
    let user = app.register("no-store", json!({})).await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": user.email, "password": "a long enough password"}),
        )
        .await;
    let missing = app
        .get(
            &format!("/api/v1/meal-packages/{}", uuid::Uuid::now_v7()),
            None,
        )
        .await;
    let someone_else = revalidate(&app, "/api/v1/users/me", None, "*").await;

    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(header_of(&login, header::CACHE_CONTROL), "no-store");
    assert_eq!(header_of(&login, header::ETAG), "");
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(header_of(&missing, header::CACHE_CONTROL), "no-store");
    assert_eq!(
        someone_else.status,
        StatusCode::UNAUTHORIZED,
        "If-None-Match: * does not skip authentication"
    );
}

/// Two instances on one database and one Redis, each holding the package in memory:
/// a change written through one changes the tag the other answers with, within the
/// cross-instance bound, and the new tag is then answered with 304.
#[tokio::test]
async fn a_tag_changes_after_a_write_through_another_instance() {
    let first = Cached::on(&SHARED_REDIS).await;
    let second = first.second_process().await;
    first.l1_ready().await;
    second.l1_ready().await;
    let mut package = meal_package("etag-across", &["quick"], true);
    first
        .store
        .meal_packages()
        .upsert(package.clone())
        .await
        .unwrap();
    let (writer, reader) = (
        TestApp::cached(first.store.clone()),
        TestApp::cached(second.store.clone()),
    );
    let path = format!("/api/v1/meal-packages/{}", package.id);
    let before = reader.get(&path, None).await;
    let old_tag = header_of(&before, header::ETAG).to_owned();
    assert_eq!(
        revalidate(&reader, &path, None, &old_tag).await.status,
        StatusCode::NOT_MODIFIED
    );

    package.name = "Renamed Elsewhere".try_into().unwrap();
    first.store.meal_packages().upsert(package).await.unwrap();
    let acknowledged = Instant::now();
    assert_eq!(
        revalidate(&writer, &path, None, &old_tag).await.status,
        StatusCode::OK,
        "the writer at once"
    );
    let changed = loop {
        let answer = revalidate(&reader, &path, None, &old_tag).await;
        if answer.status == StatusCode::OK {
            break answer;
        }
        assert_eq!(answer.status, StatusCode::NOT_MODIFIED);
        assert!(
            acknowledged.elapsed() < Duration::from_secs(1),
            "the old tag still matches after a second"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };

    let new_tag = header_of(&changed, header::ETAG).to_owned();
    assert_ne!(new_tag, old_tag);
    assert_eq!(changed.body["name"], "Renamed Elsewhere");
    assert_eq!(
        revalidate(&reader, &path, None, &new_tag).await.status,
        StatusCode::NOT_MODIFIED
    );
}

/// The catalogue's answers are kept encoded beside the packages held in memory: a
/// draft stays hidden there too, and a page read from memory is byte for byte the
/// page read afresh.
#[tokio::test]
async fn answers_kept_in_memory_hide_drafts_and_match_a_fresh_encoding() {
    let cached = Cached::on(&SHARED_REDIS).await;
    cached.l1_ready().await;
    let draft = meal_package("kept-draft", &["quick"], false);
    let shown = meal_package("kept-shown", &["quick"], true);
    for package in [&draft, &shown] {
        cached
            .store
            .meal_packages()
            .upsert(package.clone())
            .await
            .unwrap();
    }
    let app = TestApp::cached(cached.store.clone());
    let fresh = TestApp::new(cached.mongo.clone());
    let page = "/api/v1/meal-packages?limit=1";
    let hits = cached.cache_hits();

    for _ in 0..3 {
        let hidden = app
            .get(&format!("/api/v1/meal-packages/{}", draft.id), None)
            .await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        let listed = app.get(page, None).await;
        assert_eq!(listed.body, fresh.get(page, None).await.body);
        assert_eq!(
            header_of(&listed, header::ETAG),
            header_of(&fresh.get(page, None).await, header::ETAG)
        );
    }
    assert!(cached.cache_hits() > hits, "answered from a cache tier");
}

/// A package as large as the catalogue's input limits let it be: 400 meals with
/// names of 120 characters and a description of 2,000.
fn largest_meal_package(slug: &str) -> serde_json::Value {
    let name = "n".repeat(120);
    let items: Vec<_> = (0..400)
        .map(|_| {
            json!({"day": 1, "slot": "dinner", "name": name, "portion_g": 300, "kcal": 500,
                "protein_g": 20, "carbs_g": 40, "fat_g": 10})
        })
        .collect();
    json!({"slug": slug, "name": format!("Plan {slug}"), "description": "d".repeat(2000),
        "tags": [], "diet_tags": [], "duration_days": 1, "items": items})
}

/// A page of the catalogue can be larger than the body the tagging layer reads
/// whole (4 MiB): it is answered in full, never with a 500, and still revalidates.
#[tokio::test]
async fn a_catalogue_page_over_four_mebibytes_is_answered_whole() {
    let app = Backend::Memory.app().await;
    let admin = app.demo_login(1).await;
    for n in 0..48 {
        let body = largest_meal_package(&format!("large-{n:02}"));
        let created = app
            .post("/api/v1/meal-packages", Some(&admin.token), body)
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    let path = "/api/v1/meal-packages?status=all&limit=100";
    let request = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", admin.token))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let tag = response.headers().get(header::ETAG).cloned();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();

    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes[..200.min(bytes.len())])
    );
    assert!(bytes.len() > 4 * 1024 * 1024, "{} bytes", bytes.len());
    let page: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(page["items"].as_array().unwrap().len() >= 48);
    let tag = tag.expect("tagged: the page was encoded with its tag");
    let again = revalidate(&app, path, Some(&admin.token), tag.to_str().unwrap()).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}
