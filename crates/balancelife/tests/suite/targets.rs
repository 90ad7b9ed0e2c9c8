//! Targets over time: each day judged by the target in force that day, a change
//! holding from today (or a later day) and never from the past, and suggestions
//! computed from the body or read off the log, taken only when the user posts
//! them. Every date is counted from the day the test runs, so the suite passes on
//! any day.

use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};

use balancelife::domain::{KcalTarget, TargetBasis, TargetPlan, Targets};

use crate::support::{TestApp, TestUser};

on_every_store!(
    a_change_of_target_leaves_past_days_judged_as_they_were,
    a_plan_holds_from_today_or_later_and_carries_over_what_it_leaves_out,
    the_computed_suggestion_follows_the_worked_example_and_says_what_it_lacks,
    the_adaptive_suggestion_reads_the_log_and_is_taken_only_when_posted,
);

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn days_ago(days: i64) -> NaiveDate {
    today() - TimeDelta::days(days)
}

async fn summary_targets(app: &TestApp, user: &TestUser, from: NaiveDate, to: NaiveDate) -> Value {
    let path = format!("/api/v1/summary?from={from}&to={to}");
    let summary = app.get(&path, Some(&user.token)).await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
    summary.body
}

fn day_targets(summary: &Value) -> Vec<Value> {
    summary["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|day| day["target"].clone())
        .collect()
}

async fn a_change_of_target_leaves_past_days_judged_as_they_were(app: TestApp) {
    let user = app
        .register("targets-past", json!({"timezone": "UTC"}))
        .await;
    // Ten days ago the user had a target of 2,000 kcal (written to the store as a
    // plan of that day: the API only ever dates a plan today or later).
    let mut stored = app.state.store.get_user_stored(user.id).await.unwrap();
    let read = stored.clone();
    let plan = TargetPlan {
        from: days_ago(10),
        targets: Targets {
            daily_kcal_target: Some(KcalTarget::try_from(2000.0).unwrap()),
            ..Targets::default()
        },
        basis: TargetBasis::Fixed,
    };
    stored.profile.add_plan(plan, today()).unwrap();
    stored.updated_at = read.updated_at + TimeDelta::milliseconds(1);
    app.state.store.update_user(stored, &read).await.unwrap();

    let changed = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"daily_kcal_target": 1800}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["daily_kcal_target"], json!(1800.0));
    // Saving the same targets again (a form sends them all) dates nothing new.
    let again = app
        .patch(
            "/api/v1/users/me",
            Some(&user.token),
            json!({"daily_kcal_target": 1800, "protein_g_target": null}),
        )
        .await;
    assert_eq!(again.body["target_plans"], changed.body["target_plans"]);
    // A meal on a day without a target: its energy counts in the range's net, and
    // nothing of a target remains of that day.
    let before_targets = format!("{}T12:00:00Z", days_ago(11));
    let meal = app
        .post(
            "/api/v1/meal-entries",
            Some(&user.token),
            TestApp::meal_body(&before_targets),
        )
        .await;
    assert_eq!(meal.status, StatusCode::CREATED, "{}", meal.body);

    let summary = summary_targets(&app, &user, days_ago(11), today()).await;
    let mut expected = vec![Value::Null];
    expected.extend(std::iter::repeat_n(json!(2000.0), 10));
    expected.push(json!(1800.0));
    assert_eq!(
        day_targets(&summary),
        expected,
        "each day by its own target"
    );
    assert_eq!(
        summary["totals"]["target"],
        json!(10.0 * 2000.0 + 1800.0),
        "the range's target adds up the days'"
    );
    assert_eq!(summary["totals"]["net"], json!(420.0));
    assert_eq!(
        summary["totals"]["remaining"],
        json!(10.0 * 2000.0 + 1800.0),
        "what remains of the days that had a target"
    );
    let plans = app.get("/api/v1/targets", Some(&user.token)).await;
    let froms: Vec<&Value> = plans.body["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plan| &plan["from"])
        .collect();
    assert_eq!(
        froms,
        [
            &json!(days_ago(10).to_string()),
            &json!(today().to_string())
        ]
    );
}

