//! The training log over HTTP: the exercise library searched and paged; sessions
//! logged set by set and refused whole when a set is wrong; energy estimated from
//! MET values and the day's weight unless typed; records, the next step and the
//! weekly volume following the log; sets carried by export and import; a package's
//! day planned set by set at the load progression suggests.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

on_every_store!(
    the_exercise_library_is_searched_filtered_and_paged,
    a_session_is_logged_set_by_set_and_refused_whole_when_a_set_is_wrong,
    energy_is_estimated_from_met_values_and_the_days_weight_unless_typed,
    records_the_next_step_and_weekly_volume_follow_the_log,
    sets_travel_through_export_and_import,
    a_package_day_plans_its_sets_at_the_next_load_for_the_user_to_fill_in,
    the_demo_accounts_package_sessions_are_logged_set_by_set,
);

const ID: &str = "0195f4c8-7b1e-7c51-9a43-51f4f7e0c001";
const SQUAT: &str = "barbell-squat";

fn set(exercise: &str, reps: u32, kg: f64) -> Value {
    json!({"exercise_id": exercise, "reps": reps, "weight_kg": kg})
}

fn session(at: &str, sets: Vec<Value>) -> Value {
    json!({"started_at": at, "activity": "strength", "title": "Legs", "duration_s": 3000,
        "sets": sets})
}

async fn log(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let written = app
        .post("/api/v1/workout-entries", Some(&user.token), body)
        .await;
    assert_eq!(written.status, StatusCode::CREATED, "{}", written.body);
    written.body
}

async fn the_exercise_library_is_searched_filtered_and_paged(app: TestApp) {
    let user = app.register("library", json!({})).await;
    let found = app
        .get(
            "/api/v1/exercises?q=squat%20barb&limit=3",
            Some(&user.token),
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let names: Vec<&str> = found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    assert!(
        names.iter().all(|n| n.to_lowercase().contains("squat")),
        "{names:?}"
    );
    let cursor = found.body["next_cursor"].as_str().expect("more pages");
    let next = app
        .get(
            &format!("/api/v1/exercises?q=squat%20barb&limit=3&cursor={cursor}"),
            Some(&user.token),
        )
        .await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    let first_next = next.body["items"][0]["name"].as_str().unwrap();
    assert!(!names.contains(&first_next), "pages do not overlap");
    let elsewhere = app
        .get(
            &format!("/api/v1/exercises?q=curl&cursor={cursor}"),
            Some(&user.token),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(elsewhere.body["error"]["field"], json!("cursor"));

    let filtered = app
        .get(
            "/api/v1/exercises?muscle=lower_back&equipment=kettlebells&limit=100",
            Some(&user.token),
        )
        .await;
    assert_eq!(filtered.status, StatusCode::OK);
    let items = filtered.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|e| e["equipment"] == json!("kettlebells")));
    let bad = app
        .get("/api/v1/exercises?muscle=elbows", Some(&user.token))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);

    let squat = app
        .get(&format!("/api/v1/exercises/{SQUAT}"), Some(&user.token))
        .await;
    assert_eq!(squat.status, StatusCode::OK);
    assert_eq!(squat.body["primary_muscles"], json!(["quadriceps"]));
    assert!(squat.body["instructions"].as_array().unwrap().len() > 2);
    let none = app
        .get("/api/v1/exercises/no-such-lift", Some(&user.token))
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

