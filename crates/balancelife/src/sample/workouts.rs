//! The published workout packages: one table of programmes, each a few session
//! templates repeated over every session, and how a programme becomes a
//! `WorkoutPackage`.

use uuid::Uuid;

use super::{NS_WORKOUT_PACKAGE, first_version, fixed_id, parsed, tags, valid};
use crate::domain::{Exercise, ExerciseDose, Level, WorkoutPackage, WorkoutSession};

pub fn workout_packages() -> Vec<WorkoutPackage> {
    WORKOUT_PLANS
        .iter()
        .zip(1..)
        .map(|(plan, n)| plan.build(fixed_id(NS_WORKOUT_PACKAGE, n)))
        .collect()
}

// ---------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------

// The table below is kept out of rustfmt: one exercise per line reads as a
// table, while rustfmt would spread every call over eight lines.

#[rustfmt::skip]
static WORKOUT_PLANS: &[WorkoutPlan] = &[
    WorkoutPlan {
        slug: "first-steps-full-body",
        name: "First Steps Full Body",
        description: "Three short bodyweight sessions a week that teach the basic movement patterns: squat, hinge, push and brace. No gym needed, just a mat.",
        level: Level::Beginner,
        tags: &["strength", "full-body", "home"],
        equipment: &["mat"],
        duration_weeks: 4,
        sessions_per_week: 3,
        minutes_per_session: 30,
        kcal_per_session: 180.0,
        templates: &[
            SessionTemplate {
                title: "Full body A",
                exercises: &[
                    reps("Bodyweight squat", 3, 12, 60),
                    reps("Incline push-up", 3, 10, 60),
                    reps("Glute bridge", 3, 12, 45),
                    reps("Bird dog", 3, 10, 45),
                    timed("Forearm plank", 3, 30, 45),
                ],
            },
            SessionTemplate {
                title: "Full body B",
                exercises: &[
                    reps("Reverse lunge", 3, 10, 60),
                    reps("Knee push-up", 3, 8, 60),
                    reps("Superman", 3, 12, 45),
                    reps("Dead bug", 3, 10, 45),
                    timed("Side plank", 2, 20, 45),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "morning-mobility-flow",
        name: "Morning Mobility Flow",
        description: "Twenty gentle minutes each weekday morning to loosen hips, spine and shoulders after a night's sleep or a day at the desk.",
        level: Level::Beginner,
        tags: &["mobility", "flexibility", "home"],
        equipment: &["mat"],
        duration_weeks: 2,
        sessions_per_week: 5,
        minutes_per_session: 20,
        kcal_per_session: 80.0,
        templates: &[
            SessionTemplate {
                title: "Hips and spine",
                exercises: &[
                    timed("Cat-cow", 2, 60, 15),
                    reps("World's greatest stretch", 2, 8, 15),
                    reps("90/90 hip switch", 2, 10, 15),
                    reps("Thoracic rotation", 2, 10, 15),
                    timed("Child's pose", 1, 60, 0),
                ],
            },
            SessionTemplate {
                title: "Shoulders and hamstrings",
                exercises: &[
                    timed("Arm circles", 2, 30, 10),
                    reps("Thread the needle", 2, 8, 15),
                    timed("Downward dog", 2, 45, 15),
                    reps("Standing hamstring sweep", 2, 10, 15),
                    timed("Deep squat hold", 2, 45, 15),
                ],
            },
            SessionTemplate {
                title: "Full-body flow",
                exercises: &[
                    timed("Sun salutation", 3, 60, 15),
                    reps("Cossack squat", 2, 8, 20),
                    timed("Pigeon pose", 2, 45, 15),
                    timed("Supine twist", 2, 45, 0),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "core-and-posture",
        name: "Core & Posture",
        description: "Pilates-inspired sessions that build a steady trunk and an upright back, the foundation for everything else and a relief for desk-bound shoulders.",
        level: Level::Beginner,
        tags: &["core", "mobility", "home"],
        equipment: &["mat"],
        duration_weeks: 3,
        sessions_per_week: 3,
        minutes_per_session: 25,
        kcal_per_session: 120.0,
        templates: &[
            SessionTemplate {
                title: "Core stability",
                exercises: &[
                    reps("Dead bug", 3, 10, 30),
                    timed("Forearm plank", 3, 30, 30),
                    reps("Glute bridge march", 3, 10, 30),
                    reps("Bird dog", 3, 10, 30),
                    timed("Side plank", 2, 25, 30),
                ],
            },
            SessionTemplate {
                title: "Posture and back",
                exercises: &[
                    reps("Prone Y-T-W raise", 3, 8, 30),
                    reps("Wall angel", 3, 10, 30),
                    timed("Superman hold", 3, 20, 30),
                    timed("Cat-cow", 2, 60, 15),
                    timed("Hollow body hold", 3, 20, 30),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "dumbbell-strength-builder",
        name: "Dumbbell Strength Builder",
        description: "An upper/lower split four times a week with a pair of adjustable dumbbells and a bench. Add weight whenever every set reaches the top of its rep range.",
        level: Level::Intermediate,
        tags: &["strength", "muscle-gain", "home"],
        equipment: &["dumbbells", "bench"],
        duration_weeks: 6,
        sessions_per_week: 4,
        minutes_per_session: 45,
        kcal_per_session: 300.0,
        templates: &[
            SessionTemplate {
                title: "Upper body",
                exercises: &[
                    reps("Dumbbell bench press", 4, 10, 90),
                    reps("One-arm dumbbell row", 4, 10, 90),
                    reps("Seated shoulder press", 3, 10, 75),
                    reps("Hammer curl", 3, 12, 60),
                    reps("Overhead triceps extension", 3, 12, 60),
                ],
            },
            SessionTemplate {
                title: "Lower body",
                exercises: &[
                    reps("Goblet squat", 4, 10, 90),
                    reps("Dumbbell Romanian deadlift", 4, 10, 90),
                    reps("Walking lunge", 3, 12, 75),
                    reps("Dumbbell calf raise", 3, 15, 45),
                    timed("Forearm plank", 3, 45, 45),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "kettlebell-conditioning",
        name: "Kettlebell Conditioning",
        description: "Swings, cleans and carries in compact circuits: strength and conditioning in one, with a single kettlebell and a few square metres of floor.",
        level: Level::Intermediate,
        tags: &["cardio", "fat-loss", "conditioning", "home"],
        equipment: &["kettlebell"],
        duration_weeks: 4,
        sessions_per_week: 3,
        minutes_per_session: 35,
        kcal_per_session: 380.0,
        templates: &[
            SessionTemplate {
                title: "Swing and squat circuit",
                exercises: &[
                    reps("Kettlebell swing", 5, 20, 45),
                    reps("Goblet squat", 4, 12, 60),
                    reps("Push-up", 4, 12, 45),
                    reps("Kettlebell high pull", 3, 12, 45),
                    timed("Farmer's march", 3, 40, 45),
                ],
            },
            SessionTemplate {
                title: "Complexes and carries",
                exercises: &[
                    reps("Turkish get-up", 3, 3, 60),
                    reps("Kettlebell clean and press", 4, 8, 60),
                    reps("Reverse lunge", 3, 10, 45),
                    reps("Russian twist", 3, 20, 30),
                    timed("Suitcase carry", 3, 40, 45),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "indoor-cycling-base",
        name: "Indoor Cycling Base",
        description: "Build an aerobic engine on a stationary bike: one long steady ride, one threshold session and one with cadence drills and short sprints each week.",
        level: Level::Intermediate,
        tags: &["cardio", "endurance"],
        equipment: &["bike"],
        duration_weeks: 6,
        sessions_per_week: 3,
        minutes_per_session: 45,
        kcal_per_session: 450.0,
        templates: &[
            SessionTemplate {
                title: "Endurance ride",
                exercises: &[
                    timed("Warm-up spin", 1, 600, 0),
                    timed("Zone 2 steady ride", 1, 1800, 0),
                    timed("Cool-down spin", 1, 300, 0),
                ],
            },
            SessionTemplate {
                title: "Threshold intervals",
                exercises: &[
                    timed("Warm-up spin", 1, 600, 0),
                    timed("Threshold interval", 4, 300, 120),
                    timed("Cool-down spin", 1, 420, 0),
                ],
            },
            SessionTemplate {
                title: "Cadence and sprints",
                exercises: &[
                    timed("Warm-up spin", 1, 600, 0),
                    timed("High-cadence drill", 6, 60, 60),
                    timed("Seated sprint", 8, 20, 100),
                    timed("Cool-down spin", 1, 300, 0),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "hiit-fat-burner",
        name: "HIIT Fat Burner",
        description: "Four short, brutal interval sessions a week with nothing but your body weight. Expect to be out of breath; not for the first weeks of training.",
        level: Level::Advanced,
        tags: &["hiit", "cardio", "fat-loss", "home"],
        equipment: &["none"],
        duration_weeks: 4,
        sessions_per_week: 4,
        minutes_per_session: 25,
        kcal_per_session: 320.0,
        templates: &[
            SessionTemplate {
                title: "Tabata burn",
                exercises: &[
                    timed("Burpee", 8, 20, 10),
                    timed("Jump squat", 8, 20, 10),
                    timed("Mountain climber", 8, 20, 10),
                    timed("High knees", 8, 20, 10),
                ],
            },
            SessionTemplate {
                title: "Power intervals",
                exercises: &[
                    reps("Broad jump", 5, 8, 60),
                    reps("Plyometric push-up", 5, 8, 60),
                    timed("Skater hops", 5, 40, 20),
                    reps("Tuck jump", 4, 10, 60),
                ],
            },
            SessionTemplate {
                title: "Sprint ladder",
                exercises: &[
                    timed("Sprint in place", 10, 30, 30),
                    reps("Burpee", 5, 10, 45),
                    timed("Plank jacks", 4, 40, 20),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "barbell-powerbuilding",
        name: "Barbell Powerbuilding",
        description: "Eight weeks of heavy triples on the big lifts plus hypertrophy work, four days a week. For lifters who already squat, bench and deadlift with good form.",
        level: Level::Advanced,
        tags: &["strength", "powerbuilding", "muscle-gain"],
        equipment: &["barbell", "squat-rack", "bench", "pull-up-bar", "dumbbells"],
        duration_weeks: 8,
        sessions_per_week: 4,
        minutes_per_session: 70,
        kcal_per_session: 420.0,
        templates: &[
            SessionTemplate {
                title: "Heavy lower",
                exercises: &[
                    reps("Back squat", 5, 3, 210),
                    reps("Romanian deadlift", 4, 6, 150),
                    reps("Bulgarian split squat", 3, 8, 90),
                    reps("Hanging leg raise", 3, 10, 60),
                ],
            },
            SessionTemplate {
                title: "Heavy upper",
                exercises: &[
                    reps("Bench press", 5, 3, 210),
                    reps("Weighted pull-up", 4, 5, 150),
                    reps("Overhead press", 4, 6, 120),
                    reps("Barbell row", 3, 8, 90),
                ],
            },
            SessionTemplate {
                title: "Volume full body",
                exercises: &[
                    reps("Deadlift", 4, 4, 210),
                    reps("Front squat", 3, 6, 150),
                    reps("Incline bench press", 4, 8, 120),
                    timed("Farmer's carry", 4, 40, 90),
                ],
            },
        ],
    },
];

// ---------------------------------------------------------------------------------
// Table types and how they become domain values
// ---------------------------------------------------------------------------------

struct Move {
    name: &'static str,
    sets: u8,
    dose: ExerciseDose,
    rest_s: u16,
}

const fn reps(name: &'static str, sets: u8, reps: u16, rest_s: u16) -> Move {
    Move {
        name,
        sets,
        dose: ExerciseDose::Reps(reps),
        rest_s,
    }
}

const fn timed(name: &'static str, sets: u8, seconds: u32, rest_s: u16) -> Move {
    Move {
        name,
        sets,
        dose: ExerciseDose::DurationS(seconds),
        rest_s,
    }
}

struct SessionTemplate {
    title: &'static str,
    exercises: &'static [Move],
}

struct WorkoutPlan {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    level: Level,
    tags: &'static [&'static str],
    equipment: &'static [&'static str],
    duration_weeks: u8,
    sessions_per_week: u8,
    minutes_per_session: u16,
    kcal_per_session: f64,
    /// Repeated in order over every session of the programme.
    templates: &'static [SessionTemplate],
}

impl WorkoutPlan {
    fn build(&self, id: Uuid) -> WorkoutPackage {
        let per_week = self.sessions_per_week;
        let sessions = (1..=self.duration_weeks)
            .flat_map(|week| (1..=per_week).map(move |day| (week, day)))
            .zip(self.templates.iter().cycle())
            .map(|((week, day), template)| WorkoutSession {
                week,
                day,
                title: valid(template.title),
                exercises: template
                    .exercises
                    .iter()
                    .map(|exercise| Exercise {
                        name: valid(exercise.name),
                        sets: exercise.sets,
                        dose: exercise.dose,
                        rest_s: exercise.rest_s,
                    })
                    .collect(),
            })
            .collect();
        WorkoutPackage {
            id,
            slug: parsed(self.slug),
            name: valid(self.name),
            description: valid(self.description),
            level: self.level,
            tags: tags(self.tags),
            equipment: tags(self.equipment),
            duration_weeks: self.duration_weeks,
            sessions_per_week: self.sessions_per_week,
            minutes_per_session: self.minutes_per_session,
            kcal_per_session: valid(self.kcal_per_session),
            sessions,
            published: true,
            version: first_version(),
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
    fn the_workout_catalogue_has_enough_packages_with_unique_slugs() {
        let workouts = workout_packages();
        assert!(workouts.len() >= 8);
        let workout_slugs: HashSet<_> = workouts.iter().map(|p| &p.slug).collect();
        assert_eq!(workout_slugs.len(), workouts.len());
        for package in &workouts {
            assert!(package.published);
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
        }
    }
}
