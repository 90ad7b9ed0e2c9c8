//! Catalogue management through the API: who may write, drafts kept from the public,
//! versions, `If-Match`, slugs, authorship, archiving, and what applying a package
//! does after a revision. The scenarios run on every store; the cache's part (each
//! write voids exactly what it touched) has tests of its own below.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use balancelife::domain::StatusFilter;
use balancelife::store::cache::keys::Scope;
use balancelife_testkit::servers::redis;

use crate::support::{Backend, Cached, TestApp, TestResponse, TestUser, until};

const SECOND: std::time::Duration = std::time::Duration::from_secs(1);

on_every_store!(
    drafts_are_for_admins_until_published,
    every_change_of_content_bumps_the_version_and_if_match_guards_it,
    slugs_stay_unique,
    entries_keep_the_version_they_were_logged_from,
    an_archived_package_leaves_the_catalogue_and_can_come_back,
    a_draft_never_published_is_deleted_for_good,
    a_package_that_was_public_or_is_logged_from_is_archived_not_deleted,
    a_prescribed_exercise_must_be_one_a_logged_set_can_hold,
);

const MEALS: &str = "/api/v1/meal-packages";
const WORKOUTS: &str = "/api/v1/workout-packages";

/// A valid two-day meal package body.
fn meal_package(slug: &str) -> Value {
    let meal = |day: u16, slot: &str, name: &str, kcal: f64| {
        json!({"day": day, "slot": slot, "name": name, "portion_g": 300, "kcal": kcal,
            "protein_g": 20, "carbs_g": 40, "fat_g": 10})
    };
    json!({
        "slug": slug,
        "name": format!("Plan {slug}"),
        "description": "Two light days.",
        "tags": ["light"],
        "diet_tags": ["vegetarian"],
        "duration_days": 2,
        "items": [
            meal(1, "breakfast", "Oats", 350.0),
            meal(1, "dinner", "Soup", 450.0),
            meal(2, "lunch", "Salad", 500.0),
        ],
    })
}

/// A valid one-week workout package body.
fn workout_package(slug: &str) -> Value {
    json!({
        "slug": slug,
        "name": format!("Plan {slug}"),
        "description": "One week of basics.",
        "level": "beginner",
        "tags": ["strength"],
        "equipment": [],
        "duration_weeks": 1,
        "sessions_per_week": 2,
        "minutes_per_session": 30,
        "kcal_per_session": 200,
        "sessions": [
            {"week": 1, "day": 1, "title": "Legs",
                "exercises": [{"name": "Squat", "sets": 3, "reps": 10, "rest_s": 60}]},
            {"week": 1, "day": 3, "title": "Core",
                "exercises": [{"name": "Plank", "sets": 3, "duration_s": 45, "rest_s": 30}]},
        ],
    })
}

/// An exercise named by an id of the library must exist there, and be prescribed
/// as a set can be logged: applying the day plans those sets.
async fn a_prescribed_exercise_must_be_one_a_logged_set_can_hold(app: TestApp) {
    let admin = admin(&app).await;
    let with = |exercises: Value| {
        let mut package = workout_package("prescribed");
        package["sessions"][0]["exercises"] = exercises;
        package
    };
    let squat = |sets: u8, reps: u32| {
        json!({"name": "Squat", "exercise_id": "barbell-squat", "sets": sets, "reps": reps,
            "rest_s": 60})
    };
    let mut unknown = squat(3, 10);
    unknown["exercise_id"] = json!("no-such-lift");
    let refusals = [
        (json!([unknown]), "sessions[0].exercises[0].exercise_id"),
        (json!([squat(3, 5000)]), "sessions[0].exercises[0].reps"),
        // 120 sets to plan, more than a workout holds.
        (json!(vec![squat(30, 5); 4]), "sessions[0].exercises"),
    ];
    for (exercises, field) in refusals {
        let refused = app
            .post(WORKOUTS, Some(&admin.token), with(exercises))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(
            refused.body["error"]["field"],
            json!(field),
            "{}",
            refused.body
        );
    }
    let made = created(&app, &admin, WORKOUTS, with(json!([squat(3, 5)]))).await;
    assert_eq!(
        made["sessions"][0]["exercises"][0]["exercise_id"],
        json!("barbell-squat")
    );
}

