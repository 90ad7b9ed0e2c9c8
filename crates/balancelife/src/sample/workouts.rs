//! The published workout packages: `workout-packages.toml` read into its shape
//! (programmes, each a few session templates repeated over every session) and each
//! programme turned into a `WorkoutPackage` whose id comes from its position in the
//! file.

use std::sync::LazyLock;

use serde::Deserialize;

use super::file::{self, embedded};
use super::{NS_WORKOUT_PACKAGE, first_version, fixed_id};
use crate::domain::{
    Exercise, Kcal, Level, Name, Notes, PackageStatus, Slug, Tag, Title, WorkoutPackage,
    WorkoutSession,
};

const FILE: (&str, &str) = embedded!("workout-packages.toml");

/// Built once: the demo history asks for the catalogue for every entry it makes.
static PACKAGES: LazyLock<Vec<WorkoutPackage>> = LazyLock::new(|| {
    let file: WorkoutFile = file::parse(FILE);
    file.packages
        .into_iter()
        .zip(1..)
        .map(|(plan, n)| plan.build(fixed_id(NS_WORKOUT_PACKAGE, n)))
        .collect()
});

pub fn workout_packages() -> Vec<WorkoutPackage> {
    PACKAGES.clone()
}

// ---------------------------------------------------------------------------------
// The shape of the file and how it becomes domain values
// ---------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkoutFile {
    #[serde(rename = "package")]
    packages: Vec<WorkoutPlan>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkoutPlan {
    slug: Slug,
    name: Name,
    description: Notes,
    level: Level,
    tags: Vec<Tag>,
    equipment: Vec<Tag>,
    duration_weeks: u8,
    sessions_per_week: u8,
    minutes_per_session: u16,
    kcal_per_session: Kcal,
    /// Repeated in order over every session of the programme.
    #[serde(rename = "session")]
    templates: Vec<SessionTemplate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionTemplate {
    title: Title,
    /// The domain type itself, so the file spells an exercise as the API does
    /// (`reps = 12` or `duration_s = 30` beside `sets`).
    exercises: Vec<Exercise>,
}

impl WorkoutPlan {
    fn build(self, id: uuid::Uuid) -> WorkoutPackage {
        let per_week = self.sessions_per_week;
        let sessions = (1..=self.duration_weeks)
            .flat_map(|week| (1..=per_week).map(move |day| (week, day)))
            .zip(self.templates.iter().cycle())
            .map(|((week, day), template)| WorkoutSession {
                week,
                day,
                title: template.title.clone(),
                exercises: template.exercises.clone(),
            })
            .collect();
        WorkoutPackage {
            id,
            slug: self.slug,
            name: self.name,
            description: self.description,
            level: self.level,
            tags: self.tags,
            equipment: self.equipment,
            duration_weeks: self.duration_weeks,
            sessions_per_week: self.sessions_per_week,
            minutes_per_session: self.minutes_per_session,
            kcal_per_session: self.kcal_per_session,
            sessions,
            status: PackageStatus::Published,
            version: first_version(),
            created_by: None,
            updated_by: None,
            created_at: None,
            updated_at: None,
            first_published_at: None,
        }
    }
}

// ---------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_file_reads_and_every_value_is_valid() {
        let _: WorkoutFile = file::parse(FILE);
    }

    #[test]
    fn a_bad_value_is_reported_with_its_file_and_line() {
        let change = ("reps = 12", "reps = -12");
        file::assert_refused::<WorkoutFile>(FILE, change, &["Bodyweight squat", "expected u16"]);
    }

    #[test]
    fn the_workout_catalogue_has_enough_packages_with_unique_slugs() {
        let workouts = workout_packages();
        assert!(workouts.len() >= 8);
        let workout_slugs: HashSet<_> = workouts.iter().map(|p| &p.slug).collect();
        assert_eq!(workout_slugs.len(), workouts.len());
        for package in &workouts {
            assert_eq!(package.status, PackageStatus::Published);
            assert_eq!(package.version, first_version());
            assert!(!package.tags.is_empty() && !package.equipment.is_empty());
        }
        let levels: HashSet<_> = workouts.iter().map(|p| p.level).collect();
        assert_eq!(levels.len(), 3, "every level is represented");
    }

    #[test]
    fn workout_packages_schedule_every_session_of_every_week() {
        for package in workout_packages() {
            assert!(
                (2..=8).contains(&package.duration_weeks),
                "{}",
                package.slug
            );
            assert!(
                (2..=5).contains(&package.sessions_per_week),
                "{}",
                package.slug
            );
            let scheduled: Vec<(u8, u8)> =
                package.sessions.iter().map(|s| (s.week, s.day)).collect();
            let expected: Vec<(u8, u8)> = (1..=package.duration_weeks)
                .flat_map(|week| (1..=package.sessions_per_week).map(move |day| (week, day)))
                .collect();
            assert_eq!(scheduled, expected, "{}", package.slug);
            assert!(package.sessions.iter().all(|s| !s.exercises.is_empty()));
            for exercise in package.sessions.iter().flat_map(|s| &s.exercises) {
                if let Some(id) = &exercise.exercise_id {
                    assert!(
                        crate::exercise_library::library().get(id).is_some(),
                        "{}: {id} is not in the library",
                        package.slug
                    );
                }
            }
        }
    }
}
