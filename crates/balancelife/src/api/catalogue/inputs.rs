//! What an administrator sends to write a package: its content, without what the
//! service keeps (id, status, version, authorship), checked for what a JSON Schema
//! cannot state (a meal on a day the package has, one session per day of a week).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::http::error::{ApiError, ApiResult};
use crate::api::http::patch::{non_null, set};
use crate::domain::{
    DurationSecs, ExerciseDose, ExerciseId, Kcal, Level, MOST_SETS, MealItem, MealPackage, Name,
    Notes, PackageDay, PackageStatus, PackageWeek, Reps, SessionDay, Slug, Tag, Version,
    WorkoutPackage, WorkoutSession,
};
use crate::exercise_book::ExerciseBook;
use crate::store::Store;

/// At most this many tags of each kind on a package.
const MAX_TAGS: usize = 20;
/// At most this many meals in a meal package (twelve weeks of four meals a day), and
/// sessions in a workout package (a year of four a week): such a package fits the
/// catalogue's request body limit (`CATALOGUE_LIMIT_BYTES`).
const MAX_ITEMS: usize = 400;
const MAX_SESSIONS: usize = 208;
/// At most this many exercises in one session, and sets of one exercise.
const MAX_EXERCISES: usize = 40;
const MAX_SETS: u8 = 50;

/// The body of `POST /meal-packages` and `PUT /meal-packages/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MealPackageInput {
    slug: Slug,
    name: Name,
    description: Notes,
    #[serde(default)]
    #[schema(max_items = 20)]
    tags: Vec<Tag>,
    #[serde(default)]
    #[schema(max_items = 20)]
    diet_tags: Vec<Tag>,
    #[schema(example = 7)]
    duration_days: PackageDay,
    /// Every day of the package has at least one meal; `day` counts from 1.
    #[schema(min_items = 1, max_items = 400)]
    items: Vec<MealItem>,
}

/// The body of `PATCH /meal-packages/{id}`: absent fields stay as they are.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MealPackagePatch {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    slug: Option<Slug>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    name: Option<Name>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    description: Option<Notes>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, max_items = 20)]
    tags: Option<Vec<Tag>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, max_items = 20)]
    diet_tags: Option<Vec<Tag>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    duration_days: Option<PackageDay>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, min_items = 1, max_items = 400)]
    items: Option<Vec<MealItem>>,
}

/// The body of `POST /workout-packages` and `PUT /workout-packages/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkoutPackageInput {
    slug: Slug,
    name: Name,
    description: Notes,
    level: Level,
    #[serde(default)]
    #[schema(max_items = 20)]
    tags: Vec<Tag>,
    #[serde(default)]
    #[schema(max_items = 20)]
    equipment: Vec<Tag>,
    #[schema(example = 4)]
    duration_weeks: PackageWeek,
    #[schema(example = 3)]
    sessions_per_week: SessionDay,
    #[schema(minimum = 1, maximum = 600, example = 45)]
    minutes_per_session: u16,
    kcal_per_session: Kcal,
    /// At most one session per day of a week, within the package's weeks.
    #[schema(min_items = 1, max_items = 208)]
    sessions: Vec<WorkoutSession>,
}

/// The body of `PATCH /workout-packages/{id}`: absent fields stay as they are.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkoutPackagePatch {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    slug: Option<Slug>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    name: Option<Name>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    description: Option<Notes>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    level: Option<Level>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, max_items = 20)]
    tags: Option<Vec<Tag>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, max_items = 20)]
    equipment: Option<Vec<Tag>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    duration_weeks: Option<PackageWeek>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    sessions_per_week: Option<SessionDay>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, minimum = 1, maximum = 600)]
    minutes_per_session: Option<u16>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    kcal_per_session: Option<Kcal>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, min_items = 1, max_items = 208)]
    sessions: Option<Vec<WorkoutSession>>,
}

/// A package kind whose content an administrator writes.
pub trait PackageContent: Sized {
    type Input: Clone + Send + Sync + 'static;
    type Patch: Clone + Send + Sync + 'static;