async fn admin(app: &TestApp) -> TestUser {
    app.demo_login(1).await
}

/// A request with `If-Match`.
async fn send_if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    if_match: &str,
    body: Option<Value>,
) -> TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::IF_MATCH, if_match);
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    };
    app.send(request.unwrap()).await
}

async fn created(app: &TestApp, admin: &TestUser, collection: &str, body: Value) -> Value {
    let response = app.post(collection, Some(&admin.token), body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let id = response.body["id"].as_str().unwrap();
    assert_eq!(
        response.headers[header::LOCATION],
        format!("{collection}/{id}").as_str()
    );
    assert!(response.headers.contains_key(header::ETAG));
    response.body
}

fn item(collection: &str, package: &Value) -> String {
    format!("{collection}/{}", package["id"].as_str().unwrap())
}

fn slugs(list: &TestResponse) -> Vec<String> {
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn only_admins_may_write_the_catalogue() {
    let app = Backend::Memory.app().await;
    let admin = admin(&app).await;
    let user = app.register("not-admin", json!({})).await;
    let meal = created(&app, &admin, MEALS, meal_package("matrix-meal")).await;
    let workout = created(&app, &admin, WORKOUTS, workout_package("matrix-workout")).await;
    let unknown = Uuid::now_v7();
    let mut writes: Vec<(Method, String, Option<Value>)> = Vec::new();
    for (collection, package, body) in [
        (MEALS, &meal, meal_package("matrix-meal")),
        (WORKOUTS, &workout, workout_package("matrix-workout")),
    ] {
        let item = item(collection, package);
        writes.extend([
            (Method::POST, collection.to_owned(), Some(body.clone())),
            (Method::PUT, item.clone(), Some(body.clone())),
            (
                Method::PATCH,
                item.clone(),
                Some(json!({"name": "Renamed"})),
            ),
            (Method::POST, format!("{item}/publish"), None),
            (Method::POST, format!("{item}/unpublish"), None),
            (Method::POST, format!("{item}/archive"), None),
            (Method::DELETE, item.clone(), None),
            // An id that does not exist and a body that is not valid: a user learns
            // no more than that the operation exists.
            (
                Method::PATCH,
                format!("{collection}/{unknown}"),
                Some(json!({"name": ""})),
            ),
        ]);
    }

    for (method, path, body) in &writes {
        let anonymous = app.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        assert_eq!(anonymous.error_code(), "unauthorized");
        let refused = app
            .call(method.clone(), path, Some(&user.token), body.clone())
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(refused.error_code(), "forbidden");
        assert!(
            !refused.body.to_string().contains("matrix"),
            "a refusal tells nothing of the package: {}",
            refused.body
        );
    }
    let mut statuses = Vec::new();
    for (method, path, body) in &writes {
        let mut body = body.clone();
        if *method == Method::POST
            && let Some(body) = body.as_mut()
        {
            // A second create needs a slug of its own.
            body["slug"] = json!(format!("admin-{}", Uuid::now_v7().simple()));
        }
        let answer = app
            .call(method.clone(), path, Some(&admin.token), body)
            .await;
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(
        statuses,
        [
            201, 200, 200, 200, 200, 200, 409, 422, 201, 200, 200, 200, 200, 200, 409, 422
        ],
        "the admin's answers, in the order of the writes (published once, a package \
         is archived, never deleted)"
    );
}

async fn drafts_are_for_admins_until_published(app: TestApp) {
    let admin = admin(&app).await;
    let user = app.register("reader", json!({})).await;
    let draft = created(&app, &admin, MEALS, meal_package("secret-plan")).await;
    let path = item(MEALS, &draft);
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["version"], 1);
    assert_eq!(draft["created_by"], admin.id.to_string());
    assert_eq!(draft["updated_by"], admin.id.to_string());
    assert_eq!(
        draft["daily_averages"]["kcal"], 650.0,
        "1300 kcal over two days"
    );

    for token in [None, Some(user.token.as_str())] {
        assert!(!slugs(&app.get(MEALS, token).await).contains(&"secret-plan".to_owned()));
        assert_eq!(app.get(&path, token).await.status, StatusCode::NOT_FOUND);
        let applied = app
            .post(
                &format!("{path}/apply"),
                Some(&user.token),
                json!({"date": "2026-03-02", "day": 1}),
            )
            .await;
        assert_eq!(applied.status, StatusCode::NOT_FOUND);
    }
    let drafts_anonymously = app.get(&format!("{MEALS}?status=draft"), None).await;
    let drafts_as_user = app
        .get(&format!("{MEALS}?status=draft"), Some(&user.token))
        .await;
    assert_eq!(drafts_anonymously.status, StatusCode::UNAUTHORIZED);
    assert_eq!(drafts_as_user.status, StatusCode::FORBIDDEN);
    let drafts = app
        .get(&format!("{MEALS}?status=draft"), Some(&admin.token))
        .await;
    assert_eq!(slugs(&drafts), ["secret-plan"]);
    let by_admin = app.get(&path, Some(&admin.token)).await;
    assert_eq!(by_admin.status, StatusCode::OK);
    assert_eq!(
        by_admin.headers[header::CACHE_CONTROL],
        "private, no-cache",
        "an answer that may show a draft is kept by nobody else"
    );

    let published = app
        .post(&format!("{path}/publish"), Some(&admin.token), json!({}))
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    assert_eq!(published.body["status"], "published");
    assert_eq!(
        published.body["version"], 1,
        "publishing changes no content"
    );
    assert!(slugs(&app.get(MEALS, None).await).contains(&"secret-plan".to_owned()));
    let public = app.get(&path, None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(public.body["name"], published.body["name"]);
    assert_eq!(
        (&public.body["created_by"], &public.body["updated_by"]),
        (&Value::Null, &Value::Null),
        "admins' ids are not for the public"
    );
    let by_admin = app.get(&path, Some(&admin.token)).await;
    assert_eq!(by_admin.body, published.body);
    let applied = app
        .post(
            &format!("{path}/apply"),
            Some(&user.token),
            json!({"date": "2026-03-02", "day": 1}),
        )
        .await;
    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.body);
    assert_eq!(applied.body["created"], 2);

    let unpublished = app
        .post(&format!("{path}/unpublish"), Some(&admin.token), json!({}))
        .await;
    assert_eq!(unpublished.body["status"], "draft");
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
}

async fn every_change_of_content_bumps_the_version_and_if_match_guards_it(app: TestApp) {
    let first_admin = admin(&app).await;
    let second_admin = another_admin(&app).await;
    let package = created(&app, &first_admin, WORKOUTS, workout_package("guarded")).await;
    let path = item(WORKOUTS, &package);
    let tag_of_first = app.get(&path, Some(&first_admin.token)).await.headers[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();

    // Both admins read revision 1; the first changes it, by its tag.
    let renamed = send_if_match(
        &app,
        Method::PATCH,
        &path,
        &first_admin.token,
        &tag_of_first,
        Some(json!({"name": "Guarded plan"})),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["version"], 2);
    assert_eq!(renamed.body["name"], "Guarded plan");
    assert_eq!(renamed.body["level"], "beginner", "a patch keeps the rest");
    let tag_of_second = renamed.headers[header::ETAG].to_str().unwrap().to_owned();
    assert_ne!(tag_of_second, tag_of_first);
    assert_eq!(
        app.get(&path, Some(&first_admin.token)).await.headers[header::ETAG],
        tag_of_second.as_str(),
        "a write answers with the tag a read gives"
    );

    // The second admin's write, based on revision 1, is refused by tag and by version.
    let mut replacement = workout_package("guarded");
    replacement["minutes_per_session"] = json!(40);
    for stale in [tag_of_first.as_str(), "\"1\""] {
        let refused = send_if_match(
            &app,
            Method::PUT,
            &path,
            &second_admin.token,
            stale,
            Some(replacement.clone()),
        )
        .await;
        assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED, "{stale}");
        assert_eq!(refused.error_code(), "precondition_failed");
    }
    let unchanged = app.get(&path, Some(&first_admin.token)).await;
    assert_eq!(
        unchanged.body["name"], "Guarded plan",
        "nothing was overwritten"
    );

    // Read again, it goes through; by version this time.
    let replaced = send_if_match(
        &app,
        Method::PUT,
        &path,
        &second_admin.token,
        "\"2\"",
        Some(replacement.clone()),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["version"], 3);
    assert_eq!(
        replaced.body["name"], "Plan guarded",
        "a PUT replaces the whole content"
    );
    assert_eq!(replaced.body["created_by"], first_admin.id.to_string());
    assert_eq!(replaced.body["updated_by"], second_admin.id.to_string());
    assert!(replaced.body["updated_at"].as_str() > renamed.body["updated_at"].as_str());

    // The same content again is no change; a status change keeps the version.
    let again = app.put(&path, Some(&second_admin.token), replacement).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, replaced.body);
    let published = send_if_match(
        &app,
        Method::POST,
        &format!("{path}/publish"),
        &first_admin.token,
        "\"3\"",
        None,
    )
    .await;
    assert_eq!(published.body["version"], 3);
    assert_eq!(published.body["status"], "published");
    let gone = send_if_match(
        &app,
        Method::PATCH,
        &format!("{WORKOUTS}/{}", Uuid::now_v7()),
        &first_admin.token,
        "*",
        Some(json!({"name": "Nobody"})),
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    // What the types let through but a package cannot be names its field.
    let mut two_on_one_day = workout_package("guarded");
    two_on_one_day["sessions"][1]["day"] = json!(1);
    let invalid = app
        .put(&path, Some(&first_admin.token), two_on_one_day)
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.error_field(), "sessions[1].day");
    let beyond = app
        .patch(
            &path,
            Some(&first_admin.token),
            json!({"duration_weeks": 1, "sessions": [
            {"week": 2, "day": 1, "title": "Late",
                "exercises": [{"name": "Squat", "sets": 3, "reps": 10, "rest_s": 60}]}]}),
        )
        .await;
    assert_eq!(beyond.error_field(), "sessions[0].week");
    assert_eq!(
        app.get(&path, None).await.body["version"],
        3,
        "a refused write changes nothing"
    );
}

async fn slugs_stay_unique(app: TestApp) {
    let admin = admin(&app).await;
    created(&app, &admin, MEALS, meal_package("taken-slug")).await;
    let other = created(&app, &admin, MEALS, meal_package("free-slug")).await;

    let twice = app
        .post(MEALS, Some(&admin.token), meal_package("taken-slug"))
        .await;
    let renamed = app
        .patch(
            &item(MEALS, &other),
            Some(&admin.token),
            json!({"slug": "taken-slug"}),
        )
        .await;
    // The sample's slugs are taken too.
    let sample = app
        .post(
            MEALS,
            Some(&admin.token),
            meal_package("mediterranean-table"),
        )
        .await;

    for clash in [twice, renamed, sample] {
        assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.body);
        assert_eq!(clash.error_field(), "slug");
    }
    let listed = app
        .get(&format!("{MEALS}?status=all"), Some(&admin.token))
        .await;
    let ours: Vec<String> = slugs(&listed)
        .into_iter()
        .filter(|slug| slug.ends_with("-slug"))
        .collect();
    assert_eq!(ours, ["free-slug", "taken-slug"]);
}

