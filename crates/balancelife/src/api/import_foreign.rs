//! `POST /import/{format}`: another app's export taken in as meals and workouts
//! (`foreign_import` reads the files). Rows that fit are checked like any entry;
//! those that do not are skipped and counted by reason, so one odd row never costs
//! the rest of a history.
//!
//! An entry's id is made from the user, the format and the row's key in its file:
//! the same file again creates nothing (each entry is `unchanged`), and two users
//! importing the same file never meet each other's ids.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::{DateTime, Datelike, Utc};

use uuid::Uuid;

use super::account::auth::AuthUser;
use super::entries::{EntryResource, check_occurred_at};
use super::http::error::{ApiError, ApiResult, ErrorBody};
use super::http::state::SharedState;
use super::import_export::{IMPORT_LIMIT_BYTES, ImportReport, write};
use crate::domain::{
    DurationSecs, Entry, EntrySource, Grams, Kcal, MealData, Milligrams, Nutrition, Quantity,
    Title, User, WorkoutData, now, to_millis, to_tenth,
};
use crate::foreign_import::{self, ForeignMeal, ForeignWorkout, Format, When};

/// The most rows one import takes, as many as BalanceLife's own import holds: each
/// is written on its own, and the whole must finish within a request's time.
const MOST_ROWS: usize = 5_000;

/// Takes another app's export in.
///
/// `opennutritracker`: its export bundle (the zip) or its `user_intake.json`;
/// `myfitnesspal-csv`: the Nutrition Summary CSV, one meal per row;
/// `cronometer-csv`: the Servings CSV, one food per row. At most 2 MiB. Times
/// without a zone are read in the user's time zone. Importing a file again
/// creates nothing; rows that cannot be taken are counted in `skipped` by reason.
#[utoipa::path(
    post,
    path = "/api/v1/import/{format}",
    tag = "data",
    operation_id = "import_from_another_app",
    security(("bearer" = [])),
    params(("format" = inline(Format), Path, description = "Which app's export")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file as the app wrote it"),
    responses(
        (status = 200, description = "What the import did", body = ImportReport),
        (status = 413, description = "Larger than 2 MiB", body = ErrorBody),
        (status = 422, description = "Not a file of this format", body = ErrorBody),
    )
)]
pub async fn import(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    Path(format): Path<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<ImportReport>> {
    let format: Format =
        serde_json::from_value(serde_json::Value::String(format)).map_err(|_| {
            ApiError::invalid(
                "format",
                "must be opennutritracker, myfitnesspal-csv or cronometer-csv",
            )
        })?;
    let body = body.map_err(|_| ApiError::payload_too_large(IMPORT_LIMIT_BYTES))?;
    // Unzipping and parsing a few MiB is CPU work: off the request threads.
    let read = tokio::task::spawn_blocking(move || foreign_import::read(format, &body))
        .await
        .map_err(|_| ApiError::internal("reading an import panicked"))?
        .map_err(|unreadable| ApiError::invalid("body", unreadable.to_string()))?;
    let rows = read.meals.len() + read.workouts.len() + read.skipped.values().sum::<usize>();
    if rows > MOST_ROWS {
        return Err(ApiError::invalid(
            "body",
            format!(
                "holds {rows} rows; an import takes at most {MOST_ROWS}: export a shorter range"
            ),
        ));
    }
    let mut skipped: BTreeMap<String, usize> = read
        .skipped
        .into_iter()
        .map(|(reason, count)| (reason.to_owned(), count))
        .collect();
    let mut skip = |reason: &'static str| *skipped.entry(reason.to_owned()).or_default() += 1;
    let meals: Vec<Entry<MealData>> = read
        .meals
        .into_iter()
        .filter_map(|meal| meal_entry(&user, format, meal).map_err(&mut skip).ok())
        .collect();
    let workouts: Vec<Entry<WorkoutData>> = read
        .workouts
        .into_iter()
        .filter_map(|workout| {
            workout_entry(&user, format, workout)
                .map_err(&mut skip)
                .ok()
        })
        .collect();
    let mut report = ImportReport::default();
    write::<MealData>(&state, meals, &mut report).await?;
    write::<WorkoutData>(&state, workouts, &mut report).await?;
    report.skipped = skipped;
    Ok(Json(report))
}

/// The id of the row `key` of a `format` file, for `user` (`derived_id`).
fn entry_id(user: &User, format: Format, key: &str) -> Uuid {
    crate::domain::derived_id(user.id, format.as_str(), key)
}

/// The instant of `when` for `user`; `None` for a date outside the years an entry
/// may have (checked before any arithmetic on it).
fn instant(user: &User, when: When) -> Result<DateTime<Utc>, &'static str> {
    let year = match when {
        When::Instant(at) => at.year(),
        When::Local(at) => at.year(),
    };
    if !(2000..=Utc::now().year() + 1).contains(&year) {
        return Err("date_out_of_range");
    }
    Ok(to_millis(match when {
        When::Instant(at) => at,
        When::Local(at) => user.timezone.instant(at.date(), at.time()),
    }))
}

