//! Targets over time (`/targets`): the plans in force from each day on, a new plan
//! from today or a later day, and suggestions the user may accept, computed from
//! the body or read off the log (`body::energy`). Nothing changes by itself: a
//! suggestion becomes a target only when the client posts it as a plan.

use axum::Json;
use axum::extract::State;
use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::account::auth::AuthUser;
use crate::api::account::record::{Change, change_user};
use crate::api::account::user_view::TargetPlanView;
use crate::api::account::users::too_many_plans;
use crate::api::http::error::{ApiError, ApiResult, ErrorBody};
use crate::api::http::extract::{ValidJson, ValidQuery};
use crate::api::http::patch::nullable;
use crate::api::http::state::SharedState;
use crate::body::energy::{
    self, IntakeDay, MIN_LOGGED_DAYS, TooLittleData, activity_factor, daily_energy_of_rate,
    resting_energy,
};
use crate::domain::{
    Goal, GramsTarget, KcalTarget, Profile, TargetBasis, TargetPlan, Targets, User,
};
use crate::store::DateRange;
use crate::summary::{trend_range, weight_trend};

/// How far ahead a plan may be dated.
const LATEST_PLAN_DAYS: i64 = 366;

/// The days an adaptive suggestion reads: the four weeks before today (today is
/// not over yet).
const ADAPTIVE_WINDOW_DAYS: i64 = 28;

/// The fastest weekly rate a suggestion aims for, either way (kg per week): about
/// 1 % of body mass, the most guidelines advise losing.
const FASTEST_RATE_KG: f64 = 1.0;

/// The caller's targets: today's, and every plan by the day it holds from.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetsView {
    today: Targets,
    /// Oldest first. Empty for an account whose targets were set before plans
    /// existed and never changed since: `today` holds on every day then.
    plans: Vec<TargetPlanView>,
}

impl TargetsView {
    fn of(user: &User) -> Self {
        let today = user.timezone.local_date(Utc::now());
        Self {
            today: user.profile.targets_on(today),
            plans: user
                .profile
                .target_plans
                .iter()
                .map(TargetPlanView::from)
                .collect(),
        }
    }
}

/// A new plan. A target left out is carried over from the plan in force on
/// `from`; `null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetPlanInput {
    /// The first day it holds, today (the default) or up to 366 days ahead: past
    /// days keep the targets they had.
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable")]
    daily_kcal_target: Option<Option<KcalTarget>>,
    #[serde(default, deserialize_with = "nullable")]
    protein_g_target: Option<Option<GramsTarget>>,
    #[serde(default, deserialize_with = "nullable")]
    carbs_g_target: Option<Option<GramsTarget>>,
    #[serde(default, deserialize_with = "nullable")]
    fat_g_target: Option<Option<GramsTarget>>,
    /// How it was chosen: `fixed` (the default), or the suggestion accepted.
    basis: Option<TargetBasis>,
}

/// The caller's targets over time.
#[utoipa::path(
    get,
    path = "/api/v1/targets",
    tag = "targets",
    security(("bearer" = [])),
    responses((status = 200, description = "Today's targets and every plan", body = TargetsView))
)]
pub async fn list(AuthUser(user): AuthUser) -> Json<TargetsView> {
    Json(TargetsView::of(&user))
}