async fn a_plan_holds_from_today_or_later_and_carries_over_what_it_leaves_out(app: TestApp) {
    let user = app
        .register(
            "targets-plans",
            json!({"timezone": "UTC", "daily_kcal_target": 2200, "protein_g_target": 120}),
        )
        .await;
    let tomorrow = today() + TimeDelta::days(1);
    let posted = app
        .post(
            "/api/v1/targets",
            Some(&user.token),
            json!({"from": tomorrow, "daily_kcal_target": 1900, "basis": "computed"}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    assert_eq!(posted.body["today"]["daily_kcal_target"], json!(2200.0));
    let plans = posted.body["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 2, "{}", posted.body);
    assert_eq!(
        plans[0]["from"],
        json!("2000-01-01"),
        "a sign-up's targets hold from the start"
    );
    assert_eq!(plans[1]["from"], json!(tomorrow.to_string()));
    assert_eq!(plans[1]["basis"], json!("computed"));
    assert_eq!(plans[1]["protein_g_target"], json!(120.0), "carried over");

    let summary = summary_targets(&app, &user, today(), tomorrow).await;
    assert_eq!(day_targets(&summary), [json!(2200.0), json!(1900.0)]);
    // A phone reads the plans with the profile, from the sync feed too.
    let me = app.get("/api/v1/users/me", Some(&user.token)).await;
    assert_eq!(me.body["target_plans"], posted.body["plans"]);
    let synced = app.get("/api/v1/sync/changes", Some(&user.token)).await;
    let profile = synced.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["kind"] == json!("profile"))
        .cloned()
        .unwrap();
    assert_eq!(profile["data"]["target_plans"], posted.body["plans"]);

    // `null` clears a target from today on.
    let cleared = app
        .post(
            "/api/v1/targets",
            Some(&user.token),
            json!({"protein_g_target": null}),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert_eq!(cleared.body["today"]["protein_g_target"], Value::Null);
    assert_eq!(cleared.body["today"]["daily_kcal_target"], json!(2200.0));

    for (body, field) in [
        (
            json!({"from": days_ago(1), "daily_kcal_target": 2000}),
            "from",
        ),
        (
            json!({"from": today() + TimeDelta::days(400), "daily_kcal_target": 2000}),
            "from",
        ),
        (json!({"daily_kcal_target": 100}), "daily_kcal_target"),
        (
            json!({"daily_kcal_target": 2000, "basis": "guessed"}),
            "basis",
        ),
        (json!({"kcal": 2000}), "kcal"),
    ] {
        let refused = app
            .post("/api/v1/targets", Some(&user.token), body.clone())
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
    let unchanged = app.get("/api/v1/targets", Some(&user.token)).await;
    assert_eq!(
        unchanged.body, cleared.body,
        "a refused plan changes nothing"
    );
}

/// A birth date that makes the user 35 today, whatever day the test runs.
fn born_35_years_ago() -> NaiveDate {
    let today = today();
    let back = NaiveDate::from_ymd_opt(today.year() - 36, today.month(), 1).unwrap();
    // Thirty-six years back, then a little over a month on: the 36th birthday
    // is still ahead.
    back + TimeDelta::days(i64::from(today.day()) + 40)
}

/// `body::energy`'s worked example: a woman of 35, 165 cm and 70 kg, moderately
/// active, losing half a kilogram a week: 1,395 kcal at rest, 2,163 a day, a
/// target of 1,613.
async fn the_computed_suggestion_follows_the_worked_example_and_says_what_it_lacks(app: TestApp) {
    let user = app
        .register("targets-computed", json!({"timezone": "UTC"}))
        .await;
    let path = "/api/v1/targets/suggestions?weekly_rate_kg=-0.5";
    let lacking = app.get(path, Some(&user.token)).await;
    assert_eq!(lacking.status, StatusCode::OK, "{}", lacking.body);
    assert_eq!(lacking.body["computed"]["daily_kcal_target"], Value::Null);
    let why = lacking.body["computed"]["unavailable"].as_str().unwrap();
    assert!(why.contains("birth_date"), "{why}");

    let profile = json!({"sex": "female", "birth_date": born_35_years_ago(), "height_cm": 165,
        "weight_kg": 70, "activity_level": "moderate", "goal": "lose"});
    let set = app
        .patch("/api/v1/users/me", Some(&user.token), profile)
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let suggested = app.get(path, Some(&user.token)).await;
    let computed = &suggested.body["computed"];
    assert_eq!(
        computed["resting_kcal"],
        json!(1395.0),
        "{}",
        suggested.body
    );
    assert_eq!(computed["expenditure_kcal"], json!(2163.0));
    assert_eq!(computed["daily_kcal_target"], json!(1613.0));
    assert_eq!(computed["unavailable"], Value::Null);
    // The goal's rate when none is asked for: losing, half a kilogram a week.
    let by_goal = app
        .get("/api/v1/targets/suggestions", Some(&user.token))
        .await;
    assert_eq!(by_goal.body["weekly_rate_kg"], json!(-0.5));
    assert_eq!(by_goal.body["computed"]["daily_kcal_target"], json!(1613.0));
    // Nothing changed by itself.
    let me = app.get("/api/v1/users/me", Some(&user.token)).await;
    assert_eq!(me.body["daily_kcal_target"], Value::Null);

    let too_fast = app
        .get(
            "/api/v1/targets/suggestions?weekly_rate_kg=-3",
            Some(&user.token),
        )
        .await;
    assert_eq!(too_fast.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_fast.error_field(), "weekly_rate_kg");
}

/// Four weeks with meals of 2,100 kcal on 14 of the days (the others with nothing
/// logged, which must not count as eating nothing) and a steady 80 kg: the trend
/// does not move, so the log says 2,100 kcal a day are burned, and half a
/// kilogram a week less is 1,550.
async fn the_adaptive_suggestion_reads_the_log_and_is_taken_only_when_posted(app: TestApp) {
    let user = app
        .register("targets-adaptive", json!({"timezone": "UTC"}))
        .await;
    let path = "/api/v1/targets/suggestions?weekly_rate_kg=-0.5";
    let empty = app.get(path, Some(&user.token)).await;
    assert_eq!(
        empty.body["adaptive"]["logged_days"],
        json!(0),
        "{}",
        empty.body
    );
    assert!(
        empty.body["adaptive"]["unavailable"]
            .as_str()
            .unwrap()
            .contains("at least 14"),
        "{}",
        empty.body
    );

    let mut operations = Vec::new();
    for back in 1..=40_i64 {
        let day = days_ago(back);
        let id = uuid::Uuid::now_v7();
        operations.push(
            json!({"method": "PUT", "path": format!("/api/v1/body-metrics/{id}"),
            "body": {"measured_at": format!("{day}T07:00:00Z"), "weight_kg": 80}}),
        );
    }
    for back in (1..=28_i64).step_by(2) {
        let day = days_ago(back);
        let id = uuid::Uuid::now_v7();
        let mut meal = TestApp::meal_body(&format!("{day}T12:00:00Z"));
        meal["kcal"] = json!(2100);
        operations.push(
            json!({"method": "PUT", "path": format!("/api/v1/meal-entries/{id}"),
            "body": meal}),
        );
    }
    let batch = json!({"id": uuid::Uuid::now_v7(), "operations": operations});
    let written = app
        .post("/api/v1/sync/batch", Some(&user.token), batch)
        .await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.body);
    assert!(
        written.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|result| result["status"] == json!(201)),
        "{}",
        written.body
    );

    let suggested = app.get(path, Some(&user.token)).await;
    let adaptive = &suggested.body["adaptive"];
    assert_eq!(adaptive["logged_days"], json!(14), "{}", suggested.body);
    assert_eq!(adaptive["window_from"], json!(days_ago(28).to_string()));
    assert_eq!(adaptive["window_to"], json!(days_ago(1).to_string()));
    assert_eq!(adaptive["expenditure_kcal"], json!(2100.0));
    assert_eq!(adaptive["daily_kcal_target"], json!(1550.0));
    let me = app.get("/api/v1/users/me", Some(&user.token)).await;
    assert_eq!(
        me.body["daily_kcal_target"],
        Value::Null,
        "not taken by itself"
    );

    let accepted = app
        .post(
            "/api/v1/targets",
            Some(&user.token),
            json!({"daily_kcal_target": 1550, "basis": "adaptive"}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.body["plans"][0]["basis"], json!("adaptive"));
    let me = app.get("/api/v1/users/me", Some(&user.token)).await;
    assert_eq!(me.body["daily_kcal_target"], json!(1550.0));
    let yesterday = summary_targets(&app, &user, days_ago(1), today()).await;
    assert_eq!(
        day_targets(&yesterday),
        [Value::Null, json!(1550.0)],
        "taken from today: yesterday had none"
    );
}