async fn entries_keep_the_version_they_were_logged_from(app: TestApp) {
    let admin = admin(&app).await;
    let user = app.register("follower", json!({})).await;
    let package = created(&app, &admin, MEALS, meal_package("revised-plan")).await;
    let path = item(MEALS, &package);
    app.post(&format!("{path}/publish"), Some(&admin.token), json!({}))
        .await;
    let apply = |day: u16| {
        let path = path.clone();
        let token = user.token.clone();
        let app = &app;
        async move {
            app.post(
                &format!("{path}/apply"),
                Some(&token),
                json!({"date": "2026-03-05", "day": day}),
            )
            .await
        }
    };

    let first = apply(1).await;
    let mut revised = meal_package("revised-plan");
    revised["items"][0]["kcal"] = json!(380);
    let revision = app.put(&path, Some(&admin.token), revised).await;
    let again = apply(1).await;
    let next_day = apply(2).await;

    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(revision.body["version"], 2);
    assert_eq!(again.status, StatusCode::OK, "the day was logged already");
    assert_eq!(again.body["created"], 0);
    assert_eq!(again.body["entries"], first.body["entries"]);
    for entry in first.body["entries"].as_array().unwrap() {
        assert_eq!(entry["package_version"], 1);
    }
    assert_eq!(next_day.body["entries"][0]["package_version"], 2);
    // An entry may name the current version, or one before it, never a later one.
    let mut by_hand = TestApp::meal_body("2026-03-06T12:00:00Z");
    by_hand["package_id"] = package["id"].clone();
    by_hand["package_version"] = json!(3);
    let too_new = app
        .post("/api/v1/meal-entries", Some(&user.token), by_hand)
        .await;
    assert_eq!(
        too_new.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_new.body
    );
}

