//! The training log's numbers: each exercise's records, last session and next
//! step over a whole history, and a year's weekly volume per muscle, read through
//! the cached store for a user with a year of four sessions a week, as the API
//! answers them (less HTTP): cold (right after a whole-cache flush, with a new
//! memo, as after a restart: the answer MongoDB keeps), warm (the instance's
//! memo), and right after a write of the user's (computed from the history); and
//! warm again for a user one of whose exercises an administrator added, whose
//! kept answer is checked against that exercise's version on every read.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Context as _;
use chrono::{Datelike, Duration as Days, TimeZone, Utc};

use balancelife::domain::*;
use balancelife::store::cache::CachedStore;
use balancelife::store::mongo::MongoStore;
use balancelife::store::{DateRange, Store, all_entries};
use balancelife::training::{DEFAULT_REP_RANGE, ExerciseProgress, TrainingMemo, WeekVolume};

use crate::bench::{timed_row, timed_row_after};
use crate::report::{Report, Row, Target};

/// What a read computed from the history cannot beat: the year's workouts
/// listed by MongoDB alone.
const FLOOR: &str = "the year's workouts from MongoDB alone (the floor of a cold read)";

/// What comes before each read of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    /// A whole-cache flush and a new memo, as after a restart.
    Restart,
    /// Nothing: the instance's memo holds the answer.
    Nothing,
    /// An edit of the user's newest session: every write of theirs moves the sync
    /// feed head, so the answer is computed again, and this one voids the cached
    /// lists of its day.
    Write,
}

/// The rows: (what, what comes before each read, row name).
pub const ROWS: [(Read, Before, &str); 7] = [
    (
        Read::Records,
        Before::Restart,
        "records and next steps, a year of 4 sessions a week, cold",
    ),
    (
        Read::Records,
        Before::Nothing,
        "records and next steps, a year of 4 sessions a week, warm",
    ),
    (
        Read::Records,
        Before::Write,
        "records and next steps, a year of 4 sessions a week, after a write",
    ),
    (
        Read::Volume,
        Before::Restart,
        "weekly volume per muscle, 365 days, cold",
    ),
    (
        Read::Volume,
        Before::Nothing,
        "weekly volume per muscle, 365 days, warm",
    ),
    (
        Read::Volume,
        Before::Write,
        "weekly volume per muscle, 365 days, after a write",
    ),
    (
        Read::RecordsWithCustom,
        Before::Nothing,
        "records, a year of 4 sessions a week, one exercise custom, warm",
    ),
];

#[derive(Debug, Clone, Copy)]
pub enum Read {
    Records,
    Volume,
    /// The records of a user whose planks are a custom exercise.
    RecordsWithCustom,
}

/// Two sessions alternating, five exercises of four sets each (a warm-up and
/// three at work), the load growing by the week: 20 sets a session.
const SESSIONS: [[&str; 5]; 2] = [
    [
        "barbell-squat",
        "barbell-bench-press-medium-grip",
        "bent-over-barbell-row",
        "standing-military-press",
        "plank",
    ],
    [
        "barbell-deadlift",
        "barbell-incline-bench-press-medium-grip",
        "weighted-pull-ups",
        "split-squat-with-dumbbells",
        "hanging-leg-raise",
    ],
];

