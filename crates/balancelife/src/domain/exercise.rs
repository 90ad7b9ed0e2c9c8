//! What an exercise is: the library's description of a movement (its muscles,
//! equipment, level and instructions), and one set of it as a user logged it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::values::{DistanceKm, DurationSecs, ExerciseId, LoadKg, Reps, Rpe};

/// The muscle groups the library names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Muscle {
    Abdominals,
    Abductors,
    Adductors,
    Biceps,
    Calves,
    Chest,
    Forearms,
    Glutes,
    Hamstrings,
    Lats,
    LowerBack,
    MiddleBack,
    Neck,
    Quadriceps,
    Shoulders,
    Traps,
    Triceps,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Equipment {
    Bands,
    Barbell,
    BodyOnly,
    Cable,
    Dumbbell,
    ExerciseBall,
    EzCurlBar,
    FoamRoll,
    Kettlebells,
    Machine,
    MedicineBall,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseLevel {
    Beginner,
    Intermediate,
    Expert,
}

/// What kind of training an exercise is; it sets the exercise's MET value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseCategory {
    Strength,
    Powerlifting,
    OlympicWeightlifting,
    Strongman,
    Plyometrics,
    Cardio,
    Stretching,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Force {
    Push,
    Pull,
    Static,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mechanic {
    Compound,
    Isolation,
}

/// An exercise as clients see it: one of the bundled library's (its id a slug such
/// as `barbell-squat`) or one an administrator added (its id a UUID).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LibraryExercise {
    pub id: ExerciseId,
    pub name: String,
    pub category: ExerciseCategory,
    pub level: ExerciseLevel,
    #[schema(required = true)]
    pub equipment: Option<Equipment>,
    #[schema(required = true)]
    pub force: Option<Force>,
    #[schema(required = true)]
    pub mechanic: Option<Mechanic>,
    /// The muscles it trains most; a set counts fully towards their volume.
    pub primary_muscles: Vec<Muscle>,
    /// The muscles that help; a set counts half towards their volume.
    pub secondary_muscles: Vec<Muscle>,
    /// How to do it, step by step.
    pub instructions: Vec<String>,
}

/// The most sets one workout entry may hold: a long session has forty.
pub const MOST_SETS: usize = 100;

/// One set of an exercise as logged: repetitions (with the load lifted, if any),
/// a time or a distance. A set that is not `done` is planned: the package's
/// prescription, or the last session's numbers, for the user to fill in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoggedSet {
    pub exercise_id: ExerciseId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reps: Option<Reps>,
    /// The load lifted, besides the body: the bar and plates, a dumbbell, the
    /// stack of a machine; none (or 0) for a bodyweight exercise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<LoadKg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpe: Option<Rpe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<DurationSecs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<DistanceKm>,
    /// A warm-up set: it counts for records, not for volume or progression.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warm_up: bool,
    /// False for a planned set, not yet done; true when absent.
    #[serde(default = "done_by_default", skip_serializing_if = "is_done")]
    #[schema(required = false)]
    pub done: bool,
}

fn done_by_default() -> bool {
    true
}

// A reference, as serde's `skip_serializing_if` passes it.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_done(done: &bool) -> bool {
    *done
}

impl LoggedSet {
    /// Whether it says how much was done: repetitions, a time or a distance.
    pub fn has_amount(&self) -> bool {
        self.reps.is_some() || self.duration_s.is_some() || self.distance_km.is_some()
    }

    /// Whether it counts as work: done, and not a warm-up.
    pub fn is_working(&self) -> bool {
        self.done && !self.warm_up
    }
}