/// Publishes the workout package at `path` and logs its first session as `user`.
async fn publish_and_log_from(
    app: &TestApp,
    admin: &TestUser,
    user: &TestUser,
    path: &str,
) -> TestResponse {
    let published = app
        .post(&format!("{path}/publish"), Some(&admin.token), json!({}))
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    let logged = app
        .post(
            &format!("{path}/apply"),
            Some(&user.token),
            json!({"date": "2026-03-09", "week": 1, "day": 1}),
        )
        .await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.body);
    logged
}

async fn an_archived_package_leaves_the_catalogue_and_can_come_back(app: TestApp) {
    let admin = admin(&app).await;
    let user = app.register("archive-reader", json!({})).await;
    let package = created(&app, &admin, WORKOUTS, workout_package("retired")).await;
    let path = item(WORKOUTS, &package);
    let logged = publish_and_log_from(&app, &admin, &user, &path).await;

    let archived = app
        .post(&format!("{path}/archive"), Some(&admin.token), json!({}))
        .await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.body);
    assert_eq!(archived.body["status"], "archived");
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    let deleted = app.delete(&path, Some(&admin.token)).await;
    assert_eq!(deleted.status, StatusCode::CONFLICT, "{}", deleted.body);
    assert_eq!(deleted.body["error"]["field"], "status");
    assert_eq!(
        app.get(&path, Some(&admin.token)).await.status,
        StatusCode::OK,
        "an archived package stays for admins"
    );
    assert!(!slugs(&app.get(WORKOUTS, None).await).contains(&"retired".to_owned()));
    let archive = app
        .get(&format!("{WORKOUTS}?status=archived"), Some(&admin.token))
        .await;
    assert_eq!(slugs(&archive), ["retired"]);
    let entry_path = format!(
        "/api/v1/workout-entries/{}",
        logged.body["entries"][0]["id"].as_str().unwrap()
    );
    let entry = app.get(&entry_path, Some(&user.token)).await;
    assert_eq!(
        entry.body["package_id"], package["id"],
        "the log still names it"
    );
    let taken = app
        .post(WORKOUTS, Some(&admin.token), workout_package("retired"))
        .await;
    assert_eq!(
        taken.status,
        StatusCode::CONFLICT,
        "its slug stays reserved"
    );

    let restored = app
        .post(&format!("{path}/publish"), Some(&admin.token), json!({}))
        .await;
    assert_eq!(restored.body["status"], "published");
    assert_eq!(app.get(&path, None).await.status, StatusCode::OK);
}