    /// Refuses what the input's types let through but the package cannot be.
    fn check(input: &Self::Input) -> ApiResult<()>;
    /// Refuses what a patch's types let through but no package can hold, before
    /// anything is read: the same rules as `check`'s for each field on its own.
    fn check_patch(patch: &Self::Patch) -> ApiResult<()>;
    /// A draft at version 1 with `input` as its content and no authorship yet.
    fn build(id: Uuid, input: Self::Input) -> Self;
    /// The package's content as it would be sent.
    fn content(&self) -> Self::Input;
    fn apply(input: &mut Self::Input, patch: Self::Patch);
}

impl PackageContent for MealPackage {
    type Input = MealPackageInput;
    type Patch = MealPackagePatch;

    fn check(input: &MealPackageInput) -> ApiResult<()> {
        check_tags("tags", &input.tags)?;
        check_tags("diet_tags", &input.diet_tags)?;
        let days = input.duration_days.get();
        check_count("items", input.items.len(), MAX_ITEMS, "meals")?;
        for (index, item) in input.items.iter().enumerate() {
            if !(1..=days).contains(&item.day) {
                return Err(ApiError::invalid(
                    format!("items[{index}].day"),
                    format!("must be from 1 to duration_days ({days})"),
                ));
            }
        }
        if let Some(empty) = (1..=days).find(|day| input.items.iter().all(|i| i.day != *day)) {
            return Err(ApiError::invalid(
                "items",
                format!("day {empty} has no meal; every day of the package needs one"),
            ));
        }
        Ok(())
    }

    fn check_patch(patch: &MealPackagePatch) -> ApiResult<()> {
        check_tags("tags", patch.tags.as_deref().unwrap_or_default())?;
        check_tags("diet_tags", patch.diet_tags.as_deref().unwrap_or_default())?;
        match &patch.items {
            Some(items) => check_count("items", items.len(), MAX_ITEMS, "meals"),
            None => Ok(()),
        }
    }

    fn build(id: Uuid, input: MealPackageInput) -> Self {
        let duration_days = input.duration_days.get();
        MealPackage {
            id,
            slug: input.slug,
            name: input.name,
            description: input.description,
            tags: input.tags,
            diet_tags: input.diet_tags,
            duration_days,
            daily_averages: MealPackage::average_of(&input.items, duration_days),
            items: input.items,
            status: PackageStatus::Draft,
            version: first_version(),
            created_by: None,
            updated_by: None,
            created_at: None,
            updated_at: None,
            first_published_at: None,
        }
    }

    fn content(&self) -> MealPackageInput {
        MealPackageInput {
            slug: self.slug.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            tags: self.tags.clone(),
            diet_tags: self.diet_tags.clone(),
            // A stored package always has a valid length; the fallback is never reached.
            duration_days: PackageDay::try_from(i64::from(self.duration_days))
                .unwrap_or_else(|_| PackageDay::try_from(1).expect("1 is a valid day")),
            items: self.items.clone(),
        }
    }

    fn apply(input: &mut MealPackageInput, patch: MealPackagePatch) {
        set(&mut input.slug, patch.slug);
        set(&mut input.name, patch.name);
        set(&mut input.description, patch.description);
        set(&mut input.tags, patch.tags);
        set(&mut input.diet_tags, patch.diet_tags);
        set(&mut input.duration_days, patch.duration_days);
        set(&mut input.items, patch.items);
    }
}

impl PackageContent for WorkoutPackage {
    type Input = WorkoutPackageInput;
    type Patch = WorkoutPackagePatch;