/// Puts targets in force from a day on.
///
/// From today by default, in place of any plan from that day: accepting a
/// suggestion is posting its numbers here.
#[utoipa::path(
    post,
    path = "/api/v1/targets",
    tag = "targets",
    security(("bearer" = [])),
    request_body = TargetPlanInput,
    responses(
        (status = 200, description = "Today's targets and every plan", body = TargetsView),
        (status = 409, description = "The account changed concurrently; try again", body = ErrorBody),
        (status = 422, description = "A day in the past or too far ahead", body = ErrorBody),
    )
)]
pub async fn add(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidJson(input): ValidJson<TargetPlanInput>,
) -> ApiResult<Json<TargetsView>> {
    let (written, ()) = change_user(&state, user.id, |user| {
        let today = user.timezone.local_date(Utc::now());
        let from = input.from.unwrap_or(today);
        if from < today {
            return Err(ApiError::invalid(
                "from",
                "must be today or later: past days keep the targets they had",
            ));
        }
        if (from - today).num_days() > LATEST_PLAN_DAYS {
            return Err(ApiError::invalid(
                "from",
                format!("must be at most {LATEST_PLAN_DAYS} days ahead"),
            ));
        }
        let targets = user.profile.targets_on(from).changed(
            input.daily_kcal_target,
            input.protein_g_target,
            input.carbs_g_target,
            input.fat_g_target,
        );
        let plan = TargetPlan {
            from,
            targets,
            basis: input.basis.unwrap_or_default(),
        };
        user.profile.add_plan(plan, today).map_err(too_many_plans)?;
        Ok(Change::Write(()))
    })
    .await?;
    Ok(Json(TargetsView::of(&written)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// The weekly change of body mass to aim for, kg (negative to lose), from −1
    /// to 1. By default the profile's goal's: −0.5 to lose, 0.25 to gain, else 0.
    #[param(minimum = -1.0, maximum = 1.0)]
    weekly_rate_kg: Option<f64>,
}

/// Suggested daily energy targets, each with what it rests on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    /// The weekly change of body mass both aim for, kg.
    weekly_rate_kg: f64,
    /// From the body: Mifflin–St Jeor times the activity factor.
    computed: Suggestion,
    /// From the log: the intake of the last four weeks and the weight trend.
    adaptive: Suggestion,
}

/// One suggestion, or why it cannot be made.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Suggestion {
    /// The target: the expenditure plus the energy of the weekly rate, kcal a day.
    #[schema(required = true)]
    daily_kcal_target: Option<f64>,
    /// What a day burns, as this method tells it, kcal.
    #[schema(required = true)]
    expenditure_kcal: Option<f64>,
    /// Computed only: the energy burned at rest, kcal a day.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    resting_kcal: Option<f64>,
    /// Adaptive only: the days read, and how many of them had meals logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    window_from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    window_to: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    logged_days: Option<usize>,
    /// Why there is no suggestion, for the user to read.
    #[schema(required = true)]
    unavailable: Option<String>,
}

/// Daily energy targets suggested from the body and from the log.
///
/// Nothing changes by itself: the user accepts one by posting it to `/targets`.
#[utoipa::path(
    get,
    path = "/api/v1/targets/suggestions",
    tag = "targets",
    security(("bearer" = [])),
    params(SuggestionQuery),
    responses(
        (status = 200, description = "Both suggestions, or why each cannot be made", body = Suggestions),
        (status = 422, description = "A weekly rate out of range", body = ErrorBody),
    )
)]
pub async fn suggestions(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidQuery(query): ValidQuery<SuggestionQuery>,
) -> ApiResult<Json<Suggestions>> {
    let rate = match query.weekly_rate_kg {
        Some(rate) if rate.is_finite() && rate.abs() <= FASTEST_RATE_KG => rate,
        Some(_) => {
            return Err(ApiError::invalid(
                "weekly_rate_kg",
                format!("must be a number from -{FASTEST_RATE_KG} to {FASTEST_RATE_KG}"),
            ));
        }
        None => rate_of_goal(user.profile.goal),
    };
    let today = user.timezone.local_date(Utc::now());
    Ok(Json(Suggestions {
        weekly_rate_kg: rate,
        computed: computed(&user.profile, today, rate),
        adaptive: adaptive(&state, &user, today, rate).await?,
    }))
}

/// The weekly rate a goal aims for when the client names none.
fn rate_of_goal(goal: Option<Goal>) -> f64 {
    match goal {
        Some(Goal::Lose) => -0.5,
        Some(Goal::Gain) => 0.25,
        Some(Goal::Maintain) | None => 0.0,
    }
}

/// The suggestion from the body, or what the profile lacks for it.
fn computed(profile: &Profile, today: NaiveDate, rate: f64) -> Suggestion {
    let (Some(sex), Some(birth), Some(height), Some(weight), Some(activity)) = (
        profile.sex,
        profile.birth_date,
        profile.height_cm,
        profile.weight_kg,
        profile.activity_level,
    ) else {
        return unavailable(
            "needs sex, birth_date, height_cm, weight_kg (or a weigh-in) and activity_level \
             in the profile",
        );
    };
    let age = years_between(birth.get(), today);
    let resting = resting_energy(sex, age, height.get(), weight.get());
    let expenditure = resting * activity_factor(activity);
    Suggestion {
        resting_kcal: Some(resting.round()),
        ..target_from(expenditure, rate)
    }
}

