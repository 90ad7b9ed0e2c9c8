//! The body log over HTTP: weigh-ins and girths with ids a phone makes, refused
//! when they measure nothing or too much; the profile's weight following the newest
//! weigh-in, whichever way it arrives; health-platform readings shown once; the
//! trend in summaries; the sync feed, the batch and export and import carrying it.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

on_every_store!(
    a_measurement_is_created_read_changed_and_deleted_by_its_own_id,
    a_record_of_nothing_or_of_nonsense_is_refused_and_changes_nothing,
    the_profiles_weight_follows_the_newest_weigh_in,
    health_weigh_ins_show_in_the_body_log_once,
    summaries_show_each_days_weight_and_the_trend_the_worked_example_gives,
    the_body_log_travels_through_sync_batches_and_export_and_import,
);

const ID: &str = "0195f4c8-7b1e-7c51-9a43-51f4f7e0b001";

fn weigh_in(at: &str, kg: f64) -> Value {
    json!({"measured_at": at, "weight_kg": kg})
}

async fn profile_weight(app: &TestApp, user: &TestUser) -> Value {
    let me = app.get("/api/v1/users/me", Some(&user.token)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    me.body["weight_kg"].clone()
}

async fn put(app: &TestApp, user: &TestUser, id: &str, body: Value) -> Value {
    let path = format!("/api/v1/body-metrics/{id}");
    let written = app.put(&path, Some(&user.token), body).await;
    assert!(written.status.is_success(), "{}", written.body);
    written.body
}

async fn listed(app: &TestApp, user: &TestUser, from: &str, to: &str) -> Vec<Value> {
    let path = format!("/api/v1/body-metrics?from={from}&to={to}");
    let list = app.get(&path, Some(&user.token)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.body["items"].as_array().unwrap().clone()
}

async fn a_measurement_is_created_read_changed_and_deleted_by_its_own_id(app: TestApp) {
    let user = app.register("body", json!({"timezone": "UTC"})).await;
    let body = json!({"id": ID, "measured_at": "2026-03-02T06:30:00Z", "weight_kg": 81.4,
        "body_fat_pct": 22.5, "waist_cm": 90, "measurements": {"hips": 101.5, "left-arm": 33},
        "notes": "after the run"});

    let created = app
        .post("/api/v1/body-metrics", Some(&user.token), body.clone())
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.headers["location"],
        format!("/api/v1/body-metrics/{ID}")
    );
    assert_eq!(created.body["local_date"], json!("2026-03-02"));
    assert_eq!(created.body["source"], json!("manual"));
    assert_eq!(
        created.body["measurements"],
        json!({"hips": 101.5, "left-arm": 33.0})
    );
    let again = app
        .post("/api/v1/body-metrics", Some(&user.token), body)
        .await;
    assert_eq!(again.status, StatusCode::OK, "sent twice, stored once");

    let path = format!("/api/v1/body-metrics/{ID}");
    let read = app.get(&path, Some(&user.token)).await;
    assert_eq!(read.body, created.body);

    // `null` clears a value; the girths are replaced whole.
    let patch = json!({"body_fat_pct": null, "measurements": {"hips": 100}});
    let patched = app.patch(&path, Some(&user.token), patch).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["body_fat_pct"], Value::Null);
    assert_eq!(patched.body["measurements"], json!({"hips": 100.0}));
    assert_eq!(patched.body["weight_kg"], json!(81.4));

    let stranger = app.register("stranger", json!({})).await;
    let theirs = app.get(&path, Some(&stranger.token)).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let taken = app
        .put(
            &path,
            Some(&stranger.token),
            weigh_in("2026-03-02T07:00:00Z", 60.0),
        )
        .await;
    assert_eq!(taken.status, StatusCode::NOT_FOUND, "another user's id");

    let deleted = app.delete(&path, Some(&user.token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(
        listed(&app, &user, "2026-03-01", "2026-03-03")
            .await
            .is_empty()
    );
}

async fn a_record_of_nothing_or_of_nonsense_is_refused_and_changes_nothing(app: TestApp) {
    let user = app.register("body-refused", json!({})).await;
    let at = "2026-03-02T06:30:00Z";
    let too_many: serde_json::Map<String, Value> =
        (0..21).map(|n| (format!("girth-{n}"), json!(50))).collect();
    for (body, field) in [
        (json!({"measured_at": at}), "weight_kg"),
        (json!({"measured_at": at, "measurements": {}}), "weight_kg"),
        (weigh_in(at, 7.0), "weight_kg"),
        (
            json!({"measured_at": at, "body_fat_pct": 90}),
            "body_fat_pct",
        ),
        (json!({"measured_at": at, "waist_cm": -3}), "waist_cm"),
        (
            json!({"measured_at": at, "measurements": {"Left Arm": 30}}),
            "measurements",
        ),
        (
            json!({"measured_at": at, "measurements": too_many}),
            "measurements",
        ),
        (weigh_in("1999-12-31T23:00:00Z", 80.0), "measured_at"),
        (
            json!({"measured_at": at, "weight_kg": 80, "bmi": 24}),
            "bmi",
        ),
    ] {
        let refused = app
            .put(
                &format!("/api/v1/body-metrics/{ID}"),
                Some(&user.token),
                body.clone(),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            refused.body
        );
        assert!(
            refused.error_field().starts_with(field),
            "{body}: {}",
            refused.body
        );
    }
    // A change that would leave nothing measured is refused too.
    put(&app, &user, ID, weigh_in(at, 80.0)).await;
    let path = format!("/api/v1/body-metrics/{ID}");
    let emptied = app
        .patch(&path, Some(&user.token), json!({"weight_kg": null}))
        .await;
    assert_eq!(emptied.status, StatusCode::UNPROCESSABLE_ENTITY);
    let kept = app.get(&path, Some(&user.token)).await;
    assert_eq!(kept.body["weight_kg"], json!(80.0));
    assert_eq!(
        listed(&app, &user, "2026-03-02", "2026-03-02").await.len(),
        1
    );
}

async fn the_profiles_weight_follows_the_newest_weigh_in(app: TestApp) {
    let user = app.register("weight", json!({"timezone": "UTC"})).await;
    let ids: Vec<String> = (1..=4)
        .map(|n| format!("0195f4c8-7b1e-7c51-9a43-51f4f7e0b10{n}"))
        .collect();
    put(&app, &user, &ids[0], weigh_in("2026-03-01T07:00:00Z", 80.0)).await;
    assert_eq!(profile_weight(&app, &user).await, json!(80.0));
    put(&app, &user, &ids[1], weigh_in("2026-03-05T07:00:00Z", 78.5)).await;
    assert_eq!(profile_weight(&app, &user).await, json!(78.5));

    // An older weigh-in logged late, and a girth alone, leave it.
    put(&app, &user, &ids[2], weigh_in("2026-02-20T07:00:00Z", 83.0)).await;
    let girth = json!({"measured_at": "2026-03-06T07:00:00Z", "waist_cm": 88});
    put(&app, &user, &ids[3], girth).await;
    assert_eq!(profile_weight(&app, &user).await, json!(78.5));

    // The newest deleted: the one before it rules again.
    let newest = format!("/api/v1/body-metrics/{}", ids[1]);
    let deleted = app.delete(&newest, Some(&user.token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(profile_weight(&app, &user).await, json!(80.0));

    // A phone's offline week, sent as one batch, sets it once, to its newest.
    let operations: Vec<Value> = (0..5)
        .map(|day| {
            json!({"method": "PUT",
                "path": format!("/api/v1/body-metrics/0195f4c8-7b1e-7c51-9a43-51f4f7e0b20{day}"),
                "body": weigh_in(&format!("2026-03-1{day}T07:00:00Z"), 79.0 - f64::from(day) / 10.0)})
        })
        .collect();
    let batch = json!({"id": "0195f4c8-7b1e-7c51-9a43-51f4f7e0b300", "operations": operations});
    let answered = app
        .post("/api/v1/sync/batch", Some(&user.token), batch)
        .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    let statuses: Vec<&Value> = answered.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| &result["status"])
        .collect();
    assert_eq!(statuses, [&json!(201); 5]);
    assert_eq!(profile_weight(&app, &user).await, json!(78.6));
}

async fn health_weigh_ins_show_in_the_body_log_once(app: TestApp) {
    let user = app
        .register("health-body", json!({"timezone": "UTC"}))
        .await;
    let sample = |platform: &str, record: &str, at: &str, kg: f64| {
        json!({"type": "weight", "start": at, "value": kg,
            "source": {"platform": platform, "record_id": record}})
    };
    let typed = weigh_in("2026-03-03T19:00:00Z", 80.2);
    put(&app, &user, ID, typed).await;
    let samples = json!({"samples": [
        sample("health_connect", "scale-1", "2026-03-03T07:00:00Z", 80.9),
        // The same scale's reading through the other platform, three minutes on.
        sample("healthkit", "hk-1", "2026-03-03T07:03:00Z", 80.9),
        // The weigh-in the user typed in, as the scale's app sent it too.
        sample("health_connect", "scale-2", "2026-03-03T19:05:00Z", 80.2),
        {"type": "body_fat", "start": "2026-03-03T07:00:00Z", "value": 21.5,
            "source": {"platform": "health_connect", "record_id": "fat-1"}},
    ]});
    let sent = app
        .post("/api/v1/health-samples/batch", Some(&user.token), samples)
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let results = sent.body["results"].as_array().unwrap();
    assert_eq!(results[0]["body_metric_id"], results[0]["id"]);
    assert_eq!(results[1].get("body_metric_id"), None, "{}", sent.body);
    assert_eq!(results[2].get("body_metric_id"), None, "{}", sent.body);
    assert_eq!(results[3]["body_metric_id"], results[3]["id"]);

    let log = listed(&app, &user, "2026-03-03", "2026-03-03").await;
    // Two readings at 07:00 are ordered by their ids: compare as a set.
    let mut shown: Vec<String> = log
        .iter()
        .map(|m| format!("{} {} {}", m["source"], m["weight_kg"], m["body_fat_pct"]))
        .collect();
    shown.sort();
    assert_eq!(
        shown,
        [
            r#""health_connect" 80.9 null"#,
            r#""health_connect" null 21.5"#,
            r#""manual" 80.2 null"#,
        ]
    );
    assert_eq!(profile_weight(&app, &user).await, json!(80.2));

    // Deleted on the phone: gone from the body log, and the same reading through
    // the other platform, kept as a sample only while it stood, shows instead.
    let gone = json!({"samples": [{"type": "weight", "start": "2026-03-03T07:00:00Z",
        "deleted": true, "source": {"platform": "health_connect", "record_id": "scale-1"}}]});
    let sent = app
        .post("/api/v1/health-samples/batch", Some(&user.token), gone)
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let log = listed(&app, &user, "2026-03-03", "2026-03-03").await;
    let morning: Vec<&Value> = log
        .iter()
        .filter(|m| m["weight_kg"] == json!(80.9))
        .collect();
    assert_eq!(morning.len(), 1, "{log:?}");
    assert_eq!(morning[0]["source"], json!("healthkit"));
    assert_eq!(morning[0]["id"], results[1]["id"]);

    // The user deletes it; the platform sending the record again, unchanged,
    // does not bring it back.
    let path = format!(
        "/api/v1/body-metrics/{}",
        results[1]["id"].as_str().unwrap()
    );
    assert_eq!(
        app.delete(&path, Some(&user.token)).await.status,
        StatusCode::NO_CONTENT
    );
    let again = json!({"samples": [sample("healthkit", "hk-1", "2026-03-03T07:03:00Z", 80.9)]});
    let sent = app
        .post("/api/v1/health-samples/batch", Some(&user.token), again)
        .await;
    assert_eq!(
        sent.body["results"][0]["outcome"],
        json!("unchanged"),
        "{}",
        sent.body
    );
    assert_eq!(sent.body["results"][0].get("body_metric_id"), None);
    assert_eq!(
        listed(&app, &user, "2026-03-03", "2026-03-03").await.len(),
        2
    );
}

/// The weigh-ins of the trend's worked example (`body::trend`): 80.0 on 1 March,
/// 79.0 on the 2nd, 78.4 and 78.8 on the 4th; its trend 80.0, 79.9, 79.79, 79.671
/// and 79.671, shown to a hundredth of a kilogram.
async fn summaries_show_each_days_weight_and_the_trend_the_worked_example_gives(app: TestApp) {
    let user = app.register("trend", json!({"timezone": "UTC"})).await;
    let readings = [
        ("2026-03-04T20:00:00Z", 78.8),
        ("2026-03-01T07:00:00Z", 80.0),
        ("2026-03-02T07:00:00Z", 79.0),
        ("2026-03-04T07:00:00Z", 78.4),
    ];
    for (n, (at, kg)) in readings.into_iter().enumerate() {
        let id = format!("0195f4c8-7b1e-7c51-9a43-51f4f7e0b40{n}");
        put(&app, &user, &id, weigh_in(at, kg)).await;
    }
    let summary = app
        .get(
            "/api/v1/summary?from=2026-02-28&to=2026-03-05",
            Some(&user.token),
        )
        .await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
    let rows: Vec<(Value, Value)> = summary.body["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|day| (day["weight_kg"].clone(), day["trend_kg"].clone()))
        .collect();
    let null = Value::Null;
    assert_eq!(
        rows,
        [
            (null.clone(), null.clone()),
            (json!(80.0), json!(80.0)),
            (json!(79.0), json!(79.9)),
            (null.clone(), json!(79.79)),
            (json!(78.6), json!(79.67)),
            (null.clone(), json!(79.67)),
        ]
    );
    assert_eq!(summary.body["trend_kg"], json!(79.67));
    assert_eq!(
        summary.body["weekly_rate_kg"], null,
        "under a week of trend"
    );

    // A day's trend is the same whatever range it is asked in.
    let one_day = app
        .get("/api/v1/summary?date=2026-03-03", Some(&user.token))
        .await;
    assert_eq!(one_day.body["days"][0]["trend_kg"], json!(79.79));
    assert_eq!(one_day.body["days"][0]["weight_kg"], null);
}

async fn the_body_log_travels_through_sync_batches_and_export_and_import(app: TestApp) {
    let user = app.register("body-sync", json!({"timezone": "UTC"})).await;
    let girths = json!({"measured_at": "2026-03-02T06:30:00Z", "weight_kg": 70.5,
        "measurements": {"chest": 96}});
    put(&app, &user, ID, girths).await;

    let changes = app.get("/api/v1/sync/changes", Some(&user.token)).await;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.body);
    let measured: Vec<&Value> = changes.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|change| change["kind"] == json!("body_metric"))
        .collect();
    assert_eq!(measured.len(), 1, "{}", changes.body);
    assert_eq!(measured[0]["id"], json!(ID));
    assert_eq!(measured[0]["data"]["measurements"], json!({"chest": 96.0}));

    let export = app.get("/api/v1/export", Some(&user.token)).await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(export.body["body_metrics"][0]["id"], json!(ID));
    let csv = app
        .get("/api/v1/export?format=csv", Some(&user.token))
        .await;
    let csv = csv.body.as_str().expect("CSV text");
    let row = csv
        .lines()
        .find(|line| line.starts_with("body_metric,"))
        .expect("a body_metric row");
    assert!(row.contains(",70.5,") && row.contains("chest=96"), "{row}");

    // Lost, and the profile's weight typed in meanwhile: the import brings the
    // measurement back, and with it the weight.
    let path = format!("/api/v1/body-metrics/{ID}");
    let deleted = app.delete(&path, Some(&user.token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let typed = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"weight_kg": 75}),
        )
        .await;
    assert_eq!(typed.status, StatusCode::OK, "{}", typed.body);
    let imported = app
        .post("/api/v1/import", Some(&user.token), export.body.clone())
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(imported.body["created"], json!(1));
    let back = listed(&app, &user, "2026-03-02", "2026-03-02").await;
    assert_eq!(back[0]["measurements"], json!({"chest": 96.0}));
    assert_eq!(profile_weight(&app, &user).await, json!(70.5));
}