pub async fn measure(mongo: &MongoStore, cached: &Arc<CachedStore>) -> anyhow::Result<Vec<Row>> {
    let last = Utc::now().date_naive();
    let first = last - Days::days(364);
    let user = user_with_a_year(mongo, first, &|_| {}).await?;
    // A published custom exercise, in the place of the planks.
    let plank = balancelife_testkit::fixtures::custom_exercise(&format!(
        "bench-plank-{}",
        new_id().simple()
    ));
    let plank_id = plank.exercise_id();
    mongo.custom_exercises().upsert(plank).await?;
    let with_custom = user_with_a_year(mongo, first, &|set: &mut LoggedSet| {
        if set.exercise_id.as_str() == "plank" {
            set.exercise_id = plank_id.clone();
        }
    })
    .await?;
    let year = DateRange::new(first, last)?;
    // The floor first, on the history every other row starts from.
    let read = || async { Ok(all_entries(mongo.workout_entries(), user.id, year).await?) };
    let check = |workouts: &Vec<Entry<WorkoutData>>| {
        anyhow::ensure!(workouts.len() > 200, "{} workouts", workouts.len());
        Ok(())
    };
    let floor = timed_row(cached, "training", false, FLOOR, read, check).await?;
    // The session a write edits: the newest, its last set one repetition up or
    // back, so the history keeps its size.
    let week_before = year.to() - Days::days(7);
    let newest = all_entries(
        mongo.workout_entries(),
        user.id,
        DateRange::new(week_before, last)?,
    )
    .await?
    .pop()
    .context("a session in the last week")?;
    let store: &dyn Store = cached.as_ref();
    // One instance's, as the service keeps one; a cold read starts without it,
    // as after a restart.
    let warm = Arc::new(TrainingMemo::default());
    let edits = AtomicU32::new(0);
    let mut rows = Vec::new();
    for (read, before, operation) in ROWS {
        let cold = before == Before::Restart;
        let memo = || {
            if cold {
                Arc::new(TrainingMemo::default())
            } else {
                Arc::clone(&warm)
            }
        };
        let write = || async {
            if before == Before::Write {
                let up = edits.fetch_add(1, Ordering::Relaxed).is_multiple_of(2);
                let mut edited = newest.clone();
                if let Some(set) = edited.data.sets.last_mut() {
                    set.reps = Some(Reps::try_from(if up { 9 } else { 8 })?);
                }
                store.workout_entries().put(edited).await?;
            }
            Ok(())
        };
        let row = match read {
            Read::Records | Read::RecordsWithCustom => {
                let edited_user = matches!(read, Read::Records);
                let whose = match read {
                    Read::RecordsWithCustom => &with_custom,
                    _ => &user,
                };
                let read = || async {
                    let (low, high) = DEFAULT_REP_RANGE;
                    Ok(memo().progress(store, whose, low, high).await?)
                };
                let check = |exercises: &Arc<Vec<ExerciseProgress>>| {
                    anyhow::ensure!(exercises.len() == 10, "{} exercises", exercises.len());
                    anyhow::ensure!(exercises[0].sessions > 100, "a year of sessions");
                    if edited_user {
                        // The last edit is in the answer: an odd count of edits
                        // left 9 repetitions on the newest session's last set.
                        let edited = newest.data.sets.last().context("a set")?;
                        let reps = if edits.load(Ordering::Relaxed) % 2 == 1 {
                            9
                        } else {
                            8
                        };
                        let shown = exercises
                            .iter()
                            .find(|e| e.exercise_id == edited.exercise_id)
                            .and_then(|e| e.last.sets.last())
                            .and_then(|set| set.reps);
                        anyhow::ensure!(
                            shown == Some(reps),
                            "{shown:?} repetitions shown, {reps} written"
                        );
                    }
                    Ok(())
                };
                timed_row_after(cached, "training", cold, operation, write, read, check).await?
            }
            Read::Volume => {
                let read = || async { Ok(memo().weekly_volume(store, &user, year).await?) };
                let check = |weeks: &Arc<Vec<WeekVolume>>| {
                    anyhow::ensure!(weeks.len() >= 52, "{} weeks", weeks.len());
                    Ok(())
                };
                timed_row_after(cached, "training", cold, operation, write, read, check).await?
            }
        };
        rows.push(row);
    }
    rows.push(floor);
    Ok(rows)
}

