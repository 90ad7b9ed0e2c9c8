//! Samples from health platforms: kept once per record, updated and removed as the
//! record is, exercise sessions logged as workouts unless they overlap one the user
//! logged, and a batch with a wrong sample refused whole.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

on_every_store!(
    a_record_sent_again_changes_nothing_and_its_changes_and_deletion_follow,
    a_session_overlapping_a_logged_workout_is_kept_as_a_sample_only,
    a_batch_with_a_wrong_sample_is_refused_whole,
);

fn source(record: &str) -> Value {
    json!({"platform": "health_connect", "app": "com.strava", "record_id": record})
}

async fn send(app: &TestApp, user: &TestUser, samples: Value) -> crate::support::TestResponse {
    app.post(
        "/api/v1/health-samples/batch",
        Some(&user.token),
        json!({"samples": samples}),
    )
    .await
}

fn outcomes(report: &Value) -> Vec<String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["outcome"].as_str().unwrap().to_owned())
        .collect()
}

async fn workouts_on(app: &TestApp, user: &TestUser, day: &str) -> Vec<Value> {
    let listed = app
        .get(
            &format!("/api/v1/workout-entries?from={day}"),
            Some(&user.token),
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    listed.body["items"].as_array().unwrap().clone()
}

async fn a_record_sent_again_changes_nothing_and_its_changes_and_deletion_follow(app: TestApp) {
    let user = app.register("health", json!({"timezone": "UTC"})).await;
    let session = json!({"type": "exercise_session", "start": "2026-03-03T06:00:00Z",
        "end": "2026-03-03T06:45:00Z", "value": 1673.6, "unit": "kJ",
        "activity": "running", "source": source("run-1")});
    let samples = json!([
        {"type": "weight", "start": "2026-03-03T06:50:00Z", "value": 154, "unit": "lb",
            "source": source("w-1")},
        {"type": "steps", "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z",
            "value": 9120, "source": source("s-1")},
        session,
    ]);
    let first = send(&app, &user, samples.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(outcomes(&first.body), ["created", "created", "created"]);
    let entry_id = first.body["results"][2]["workout_entry_id"].clone();
    assert_eq!(
        entry_id, first.body["results"][2]["id"],
        "the entry follows the sample"
    );

    let weights = app
        .get(
            "/api/v1/health-samples?type=weight&from=2026-03-03",
            Some(&user.token),
        )
        .await;
    assert_eq!(weights.status, StatusCode::OK, "{}", weights.body);
    assert_eq!(
        weights.body["items"][0]["value"],
        json!(69.853),
        "154 lb in kg"
    );
    assert_eq!(weights.body["items"][0]["unit"], json!("kg"));

    let logged = workouts_on(&app, &user, "2026-03-03").await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0]["id"], entry_id);
    assert_eq!(
        logged[0]["title"],
        json!("Running · com.strava via Health Connect")
    );
    assert_eq!(logged[0]["kcal_burned"], json!(400.0), "1673.6 kJ");
    assert_eq!(logged[0]["duration_s"], json!(2700));

    // The same records again: nothing changes, the workout is not logged twice.
    let again = send(&app, &user, samples).await;
    assert_eq!(
        outcomes(&again.body),
        ["unchanged", "unchanged", "unchanged"]
    );
    assert_eq!(workouts_on(&app, &user, "2026-03-03").await.len(), 1);

    // The session is edited on the phone, then deleted there.
    let mut edited = session.clone();
    edited["value"] = json!(450);
    edited["unit"] = json!("kcal");
    let updated = send(&app, &user, json!([edited])).await;
    assert_eq!(outcomes(&updated.body), ["updated"]);
    assert_eq!(
        workouts_on(&app, &user, "2026-03-03").await[0]["kcal_burned"],
        json!(450.0)
    );
    let deleted = send(
        &app,
        &user,
        json!([{"type": "exercise_session", "start": "2026-03-03T06:00:00Z",
            "source": source("run-1"), "deleted": true}]),
    )
    .await;
    assert_eq!(outcomes(&deleted.body), ["removed"]);
    assert!(workouts_on(&app, &user, "2026-03-03").await.is_empty());

    // A deletion sent with another type still takes the session's workout away.
    let mut other_run = session.clone();
    other_run["source"] = source("run-3");
    let logged_again = send(&app, &user, json!([other_run])).await;
    assert_eq!(outcomes(&logged_again.body), ["created"]);
    assert_eq!(workouts_on(&app, &user, "2026-03-03").await.len(), 1);
    let removed = send(
        &app,
        &user,
        json!([{"type": "weight", "start": "2026-03-03T06:00:00Z", "source": source("run-3"),
            "deleted": true}]),
    )
    .await;
    assert_eq!(outcomes(&removed.body), ["removed"]);
    assert!(workouts_on(&app, &user, "2026-03-03").await.is_empty());

    // Another user's record of the same id is theirs alone.
    let other = app
        .register("other-health", json!({"timezone": "UTC"}))
        .await;
    let theirs = send(
        &app,
        &other,
        json!([{"type": "weight", "start": "2026-03-03T06:50:00Z", "value": 80,
            "source": source("w-1")}]),
    )
    .await;
    assert_eq!(outcomes(&theirs.body), ["created"]);
    let mine = app
        .get(
            "/api/v1/health-samples?type=weight&from=2026-03-03",
            Some(&user.token),
        )
        .await;
    assert_eq!(mine.body["items"][0]["value"], json!(69.853));
}

