//! The names of the collections the store keeps, in one place: the store, its
//! indexes and migrations, and the cache's change-stream invalidator (which tells
//! what a change voids from the collection it happened in) all read them here.

pub const USERS: &str = "users";
pub const MEAL_PACKAGES: &str = "meal_packages";
pub const WORKOUT_PACKAGES: &str = "workout_packages";
/// The exercises administrators added to the bundled library.
pub const CUSTOM_EXERCISES: &str = "custom_exercises";
pub const MEAL_ENTRIES: &str = "meal_entries";
pub const WORKOUT_ENTRIES: &str = "workout_entries";
/// The body log: weigh-ins, body fat and girths.
pub const BODY_METRICS: &str = "body_metrics";
/// Foods, and the tombstones of deleted ones.
pub const FOODS: &str = "foods";
/// Notes of entry deletions, for the invalidator where MongoDB keeps no pre-images.
pub const ENTRY_DELETIONS: &str = "entry_deletions";

/// Each user's sync clock: the last number taken and the writes under way.
pub const SYNC_CLOCKS: &str = "sync_clocks";
/// One marker per thing a user owns: its latest change's number.
pub const SYNC_MARKERS: &str = "sync_markers";

/// The answers of batches of writes, kept for a resend.
pub const SYNC_BATCHES: &str = "sync_batches";

/// Answers computed from a user's data, kept for reuse.
pub const KEPT_ANSWERS: &str = "kept_answers";

/// Samples from health platforms.
pub const HEALTH_SAMPLES: &str = "health_samples";

/// The lease (and saved resume token) of the cache's change-stream invalidator.
pub const CACHE_INVALIDATOR: &str = "cache_invalidator";
/// The record of the migrations that have run.
pub const MIGRATIONS: &str = "migrations";

/// The collections whose changes the cache must follow.
pub const DATA: [&str; 7] = [
    USERS,
    MEAL_PACKAGES,
    WORKOUT_PACKAGES,
    CUSTOM_EXERCISES,
    MEAL_ENTRIES,
    WORKOUT_ENTRIES,
    BODY_METRICS,
];

/// The collections of entries.
pub const ENTRIES: [&str; 3] = [MEAL_ENTRIES, WORKOUT_ENTRIES, BODY_METRICS];
