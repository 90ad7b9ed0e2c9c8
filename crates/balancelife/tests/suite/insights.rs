//! Daily summaries, applying packages, export and import, on every store: memory,
//! MongoDB and MongoDB behind the Redis cache.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

on_every_store!(
    the_summary_adds_up_every_day_of_the_users_calendar,
    the_summary_follows_writes_at_once,
    bad_summary_ranges_name_the_field,
    applying_a_package_day_twice_creates_its_entries_once,
    an_export_imports_back_without_duplicates,
    csv_cells_that_would_run_as_formulas_are_neutralized,
    meals_logged_by_calories_alone_keep_their_macros_unknown,
    another_users_data_never_appears,
);

fn meal(at: &str, kcal: f64, protein: f64) -> Value {
    let mut body = TestApp::meal_body(at);
    body["kcal"] = json!(kcal);
    body["protein_g"] = json!(protein);
    body
}

async fn log(app: &TestApp, user: &TestUser, path: &str, body: Value) -> Value {
    let response = app.post(path, Some(&user.token), body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.body
}

async fn berlin_user(app: &TestApp, label: &str) -> TestUser {
    app.register(
        label,
        json!({
            "timezone": "Europe/Berlin",
            "daily_kcal_target": 2000,
            "protein_g_target": 100,
            "carbs_g_target": 250,
            "fat_g_target": 70
        }),
    )
    .await
}

async fn the_summary_adds_up_every_day_of_the_users_calendar(app: TestApp) {
    let user = berlin_user(&app, "summary").await;
    log(
        &app,
        &user,
        "/api/v1/meal-entries",
        meal("2026-03-10T08:00:00+01:00", 500.0, 30.0),
    )
    .await;
    // 23:30 in Berlin is still the 10th; 00:30 on the 11th is the 10th in UTC.
    log(
        &app,
        &user,
        "/api/v1/meal-entries",
        meal("2026-03-10T23:30:00+01:00", 300.5, 12.25),
    )
    .await;
    log(
        &app,
        &user,
        "/api/v1/meal-entries",
        meal("2026-03-11T00:30:00+01:00", 400.0, 20.0),
    )
    .await;
    let mut workout = TestApp::workout_body("2026-03-10T18:00:00+01:00");
    workout["kcal_burned"] = json!(200);
    log(&app, &user, "/api/v1/workout-entries", workout).await;

    let range = app
        .get(
            "/api/v1/summary?from=2026-03-09&to=2026-03-12",
            Some(&user.token),
        )
        .await;
    let day = app
        .get("/api/v1/summary?date=2026-03-10", Some(&user.token))
        .await;

    assert_eq!(range.status, StatusCode::OK, "{}", range.body);
    let days = range.body["days"].as_array().unwrap();
    let dates: Vec<_> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(
        dates,
        ["2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12"],
        "days without entries appear"
    );
    assert_eq!(days[0]["kcal_in"], 0.0);
    assert_eq!(days[0]["remaining"], 2000.0);
    assert_eq!(days[1]["kcal_in"], 800.5);
    assert_eq!(days[1]["kcal_out"], 200.0);
    assert_eq!(days[1]["net"], 600.5);
    assert_eq!(days[1]["remaining"], 1399.5);
    assert_eq!(days[1]["protein_g"], 42.3, "rounded to 0.1");
    assert_eq!(days[1]["carbs_g"], 116.0, "two meals' carbohydrates");
    assert_eq!(days[1]["fat_g"], 19.0);
    assert_eq!(days[1]["protein_g_target"], 100.0);
    assert_eq!(
        (
            days[1]["meal_entries"].as_u64(),
            days[1]["workout_entries"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(days[2]["kcal_in"], 400.0);
    let totals = &range.body["totals"];
    assert_eq!(totals["kcal_in"], 1200.5);
    assert_eq!(totals["kcal_out"], 200.0);
    assert_eq!(
        (&totals["protein_g"], &totals["carbs_g"], &totals["fat_g"]),
        (&json!(62.3), &json!(174.0), &json!(28.5)),
        "every macro adds up over the range"
    );
    assert_eq!(
        (&totals["meal_entries"], &totals["workout_entries"]),
        (&json!(3), &json!(1))
    );
    assert_eq!(totals["net"], 1000.5);
    assert_eq!(totals["target"], 8000.0);
    assert_eq!(
        (
            &totals["protein_g_target"],
            &totals["carbs_g_target"],
            &totals["fat_g_target"]
        ),
        (&json!(400.0), &json!(1000.0), &json!(280.0)),
        "each daily target times the four days"
    );
    assert_eq!(days[1]["carbs_g_target"], 250.0);
    assert_eq!(days[1]["fat_g_target"], 70.0);
    assert_eq!(totals["remaining"], 6999.5);
    assert_eq!(day.body["days"][0], days[1], "one function, one answer");
}

async fn the_summary_follows_writes_at_once(app: TestApp) {
    let user = berlin_user(&app, "follows").await;
    let entry = log(
        &app,
        &user,
        "/api/v1/meal-entries",
        meal("2026-03-15T12:00:00+01:00", 600.0, 40.0),
    )
    .await;
    let before = app
        .get("/api/v1/summary?date=2026-03-15", Some(&user.token))
        .await;
    let path = format!("/api/v1/meal-entries/{}", entry["id"].as_str().unwrap());

    app.patch(&path, Some(&user.token), json!({"kcal": 650}))
        .await;
    let after_edit = app
        .get("/api/v1/summary?date=2026-03-15", Some(&user.token))
        .await;
    app.delete(&path, Some(&user.token)).await;
    let after_delete = app
        .get("/api/v1/summary?date=2026-03-15", Some(&user.token))
        .await;

    assert_eq!(before.body["totals"]["kcal_in"], 600.0);
    assert_eq!(after_edit.body["totals"]["kcal_in"], 650.0);
    assert_eq!(after_delete.body["totals"]["kcal_in"], 0.0);
}

async fn bad_summary_ranges_name_the_field(app: TestApp) {
    let user = berlin_user(&app, "badrange").await;
    for (query, field) in [
        ("", "date"),
        ("date=2026-02-30", "date"),
        ("date=2026-03-01&from=2026-03-01", "date"),
        ("from=2026-03-10&to=2026-03-01", "to"),
        ("from=2025-01-01&to=2026-03-01", "to"),
        ("from=soon", "from"),
    ] {
        let response = app
            .get(&format!("/api/v1/summary?{query}"), Some(&user.token))
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

async fn applying_a_package_day_twice_creates_its_entries_once(app: TestApp) {
    let user = berlin_user(&app, "apply").await;
    let meal_package =
        app.get("/api/v1/meal-packages?limit=1", None).await.body["items"][0].clone();
    let workout_package =
        app.get("/api/v1/workout-packages?limit=1", None).await.body["items"][0].clone();
    let meal_path = format!(
        "/api/v1/meal-packages/{}/apply",
        meal_package["id"].as_str().unwrap()
    );
    let workout_path = format!(
        "/api/v1/workout-packages/{}/apply",
        workout_package["id"].as_str().unwrap()
    );
    let day_items = meal_package["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["day"] == 2)
        .count();

    let first = app
        .post(
            &meal_path,
            Some(&user.token),
            json!({"date": "2026-03-20", "day": 2}),
        )
        .await;
    let again = app
        .post(
            &meal_path,
            Some(&user.token),
            json!({"date": "2026-03-20", "day": 2}),
        )
        .await;
    let workout = app
        .post(
            &workout_path,
            Some(&user.token),
            json!({"date": "2026-03-20", "week": 1, "day": 1}),
        )
        .await;
    let workout_again = app
        .post(
            &workout_path,
            Some(&user.token),
            json!({"date": "2026-03-20", "week": 1, "day": 1}),
        )
        .await;
    let summary = app
        .get("/api/v1/summary?date=2026-03-20", Some(&user.token))
        .await;

    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["created"], day_items);
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["created"], 0);
    assert_eq!(again.body["entries"], first.body["entries"]);
    let entry = &first.body["entries"][0];
    assert_eq!(entry["source"], "package");
    assert_eq!(entry["package_id"], meal_package["id"]);
    assert_eq!(entry["package_version"], meal_package["version"]);
    assert_eq!(entry["local_date"], "2026-03-20");
    assert_eq!(workout.status, StatusCode::CREATED, "{}", workout.body);
    assert_eq!(workout_again.body["created"], 0);
    assert_eq!(summary.body["totals"]["meal_entries"], day_items);
    assert_eq!(summary.body["totals"]["workout_entries"], 1);
    let expected_kcal: f64 = meal_package["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["day"] == 2)
        .map(|i| i["kcal"].as_f64().unwrap())
        .sum();
    assert!((summary.body["totals"]["kcal_in"].as_f64().unwrap() - expected_kcal).abs() < 0.11);

    let bad_day = app
        .post(
            &meal_path,
            Some(&user.token),
            json!({"date": "2026-03-20", "day": 99}),
        )
        .await;
    let bad_week = app
        .post(
            &workout_path,
            Some(&user.token),
            json!({"date": "2026-03-20", "week": 99, "day": 1}),
        )
        .await;
    let unknown = app
        .post(
            &format!("/api/v1/meal-packages/{}/apply", uuid::Uuid::now_v7()),
            Some(&user.token),
            json!({"date": "2026-03-20", "day": 1}),
        )
        .await;
    assert_eq!(
        (bad_day.status, bad_day.error_field()),
        (StatusCode::UNPROCESSABLE_ENTITY, "day")
    );
    assert_eq!(
        (bad_week.status, bad_week.error_field()),
        (StatusCode::UNPROCESSABLE_ENTITY, "week")
    );
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

async fn export(app: &TestApp, user: &TestUser, format: &str) -> crate::support::TestResponse {
    let response = app
        .get(
            &format!("/api/v1/export?format={format}"),
            Some(&user.token),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    response
}

async fn import(app: &TestApp, user: &TestUser, file: &Value) -> crate::support::TestResponse {
    app.post("/api/v1/import", Some(&user.token), file.clone())
        .await
}

/// A meal body with kcal alone, as a quick add sends it.
fn calories_only(at: &str, kcal: f64) -> Value {
    let mut body = TestApp::meal_body(at);
    let fields = body.as_object_mut().unwrap();
    for macro_field in ["protein_g", "carbs_g", "fat_g", "fiber_g"] {
        fields.remove(macro_field);
    }
    fields.insert("name".into(), json!("Coffee"));
    fields.insert("kcal".into(), json!(kcal));
    body
}

async fn meals_logged_by_calories_alone_keep_their_macros_unknown(app: TestApp) {
    let user = berlin_user(&app, "quickadd").await;
    let coffee = log(
        &app,
        &user,
        "/api/v1/meal-entries",
        calories_only("2026-03-20T08:00:00+01:00", 5.0),
    )
    .await;
    let soup = log(
        &app,
        &user,
        "/api/v1/meal-entries",
        meal("2026-03-20T12:00:00+01:00", 420.0, 24.0),
    )
    .await;
    let mut protein_only = calories_only("2026-03-20T16:00:00+01:00", 180.0);
    protein_only["protein_g"] = json!(20);
    protein_only["carbs_g"] = Value::Null;
    log(&app, &user, "/api/v1/meal-entries", protein_only).await;
    assert_eq!(
        (&coffee["protein_g"], &coffee["carbs_g"], &coffee["fat_g"]),
        (&Value::Null, &Value::Null, &Value::Null),
        "unknown, not zero"
    );
    let first = day(&app, &user, "2026-03-20").await;
    assert_eq!(first["kcal_in"], 605.0);
    assert_eq!(first["protein_g"], 44.0, "the known protein of two meals");
    assert_eq!(first["carbs_g"], 58.0);
    assert_eq!(first["meal_entries"], 3);
    assert_eq!(first["meal_entries_without_macros"], 2);

    // Clearing a macro makes it unknown; giving all three makes it known.
    let path = |entry: &Value| format!("/api/v1/meal-entries/{}", entry["id"].as_str().unwrap());
    let cleared = app
        .patch(&path(&soup), Some(&user.token), json!({"fat_g": null}))
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert_eq!(cleared.body["fat_g"], Value::Null);
    assert_eq!(
        day(&app, &user, "2026-03-20").await["meal_entries_without_macros"],
        3
    );
    let completed = app
        .patch(
            &path(&coffee),
            Some(&user.token),
            json!({"protein_g": 0.3, "carbs_g": 0, "fat_g": 0.1}),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
    let after = day(&app, &user, "2026-03-20").await;
    assert_eq!(after["meal_entries_without_macros"], 2);
    assert_eq!(after["protein_g"], 44.3);

    // The CSV leaves an unknown macro empty; the JSON export says null and imports back.
    let csv = export(&app, &user, "csv").await.body;
    let mut reader = csv::Reader::from_reader(csv.as_str().unwrap().as_bytes());
    let header = reader.headers().unwrap().clone();
    let fat = header.iter().position(|name| name == "fat_g").unwrap();
    let soup_row = reader
        .records()
        .map(Result::unwrap)
        .find(|row| row.get(1) == soup["id"].as_str())
        .unwrap();
    assert_eq!(soup_row.get(fat), Some(""));
    let file = export(&app, &user, "json").await.body;
    app.delete(&path(&soup), Some(&user.token)).await;
    let imported = import(&app, &user, &file).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(
        imported.body,
        json!({"created": 1, "unchanged": 2, "conflicts": 0, "skipped": {}})
    );
    let restored = app.get(&path(&soup), Some(&user.token)).await;
    assert_eq!(restored.body["fat_g"], Value::Null);
    assert_eq!(restored.body["protein_g"], 24.0);
    assert_eq!(day(&app, &user, "2026-03-20").await, after);
}

/// The summary of one day.
async fn day(app: &TestApp, user: &TestUser, date: &str) -> Value {
    let summary = app
        .get(&format!("/api/v1/summary?date={date}"), Some(&user.token))
        .await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
    summary.body["days"][0].clone()
}

async fn an_export_imports_back_without_duplicates(app: TestApp) {
    let user = berlin_user(&app, "roundtrip").await;
    let first = log(
        &app,
        &user,
        "/api/v1/meal-entries",
        meal("2026-03-25T08:00:00+01:00", 350.0, 20.0),
    )
    .await;
    log(
        &app,
        &user,
        "/api/v1/meal-entries",
        meal("2026-03-25T23:30:00+01:00", 150.0, 5.0),
    )
    .await;
    log(
        &app,
        &user,
        "/api/v1/workout-entries",
        TestApp::workout_body("2026-03-26T07:00:00+01:00"),
    )
    .await;
    let file = export(&app, &user, "json").await.body;
    assert_eq!(file["format"], "balancelife-export");
    assert_eq!(file["profile"]["email"], user.email);
    assert!(file["profile"].get("password_hash").is_none());
    assert_eq!(file["meal_entries"].as_array().unwrap().len(), 2);

    app.delete(
        &format!("/api/v1/meal-entries/{}", first["id"].as_str().unwrap()),
        Some(&user.token),
    )
    .await;
    let restored = import(&app, &user, &file).await;
    let repeated = import(&app, &user, &file).await;
    let again = export(&app, &user, "json").await.body;

    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    assert_eq!(
        restored.body,
        json!({"created": 1, "unchanged": 2, "conflicts": 0, "skipped": {}})
    );
    assert_eq!(
        repeated.body,
        json!({"created": 0, "unchanged": 3, "conflicts": 0, "skipped": {}})
    );
    let ids = |f: &Value, kind: &str| {
        f[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&again, "meal_entries"), ids(&file, "meal_entries"));
    assert_eq!(
        ids(&again, "workout_entries"),
        ids(&file, "workout_entries")
    );
    assert_eq!(
        again["meal_entries"][1]["local_date"], "2026-03-25",
        "entries keep their day"
    );

    let csv = export(&app, &user, "csv").await.body;
    let csv = csv.as_str().unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert!(lines[0].starts_with("kind,id,local_date"));
    assert!(lines[1].starts_with("profile,"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("meal,")).count(), 2);
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("workout,")).count(),
        1
    );

    let mut broken = file.clone();
    broken["meal_entries"][1]["kcal"] = json!(-5);
    let refused = import(&app, &user, &broken).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_field(), "meal_entries[1].kcal");
}

/// CSV injection (CWE-1236): text that a spreadsheet would run as a formula gets a
/// leading `'` in the CSV export; the JSON export keeps it exact and imports back.
async fn csv_cells_that_would_run_as_formulas_are_neutralized(app: TestApp) {
    let user = berlin_user(&app, "csvsafe").await;
    let (formula, sum, negative) = (
        "=HYPERLINK(\"http://evil.example\",\"open me\")",
        "@SUM(1+1)",
        "-2+3 intervals",
    );
    let mut body = meal("2026-03-25T08:00:00+01:00", 350.0, 20.0);
    body["name"] = json!(formula);
    body["notes"] = json!(sum);
    log(&app, &user, "/api/v1/meal-entries", body).await;
    let mut workout = TestApp::workout_body("2026-03-26T07:00:00+01:00");
    workout["title"] = json!(negative);
    log(&app, &user, "/api/v1/workout-entries", workout).await;

    let csv = export(&app, &user, "csv").await.body;
    let mut reader = csv::Reader::from_reader(csv.as_str().unwrap().as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|cell| cell == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let row = |kind: &str| rows.iter().find(|row| &row[0] == kind).unwrap().clone();
    let (name, notes) = (column("name"), column("notes"));
    assert_eq!(&row("meal")[name], format!("'{formula}"));
    assert_eq!(&row("meal")[notes], format!("'{sum}"));
    assert_eq!(&row("workout")[name], format!("'{negative}"));
    assert_eq!(
        &row("profile")[name],
        "csvsafe tester",
        "plain text is left alone"
    );

    let file = export(&app, &user, "json").await.body;
    assert_eq!(file["meal_entries"][0]["name"], formula);
    assert_eq!(file["meal_entries"][0]["notes"], sum);
    assert_eq!(file["workout_entries"][0]["title"], negative);
    let restored = import(&app, &user, &file).await;
    assert_eq!(
        restored.body,
        json!({"created": 0, "unchanged": 2, "conflicts": 0, "skipped": {}}),
        "the JSON export is exact: it imports back unchanged"
    );
}

async fn another_users_data_never_appears(app: TestApp) {
    let owner = berlin_user(&app, "owner6").await;
    let other = berlin_user(&app, "other6").await;
    log(
        &app,
        &owner,
        "/api/v1/meal-entries",
        meal("2026-03-28T12:00:00+01:00", 700.0, 30.0),
    )
    .await;
    let owners_file = export(&app, &owner, "json").await.body;

    let summary = app
        .get("/api/v1/summary?date=2026-03-28", Some(&other.token))
        .await;
    let others_file = export(&app, &other, "json").await.body;
    let stolen = import(&app, &other, &owners_file).await;
    let still_nothing = export(&app, &other, "json").await.body;

    assert_eq!(summary.body["totals"]["kcal_in"], 0.0);
    assert_eq!(others_file["meal_entries"], json!([]));
    assert_eq!(
        stolen.body,
        json!({"created": 0, "unchanged": 0, "conflicts": 1, "skipped": {}}),
        "another user's ids are not taken over"
    );
    assert_eq!(still_nothing["meal_entries"], json!([]));
}
