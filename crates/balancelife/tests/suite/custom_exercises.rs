//! Exercises administrators add to the bundled library, over HTTP: unknown to users
//! while a draft, found beside the bundled ones once published, logged set by set
//! and counted in energy, records and volume like any other; an edit shows in the
//! training numbers at once; withdrawn, it leaves the search but not the sessions
//! that name it; and only a draft nobody could name may be deleted.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse, TestUser};

on_every_store!(
    an_added_exercise_is_found_logged_and_counted_once_published,
    a_withdrawn_exercise_leaves_the_search_but_not_the_sessions_that_name_it,
    what_an_administrator_sends_is_checked_and_only_a_draft_nobody_named_is_deleted,
);

const CUSTOM: &str = "/api/v1/custom-exercises";

/// A sandbag squat jump: plyometrics (MET 8.0), so its sessions' energy tells
/// that its category was read.
fn squat_jump(slug: &str) -> Value {
    json!({
        "slug": slug,
        "name": "Sandbag Squat Jump",
        "category": "plyometrics",
        "level": "intermediate",
        "equipment": "other",
        "primary_muscles": ["quadriceps", "glutes"],
        "secondary_muscles": ["calves"],
        "instructions": ["Hold the sandbag at your chest.", "Squat, then jump."],
    })
}

async fn admin(app: &TestApp) -> TestUser {
    app.demo_login(1).await
}

fn ok(response: &TestResponse, status: StatusCode) {
    assert_eq!(response.status, status, "{}", response.body);
}

/// `admin` moves exercise `id` to another status: `publish` or `archive`.
async fn moved(app: &TestApp, admin: &TestUser, id: &str, action: &str) {
    let moved = app
        .post(
            &format!("{CUSTOM}/{id}/{action}"),
            Some(&admin.token),
            json!({}),
        )
        .await;
    ok(&moved, StatusCode::OK);
}

/// What `user` reads at `path`, which must answer 200.
async fn read(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let read = app.get(path, Some(&user.token)).await;
    ok(&read, StatusCode::OK);
    read.body
}

const PROGRESS: &str = "/api/v1/training/exercises";
const MARCH_WEEK: &str = "/api/v1/training/volume?from=2026-03-02&to=2026-03-08";

/// A draft made and published by `admin`: its id.
async fn published(app: &TestApp, admin: &TestUser, body: Value) -> String {
    let made = app.post(CUSTOM, Some(&admin.token), body).await;
    ok(&made, StatusCode::CREATED);
    let id = made.body["id"].as_str().unwrap().to_owned();
    moved(app, admin, &id, "publish").await;
    id
}

fn session(at: &str, exercise_id: &str, kg: f64) -> Value {
    let set = json!({"exercise_id": exercise_id, "reps": 12, "weight_kg": kg});
    json!({"started_at": at, "activity": "strength", "title": "Jumps", "duration_s": 1800,
        "sets": [set.clone(), set.clone(), set]})
}

