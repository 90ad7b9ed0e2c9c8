//! Other apps' exports taken in: OpenNutriTracker's bundle, MyFitnessPal's and
//! Cronometer's CSVs, from fixtures written after their published formats
//! (`tests/fixtures/foreign/`).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/foreign")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

async fn import(app: &TestApp, user: &TestUser, format: &str, file: &str) -> (StatusCode, Value) {
    let request = axum::http::Request::post(format!("/api/v1/import/{format}"))
        .header("authorization", format!("Bearer {}", user.token))
        .header("content-type", "application/octet-stream")
        .body(axum::body::Body::from(fixture(file)))
        .unwrap();
    let answer = app.send(request).await;
    (answer.status, answer.body)
}

/// The user's meals of `day`, as (name, kcal) by time.
async fn meals_of(app: &TestApp, user: &TestUser, day: &str) -> Vec<Value> {
    let listed = app
        .get(
            &format!("/api/v1/meal-entries?from={day}"),
            Some(&user.token),
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    listed.body["items"].as_array().unwrap().clone()
}

on_every_store!(an_opennutritracker_bundle_imports_its_history_once);

async fn an_opennutritracker_bundle_imports_its_history_once(app: TestApp) {
    let user = app
        .register("mover", json!({"timezone": "Europe/Berlin"}))
        .await;

    let (status, report) = import(
        &app,
        &user,
        "opennutritracker",
        "opennutritracker-export.zip",
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report,
        json!({"created": 3, "unchanged": 0, "conflicts": 0,
            "skipped": {"no_energy": 1, "unknown_unit": 1}})
    );
    let meals = meals_of(&app, &user, "2026-03-02").await;
    let seen: Vec<(&Value, &Value, &Value, &Value)> = meals
        .iter()
        .map(|meal| {
            (
                &meal["name"],
                &meal["kcal"],
                &meal["eaten_at"],
                &meal["unit"],
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                &json!("Whole Milk"),
                &json!(152.5),
                &json!("2026-03-02T06:30:00Z"),
                &json!("g")
            ),
            (
                &json!("Granola bar"),
                &json!(270.0),
                &json!("2026-03-02T14:45:00Z"),
                &json!("serving")
            ),
        ],
        "61 kcal × 250 g; 450 kcal × 1.5 × 40 g; local times in Berlin (UTC+1)"
    );
    assert_eq!(meals[0]["protein_g"], json!(8.0), "3.2 g × 2.5");
    assert_eq!(meals[1]["quantity"], json!(1.5), "60 g of a 40 g serving");
    assert_eq!(meals[0]["sodium_mg"], Value::Null, "unknown in the file");
    let workouts = app
        .get("/api/v1/workout-entries?from=2026-03-02", Some(&user.token))
        .await;
    let run = &workouts.body["items"][0];
    assert_eq!(
        (
            &run["title"],
            &run["activity"],
            &run["duration_s"],
            &run["kcal_burned"]
        ),
        (
            &json!("Running, 8 km/h"),
            &json!("running"),
            &json!(2700),
            &json!(320.0)
        )
    );

    let (_, again) = import(
        &app,
        &user,
        "opennutritracker",
        "opennutritracker-export.zip",
    )
    .await;
    assert_eq!(
        (&again["created"], &again["unchanged"]),
        (&json!(0), &json!(3)),
        "the same file again creates nothing"
    );
    let other = app.register("friend", json!({})).await;
    let (_, theirs) = import(
        &app,
        &other,
        "opennutritracker",
        "opennutritracker-export.zip",
    )
    .await;
    assert_eq!(
        theirs["created"],
        json!(3),
        "another user's import is their own"
    );
}

#[tokio::test]
async fn myfitnesspal_meal_rows_become_meals_and_odd_rows_are_counted() {
    let app = crate::support::Backend::Memory.app().await;
    let user = app.register("mfp", json!({})).await;

    let (status, report) = import(
        &app,
        &user,
        "myfitnesspal-csv",
        "myfitnesspal-nutrition.csv",
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report,
        json!({"created": 4, "unchanged": 0, "conflicts": 0,
            "skipped": {"unknown_meal": 1, "value_out_of_range": 1}})
    );
    let meals = meals_of(&app, &user, "2026-03-03").await;
    let lunch = meals
        .iter()
        .find(|meal| meal["name"] == "Lunch (MyFitnessPal)")
        .unwrap();
    assert_eq!(
        (
            &lunch["kcal"],
            &lunch["protein_g"],
            &lunch["sodium_mg"],
            &lunch["eaten_at"]
        ),
        (
            &json!(655.0),
            &json!(38.0),
            &json!(980.0),
            &json!("2026-03-03T11:40:00Z")
        ),
        "12:40 PM in the user's Berlin"
    );
    let snacks = meals.iter().filter(|meal| meal["slot"] == "snack").count();
    assert_eq!(snacks, 2, "two snacks of a day are two meals");
}

#[tokio::test]
async fn cronometer_servings_become_meals_with_their_amounts() {
    let app = crate::support::Backend::Memory.app().await;
    let user = app.register("crono", json!({})).await;

    let (status, report) = import(&app, &user, "cronometer-csv", "cronometer-servings.csv").await;

    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report,
        json!({"created": 3, "unchanged": 0, "conflicts": 0, "skipped": {"no_name": 1}})
    );
    let meals = meals_of(&app, &user, "2026-03-04").await;
    let mut seen: Vec<(&Value, &Value, &Value, &Value, &Value)> = meals
        .iter()
        .map(|meal| {
            (
                &meal["name"],
                &meal["slot"],
                &meal["quantity"],
                &meal["unit"],
                &meal["kcal"],
            )
        })
        .collect();
    // Oats and milk share a minute, so the list's order between them is their ids':
    // by energy here, the most first.
    seen.sort_by(|a, b| b.4.as_f64().unwrap().total_cmp(&a.4.as_f64().unwrap()));
    assert_eq!(
        seen,
        [
            (
                &json!("Oats, Rolled, Dry"),
                &json!("breakfast"),
                &json!(40.0),
                &json!("g"),
                &json!(151.6)
            ),
            (
                &json!("Milk, Whole"),
                &json!("breakfast"),
                &json!(200.0),
                &json!("ml"),
                &json!(122.0)
            ),
            (
                &json!("Coffee, Brewed"),
                &json!("snack"),
                &json!(1.0),
                &json!("serving"),
                &json!(2.4)
            ),
        ]
    );
}

#[tokio::test]
async fn a_file_of_another_format_is_refused_whole() {
    let app = crate::support::Backend::Memory.app().await;
    let user = app.register("confused", json!({})).await;
    for (format, file) in [
        ("cronometer-csv", "myfitnesspal-nutrition.csv"),
        ("myfitnesspal-csv", "opennutritracker-export.zip"),
        ("opennutritracker", "cronometer-servings.csv"),
    ] {
        let (status, body) = import(&app, &user, format, file).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{format}: {body}");
        assert_eq!(body["error"]["field"], "body", "{format}: {body}");
    }
    let (status, body) = import(&app, &user, "loseit", "cronometer-servings.csv").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "format");
    assert!(
        meals_of(&app, &user, "2026-03-04").await.is_empty(),
        "nothing written"
    );
}