    fn check(input: &WorkoutPackageInput) -> ApiResult<()> {
        check_tags("tags", &input.tags)?;
        check_tags("equipment", &input.equipment)?;
        if !(1..=600).contains(&input.minutes_per_session) {
            return Err(ApiError::invalid(
                "minutes_per_session",
                "must be from 1 to 600",
            ));
        }
        check_count("sessions", input.sessions.len(), MAX_SESSIONS, "sessions")?;
        let weeks = input.duration_weeks.get();
        let mut seen = std::collections::HashSet::new();
        for (index, session) in input.sessions.iter().enumerate() {
            let field = |name: &str| format!("sessions[{index}].{name}");
            if !(1..=weeks).contains(&session.week) {
                return Err(ApiError::invalid(
                    field("week"),
                    format!("must be from 1 to duration_weeks ({weeks})"),
                ));
            }
            check_session(index, session)?;
            if !seen.insert((session.week, session.day)) {
                return Err(ApiError::invalid(
                    field("day"),
                    "another session is on that day of that week",
                ));
            }
        }
        Ok(())
    }

    fn check_patch(patch: &WorkoutPackagePatch) -> ApiResult<()> {
        check_tags("tags", patch.tags.as_deref().unwrap_or_default())?;
        check_tags("equipment", patch.equipment.as_deref().unwrap_or_default())?;
        if patch
            .minutes_per_session
            .is_some_and(|minutes| !(1..=600).contains(&minutes))
        {
            return Err(ApiError::invalid(
                "minutes_per_session",
                "must be from 1 to 600",
            ));
        }
        let Some(sessions) = &patch.sessions else {
            return Ok(());
        };
        check_count("sessions", sessions.len(), MAX_SESSIONS, "sessions")?;
        for (index, session) in sessions.iter().enumerate() {
            check_session(index, session)?;
        }
        Ok(())
    }

    fn build(id: Uuid, input: WorkoutPackageInput) -> Self {
        WorkoutPackage {
            id,
            slug: input.slug,
            name: input.name,
            description: input.description,
            level: input.level,
            tags: input.tags,
            equipment: input.equipment,
            duration_weeks: input.duration_weeks.get(),
            sessions_per_week: input.sessions_per_week.get(),
            minutes_per_session: input.minutes_per_session,
            kcal_per_session: input.kcal_per_session,
            sessions: input.sessions,
            status: PackageStatus::Draft,
            version: first_version(),
            created_by: None,
            updated_by: None,
            created_at: None,
            updated_at: None,
            first_published_at: None,
        }
    }

    fn content(&self) -> WorkoutPackageInput {
        WorkoutPackageInput {
            slug: self.slug.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            level: self.level,
            tags: self.tags.clone(),
            equipment: self.equipment.clone(),
            // As for meals: a stored package is valid, the fallbacks are never reached.
            duration_weeks: PackageWeek::try_from(i64::from(self.duration_weeks))
                .unwrap_or_else(|_| PackageWeek::try_from(1).expect("1 is a valid week")),
            sessions_per_week: SessionDay::try_from(i64::from(self.sessions_per_week))
                .unwrap_or_else(|_| SessionDay::try_from(1).expect("1 is a valid day")),
            minutes_per_session: self.minutes_per_session,
            kcal_per_session: self.kcal_per_session,
            sessions: self.sessions.clone(),
        }
    }

    fn apply(input: &mut WorkoutPackageInput, patch: WorkoutPackagePatch) {
        set(&mut input.slug, patch.slug);
        set(&mut input.name, patch.name);
        set(&mut input.description, patch.description);
        set(&mut input.level, patch.level);
        set(&mut input.tags, patch.tags);
        set(&mut input.equipment, patch.equipment);
        set(&mut input.duration_weeks, patch.duration_weeks);
        set(&mut input.sessions_per_week, patch.sessions_per_week);
        set(&mut input.minutes_per_session, patch.minutes_per_session);
        set(&mut input.kcal_per_session, patch.kcal_per_session);
        set(&mut input.sessions, patch.sessions);
    }
}

pub(crate) fn first_version() -> Version {
    Version::try_from(1).expect("1 is a valid version")
}

fn check_count(field: &str, count: usize, most: usize, what: &str) -> ApiResult<()> {
    if (1..=most).contains(&count) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("must hold from 1 to {most} {what}"),
        ))
    }
}

