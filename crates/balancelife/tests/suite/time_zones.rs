//! Users far from UTC: wherever an entry's day is worked out again (a PATCH that moves
//! its time, applying a package, importing an entry without a usable `local_date`),
//! the entry lands on the user's calendar day, not on the UTC date of its time.
//!
//! In December Auckland is UTC+13 and Los Angeles UTC−8, so each zone has a midnight
//! with a different date on either side of it in UTC.

use axum::http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, TestUser, spawn_app};

/// An instant whose calendar day differs between the user's zone and UTC.
struct FarFromUtc {
    zone: &'static str,
    /// On `users_day` locally, on `utc_day` in UTC.
    at: &'static str,
    /// Across the user's midnight from `at`: on `utc_day` locally and in UTC.
    across_midnight: &'static str,
    users_day: &'static str,
    utc_day: &'static str,
}

/// 00:30 on 10 Dec in Auckland is 11:30 on 9 Dec in UTC. Applied packages land
/// before UTC's midnight too: breakfast (08:00) and a workout (07:00) on 10 Dec
/// are 19:00 and 18:00 on 9 Dec in UTC.
const AUCKLAND: FarFromUtc = FarFromUtc {
    zone: "Pacific/Auckland",
    at: "2025-12-10T00:30:00+13:00",
    across_midnight: "2025-12-09T23:30:00+13:00",
    users_day: "2025-12-10",
    utc_day: "2025-12-09",
};

/// 23:30 on 10 Dec in Los Angeles is 07:30 on 11 Dec in UTC, and dinner (19:00) on
/// 10 Dec is 03:00 on 11 Dec. (A workout, applied at 07:00, is 15:00 the same day in
/// UTC, so applying one cannot cross a date here.)
const LOS_ANGELES: FarFromUtc = FarFromUtc {
    zone: "America/Los_Angeles",
    at: "2025-12-10T23:30:00-08:00",
    across_midnight: "2025-12-11T08:00:00-08:00",
    users_day: "2025-12-10",
    utc_day: "2025-12-11",
};

/// What tells meal and workout entries apart here.
struct Kind {
    entries_path: &'static str,
    packages_path: &'static str,
    time_field: &'static str,
    /// The array of an export file the entries are in.
    file_field: &'static str,
    /// A valid entry at a time.
    body: fn(&str) -> Value,
    /// The first day (of the first week) of a package, on a date.
    apply_body: fn(&str) -> Value,
}

const MEAL: Kind = Kind {
    entries_path: "/api/v1/meal-entries",
    packages_path: "/api/v1/meal-packages",
    time_field: "eaten_at",
    file_field: "meal_entries",
    body: TestApp::meal_body,
    apply_body: |date| json!({"date": date, "day": 1}),
};

const WORKOUT: Kind = Kind {
    entries_path: "/api/v1/workout-entries",
    packages_path: "/api/v1/workout-packages",
    time_field: "started_at",
    file_field: "workout_entries",
    body: TestApp::workout_body,
    apply_body: |date| json!({"date": date, "week": 1, "day": 1}),
};

async fn user_in(app: &TestApp, place: &FarFromUtc) -> TestUser {
    app.register("far", json!({"timezone": place.zone})).await
}

/// The user's entries of `kind` listed on one day of their calendar.
async fn listed_on(app: &TestApp, user: &TestUser, kind: &Kind, day: &str) -> Vec<Value> {
    let path = format!("{}?from={day}&to={day}", kind.entries_path);
    let listed = app.get(&path, Some(&user.token)).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    listed.body["items"].as_array().unwrap().clone()
}

fn sorted_ids<'a>(entries: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    let mut ids: Vec<String> = entries
        .into_iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Exactly the entries `ids` are listed on the user's day, with it as their
/// `local_date`, and none on the UTC day; at least one of them is on the UTC day in
/// UTC, or the case would not tell the two calendars apart.
async fn assert_on_the_users_day(
    app: &TestApp,
    user: &TestUser,
    kind: &Kind,
    place: &FarFromUtc,
    ids: Vec<String>,
) {
    let on_users_day = listed_on(app, user, kind, place.users_day).await;
    let on_utc_day = listed_on(app, user, kind, place.utc_day).await;

    assert_eq!(sorted_ids(&on_users_day), ids, "listed on the user's day");
    for entry in &on_users_day {
        assert_eq!(entry["local_date"], place.users_day, "{entry}");
    }
    assert!(
        on_users_day.iter().any(|e| e[kind.time_field]
            .as_str()
            .unwrap()
            .starts_with(place.utc_day)),
        "the case needs an entry on {} in UTC: {on_users_day:?}",
        place.utc_day
    );
    assert_eq!(on_utc_day, Vec::<Value>::new(), "nothing on the UTC day");
}