/// A name cut to an entry's 120 characters.
fn title(name: &str) -> Result<Title, &'static str> {
    Title::cut(name).map_err(|_| "no_name")
}

fn entry<D: EntryResource>(user: &User, id: Uuid, data: D) -> Result<Entry<D>, &'static str> {
    check_occurred_at::<D>(data.occurred_at()).map_err(|_| "date_out_of_range")?;
    let stamp = now();
    Ok(Entry {
        id,
        user_id: user.id,
        local_date: user.timezone.local_date(data.occurred_at()),
        data,
        created_at: stamp,
        updated_at: stamp,
    })
}

fn meal_entry(
    user: &User,
    format: Format,
    meal: ForeignMeal,
) -> Result<Entry<MealData>, &'static str> {
    const OUT: &str = "value_out_of_range";
    let grams = |value: Option<f64>| {
        value
            .map(|value| Grams::try_from(to_tenth(value)).map_err(|_| OUT))
            .transpose()
    };
    let data = MealData {
        eaten_at: instant(user, meal.at)?,
        slot: meal.slot,
        name: title(&meal.name)?,
        quantity: Quantity::try_from(to_tenth(meal.quantity).max(0.1)).map_err(|_| OUT)?,
        unit: meal.unit,
        nutrition: Nutrition {
            kcal: Kcal::try_from(to_tenth(meal.kcal)).map_err(|_| OUT)?,
            protein_g: grams(meal.macros.protein_g)?,
            carbs_g: grams(meal.macros.carbs_g)?,
            fat_g: grams(meal.macros.fat_g)?,
            fiber_g: grams(meal.macros.fiber_g)?,
            sugar_g: grams(meal.macros.sugar_g)?,
            sodium_mg: meal
                .macros
                .sodium_mg
                .map(|mg| Milligrams::try_from(to_tenth(mg)).map_err(|_| OUT))
                .transpose()?,
        },
        source: EntrySource::Manual,
        package: None,
        food: None,
        notes: None,
    };
    entry(user, entry_id(user, format, &meal.key), data)
}

fn workout_entry(
    user: &User,
    format: Format,
    workout: ForeignWorkout,
) -> Result<Entry<WorkoutData>, &'static str> {
    const OUT: &str = "value_out_of_range";
    let data = WorkoutData {
        started_at: instant(user, workout.at)?,
        activity: workout.activity,
        title: title(&workout.title)?,
        duration_s: DurationSecs::try_from(workout.duration_s.round()).map_err(|_| OUT)?,
        kcal_burned: Kcal::try_from(to_tenth(workout.kcal)).map_err(|_| OUT)?,
        effort: None,
        distance_km: None,
        avg_heart_rate: None,
        package: None,
        notes: None,
        sets: Vec::new(),
        kcal_estimated: false,
    };
    entry(user, entry_id(user, format, &workout.key), data)
}