fn check_tags(field: &str, tags: &[Tag]) -> ApiResult<()> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::invalid(
            field,
            format!("must hold at most {MAX_TAGS} tags"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    match tags.iter().find(|tag| !seen.insert(*tag)) {
        Some(repeated) => Err(ApiError::invalid(field, format!("names {repeated} twice"))),
        None => Ok(()),
    }
}

/// What one session must be wherever it is: on a day of the week, with exercises.
fn check_session(index: usize, session: &WorkoutSession) -> ApiResult<()> {
    if !(1..=7).contains(&session.day) {
        return Err(ApiError::invalid(
            format!("sessions[{index}].day"),
            "must be from 1 to 7",
        ));
    }
    check_exercises(&format!("sessions[{index}].exercises"), session)
}

fn check_exercises(field: &str, session: &WorkoutSession) -> ApiResult<()> {
    if session.exercises.is_empty() || session.exercises.len() > MAX_EXERCISES {
        return Err(ApiError::invalid(
            field,
            format!("must hold from 1 to {MAX_EXERCISES} exercises"),
        ));
    }
    for (index, exercise) in session.exercises.iter().enumerate() {
        if !(1..=MAX_SETS).contains(&exercise.sets) {
            return Err(ApiError::invalid(
                format!("{field}[{index}].sets"),
                format!("must be from 1 to {MAX_SETS}"),
            ));
        }
        if exercise.dose.is_empty() {
            return Err(ApiError::invalid(
                format!("{field}[{index}]"),
                "reps or duration_s must be at least 1",
            ));
        }
        if exercise.exercise_id.is_some() {
            check_planned(&format!("{field}[{index}]"), exercise.dose)?;
        }
    }
    // Applying the session plans a set for each set of these.
    let planned: usize = session
        .exercises
        .iter()
        .filter(|exercise| exercise.exercise_id.is_some())
        .map(|exercise| usize::from(exercise.sets))
        .sum();
    if planned > MOST_SETS {
        return Err(ApiError::invalid(
            field,
            format!(
                "the exercises with an exercise_id hold {planned} sets; a workout holds at most {MOST_SETS}"
            ),
        ));
    }
    Ok(())
}

/// An exercise prescribed as a logged set can hold it (`check_exercises_exist`
/// tells whether there is such an exercise).
fn check_planned(field: &str, dose: ExerciseDose) -> ApiResult<()> {
    match dose {
        ExerciseDose::Reps(reps) if Reps::try_from(i64::from(reps)).is_err() => {
            Err(ApiError::invalid(
                format!("{field}.reps"),
                format!("must be at most {}", Reps::MAX),
            ))
        }
        ExerciseDose::DurationS(seconds) if DurationSecs::try_from(i64::from(seconds)).is_err() => {
            Err(ApiError::invalid(
                format!("{field}.duration_s"),
                format!("must be at most {}", DurationSecs::MAX),
            ))
        }
        _ => Ok(()),
    }
}

/// Refuses a workout package that prescribes an exercise no set may name: not in
/// the library, nor a custom exercise that has been published.
pub async fn check_exercises_exist(store: &dyn Store, package: &WorkoutPackage) -> ApiResult<()> {
    let mut named: Vec<(String, &ExerciseId)> = Vec::new();
    for (session_index, session) in package.sessions.iter().enumerate() {
        for (index, exercise) in session.exercises.iter().enumerate() {
            if let Some(id) = &exercise.exercise_id {
                let field = format!("sessions[{session_index}].exercises[{index}].exercise_id");
                named.push((field, id));
            }
        }
    }
    let book = ExerciseBook::of(store, named.iter().map(|(_, id)| *id)).await?;
    match named.into_iter().find(|(_, id)| book.get(id).is_none()) {
        Some((field, _)) => Err(ApiError::invalid(field, "no such exercise in the library")),
        None => Ok(()),
    }
}