/// The suggestion from the log of the four weeks before today, or why not.
async fn adaptive(
    state: &SharedState,
    user: &User,
    today: NaiveDate,
    rate: f64,
) -> ApiResult<Suggestion> {
    let to = today.pred_opt().unwrap_or(today);
    let from = to
        .checked_sub_signed(TimeDelta::days(ADAPTIVE_WINDOW_DAYS - 1))
        .unwrap_or(to);
    let window = DateRange::new(from, to).map_err(|error| ApiError::internal(error.0))?;
    let (meals, body) = futures_util::try_join!(
        state.store.meal_entries().day_sums(user.id, window),
        state
            .store
            .body_metrics()
            .day_sums(user.id, trend_range(window)),
    )?;
    // Days with meals logged only: a day with nothing logged is not a day of
    // eating nothing.
    let intake: Vec<IntakeDay> = meals
        .iter()
        .filter(|(_, sums)| sums.entries > 0)
        .map(|(&date, sums)| IntakeDay {
            date,
            kcal: sums.kcal,
        })
        .collect();
    let trend = weight_trend(&body, to);
    let suggestion = match energy::adaptive_expenditure(&intake, &trend, from, to) {
        Ok(expenditure) => target_from(expenditure, rate),
        Err(TooLittleData::LoggedDays { logged }) => unavailable(&format!(
            "needs meals logged on at least {MIN_LOGGED_DAYS} of the last \
             {ADAPTIVE_WINDOW_DAYS} days; {logged} have them"
        )),
        Err(TooLittleData::NoTrend) => unavailable(&format!(
            "needs a weight trend from before {from}: a weigh-in on or before that day"
        )),
    };
    // What it read, whether or not a suggestion came of it.
    Ok(Suggestion {
        window_from: Some(from),
        window_to: Some(to),
        logged_days: Some(intake.len()),
        ..suggestion
    })
}

/// The target for `expenditure` at `rate`, whole kcal, if a target can be that.
fn target_from(expenditure: f64, rate: f64) -> Suggestion {
    let target = (expenditure + daily_energy_of_rate(rate)).round();
    let allowed = KcalTarget::MIN..=KcalTarget::MAX;
    Suggestion {
        expenditure_kcal: Some(expenditure.round()),
        daily_kcal_target: allowed.contains(&target).then_some(target),
        unavailable: (!allowed.contains(&target)).then(|| {
            format!(
                "the target would be {target} kcal, outside {} to {}: choose a gentler rate",
                KcalTarget::MIN,
                KcalTarget::MAX
            )
        }),
        ..Suggestion::default()
    }
}

fn unavailable(why: &str) -> Suggestion {
    Suggestion {
        unavailable: Some(why.to_owned()),
        ..Suggestion::default()
    }
}

/// Whole years from `birth` to `day`.
fn years_between(birth: NaiveDate, day: NaiveDate) -> u32 {
    let mut years = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn age_counts_whole_years_and_a_birthday_turns_it() {
        assert_eq!(years_between(day("1990-06-15"), day("2026-06-14")), 35);
        assert_eq!(years_between(day("1990-06-15"), day("2026-06-15")), 36);
        assert_eq!(years_between(day("2000-02-29"), day("2026-02-28")), 25);
    }

    /// `body::energy`'s first worked example through the suggestion: 2,162.64 kcal
    /// a day, less 550 for half a kilogram a week, is 1,613 kcal.
    #[test]
    fn the_computed_suggestion_follows_the_worked_example() {
        let profile = Profile {
            sex: Some(crate::domain::Sex::Female),
            birth_date: Some(day("1991-03-01").try_into().unwrap()),
            height_cm: Some(165.0.try_into().unwrap()),
            weight_kg: Some(70.0.try_into().unwrap()),
            activity_level: Some(crate::domain::ActivityLevel::Moderate),
            ..Profile::default()
        };
        let suggestion = computed(&profile, day("2026-12-07"), -0.5);
        assert_eq!(suggestion.resting_kcal, Some(1395.0));
        assert_eq!(suggestion.expenditure_kcal, Some(2163.0));
        assert_eq!(suggestion.daily_kcal_target, Some(1613.0));
        let missing = computed(&Profile::default(), day("2026-12-07"), 0.0);
        assert!(missing.unavailable.unwrap().contains("birth_date"));
    }

    #[test]
    fn a_target_outside_what_a_target_may_be_is_no_suggestion() {
        let starving = target_from(1200.0, -1.0);
        assert_eq!(starving.daily_kcal_target, None);
        assert!(starving.unavailable.unwrap().contains("gentler"));
    }
}