async fn a_draft_never_published_is_deleted_for_good(app: TestApp) {
    let admin = admin(&app).await;
    let package = created(&app, &admin, MEALS, meal_package("scrapped")).await;
    let path = item(MEALS, &package);
    let tag = app.get(&path, Some(&admin.token)).await.headers[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    let renamed = app
        .patch(&path, Some(&admin.token), json!({"name": "Scrapped plan"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);

    let stale = send_if_match(&app, Method::DELETE, &path, &admin.token, &tag, None).await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    let deleted = app.delete(&path, Some(&admin.token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);

    assert_eq!(
        app.get(&path, Some(&admin.token)).await.status,
        StatusCode::NOT_FOUND,
        "gone for admins too"
    );
    assert_eq!(
        app.delete(&path, Some(&admin.token)).await.status,
        StatusCode::NOT_FOUND
    );
    let all = app
        .get(&format!("{MEALS}?status=all"), Some(&admin.token))
        .await;
    assert!(!slugs(&all).contains(&"scrapped".to_owned()));
    // Never public, so nobody can have linked to its slug: it is free again.
    created(&app, &admin, MEALS, meal_package("scrapped")).await;
}

async fn a_package_that_was_public_or_is_logged_from_is_archived_not_deleted(app: TestApp) {
    let admin = admin(&app).await;
    let user = app.register("logs-from-it", json!({})).await;
    let package = created(&app, &admin, WORKOUTS, workout_package("was-public")).await;
    let path = item(WORKOUTS, &package);
    for step in ["publish", "unpublish"] {
        let answer = app
            .post(&format!("{path}/{step}"), Some(&admin.token), json!({}))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{step}: {}", answer.body);
    }
    let draft = app.get(&path, Some(&admin.token)).await;
    assert_eq!(draft.body["status"], "draft");
    assert!(
        draft.body["first_published_at"].is_string(),
        "{}",
        draft.body
    );
    let refused = app.delete(&path, Some(&admin.token)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("archive"),
        "it says what to do instead: {}",
        refused.body
    );
    assert_eq!(
        app.get(&path, Some(&admin.token)).await.status,
        StatusCode::OK
    );

    // A package public before its first publication was recorded, taken back to
    // draft by a release that did not record it, with entries logged from it: its
    // entries still keep it.
    publish_and_log_from(&app, &admin, &user, &path).await;
    let store = app.state.store.workout_packages();
    let id = package["id"].as_str().unwrap().parse().unwrap();
    let mut legacy = store.get(id).await.unwrap();
    legacy.status = balancelife::domain::PackageStatus::Draft;
    legacy.first_published_at = None;
    store.upsert(legacy).await.unwrap();
    let refused = app.delete(&path, Some(&admin.token)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("entries were logged"),
        "{}",
        refused.body
    );
}

/// A second administrator, made one by the store (no API grants the role).
async fn another_admin(app: &TestApp) -> TestUser {
    let signed_up = app.register("second-admin", json!({})).await;
    let store = &app.state.store;
    let mut user = store.get_user(signed_up.id).await.unwrap();
    let read = user.clone();
    user.role = balancelife::domain::Role::Admin;
    store.update_user(user, &read).await.unwrap();
    signed_up
}

/// Whether `cached`'s in-process tier holds the first page of the meal listing of
/// `status` (50 a page, no filter: what `GET /meal-packages` reads).
fn holds_first_page(cached: &Cached, status: StatusFilter) -> bool {
    let scope = Scope::catalogue("meal-package", status);
    cached
        .store
        .cache()
        .l1()
        .expect("an in-process tier")
        .holds(&scope, "page:-:-:50:-")
}

/// Reads the first page of the meal listing of `status` until `cached`'s in-process
/// tier holds it. A fill rightly loses to an invalidation still on its way (the
/// writer's own comes back over Pub/Sub after its answer), and the next read fills.
async fn read_until_held(app: &TestApp, cached: &Cached, status: StatusFilter, token: &str) {
    let path = format!("{MEALS}?status={}", status.as_str());
    crate::support::eventually("the listing is held in memory", SECOND, || async {
        let read = app.get(&path, Some(token)).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        holds_first_page(cached, status)
    })
    .await;
}

async fn public_slugs(app: &TestApp) -> Vec<String> {
    slugs(&app.get(MEALS, None).await)
}

/// Two instances of the cached store on one Redis, with the sample loaded and their
/// in-process tiers serving.
async fn two_cached_instances() -> (Cached, Cached) {
    let cached = Cached::on(&redis::SHARED).await;
    let other = cached.second_process().await;
    balancelife::sample::load(cached.store.as_ref(), balancelife::domain::now())
        .await
        .unwrap();
    cached.l1_ready().await;
    other.l1_ready().await;
    (cached, other)
}

/// Through the cached store, with its in-process tier: a write voids the package and
/// the listings it was or is in, at once on the instance that made it and within a
/// second on another; the other listings stay.
#[tokio::test]
async fn each_write_voids_exactly_the_package_and_the_listings_it_touches() {
    let (cached, other) = two_cached_instances().await;
    let app = TestApp::cached(cached.store.clone());
    let reader = TestApp::cached(other.store.clone());
    let admin = admin(&app).await;
    let package = created(&app, &admin, MEALS, meal_package("cached-plan")).await;
    let path = item(MEALS, &package);
    let draft_list = format!("{MEALS}?status=draft");

    for (app, cached) in [(&app, &cached), (&reader, &other)] {
        assert!(!public_slugs(app).await.contains(&"cached-plan".to_owned()));
        let drafts = app.get(&draft_list, Some(&admin.token)).await;
        assert_eq!(slugs(&drafts), ["cached-plan"]);
        read_until_held(app, cached, StatusFilter::Published, &admin.token).await;
        read_until_held(app, cached, StatusFilter::Draft, &admin.token).await;
    }

    // A draft's edit voids the draft listing and leaves the public one held.
    let edited = app
        .patch(&path, Some(&admin.token), json!({"name": "Cached plan"}))
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    assert!(!holds_first_page(&cached, StatusFilter::Draft), "at once");
    until("the other instance drops its draft listing", SECOND, || {
        !holds_first_page(&other, StatusFilter::Draft)
    })
    .await;
    for (app, cached) in [(&app, &cached), (&reader, &other)] {
        assert!(holds_first_page(cached, StatusFilter::Published));
        let drafts = app.get(&draft_list, Some(&admin.token)).await;
        assert_eq!(drafts.body["items"][0]["name"], "Cached plan");
        let by_admin = app.get(&path, Some(&admin.token)).await;
        assert_eq!(by_admin.body["name"], "Cached plan");
    }

    // Publishing voids the public listing and the package everywhere.
    let published = app
        .post(&format!("{path}/publish"), Some(&admin.token), json!({}))
        .await;
    assert_eq!(published.status, StatusCode::OK);
    assert!(
        !holds_first_page(&cached, StatusFilter::Published),
        "at once"
    );
    // The other instance takes the new revision's tag at once. (A conditional write
    // compares with the stored package, not a cached copy that may lag; on loopback
    // the copy is dropped before this request, so this does not force that race.)
    let tag = published.headers[header::ETAG].to_str().unwrap().to_owned();
    let described = send_if_match(
        &reader,
        Method::PATCH,
        &path,
        &admin.token,
        &tag,
        Some(json!({"description": "Edited on the other instance."})),
    )
    .await;
    assert_eq!(described.status, StatusCode::OK, "{}", described.body);
    until(
        "the other instance drops its public listing",
        SECOND,
        || !holds_first_page(&other, StatusFilter::Published),
    )
    .await;
    for app in [&app, &reader] {
        assert!(public_slugs(app).await.contains(&"cached-plan".to_owned()));
        let public = app.get(&path, None).await;
        assert_eq!(public.status, StatusCode::OK);
        assert_eq!(public.body["name"], "Cached plan");
        assert_eq!(
            app.get(&draft_list, Some(&admin.token)).await.body["items"],
            json!([])
        );
    }
}

/// A deletion voids the package and its listings like any write: at once where it
/// was made, within a second on another instance.
#[tokio::test]
async fn deleting_a_draft_voids_it_and_its_listings_on_every_instance() {
    let (cached, other) = two_cached_instances().await;
    let app = TestApp::cached(cached.store.clone());
    let reader = TestApp::cached(other.store.clone());
    let admin = admin(&app).await;
    let package = created(&app, &admin, MEALS, meal_package("short-lived")).await;
    let path = item(MEALS, &package);
    let draft_list = format!("{MEALS}?status=draft");
    for (app, cached) in [(&app, &cached), (&reader, &other)] {
        let drafts = app.get(&draft_list, Some(&admin.token)).await;
        assert_eq!(slugs(&drafts), ["short-lived"]);
        assert_eq!(
            app.get(&path, Some(&admin.token)).await.status,
            StatusCode::OK
        );
        read_until_held(app, cached, StatusFilter::Draft, &admin.token).await;
    }

    let deleted = app.delete(&path, Some(&admin.token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);

    assert!(!holds_first_page(&cached, StatusFilter::Draft), "at once");
    until("the other instance drops its draft listing", SECOND, || {
        !holds_first_page(&other, StatusFilter::Draft)
    })
    .await;
    for app in [&app, &reader] {
        assert_eq!(
            app.get(&path, Some(&admin.token)).await.status,
            StatusCode::NOT_FOUND
        );
        let drafts = app.get(&draft_list, Some(&admin.token)).await;
        assert!(slugs(&drafts).is_empty(), "{}", drafts.body);
    }
}