/// A new user with a year of four sessions a week, each set as `change` leaves
/// it, written straight to MongoDB: only the reads are measured.
async fn user_with_a_year(
    mongo: &MongoStore,
    first: chrono::NaiveDate,
    change: &dyn Fn(&mut LoggedSet),
) -> anyhow::Result<User> {
    let mut user = balancelife::sample::demo_users(now()).remove(0);
    user.id = new_id();
    user.email = format!("training-{}@bench.example", user.id.simple()).parse()?;
    mongo.create_user(user.clone()).await?;
    let workouts: Vec<Entry<WorkoutData>> = first
        .iter_days()
        .take(365)
        // Monday, Tuesday, Thursday and Friday.
        .filter(|day| [0, 1, 3, 4].contains(&day.weekday().num_days_from_monday()))
        .enumerate()
        .map(|(n, day)| {
            let at = Utc.from_utc_datetime(&day.and_hms_opt(7, 0, 0).expect("a time"));
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            let mut entry = balancelife_testkit::fixtures::entry::<WorkoutData>(user.id, n + 1, at);
            entry.data.sets = session(n);
            entry.data.sets.iter_mut().for_each(change);
            entry
        })
        .collect();
    for written in mongo.workout_entries().put_many(workouts).await? {
        written?;
    }
    Ok(user)
}

/// Session `n`'s sets.
fn session(n: u32) -> Vec<LoggedSet> {
    let week = f64::from(n / 4);
    SESSIONS[n as usize % 2]
        .iter()
        .enumerate()
        .flat_map(|(place, exercise)| {
            let work = 40.0 + 10.0 * place as f64 + week * 0.5;
            (0..4).map(move |set| LoggedSet {
                exercise_id: exercise.parse().expect("an exercise of the library"),
                reps: Some(Reps::try_from(if set == 0 { 10 } else { 8 }).expect("reps")),
                weight_kg: Some(
                    LoadKg::try_from(if set == 0 { work / 2.0 } else { work }).expect("a load"),
                ),
                rpe: None,
                duration_s: None,
                distance_km: None,
                warm_up: set == 0,
                done: true,
            })
        })
        .collect()
}

/// Records and volume: p50 at most 10 ms cold (after a restart, or right after a
/// write), 1 ms warm; a cold one is named beside the floor.
pub fn targets(report: &Report) -> Vec<Target> {
    let p50 = |operation| {
        report
            .row("training", "cached", operation, 1)
            .map_or(f64::NAN, |s| s.p50_us)
            / 1_000.0
    };
    let floor = p50(FLOOR);
    ROWS.iter()
        .map(|&(read, before, operation)| {
            let (limit_ms, name) = match (before, read) {
                (_, Read::RecordsWithCustom) => (
                    1.0,
                    "records with a custom exercise in the history warm <= 1 ms (p50)",
                ),
                (Before::Restart, Read::Records) => (
                    10.0,
                    "records over a year of 4 sessions a week cold <= 10 ms (p50)",
                ),
                (Before::Write, Read::Records) => (
                    10.0,
                    "records over a year of 4 sessions a week right after a write <= 10 ms (p50)",
                ),
                (Before::Nothing, Read::Records) => (
                    1.0,
                    "records over a year of 4 sessions a week warm <= 1 ms (p50)",
                ),
                (Before::Restart, Read::Volume) => {
                    (10.0, "weekly volume over 365 days cold <= 10 ms (p50)")
                }
                (Before::Write, Read::Volume) => (
                    10.0,
                    "weekly volume over 365 days right after a write <= 10 ms (p50)",
                ),
                (Before::Nothing, Read::Volume) => {
                    (1.0, "weekly volume over 365 days warm <= 1 ms (p50)")
                }
            };
            let measured = p50(operation);
            Target {
                name,
                measured: if limit_ms > 1.0 {
                    format!(
                        "{measured:.2} ms; MongoDB alone lists the year in {floor:.2} ms = {:.2}x",
                        measured / floor
                    )
                } else {
                    format!("{measured:.3} ms")
                },
                pass: measured <= limit_ms,
            }
        })
        .collect()
}