fn names(found: &TestResponse) -> Vec<String> {
    found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

fn package_naming(slug: &str, exercise_id: &str) -> Value {
    json!({
        "slug": slug, "name": "Jump week", "description": "Jumps.", "level": "beginner",
        "duration_weeks": 1, "sessions_per_week": 1, "minutes_per_session": 30,
        "kcal_per_session": 200,
        "sessions": [{"week": 1, "day": 1, "title": "Jumps", "exercises": [
            {"name": "Squat jump", "exercise_id": exercise_id, "sets": 3, "reps": 10,
                "rest_s": 60}]}],
    })
}

async fn an_added_exercise_is_found_logged_and_counted_once_published(app: TestApp) {
    let admin = admin(&app).await;
    let user = app
        .register("custom", json!({"timezone": "UTC", "weight_kg": 80}))
        .await;
    let not_admin = app
        .post(CUSTOM, Some(&user.token), squat_jump("squat-jump"))
        .await;
    ok(&not_admin, StatusCode::FORBIDDEN);

    let draft = app
        .post(CUSTOM, Some(&admin.token), squat_jump("squat-jump"))
        .await;
    ok(&draft, StatusCode::CREATED);
    assert_eq!(draft.body["status"], json!("draft"));
    let id = draft.body["id"].as_str().unwrap().to_owned();

    // A draft is the administrators' alone: not searched, not read, not logged,
    // not prescribed.
    let search = "/api/v1/exercises?q=squat%20jump&limit=100";
    let hidden = app.get(search, Some(&user.token)).await;
    assert!(!names(&hidden).contains(&"Sandbag Squat Jump".to_owned()));
    let unread = app
        .get(&format!("/api/v1/exercises/{id}"), Some(&user.token))
        .await;
    ok(&unread, StatusCode::NOT_FOUND);
    let unlogged = app
        .post(
            "/api/v1/workout-entries",
            Some(&user.token),
            session("2026-03-02T07:00:00Z", &id, 10.0),
        )
        .await;
    ok(&unlogged, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unlogged.body["error"]["field"],
        json!("sets[0].exercise_id")
    );
    // Each custom id is read to be checked, so a session may name only so many.
    let mut made_up = session("2026-03-02T07:00:00Z", &id, 10.0);
    made_up["sets"] = (0..21)
        .map(|_| json!({"exercise_id": uuid::Uuid::new_v4().to_string(), "reps": 5}))
        .collect();
    let refused = app
        .post("/api/v1/workout-entries", Some(&user.token), made_up)
        .await;
    ok(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["error"]["field"], json!("sets"));
    let unprescribed = app
        .post(
            "/api/v1/workout-packages",
            Some(&admin.token),
            package_naming("jump-week", &id),
        )
        .await;
    ok(&unprescribed, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unprescribed.body["error"]["field"],
        json!("sessions[0].exercises[0].exercise_id")
    );
    moved(&app, &admin, &id, "publish").await;
    // Beside the bundled ones, in the search's order: names beginning with the
    // first word, then the rest, each by name.
    let found = names(&app.get(search, Some(&user.token)).await);
    let library_only: Vec<String> = found
        .iter()
        .filter(|name| *name != "Sandbag Squat Jump")
        .cloned()
        .collect();
    assert_eq!(found.len(), library_only.len() + 1, "{found:?}");
    let (leading, trailing): (Vec<&String>, Vec<&String>) = found
        .iter()
        .partition(|name| name.to_lowercase().starts_with("squat"));
    assert_eq!(
        found.iter().collect::<Vec<_>>(),
        [leading.clone(), trailing.clone()].concat()
    );
    let mut sorted = trailing.clone();
    sorted.sort();
    assert_eq!(trailing, sorted, "the trailing names by name");
    assert!(trailing.contains(&&"Sandbag Squat Jump".to_owned()));
    let by_muscle = app
        .get(
            "/api/v1/exercises?q=sandbag&muscle=calves&category=plyometrics",
            Some(&user.token),
        )
        .await;
    assert_eq!(names(&by_muscle), ["Sandbag Squat Jump"]);
    let described = read(&app, &user, &format!("/api/v1/exercises/{id}")).await;
    assert_eq!(described["id"], json!(id));
    assert_eq!(
        described["primary_muscles"],
        json!(["quadriceps", "glutes"])
    );
    assert_eq!(described["instructions"][1], json!("Squat, then jump."));

    // Logged like a bundled one: energy from its category, 8.0 × 80 kg × ½ h.
    let logged = app
        .post(
            "/api/v1/workout-entries",
            Some(&user.token),
            session("2026-03-02T07:00:00Z", &id, 10.0),
        )
        .await;
    ok(&logged, StatusCode::CREATED);
    assert_eq!(logged.body["kcal_burned"], json!(320.0));
    let progress = read(&app, &user, PROGRESS).await;
    assert_eq!(progress["exercises"][0]["exercise_id"], json!(id));
    assert_eq!(
        progress["exercises"][0]["name"],
        json!("Sandbag Squat Jump")
    );
    assert_eq!(progress["exercises"][0]["next"]["weight_kg"], json!(12.5));
    let volume = read(&app, &user, MARCH_WEEK).await;
    let muscles = &volume["weeks"][0]["muscles"];
    assert_eq!(muscles["quadriceps"]["sets"], json!(3.0));
    assert_eq!(muscles["glutes"]["tonnage_kg"], json!(360.0));
    assert_eq!(muscles["calves"]["sets"], json!(1.5));

    // An administrator's edit shows in the numbers at once, though the user wrote
    // nothing since they were worked out.
    let renamed = app
        .patch(
            &format!("{CUSTOM}/{id}"),
            Some(&admin.token),
            json!({"name": "Sandbag Jump Squat", "secondary_muscles": ["hamstrings"]}),
        )
        .await;
    ok(&renamed, StatusCode::OK);
    assert_eq!(renamed.body["version"], json!(2));
    let progress = read(&app, &user, PROGRESS).await;
    assert_eq!(
        progress["exercises"][0]["name"],
        json!("Sandbag Jump Squat")
    );
    let volume = read(&app, &user, MARCH_WEEK).await;
    let muscles = &volume["weeks"][0]["muscles"];
    assert_eq!(muscles["hamstrings"]["sets"], json!(1.5));
    assert!(muscles.get("calves").is_none(), "{muscles}");

    let prescribed = app
        .post(
            "/api/v1/workout-packages",
            Some(&admin.token),
            package_naming("jump-week", &id),
        )
        .await;
    ok(&prescribed, StatusCode::CREATED);
}

async fn a_withdrawn_exercise_leaves_the_search_but_not_the_sessions_that_name_it(app: TestApp) {
    let admin = admin(&app).await;
    let user = app
        .register("withdrawn", json!({"timezone": "UTC", "weight_kg": 80}))
        .await;
    let id = published(&app, &admin, squat_jump("withdrawn-jump")).await;
    let logged = app
        .post(
            "/api/v1/workout-entries",
            Some(&user.token),
            session("2026-03-02T07:00:00Z", &id, 10.0),
        )
        .await;
    ok(&logged, StatusCode::CREATED);
    let entry = format!(
        "/api/v1/workout-entries/{}",
        logged.body["id"].as_str().unwrap()
    );
    moved(&app, &admin, &id, "archive").await;
    let search = app
        .get("/api/v1/exercises?q=sandbag", Some(&user.token))
        .await;
    assert!(
        names(&search)
            .iter()
            .all(|name| name != "Sandbag Squat Jump")
    );
    let listed = app.get(CUSTOM, None).await;
    ok(&listed, StatusCode::OK);
    assert!(listed.body["items"].as_array().unwrap().is_empty());

    // What names it still reads, and may still be edited, sets and all.
    read(&app, &user, &format!("/api/v1/exercises/{id}")).await;
    let edited = app
        .patch(&entry, Some(&user.token), json!({"notes": "Felt light"}))
        .await;
    ok(&edited, StatusCode::OK);
    assert_eq!(edited.body["sets"][0]["exercise_id"], json!(id));
    let progress = read(&app, &user, PROGRESS).await;
    assert_eq!(
        progress["exercises"][0]["name"],
        json!("Sandbag Squat Jump")
    );
    let exported = crate::training::csv_set_rows(&app, &user).await;
    assert_eq!(exported.len(), 3);
    assert!(
        exported
            .iter()
            .all(|row| row["exercise_id"] == id && row["name"] == "Sandbag Squat Jump"),
        "{exported:?}"
    );

    // Public once, it is archived, never deleted: its id must keep its meaning.
    let deleted = app
        .delete(&format!("{CUSTOM}/{id}"), Some(&admin.token))
        .await;
    ok(&deleted, StatusCode::CONFLICT);
}

async fn what_an_administrator_sends_is_checked_and_only_a_draft_nobody_named_is_deleted(
    app: TestApp,
) {
    let admin = admin(&app).await;
    let with = |field: &str, value: Value| {
        let mut body = squat_jump("checked");
        body[field] = value;
        body
    };
    let refusals = [
        (with("primary_muscles", json!([])), "primary_muscles"),
        (
            with("primary_muscles", json!(["glutes", "glutes"])),
            "primary_muscles",
        ),
        (
            with("secondary_muscles", json!(["glutes"])),
            "secondary_muscles",
        ),
        (with("category", json!("yoga")), "category"),
        (
            with("instructions", json!(vec!["Jump."; 31])),
            "instructions",
        ),
        (with("slug", json!("Not A Slug")), "slug"),
        // A bundled exercise's name, in another case.
        (with("name", json!("barbell squat")), "name"),
    ];
    for (body, field) in refusals {
        let refused = app.post(CUSTOM, Some(&admin.token), body).await;
        ok(&refused, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            refused.body["error"]["field"],
            json!(field),
            "{}",
            refused.body
        );
    }
    let unknown = app
        .post(CUSTOM, Some(&admin.token), with("colour", json!("red")))
        .await;
    ok(&unknown, StatusCode::UNPROCESSABLE_ENTITY);

    let draft = app
        .post(CUSTOM, Some(&admin.token), squat_jump("checked"))
        .await;
    ok(&draft, StatusCode::CREATED);
    let path = format!("{CUSTOM}/{}", draft.body["id"].as_str().unwrap());
    let taken = app
        .post(CUSTOM, Some(&admin.token), squat_jump("checked"))
        .await;
    ok(&taken, StatusCode::CONFLICT);
    let cleared = app
        .patch(&path, Some(&admin.token), json!({"equipment": null}))
        .await;
    ok(&cleared, StatusCode::OK);
    assert_eq!(cleared.body["equipment"], Value::Null);
    let overlapping = app
        .patch(
            &path,
            Some(&admin.token),
            json!({"secondary_muscles": ["quadriceps"]}),
        )
        .await;
    ok(&overlapping, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        overlapping.body["error"]["field"],
        json!("secondary_muscles")
    );

    let as_admin = app.get(&path, Some(&admin.token)).await;
    ok(&as_admin, StatusCode::OK);
    let as_public = app.get(&path, None).await;
    ok(&as_public, StatusCode::NOT_FOUND);
    let deleted = app.delete(&path, Some(&admin.token)).await;
    ok(&deleted, StatusCode::NO_CONTENT);
    ok(
        &app.get(&path, Some(&admin.token)).await,
        StatusCode::NOT_FOUND,
    );
}
