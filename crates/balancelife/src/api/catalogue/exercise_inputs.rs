//! What an administrator sends to write a custom exercise: its description as the
//! library's exercises have it, checked for what a JSON Schema cannot state (a
//! muscle named twice, or as both primary and secondary).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::catalogue::inputs::{PackageContent, first_version};
use crate::api::http::error::{ApiError, ApiResult};
use crate::api::http::patch::{non_null, nullable, set};
use crate::domain::{
    CustomExercise, Equipment, ExerciseCategory, ExerciseLevel, Force, Mechanic, Muscle, Name,
    Notes, PackageStatus, Slug,
};
use crate::exercise_library::library;

/// At most this many primary muscles (the library's exercises have up to 3), secondary
/// muscles (up to 9 there) and instruction steps (up to 21 there).
const MOST_PRIMARY: usize = 6;
const MOST_SECONDARY: usize = 12;
const MOST_STEPS: usize = 30;

/// The body of `POST /custom-exercises` and `PUT /custom-exercises/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomExerciseInput {
    slug: Slug,
    name: Name,
    /// What kind of training it is; it sets the MET value an estimate of a
    /// session's energy takes for it.
    category: ExerciseCategory,
    level: ExerciseLevel,
    #[serde(default)]
    equipment: Option<Equipment>,
    #[serde(default)]
    force: Option<Force>,
    #[serde(default)]
    mechanic: Option<Mechanic>,
    /// The muscles it trains most, each once: a set counts fully towards their
    /// weekly volume.
    #[schema(min_items = 1, max_items = 6)]
    primary_muscles: Vec<Muscle>,
    /// The muscles that help, each once and none of the primary ones: a set
    /// counts half towards their volume.
    #[serde(default)]
    #[schema(max_items = 12)]
    secondary_muscles: Vec<Muscle>,
    /// How to do it, step by step.
    #[serde(default)]
    #[schema(max_items = 30)]
    instructions: Vec<Notes>,
}

/// The body of `PATCH /custom-exercises/{id}`: absent fields stay as they are,
/// `null` clears `equipment`, `force` or `mechanic`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomExercisePatch {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    slug: Option<Slug>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    name: Option<Name>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    category: Option<ExerciseCategory>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    level: Option<ExerciseLevel>,
    #[serde(default, deserialize_with = "nullable")]
    equipment: Option<Option<Equipment>>,
    #[serde(default, deserialize_with = "nullable")]
    force: Option<Option<Force>>,
    #[serde(default, deserialize_with = "nullable")]
    mechanic: Option<Option<Mechanic>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, min_items = 1, max_items = 6)]
    primary_muscles: Option<Vec<Muscle>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, max_items = 12)]
    secondary_muscles: Option<Vec<Muscle>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, max_items = 30)]
    instructions: Option<Vec<Notes>>,
}

impl PackageContent for CustomExercise {
    type Input = CustomExerciseInput;
    type Patch = CustomExercisePatch;

    fn check(input: &CustomExerciseInput) -> ApiResult<()> {
        check_name(&input.name)?;
        check_muscles("primary_muscles", &input.primary_muscles, 1, MOST_PRIMARY)?;
        check_muscles(
            "secondary_muscles",
            &input.secondary_muscles,
            0,
            MOST_SECONDARY,
        )?;
        if let Some(both) = input
            .secondary_muscles
            .iter()
            .find(|muscle| input.primary_muscles.contains(muscle))
        {
            return Err(ApiError::invalid(
                "secondary_muscles",
                format!("names {} as primary_muscles does", name_of(*both)),
            ));
        }
        check_steps(&input.instructions)
    }

    fn check_patch(patch: &CustomExercisePatch) -> ApiResult<()> {
        if let Some(name) = &patch.name {
            check_name(name)?;
        }
        if let Some(primary) = &patch.primary_muscles {
            check_muscles("primary_muscles", primary, 1, MOST_PRIMARY)?;
        }
        if let Some(secondary) = &patch.secondary_muscles {
            check_muscles("secondary_muscles", secondary, 0, MOST_SECONDARY)?;
        }
        match &patch.instructions {
            Some(steps) => check_steps(steps),
            None => Ok(()),
        }
    }

    fn build(id: Uuid, input: CustomExerciseInput) -> Self {
        CustomExercise {
            id,
            slug: input.slug,
            name: input.name,
            category: input.category,
            level: input.level,
            equipment: input.equipment,
            force: input.force,
            mechanic: input.mechanic,
            primary_muscles: input.primary_muscles,
            secondary_muscles: input.secondary_muscles,
            instructions: input.instructions,
            status: PackageStatus::Draft,
            version: first_version(),
            created_by: None,
            updated_by: None,
            created_at: None,
            updated_at: None,
            first_published_at: None,
        }
    }

    fn content(&self) -> CustomExerciseInput {
        CustomExerciseInput {
            slug: self.slug.clone(),
            name: self.name.clone(),
            category: self.category,
            level: self.level,
            equipment: self.equipment,
            force: self.force,
            mechanic: self.mechanic,
            primary_muscles: self.primary_muscles.clone(),
            secondary_muscles: self.secondary_muscles.clone(),
            instructions: self.instructions.clone(),
        }
    }

    fn apply(input: &mut CustomExerciseInput, patch: CustomExercisePatch) {
        set(&mut input.slug, patch.slug);
        set(&mut input.name, patch.name);
        set(&mut input.category, patch.category);
        set(&mut input.level, patch.level);
        set(&mut input.equipment, patch.equipment);
        set(&mut input.force, patch.force);
        set(&mut input.mechanic, patch.mechanic);
        set(&mut input.primary_muscles, patch.primary_muscles);
        set(&mut input.secondary_muscles, patch.secondary_muscles);
        set(&mut input.instructions, patch.instructions);
    }
}

/// Refuses the name of a bundled exercise: users would find two of it and not
/// know which to log.
fn check_name(name: &Name) -> ApiResult<()> {
    match library().named(name.as_str()) {
        Some(bundled) => Err(ApiError::invalid(
            "name",
            format!(
                "the library has an exercise of that name ({}); use it, or name this one apart",
                bundled.id
            ),
        )),
        None => Ok(()),
    }
}

fn check_muscles(field: &str, muscles: &[Muscle], fewest: usize, most: usize) -> ApiResult<()> {
    if !(fewest..=most).contains(&muscles.len()) {
        return Err(ApiError::invalid(
            field,
            format!("must name from {fewest} to {most} muscles"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    match muscles.iter().find(|muscle| !seen.insert(**muscle)) {
        Some(repeated) => Err(ApiError::invalid(
            field,
            format!("names {} twice", name_of(*repeated)),
        )),
        None => Ok(()),
    }
}

fn check_steps(steps: &[Notes]) -> ApiResult<()> {
    if steps.len() > MOST_STEPS {
        return Err(ApiError::invalid(
            "instructions",
            format!("must hold at most {MOST_STEPS} steps"),
        ));
    }
    Ok(())
}

/// A muscle as clients spell it.
fn name_of(muscle: Muscle) -> String {
    serde_json::to_value(muscle)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}