async fn a_session_is_logged_set_by_set_and_refused_whole_when_a_set_is_wrong(app: TestApp) {
    let user = app
        .register("sets", json!({"timezone": "UTC", "weight_kg": 80}))
        .await;
    let mut body = session(
        "2026-03-02T07:00:00Z",
        vec![
            json!({"exercise_id": SQUAT, "reps": 10, "weight_kg": 40, "warm_up": true}),
            json!({"exercise_id": SQUAT, "reps": 8, "weight_kg": 100, "rpe": 8.5}),
            json!({"exercise_id": "plank", "duration_s": 60, "done": false}),
        ],
    );
    body["id"] = json!(ID);
    body["kcal_burned"] = json!(320);
    let logged = log(&app, &user, body.clone()).await;
    assert_eq!(logged["kcal_burned"], json!(320.0));
    assert_eq!(logged["kcal_estimated"], json!(false));
    let sets = logged["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 3);
    assert_eq!(sets[0]["warm_up"], json!(true));
    assert_eq!(sets[1]["rpe"], json!(8.5));
    assert_eq!(sets[2]["done"], json!(false));
    let read = app
        .get(&format!("/api/v1/workout-entries/{ID}"), Some(&user.token))
        .await;
    assert_eq!(read.body, logged, "stored whole");

    let refusals = [
        (json!([set("no-such-lift", 5, 50.0)]), "sets[0].exercise_id"),
        (
            json!([set(SQUAT, 5, 50.0), {"exercise_id": SQUAT}]),
            "sets[1]",
        ),
        (
            json!([{"exercise_id": SQUAT, "reps": 5, "weight_kg": -5}]),
            "sets[0].weight_kg",
        ),
        (json!(vec![set(SQUAT, 5, 50.0); 101]), "sets"),
    ];
    for (sets, field) in refusals {
        let mut wrong = session("2026-03-03T07:00:00Z", vec![]);
        wrong["sets"] = sets;
        let refused = app
            .post("/api/v1/workout-entries", Some(&user.token), wrong)
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(
            refused.body["error"]["field"]
                .as_str()
                .is_some_and(|f| f.starts_with(field)),
            "{field}: {}",
            refused.body
        );
    }
    let later = app
        .get(
            "/api/v1/workout-entries?from=2026-03-03&to=2026-03-03",
            Some(&user.token),
        )
        .await;
    assert_eq!(
        later.body["items"],
        json!([]),
        "nothing of a refused session"
    );

    // The sets are replaced whole by a patch; the plank done now.
    let path = format!("/api/v1/workout-entries/{ID}");
    let patch = json!({"sets": [set(SQUAT, 8, 100.0),
        {"exercise_id": "plank", "duration_s": 75}]});
    let patched = app.patch(&path, Some(&user.token), patch).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        patched.body["sets"][1],
        json!({"exercise_id": "plank", "duration_s": 75})
    );
    let wrong = app
        .patch(
            &path,
            Some(&user.token),
            json!({"sets": [{"exercise_id": SQUAT}]}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let kept = app.get(&path, Some(&user.token)).await;
    assert_eq!(kept.body, patched.body, "a refused patch changes nothing");
}

/// Worked by hand (`body::met`): 12 sets of squats (strength, MET 3.5) and 4 of a
/// stretch (2.3) over 50 minutes: MET 3.2. At the 70 kg weighed the day before:
/// 3.2 × 70 × 50 ÷ 60 = 186.7 kcal; at the profile's 80 kg, 213.3 kcal.
async fn energy_is_estimated_from_met_values_and_the_days_weight_unless_typed(app: TestApp) {
    let user = app
        .register("energy", json!({"timezone": "UTC", "weight_kg": 80}))
        .await;
    let mut sets = vec![set(SQUAT, 8, 60.0); 12];
    sets.extend(vec![
        json!({"exercise_id": "90-90-hamstring", "duration_s": 30});
        4
    ]);
    let without_weigh_in = log(&app, &user, session("2026-03-02T07:00:00Z", sets.clone())).await;
    assert_eq!(without_weigh_in["kcal_estimated"], json!(true));
    assert_eq!(
        without_weigh_in["kcal_burned"],
        json!(213.3),
        "the profile's weight"
    );

    let weighed = app
        .post(
            "/api/v1/body-metrics",
            Some(&user.token),
            json!({"measured_at": "2026-03-09T06:00:00Z", "weight_kg": 70}),
        )
        .await;
    assert_eq!(weighed.status, StatusCode::CREATED, "{}", weighed.body);
    let estimated = log(&app, &user, session("2026-03-10T07:00:00Z", sets.clone())).await;
    assert_eq!(estimated["kcal_burned"], json!(186.7), "the day's weight");

    // An estimate follows an edit: ten minutes longer.
    let path = format!(
        "/api/v1/workout-entries/{}",
        estimated["id"].as_str().unwrap()
    );
    let longer = app
        .patch(&path, Some(&user.token), json!({"duration_s": 3600}))
        .await;
    assert_eq!(longer.body["kcal_burned"], json!(224.0), "3.2 × 70 × 1 h");
    // Typed, it stays as typed; `null` hands it back to the estimate.
    let typed = app
        .patch(&path, Some(&user.token), json!({"kcal_burned": 400}))
        .await;
    assert_eq!(
        (
            typed.body["kcal_burned"].clone(),
            typed.body["kcal_estimated"].clone()
        ),
        (json!(400.0), json!(false))
    );
    let shorter = app
        .patch(&path, Some(&user.token), json!({"duration_s": 1800}))
        .await;
    assert_eq!(shorter.body["kcal_burned"], json!(400.0));
    let handed_back = app
        .patch(&path, Some(&user.token), json!({"kcal_burned": null}))
        .await;
    assert_eq!(
        handed_back.body["kcal_burned"],
        json!(112.0),
        "3.2 × 70 × ½ h"
    );

    // A workout as a whole takes its activity's MET: running, 8.0.
    let run = log(
        &app,
        &user,
        json!({"started_at": "2026-03-10T18:00:00Z",
        "activity": "running", "title": "Run", "duration_s": 1800}),
    )
    .await;
    assert_eq!(run["kcal_burned"], json!(280.0), "8.0 × 70 × ½ h");

    // Nobody's weight known: the estimate cannot be made, and the user is told.
    let stranger = app.register("no-weight", json!({"timezone": "UTC"})).await;
    let refused = app
        .post(
            "/api/v1/workout-entries",
            Some(&stranger.token),
            session("2026-03-02T07:00:00Z", sets),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.body["error"]["field"], json!("kcal_burned"));
}

async fn records_the_next_step_and_weekly_volume_follow_the_log(app: TestApp) {
    let user = app
        .register("records", json!({"timezone": "UTC", "weight_kg": 80}))
        .await;
    // Monday 2 March: 5 × 100, 3 × 95. Thursday 5 March: 12 × 80 twice, and a
    // bench press. Monday 9 March: a warm-up only.
    let bench = "barbell-bench-press-medium-grip";
    log(
        &app,
        &user,
        session(
            "2026-03-02T07:00:00Z",
            vec![set(SQUAT, 5, 100.0), set(SQUAT, 3, 95.0)],
        ),
    )
    .await;
    log(
        &app,
        &user,
        session(
            "2026-03-05T07:00:00Z",
            vec![
                set(SQUAT, 12, 80.0),
                set(SQUAT, 12, 80.0),
                set(bench, 8, 60.0),
            ],
        ),
    )
    .await;
    let mut warm_up = set(SQUAT, 10, 40.0);
    warm_up["warm_up"] = json!(true);
    log(&app, &user, session("2026-03-09T07:00:00Z", vec![warm_up])).await;

    let progress = app
        .get("/api/v1/training/exercises", Some(&user.token))
        .await;
    assert_eq!(progress.status, StatusCode::OK, "{}", progress.body);
    let exercises = progress.body["exercises"].as_array().unwrap();
    let names: Vec<&str> = exercises
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Barbell Bench Press - Medium Grip", "Barbell Squat"]
    );
    let squat = &exercises[1];
    assert_eq!(squat["sessions"], json!(3));
    assert_eq!(squat["last"]["date"], json!("2026-03-09"));
    assert_eq!(
        squat["records"],
        json!([
            {"reps": 3, "weight_kg": 100.0, "date": "2026-03-02"},
            {"reps": 5, "weight_kg": 100.0, "date": "2026-03-02"},
            {"reps": 10, "weight_kg": 80.0, "date": "2026-03-05"},
            {"reps": 12, "weight_kg": 80.0, "date": "2026-03-05"},
        ])
    );
    assert_eq!(squat["best_estimate"]["one_rep_max_kg"], json!(116.7));
    // The last session was a warm-up alone: the next step comes from the one
    // before, where both working sets reached the top of 8–12.
    assert_eq!(
        squat["next"],
        json!({"rule": "add_weight", "weight_kg": 82.5, "reps": 8})
    );
    let bench_next = &exercises[0]["next"];
    assert_eq!(
        bench_next,
        &json!({"rule": "add_reps", "weight_kg": 60.0, "reps": 9})
    );
    let narrower = app
        .get(
            &format!("/api/v1/training/exercises?exercise_id={bench}&low=5&high=8"),
            Some(&user.token),
        )
        .await;
    let only = narrower.body["exercises"].as_array().unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(
        only[0]["next"],
        json!({"rule": "add_weight", "weight_kg": 62.5, "reps": 5})
    );
    let upside_down = app
        .get(
            "/api/v1/training/exercises?low=10&high=8",
            Some(&user.token),
        )
        .await;
    assert_eq!(upside_down.status, StatusCode::UNPROCESSABLE_ENTITY);

    let volume = app
        .get(
            "/api/v1/training/volume?from=2026-03-02&to=2026-03-15",
            Some(&user.token),
        )
        .await;
    assert_eq!(volume.status, StatusCode::OK, "{}", volume.body);
    let weeks = volume.body["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 2);
    let first = &weeks[0]["muscles"];
    // Squats: 4 sets of quadriceps, 5 + 3 + 12 + 12 = 32 reps, 500 + 285 + 1,920 kg.
    assert_eq!(
        first["quadriceps"],
        json!({"sets": 4.0, "reps": 32, "tonnage_kg": 2705.0})
    );
    assert_eq!(first["hamstrings"]["sets"], json!(2.0));
    assert_eq!(
        first["chest"],
        json!({"sets": 1.0, "reps": 8, "tonnage_kg": 480.0})
    );
    assert_eq!(first["triceps"]["sets"], json!(0.5));
    assert_eq!(weeks[1]["muscles"], json!({}), "a warm-up is no work");

    // Answers are kept, but never past a write: a heavier single shows at once.
    log(
        &app,
        &user,
        session("2026-03-10T07:00:00Z", vec![set(SQUAT, 1, 125.0)]),
    )
    .await;
    let after = app
        .get(
            &format!("/api/v1/training/exercises?exercise_id={SQUAT}"),
            Some(&user.token),
        )
        .await;
    let squat = &after.body["exercises"][0];
    assert_eq!(squat["sessions"], json!(4));
    assert_eq!(
        squat["records"][0],
        json!({"reps": 1, "weight_kg": 125.0, "date": "2026-03-10"})
    );
    assert_eq!(squat["best_estimate"]["one_rep_max_kg"], json!(125.0));
    let later = app
        .get(
            "/api/v1/training/volume?from=2026-03-02&to=2026-03-15",
            Some(&user.token),
        )
        .await;
    assert_eq!(
        later.body["weeks"][1]["muscles"]["quadriceps"]["sets"],
        json!(1.0)
    );
}

/// The `set` rows of `user`'s CSV export, each by column name.
pub async fn csv_set_rows(
    app: &TestApp,
    user: &TestUser,
) -> Vec<std::collections::HashMap<String, String>> {
    let csv = app
        .get("/api/v1/export?format=csv", Some(&user.token))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.body.as_str().expect("CSV text").to_owned();
    csv::Reader::from_reader(text.as_bytes())
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(Result::unwrap)
        .filter(|row| row["kind"] == "set")
        .collect()
}

async fn sets_travel_through_export_and_import(app: TestApp) {
    let user = app
        .register("sets-export", json!({"timezone": "UTC", "weight_kg": 80}))
        .await;
    let mut body = session("2026-03-02T07:00:00Z", vec![set(SQUAT, 5, 100.0)]);
    body["id"] = json!(ID);
    let logged = log(&app, &user, body).await;
    assert_eq!(logged["kcal_burned"], json!(233.3), "3.5 × 80 × 50 ÷ 60");
    let export = app.get("/api/v1/export", Some(&user.token)).await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(export.body["workout_entries"][0]["sets"], logged["sets"]);
    let sets = csv_set_rows(&app, &user).await;
    assert_eq!(sets.len(), 1, "{sets:?}");
    for (column, value) in [
        ("id", ID),
        ("exercise_id", SQUAT),
        ("name", "Barbell Squat"),
        ("reps", "5"),
        ("weight_kg", "100"),
        ("warm_up", "false"),
        ("done", "true"),
    ] {
        assert_eq!(sets[0][column], value, "{column}");
    }
    let path = format!("/api/v1/workout-entries/{ID}");
    let import = |weight: Value| {
        let (app, user, export, path) = (&app, &user, &export, &path);
        async move {
            let me = json!({"weight_kg": weight});
            let changed = app.patch("/api/v1/users/me", Some(&user.token), me).await;
            assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
            let gone = app.delete(path, Some(&user.token)).await;
            assert_eq!(gone.status, StatusCode::NO_CONTENT);
            let imported = app
                .post("/api/v1/import", Some(&user.token), export.body.clone())
                .await;
            assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
            app.get(path, Some(&user.token)).await.body
        }
    };
    // The weight changed meanwhile: the import estimates again, 3.5 × 90 × 50 ÷ 60.
    let back = import(json!(90)).await;
    assert_eq!(back["sets"], logged["sets"]);
    assert_eq!(back["kcal_burned"], json!(262.5));
    assert_eq!(back["kcal_estimated"], json!(true));
    // No weight known: the exported estimate stands.
    let kept = import(Value::Null).await;
    assert_eq!(kept["kcal_burned"], json!(233.3));

    // A PUT sending an estimate back has it made again, not taken.
    app.patch(
        "/api/v1/users/me",
        Some(&user.token),
        json!({"weight_kg": 90}),
    )
    .await;
    let mut made_up = export.body["workout_entries"][0].clone();
    for managed in ["user_id", "local_date", "created_at", "updated_at"] {
        made_up.as_object_mut().unwrap().remove(managed);
    }
    made_up["kcal_burned"] = json!(5000);
    let put = app.put(&path, Some(&user.token), made_up).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(
        put.body["kcal_burned"],
        json!(262.5),
        "estimated, not taken"
    );
}

async fn a_package_day_plans_its_sets_at_the_next_load_for_the_user_to_fill_in(app: TestApp) {
    let user = app
        .register("planned", json!({"timezone": "UTC", "weight_kg": 80}))
        .await;
    // Five sets of three at 100 kg: the top of a range of three reached.
    log(
        &app,
        &user,
        session("2026-03-02T07:00:00Z", vec![set(SQUAT, 3, 100.0); 5]),
    )
    .await;
    let packages = app
        .get("/api/v1/workout-packages?limit=100", Some(&user.token))
        .await;
    let package = packages.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == json!("barbell-powerbuilding"))
        .expect("the sample catalogue's powerbuilding package");
    let squat = &package["sessions"][0]["exercises"][0];
    assert_eq!(squat["exercise_id"], json!(SQUAT), "{squat}");
    let path = format!(
        "/api/v1/workout-packages/{}/apply",
        package["id"].as_str().unwrap()
    );
    let applied = app
        .post(
            &path,
            Some(&user.token),
            json!({"date": "2026-03-05", "week": 1, "day": 1}),
        )
        .await;
    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.body);
    let workout = &applied.body["entries"][0];
    let planned: Vec<&Value> = workout["sets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["exercise_id"] == json!(SQUAT))
        .collect();
    assert_eq!(planned.len(), 5);
    for set in &planned {
        assert_eq!(
            **set,
            json!({"exercise_id": SQUAT, "reps": 3, "weight_kg": 102.5, "done": false})
        );
    }
    // Planned sets are no work yet.
    let volume = app
        .get(
            "/api/v1/training/volume?from=2026-03-05&to=2026-03-05",
            Some(&user.token),
        )
        .await;
    assert_eq!(volume.body["weeks"][0]["muscles"], json!({}));

    // Filled in: four sets done as planned, the last one short.
    let mut done: Vec<Value> = vec![set(SQUAT, 3, 102.5); 4];
    done.push(set(SQUAT, 2, 102.5));
    let entry = format!(
        "/api/v1/workout-entries/{}",
        workout["id"].as_str().unwrap()
    );
    let filled = app
        .patch(&entry, Some(&user.token), json!({"sets": done}))
        .await;
    assert_eq!(filled.status, StatusCode::OK, "{}", filled.body);
    let progress = app
        .get(
            &format!("/api/v1/training/exercises?exercise_id={SQUAT}&low=3&high=3"),
            Some(&user.token),
        )
        .await;
    let squat = &progress.body["exercises"][0];
    assert_eq!(squat["last"]["date"], json!("2026-03-05"));
    assert_eq!(
        squat["records"][0],
        json!({"reps": 2, "weight_kg": 102.5, "date": "2026-03-05"})
    );
    assert_eq!(
        squat["next"],
        json!({"rule": "add_reps", "weight_kg": 102.5, "reps": 3})
    );
}

/// Of every three days of the demo history one is a package day, whose session is
/// logged as its package prescribes it, set by set.
async fn the_demo_accounts_package_sessions_are_logged_set_by_set(app: TestApp) {
    let ada = app.demo_login(0).await;
    let progress = app
        .get("/api/v1/training/exercises", Some(&ada.token))
        .await;
    assert_eq!(progress.status, StatusCode::OK, "{}", progress.body);
    let exercises = progress.body["exercises"].as_array().unwrap();
    assert!(!exercises.is_empty(), "{}", progress.body);
    for exercise in exercises {
        let sets = exercise["last"]["sets"].as_array().unwrap();
        assert!(!sets.is_empty(), "{exercise}");
        assert!(
            sets.iter()
                .all(|set| set["reps"].is_u64() || set["duration_s"].is_u64()),
            "{exercise}"
        );
    }
    let volume = app.get("/api/v1/training/volume", Some(&ada.token)).await;
    assert_eq!(volume.status, StatusCode::OK, "{}", volume.body);
    let weeks = volume.body["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 12, "twelve weeks from a Monday");
    assert!(
        weeks
            .iter()
            .any(|week| !week["muscles"].as_object().unwrap().is_empty()),
        "{}",
        volume.body
    );
}
