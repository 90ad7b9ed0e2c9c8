//! The public catalogue endpoints.

use axum::http::StatusCode;

use crate::support::spawn_app;

#[tokio::test]
async fn the_catalogue_is_public_and_pages_with_an_opaque_cursor() {
    let app = spawn_app().await;

    let first = app.get("/api/v1/meal-packages?limit=3", None).await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("more pages follow")
        .to_owned();
    let second = app
        .get(
            &format!("/api/v1/meal-packages?limit=3&cursor={cursor}"),
            None,
        )
        .await;

    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(second.status, StatusCode::OK);
    let slugs = |r: &crate::support::TestResponse| {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["slug"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (a, b) = (slugs(&first), slugs(&second));
    assert!(
        a.last() < b.first(),
        "pages continue in slug order: {a:?} then {b:?}"
    );
}

#[tokio::test]
async fn all_pages_together_list_every_package_once() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/workout-packages?limit=2".to_owned();
    loop {
        let page = app.get(&path, None).await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].clone()),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/workout-packages?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let everything = app.get("/api/v1/workout-packages?limit=100", None).await;
    let all_ids: Vec<_> = everything.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(seen, all_ids);
    assert!(seen.len() >= 8);
}

#[tokio::test]
async fn workout_packages_filter_by_level_and_tag() {
    let app = spawn_app().await;

    let beginner = app
        .get("/api/v1/workout-packages?level=beginner", None)
        .await;

    assert_eq!(beginner.status, StatusCode::OK);
    let items = beginner.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|p| p["level"] == "beginner"));
    let tag = items[0]["tags"][0].as_str().unwrap();
    let tagged = app
        .get(
            &format!("/api/v1/workout-packages?tag={tag}&level=beginner"),
            None,
        )
        .await;
    let tagged = tagged.body["items"].as_array().unwrap();
    assert!(!tagged.is_empty());
    assert!(
        tagged
            .iter()
            .all(|p| p["tags"].as_array().unwrap().iter().any(|t| t == tag))
    );
}

#[tokio::test]
async fn a_package_is_served_by_id_with_its_items() {
    let app = spawn_app().await;
    let list = app.get("/api/v1/meal-packages?limit=1", None).await;
    let id = list.body["items"][0]["id"].as_str().unwrap();

    let package = app.get(&format!("/api/v1/meal-packages/{id}"), None).await;

    assert_eq!(package.status, StatusCode::OK);
    assert_eq!(package.body["id"], id);
    assert!(!package.body["items"].as_array().unwrap().is_empty());
    assert!(package.body["daily_averages"]["kcal"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn unknown_and_malformed_package_ids_are_told_apart() {
    let app = spawn_app().await;

    let unknown = app
        .get(
            &format!("/api/v1/workout-packages/{}", uuid::Uuid::now_v7()),
            None,
        )
        .await;
    let malformed = app.get("/api/v1/workout-packages/not-an-id", None).await;

    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.error_code(), "not_found");
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(malformed.error_field(), "id");
}

#[tokio::test]
async fn bad_list_parameters_name_the_parameter() {
    let app = spawn_app().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage!", "cursor"),
        ("tag=Not%20A%20Tag", "tag"),
        ("tag=%7B%22%24gt%22%3A%22%22%7D", "tag"),
    ] {
        let response = app
            .get(&format!("/api/v1/meal-packages?{query}"), None)
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            response.body
        );
        assert_eq!(response.error_field(), field, "{query}");
    }
    let level = app.get("/api/v1/workout-packages?level=expert", None).await;
    assert_eq!(level.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(level.error_field(), "level");
}

#[tokio::test]
async fn unknown_query_parameters_are_refused() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/meal-packages?level=beginner", None).await;

    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.error_field(), "level");
}