async fn a_session_overlapping_a_logged_workout_is_kept_as_a_sample_only(app: TestApp) {
    let user = app.register("overlap", json!({"timezone": "UTC"})).await;
    let run = app
        .post(
            "/api/v1/workout-entries",
            Some(&user.token),
            TestApp::workout_body("2026-03-04T07:00:00Z"),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.body);
    let sessions = json!([
        {"type": "exercise_session", "start": "2026-03-04T07:10:00Z", "end": "2026-03-04T07:40:00Z",
            "value": 300, "activity": "running", "source": source("run-2")},
        {"type": "exercise_session", "start": "2026-03-04T18:00:00Z", "end": "2026-03-04T18:30:00Z",
            "value": 200, "activity": "cycling", "source": source("ride-1")},
    ]);
    let sent = send(&app, &user, sessions).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(outcomes(&sent.body), ["created", "created"]);
    assert!(sent.body["results"][0].get("workout_entry_id").is_none());
    assert!(sent.body["results"][1]["workout_entry_id"].is_string());
    let logged = workouts_on(&app, &user, "2026-03-04").await;
    let titles: Vec<&str> = logged
        .iter()
        .map(|w| w["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Morning run", "Cycling · com.strava via Health Connect"]
    );
    let kept = app
        .get(
            "/api/v1/health-samples?type=exercise_session&from=2026-03-04",
            Some(&user.token),
        )
        .await;
    assert_eq!(
        kept.body["items"].as_array().unwrap().len(),
        2,
        "both kept as samples"
    );
}

async fn a_batch_with_a_wrong_sample_is_refused_whole(app: TestApp) {
    let user = app
        .register("wrong-sample", json!({"timezone": "UTC"}))
        .await;
    let refused = send(
        &app,
        &user,
        json!([
            {"type": "weight", "start": "2026-03-03T06:50:00Z", "value": 70, "source": source("ok")},
            {"type": "weight", "start": "2026-03-03T06:50:00Z", "value": 70, "unit": "kcal",
                "source": source("bad")},
        ]),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.error_field(), "samples[1].value");
    let nothing = app
        .get(
            "/api/v1/health-samples?type=weight&from=2026-03-03",
            Some(&user.token),
        )
        .await;
    assert_eq!(nothing.body["items"], json!([]), "nothing was written");

    for (sample, field) in [
        (
            json!({"type": "steps", "start": "2026-03-03T00:00:00Z", "end": "2026-03-02T00:00:00Z",
            "value": 10, "source": source("a")}),
            "samples[0].end",
        ),
        (
            json!({"type": "weight", "start": "1999-12-31T00:00:00Z", "value": 70,
            "source": source("b")}),
            "samples[0].start",
        ),
        (
            json!({"type": "weight", "start": "2026-03-03T00:00:00Z", "source": source("c")}),
            "samples[0].value",
        ),
        (
            json!({"type": "weight", "start": "2026-03-03T00:00:00Z", "value": 70,
            "activity": "running", "source": source("d")}),
            "samples[0].activity",
        ),
    ] {
        let refused = send(&app, &user, json!([sample])).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(refused.error_field(), field, "{}", refused.body);
    }
    let many: Vec<Value> = (0..1001)
        .map(|n| {
            json!({"type": "steps", "start": "2026-03-03T00:00:00Z", "value": n,
            "source": source(&format!("s{n}"))})
        })
        .collect();
    let too_many = send(&app, &user, Value::Array(many)).await;
    assert_eq!(too_many.status, StatusCode::PAYLOAD_TOO_LARGE);
}