/// Logs an entry across the user's midnight, then moves it to `place.at`.
async fn moving_across_midnight(kind: &Kind, place: &FarFromUtc) {
    let app = spawn_app().await;
    let user = user_in(&app, place).await;
    let created = app
        .post(
            kind.entries_path,
            Some(&user.token),
            (kind.body)(place.across_midnight),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["local_date"], place.utc_day);
    let path = format!(
        "{}/{}",
        kind.entries_path,
        created.body["id"].as_str().unwrap()
    );

    let patched = app
        .patch(
            &path,
            Some(&user.token),
            json!({ kind.time_field: place.at }),
        )
        .await;

    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["local_date"], place.users_day);
    assert_on_the_users_day(&app, &user, kind, place, sorted_ids([&patched.body])).await;
}

/// Applies the first day of the first package of `kind` on the user's day.
async fn applying_a_package_day(kind: &Kind, place: &FarFromUtc) {
    let app = spawn_app().await;
    let user = user_in(&app, place).await;
    let packages = app
        .get(&format!("{}?limit=1", kind.packages_path), None)
        .await;
    let path = format!(
        "{}/{}/apply",
        kind.packages_path,
        packages.body["items"][0]["id"].as_str().unwrap()
    );

    let applied = app
        .post(&path, Some(&user.token), (kind.apply_body)(place.users_day))
        .await;

    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.body);
    let entries = applied.body["entries"].as_array().unwrap();
    for entry in entries {
        assert_eq!(entry["local_date"], place.users_day, "{entry}");
    }
    assert_on_the_users_day(&app, &user, kind, place, sorted_ids(entries)).await;
}

/// Imports two entries at `place.at`: one without a `local_date`, one whose
/// `local_date` its time cannot fall on.
async fn importing_without_a_usable_day(kind: &Kind, place: &FarFromUtc) {
    let app = spawn_app().await;
    let user = user_in(&app, place).await;
    let mut missing = (kind.body)(place.at);
    missing["id"] = json!(Uuid::now_v7());
    let mut implausible = (kind.body)(place.at);
    implausible["id"] = json!(Uuid::now_v7());
    implausible["local_date"] = json!("2000-01-01");
    let ids = sorted_ids([&missing, &implausible]);
    let file = json!({
        "format": "balancelife-export",
        "version": 1,
        kind.file_field: [missing, implausible],
    });

    let report = app.post("/api/v1/import", Some(&user.token), file).await;

    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(
        report.body,
        json!({"created": 2, "unchanged": 0, "conflicts": 0, "skipped": {}})
    );
    assert_on_the_users_day(&app, &user, kind, place, ids).await;
}

/// One test per case: its name, then the scenario with the kind of entry and the place.
macro_rules! cases {
    ($($name:ident: $scenario:ident($kind:ident, $place:ident);)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                $scenario(&$kind, &$place).await;
            }
        )*
    };
}

cases! {
    // Moving an entry's time across the user's midnight.
    patching_a_meal_across_midnight_in_auckland_keeps_the_users_day:
        moving_across_midnight(MEAL, AUCKLAND);
    patching_a_meal_across_midnight_in_los_angeles_keeps_the_users_day:
        moving_across_midnight(MEAL, LOS_ANGELES);
    patching_a_workout_across_midnight_in_auckland_keeps_the_users_day:
        moving_across_midnight(WORKOUT, AUCKLAND);
    patching_a_workout_across_midnight_in_los_angeles_keeps_the_users_day:
        moving_across_midnight(WORKOUT, LOS_ANGELES);

    // Applying a package on the user's day.
    applying_a_meal_package_in_auckland_logs_the_meals_on_the_users_day:
        applying_a_package_day(MEAL, AUCKLAND);
    applying_a_meal_package_in_los_angeles_logs_the_meals_on_the_users_day:
        applying_a_package_day(MEAL, LOS_ANGELES);
    applying_a_workout_package_in_auckland_logs_the_session_on_the_users_day:
        applying_a_package_day(WORKOUT, AUCKLAND);

    // Importing entries without a usable `local_date`.
    importing_meals_without_a_usable_day_in_auckland_files_them_on_the_users_day:
        importing_without_a_usable_day(MEAL, AUCKLAND);
    importing_meals_without_a_usable_day_in_los_angeles_files_them_on_the_users_day:
        importing_without_a_usable_day(MEAL, LOS_ANGELES);
    importing_workouts_without_a_usable_day_in_auckland_files_them_on_the_users_day:
        importing_without_a_usable_day(WORKOUT, AUCKLAND);
    importing_workouts_without_a_usable_day_in_los_angeles_files_them_on_the_users_day:
        importing_without_a_usable_day(WORKOUT, LOS_ANGELES);
}
