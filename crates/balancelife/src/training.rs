//! What a user's logged sets add up to: each exercise's personal records, last
//! session and next step (`body::strength`), and the weekly volume per muscle
//! group. One function of each for every caller, over the workouts the store
//! (and so the cache) returns.
//!
//! **Weekly volume** counts working sets (done, not warm-ups) per muscle group in
//! each week from Monday: a set counts 1 for each primary muscle of its exercise
//! and ½ for each secondary one, the usual way of counting sets per muscle (a
//! bench press is a set of chest and half a set of triceps and shoulders). The
//! week's tonnage (repetitions × load) and repetitions go to the primary muscles.
//! Worked example: in one week, 3 sets of 8 bench presses at 60 kg (primary
//! chest; secondary shoulders, triceps) and 2 sets of 10 push-ups (primary chest;
//! secondary shoulders, triceps): chest 5 sets, 44 repetitions, 1,440 kg;
//! shoulders and triceps 2.5 sets each.
//!
//! **Answers are kept** (`TrainingMemo`) beside the number of the user's sync
//! feed head they were computed at: every write of anything the user owns moves
//! the head, so an answer kept at the current head is the answer. Reading the head
//! is one cached read; reading a whole history is not, and its records are asked
//! for every time a session is logged. They are kept in process and in the store
//! (`store::kept_answers`), where another instance, or this one after a restart,
//! takes them; as one lives there until its user writes again, past the cache's
//! one-second promise, it is made from the workouts read past the cache. After a
//! write, an answer is made again from the history this instance keeps, brought
//! forward by the feed's changes (`workout_history`), not from the year read again.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, Days, NaiveDate};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::body::strength::{self, Lift, NextSession, WorkingSet};
use crate::domain::{Entry, ExerciseId, LoggedSet, Muscle, User, WorkoutData};
use crate::exercise_book::{CustomVersions, ExerciseBook};
use crate::store::sync_feed::FeedHead;
use crate::store::{DateRange, Store, StoreError, StoreResult, all_entries};
use crate::workout_history::WorkoutHistories;

/// The repetition range double progression aims for unless the caller names one.
pub const DEFAULT_REP_RANGE: (u32, u32) = (8, 12);

/// How long an instance keeps an answer in process: the memory of users gone
/// quiet is freed, and the store still has their answers. What makes an answer
/// right is its stamp: it is made from the workouts past the cache, at least as
/// new as the head it is stamped with; the head is read through the cache, which
/// lags a write by no more than its promise (a second; on a standalone MongoDB,
/// where no change stream follows writers that died, its TTL).
const MEMO_LIFE: Duration = Duration::from_secs(60);

/// How long a read or a write of the store's kept answers may take: they are a
/// shortcut, worth less than computing (tens of milliseconds) when the store is
/// slow, and their failure is a computation, never an error.
const KEPT_ANSWER_DEADLINE: Duration = Duration::from_millis(100);

/// The most answers kept of each kind, each a few kilobytes.
const MEMO_CAPACITY: u64 = 10_000;

/// Answers kept by the sync feed head they were computed at, as the module says:
/// one instance's, in memory, with the histories they are computed from.
pub struct TrainingMemo {
    progress: Memo<(Uuid, u32, u32), Vec<ExerciseProgress>>,
    volume: Memo<(Uuid, NaiveDate, NaiveDate), Vec<WeekVolume>>,
    histories: WorkoutHistories,
}

impl Default for TrainingMemo {
    fn default() -> Self {
        Self {
            progress: Memo::new("training-progress"),
            volume: Memo::new("training-volume"),
            histories: WorkoutHistories::default(),
        }
    }
}

impl TrainingMemo {
    /// `progress` of all of `user`'s workouts.
    pub async fn progress(
        &self,
        store: &dyn Store,
        user: &User,
        low: u32,
        high: u32,
    ) -> StoreResult<Arc<Vec<ExerciseProgress>>> {
        self.progress
            .get_or_compute(store, user.id, (user.id, low, high), |head| async move {
                let workouts = self.histories.at(store, user, head).await?;
                let book = ExerciseBook::of(store, exercises_in(workouts.iter())).await?;
                Ok((
                    progress(&workouts, &book, low, high),
                    book.custom_versions(),
                ))
            })
            .await
    }

    /// `weekly_volume` of `user`'s workouts in `range`.
    pub async fn weekly_volume(
        &self,
        store: &dyn Store,
        user: &User,
        range: DateRange,
    ) -> StoreResult<Arc<Vec<WeekVolume>>> {
        self.volume
            .get_or_compute(
                store,
                user.id,
                (user.id, range.from(), range.to()),
                |head| async move {
                    // The history this instance keeps, if it does; else the range
                    // alone, past the cache, rather than years to count one.
                    let workouts = match self.histories.kept_at(store, user, head).await {
                        Some(history) => history,
                        None => Arc::new(
                            all_entries(store.primary().workout_entries(), user.id, range).await?,
                        ),
                    };
                    let named: Vec<&ExerciseId> = exercises_in(
                        workouts
                            .iter()
                            .filter(|workout| range.contains(workout.local_date)),
                    )
                    .collect();
                    let book = ExerciseBook::of(store, named).await?;
                    Ok((
                        weekly_volume(&workouts, &book, range),
                        book.custom_versions(),
                    ))
                },
            )
            .await
    }
}

/// The exercises the sets of `workouts` name, each once or more.
pub fn exercises_in<'a>(
    workouts: impl IntoIterator<Item = &'a Entry<WorkoutData>>,
) -> impl Iterator<Item = &'a ExerciseId> {
    workouts
        .into_iter()
        .flat_map(|workout| &workout.data.sets)
        .map(|set| &set.exercise_id)
}

/// An answer, the head it was computed at, and the custom exercises it was made
/// with (an administrator's edit of one changes the answer, not the head).
type Kept<V> = (i64, Arc<V>, CustomVersions);

/// An answer as the store keeps it (`store::kept_answers`): with what it was
/// made at and what it was asked, so a reader checks it as it checks its own.
/// Written from references, read into owned values, as MessagePack: JSON would
/// not give back every `f64` bit for bit, and a taken answer must be the one
/// computed.
#[derive(Serialize, Deserialize)]
struct Stamped<R, E, K, V> {
    /// The build that made it: another one may compute answers otherwise.
    build: R,
    head: i64,
    exercises: E,
    asked: K,
    answer: V,
}

/// The build whose answers this one takes: one of the same sources (`build.rs`
/// fingerprints them; the package version does not move with every change).
const BUILD: &str = env!("BALANCELIFE_SOURCE_ID");

struct Memo<K, V> {
    /// The kind its answers are kept under in the store.
    kind: &'static str,
    kept: moka::sync::Cache<K, Kept<V>>,
}

impl<K, V> Memo<K, V>
where
    K: Hash + Eq + Serialize + DeserializeOwned + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn new(kind: &'static str) -> Self {
        Self {
            kind,
            kept: moka::sync::Cache::builder()
                .max_capacity(MEMO_CAPACITY)
                .time_to_live(MEMO_LIFE)
                .build(),
        }
    }

    /// The answer kept under `key` at user `user_id`'s current feed head, made
    /// with the custom exercises as they are now: this instance's, else the
    /// store's, else `compute`'s, kept in both if the head is settled (no write
    /// under way).
    async fn get_or_compute(
        &self,
        store: &dyn Store,
        user_id: Uuid,
        key: K,
        compute: impl AsyncFnOnce(FeedHead) -> StoreResult<(V, CustomVersions)>,
    ) -> StoreResult<Arc<V>> {
        // Read before the data: an answer's data is at least as new as the number
        // it is kept at, so a reader at a later head never takes it. An answer
        // keeps the versions of the custom exercises it was made with, so an
        // edit of one made since is seen however the reads interleave.
        let head = store.sync_feed().head(user_id).await?;
        if head.settled {
            if let Some((seq, answer, exercises)) = self.kept.get(&key)
                && seq == head.seq
                && ExerciseBook::still_current(store, &exercises).await?
            {
                return Ok(answer);
            }
            if let Some((answer, exercises)) = self.stored(store, user_id, &key, head.seq).await
                && ExerciseBook::still_current(store, &exercises).await?
            {
                let answer = Arc::new(answer);
                self.kept.insert(key, (head.seq, answer.clone(), exercises));
                return Ok(answer);
            }
        }
        let (answer, exercises) = compute(head).await?;
        let answer = Arc::new(answer);
        if head.settled {
            self.store(store, user_id, &key, head.seq, &answer, &exercises)
                .await;
            self.kept.insert(key, (head.seq, answer.clone(), exercises));
        }
        Ok(answer)
    }

    /// The store's answer to `key` made at `head` by this build, if it has one.
    /// The store is a shortcut, never a cause of failure: an error, a slow store
    /// or an answer this build did not make is a miss.
    async fn stored(
        &self,
        store: &dyn Store,
        user_id: Uuid,
        key: &K,
        head: i64,
    ) -> Option<(V, CustomVersions)> {
        let read = store.kept_answers().get(user_id, self.kind);
        let bytes = match tokio::time::timeout(KEPT_ANSWER_DEADLINE, read).await {
            Ok(Ok(bytes)) => bytes?,
            Ok(Err(error)) => {
                tracing::debug!(%error, kind = self.kind, "kept answer unreadable; computing");
                return None;
            }
            Err(_) => {
                tracing::debug!(kind = self.kind, "kept answer too slow; computing");
                return None;
            }
        };
        let stamped: Stamped<String, CustomVersions, K, V> = rmp_serde::from_slice(&bytes).ok()?;
        (stamped.build == BUILD && stamped.head == head && stamped.asked == *key)
            .then_some((stamped.answer, stamped.exercises))
    }

    /// Keeps `answer` in the store for every instance; a failure costs only a
    /// computation later, so it is logged, not returned. A user deleted while
    /// the answer was made has their answers forgotten again.
    async fn store(
        &self,
        store: &dyn Store,
        user_id: Uuid,
        key: &K,
        head: i64,
        answer: &V,
        exercises: &CustomVersions,
    ) {
        let stamped = Stamped {
            build: BUILD,
            head,
            exercises,
            asked: key,
            answer,
        };
        let bytes = match rmp_serde::to_vec_named(&stamped) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%error, kind = self.kind, "an answer could not be encoded to keep");
                return;
            }
        };
        let kept = async {
            store.kept_answers().put(user_id, self.kind, bytes).await?;
            if let Err(StoreError::NotFound) = store.get_user_stored(user_id).await {
                store.kept_answers().forget(user_id).await?;
            }
            StoreResult::Ok(())
        };
        match tokio::time::timeout(KEPT_ANSWER_DEADLINE, kept).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::debug!(%error, kind = self.kind, "an answer could not be kept")
            }
            Err(_) => tracing::debug!(kind = self.kind, "keeping an answer took too long"),
        }
    }
}

/// One set as the progress of an exercise shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SetFigures {
    #[schema(required = true)]
    pub reps: Option<u16>,
    #[schema(required = true)]
    pub weight_kg: Option<f64>,
    #[schema(required = true)]
    pub rpe: Option<f64>,
    #[schema(required = true)]
    pub duration_s: Option<u32>,
    #[schema(required = true)]
    pub distance_km: Option<f64>,
    pub warm_up: bool,
}

impl From<&LoggedSet> for SetFigures {
    fn from(set: &LoggedSet) -> Self {
        Self {
            reps: set.reps.map(|r| r.get()),
            weight_kg: set.weight_kg.map(f64::from),
            rpe: set.rpe.map(f64::from),
            duration_s: set.duration_s.map(|d| d.get()),
            distance_km: set.distance_km.map(f64::from),
            warm_up: set.warm_up,
        }
    }
}

/// The last session of an exercise: its done sets, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LastSession {
    pub date: NaiveDate,
    pub entry_id: Uuid,
    pub sets: Vec<SetFigures>,
}

/// A record: `weight_kg` lifted for `reps` (or more), first on `date`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordLift {
    pub reps: u32,
    pub weight_kg: f64,
    pub date: NaiveDate,
}

/// The best estimated one-repetition maximum (Epley) and the lift that gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BestEstimate {
    pub one_rep_max_kg: f64,
    pub from: RecordLift,
}

/// Which rule of double progression a next step follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgressionRule {
    /// Every working set reached the top of the range: more weight.
    AddWeight,
    /// The same weight, one more repetition on the sets that fell short.
    AddReps,
}

/// What double progression suggests for the next session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NextStep {
    /// `add_weight`: every working set reached the top of the range; `add_reps`:
    /// the same weight, one more repetition on the sets that fell short.
    pub rule: ProgressionRule,
    pub weight_kg: f64,
    /// The repetitions to aim for on every set.
    pub reps: u32,
}

/// One exercise's progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExerciseProgress {
    pub exercise_id: ExerciseId,
    pub name: String,
    /// Sessions (workouts) with a done set of it.
    pub sessions: usize,
    pub last: LastSession,
    /// For each repetition count lifted with a load, the heaviest load lifted for
    /// at least that many; fewest repetitions first.
    pub records: Vec<RecordLift>,
    #[schema(required = true)]
    pub best_estimate: Option<BestEstimate>,
    /// `null` when the last session lifted no load.
    #[schema(required = true)]
    pub next: Option<NextStep>,
}

/// The progress of every exercise in `workouts` (in list order), by name as
/// `book` names it, for the repetition range `low..=high`.
pub fn progress(
    workouts: &[Entry<WorkoutData>],
    book: &ExerciseBook,
    low: u32,
    high: u32,
) -> Vec<ExerciseProgress> {
    struct Seen<'a> {
        lifts: Vec<Lift>,
        sessions: usize,
        last: Option<(&'a Entry<WorkoutData>, Vec<&'a LoggedSet>)>,
        /// The working sets with a load of the last session that had any: a
        /// session of warm-ups alone, or of failed attempts, does not progress.
        last_working: Vec<WorkingSet>,
    }
    let mut seen: BTreeMap<&ExerciseId, Seen> = BTreeMap::new();
    for workout in workouts {
        let mut of_this: BTreeMap<&ExerciseId, Vec<&LoggedSet>> = BTreeMap::new();
        for set in workout.data.sets.iter().filter(|set| set.done) {
            of_this.entry(&set.exercise_id).or_default().push(set);
        }
        for (exercise, sets) in of_this {
            let entry = seen.entry(exercise).or_insert_with(|| Seen {
                lifts: Vec::new(),
                sessions: 0,
                last: None,
                last_working: Vec::new(),
            });
            entry.sessions += 1;
            entry
                .lifts
                .extend(sets.iter().filter_map(|set| lift(workout.local_date, set)));
            let working: Vec<WorkingSet> = sets
                .iter()
                .filter(|set| set.is_working())
                .filter_map(|set| lift(workout.local_date, set))
                .map(|lift| WorkingSet {
                    reps: lift.reps,
                    weight_kg: lift.weight_kg,
                })
                .collect();
            if !working.is_empty() {
                entry.last_working = working;
            }
            // Listed oldest first, so the last one seen is the last session.
            entry.last = Some((workout, sets));
        }
    }
    let mut all: Vec<ExerciseProgress> =
        seen.into_iter()
            .filter_map(|(exercise_id, seen)| {
                let (workout, sets) = seen.last?;
                let records = strength::personal_records(&seen.lifts);
                let record = |lift: &Lift| RecordLift {
                    reps: lift.reps,
                    weight_kg: lift.weight_kg,
                    date: lift.date,
                };
                let working = &seen.last_working;
                let next = strength::next_session(working, low, high, strength::DEFAULT_STEP_KG)
                    .map(|next| match next {
                        NextSession::AddWeight { weight_kg, reps } => NextStep {
                            rule: ProgressionRule::AddWeight,
                            weight_kg,
                            reps,
                        },
                        NextSession::AddReps { weight_kg } => NextStep {
                            rule: ProgressionRule::AddReps,
                            weight_kg,
                            reps: working
                                .iter()
                                .filter(|set| set.weight_kg == weight_kg)
                                .map(|set| set.reps)
                                .min()
                                .map_or(low, |fewest| (fewest + 1).clamp(low, high)),
                        },
                    });
                Some(ExerciseProgress {
                    name: book
                        .get(exercise_id)
                        .map_or_else(|| exercise_id.to_string(), |e| e.name.clone()),
                    exercise_id: exercise_id.clone(),
                    sessions: seen.sessions,
                    last: LastSession {
                        date: workout.local_date,
                        entry_id: workout.id,
                        sets: sets.iter().map(|&set| SetFigures::from(set)).collect(),
                    },
                    records: records
                        .by_reps
                        .iter()
                        .map(|(&reps, lift)| RecordLift {
                            reps,
                            ..record(lift)
                        })
                        .collect(),
                    best_estimate: records.best_estimate.map(|(one_rep_max_kg, lift)| {
                        BestEstimate {
                            one_rep_max_kg: round_to_tenth(one_rep_max_kg),
                            from: record(&lift),
                        }
                    }),
                    next,
                })
            })
            .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

/// The load double progression suggests for the next session of `exercise_id`
/// aiming at `reps` repetitions a set, if the user has lifted it with a load.
pub fn suggested_load(
    workouts: &[Entry<WorkoutData>],
    exercise_id: &ExerciseId,
    reps: u32,
) -> Option<f64> {
    // Only the numbers are asked for, not the names the book would give.
    progress(workouts, &ExerciseBook::default(), reps, reps)
        .into_iter()
        .find(|progress| &progress.exercise_id == exercise_id)?
        .next
        .map(|next| next.weight_kg)
}

/// A done set with repetitions and a load, as a lift on `date`.
fn lift(date: NaiveDate, set: &LoggedSet) -> Option<Lift> {
    let reps = u32::from(set.reps?.get());
    let weight_kg = f64::from(set.weight_kg?);
    (reps > 0 && weight_kg > 0.0).then_some(Lift {
        date,
        reps,
        weight_kg,
    })
}

fn round_to_tenth(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The Monday of `day`'s week (or the calendar's first day, before which there
/// is none).
pub fn monday(day: NaiveDate) -> NaiveDate {
    day.checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
        .unwrap_or(day)
}

/// A muscle group's work in one week.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MuscleVolume {
    /// Working sets: 1 for a primary muscle, ½ for a secondary one.
    pub sets: f64,
    /// Repetitions of the sets where it is primary.
    pub reps: u64,
    /// Repetitions × load (kg) of the sets where it is primary.
    pub tonnage_kg: f64,
}

/// One week's volume, from its Monday.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WeekVolume {
    pub week_of: NaiveDate,
    /// Only the muscles trained that week.
    #[schema(value_type = BTreeMap<Muscle, MuscleVolume>)]
    pub muscles: BTreeMap<Muscle, MuscleVolume>,
}

/// The weekly volume per muscle group of `workouts`, as the module says: one row
/// for each week from `range`'s first day's Monday to its last day's, quiet weeks
/// included.
pub fn weekly_volume(
    workouts: &[Entry<WorkoutData>],
    book: &ExerciseBook,
    range: DateRange,
) -> Vec<WeekVolume> {
    let mut weeks: BTreeMap<NaiveDate, BTreeMap<Muscle, MuscleVolume>> = BTreeMap::new();
    let mut week = Some(monday(range.from()));
    while let Some(day) = week.filter(|day| *day <= range.to()) {
        weeks.insert(day, BTreeMap::new());
        week = day.checked_add_days(Days::new(7));
    }
    for workout in workouts.iter().filter(|w| range.contains(w.local_date)) {
        let muscles = weeks.entry(monday(workout.local_date)).or_default();
        // A failed attempt (no repetition) is no work either.
        let work = workout.data.sets.iter().filter(|set| set.is_working());
        for set in work.filter(|set| set.reps.is_none_or(|reps| reps.get() > 0)) {
            let Some(exercise) = book.get(&set.exercise_id) else {
                continue;
            };
            let reps = set.reps.map_or(0, |r| u64::from(r.get()));
            let load = set.weight_kg.map_or(0.0, f64::from);
            for muscle in &exercise.primary_muscles {
                let volume = muscles.entry(*muscle).or_default();
                volume.sets += 1.0;
                volume.reps += reps;
                volume.tonnage_kg += reps as f64 * load;
            }
            for muscle in &exercise.secondary_muscles {
                muscles.entry(*muscle).or_default().sets += 0.5;
            }
        }
    }
    weeks
        .into_iter()
        .map(|(week_of, muscles)| WeekVolume { week_of, muscles })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::{Activity, DurationSecs, Kcal, LoadKg, Reps};

    fn set(exercise: &str, reps: i64, weight_kg: Option<f64>) -> LoggedSet {
        LoggedSet {
            exercise_id: exercise.parse().unwrap(),
            reps: Some(Reps::try_from(reps).unwrap()),
            weight_kg: weight_kg.map(|w| LoadKg::try_from(w).unwrap()),
            rpe: None,
            duration_s: None,
            distance_km: None,
            warm_up: false,
            done: true,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn workout(d: u32, sets: Vec<LoggedSet>) -> Entry<WorkoutData> {
        let at = Utc.with_ymd_and_hms(2026, 3, d, 7, 0, 0).unwrap();
        Entry {
            id: Uuid::from_u128(u128::from(d)),
            user_id: Uuid::nil(),
            local_date: day(d),
            data: WorkoutData {
                started_at: at,
                activity: Activity::Strength,
                title: "Lifting".try_into().unwrap(),
                duration_s: DurationSecs::try_from(3600).unwrap(),
                kcal_burned: Kcal::ZERO,
                effort: None,
                distance_km: None,
                avg_heart_rate: None,
                package: None,
                notes: None,
                sets,
                kcal_estimated: false,
            },
            created_at: at,
            updated_at: at,
        }
    }

    /// The module's worked example, with a warm-up and a planned set that count
    /// for nothing, and a set of the week before.
    #[test]
    fn volume_counts_primary_muscles_fully_and_secondary_ones_half() {
        const BENCH: &str = "barbell-bench-press-medium-grip";
        let warm_up = LoggedSet {
            warm_up: true,
            ..set(BENCH, 10, Some(40.0))
        };
        let planned = LoggedSet {
            done: false,
            ..set(BENCH, 8, Some(62.5))
        };
        let workouts = [
            workout(1, vec![set(BENCH, 5, Some(50.0))]), // a Sunday
            workout(
                2,
                vec![
                    warm_up,
                    set(BENCH, 8, Some(60.0)),
                    set(BENCH, 8, Some(60.0)),
                ],
            ),
            workout(
                5,
                vec![set(BENCH, 8, Some(60.0)), set("pushups", 10, None), planned],
            ),
            workout(6, vec![set("pushups", 10, None)]),
        ];
        let range = DateRange::new(day(2), day(8)).unwrap();
        let weeks = weekly_volume(&workouts, &ExerciseBook::default(), range);
        assert_eq!(weeks.len(), 1, "{weeks:?}");
        assert_eq!(weeks[0].week_of, day(2));
        let muscles = &weeks[0].muscles;
        let chest = &muscles[&Muscle::Chest];
        assert_eq!(
            (chest.sets, chest.reps, chest.tonnage_kg),
            (5.0, 44, 1_440.0)
        );
        assert_eq!(muscles[&Muscle::Shoulders].sets, 2.5);
        assert_eq!(muscles[&Muscle::Triceps].sets, 2.5);
        assert_eq!(muscles[&Muscle::Triceps].tonnage_kg, 0.0);
        assert_eq!(muscles.len(), 3);
        // Quiet weeks are rows too.
        let two = weekly_volume(
            &[],
            &ExerciseBook::default(),
            DateRange::new(day(1), day(9)).unwrap(),
        );
        let mondays: Vec<NaiveDate> = two.iter().map(|w| w.week_of).collect();
        assert_eq!(
            mondays,
            [
                NaiveDate::from_ymd_opt(2026, 2, 23).unwrap(),
                day(2),
                day(9)
            ]
        );
    }

    /// A second instance (a fresh memo) takes the answer the first kept in the
    /// store, at the same head only, and from the same build only. The kept
    /// answer is altered so that taking it shows.
    #[tokio::test]
    async fn an_answer_kept_in_the_store_is_taken_by_another_instance_until_the_head_moves() {
        const SQUAT: &str = "barbell-squat";
        let store = crate::store::memory::MemoryStore::new();
        let now = Utc.with_ymd_and_hms(2026, 3, 20, 12, 0, 0).unwrap();
        let user = crate::sample::demo_users(now).remove(0);
        store.create_user(user.clone()).await.unwrap();
        let mine = |d, sets| Entry {
            user_id: user.id,
            ..workout(d, sets)
        };
        let workouts = store.workout_entries();
        workouts
            .create(mine(2, vec![set(SQUAT, 5, Some(100.0))]))
            .await
            .unwrap();
        let first = TrainingMemo::default();
        let computed = first.progress(&store, &user, 8, 12).await.unwrap();
        assert_eq!(computed[0].sessions, 1);

        let kept = store.kept_answers();
        let alter = |build: &str| {
            let build = build.to_owned();
            async move {
                let bytes = kept.get(user.id, "training-progress").await.unwrap();
                let mut stamped: Stamped<
                    String,
                    CustomVersions,
                    (Uuid, u32, u32),
                    Vec<ExerciseProgress>,
                > = rmp_serde::from_slice(&bytes.unwrap()).unwrap();
                stamped.answer[0].sessions = 99;
                stamped.build = build;
                let bytes = rmp_serde::to_vec_named(&stamped).unwrap();
                kept.put(user.id, "training-progress", bytes).await.unwrap();
            }
        };
        alter(BUILD).await;
        let second = TrainingMemo::default();
        let taken = second.progress(&store, &user, 8, 12).await.unwrap();
        assert_eq!(taken[0].sessions, 99, "taken from the store");
        let other_range = TrainingMemo::default()
            .progress(&store, &user, 5, 5)
            .await
            .unwrap();
        assert_eq!(other_range[0].sessions, 1, "asked otherwise: computed");
        let again = TrainingMemo::default();
        let kept_again = again.progress(&store, &user, 8, 12).await.unwrap();
        assert_eq!(
            kept_again[0].sessions, 1,
            "kept in place of the other range's"
        );

        alter("another build").await;
        let third = TrainingMemo::default();
        let recomputed = third.progress(&store, &user, 8, 12).await.unwrap();
        assert_eq!(recomputed[0].sessions, 1, "another build's: computed");

        alter(BUILD).await;
        workouts
            .create(mine(9, vec![set(SQUAT, 5, Some(102.5))]))
            .await
            .unwrap();
        let after_write = TrainingMemo::default()
            .progress(&store, &user, 8, 12)
            .await
            .unwrap();
        assert_eq!(after_write[0].sessions, 2, "the head moved: computed");
        assert_eq!(
            second.progress(&store, &user, 8, 12).await.unwrap()[0].sessions,
            2,
            "the instance that took it sees the write too"
        );

        // A user deleted while an answer was made: it is not left behind.
        store.delete_user(user.id).await.unwrap();
        TrainingMemo::default()
            .progress(&store, &user, 8, 12)
            .await
            .unwrap();
        let left = kept.get(user.id, "training-progress").await.unwrap();
        assert_eq!(left, None, "forgotten with its user");
    }

    #[test]
    fn progress_gives_records_the_last_session_and_the_next_step() {
        const SQUAT: &str = "barbell-squat";
        let workouts = [
            workout(
                2,
                vec![set(SQUAT, 5, Some(100.0)), set(SQUAT, 3, Some(95.0))],
            ),
            workout(
                9,
                vec![
                    LoggedSet {
                        warm_up: true,
                        ..set(SQUAT, 10, Some(60.0))
                    },
                    set(SQUAT, 12, Some(80.0)),
                    set(SQUAT, 12, Some(80.0)),
                    // A failed attempt: no record, no progression.
                    set(SQUAT, 0, Some(120.0)),
                    set("plank", 1, None),
                ],
            ),
        ];
        let all = progress(&workouts, &ExerciseBook::default(), 8, 12);
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Barbell Squat", "Plank"]);
        let squat = &all[0];
        assert_eq!(squat.sessions, 2);
        assert_eq!(squat.last.date, day(9));
        assert_eq!(
            squat.last.sets.len(),
            4,
            "the warm-up and the miss included, as done"
        );
        let records: Vec<(u32, f64)> = squat
            .records
            .iter()
            .map(|r| (r.reps, r.weight_kg))
            .collect();
        assert_eq!(
            records,
            [(3, 100.0), (5, 100.0), (10, 80.0), (12, 80.0)],
            "the warm-up's 10 at 60 kg is beaten by 12 at 80"
        );
        // 100 × (1 + 5/30) = 116.7 beats 80 × 1.4 = 112.
        let best = squat.best_estimate.as_ref().unwrap();
        assert_eq!((best.one_rep_max_kg, best.from.reps), (116.7, 5));
        assert_eq!(
            squat.next,
            Some(NextStep {
                rule: ProgressionRule::AddWeight,
                weight_kg: 82.5,
                reps: 8
            })
        );
        // A bodyweight exercise has records of none and no next weight.
        assert!(all[1].records.is_empty() && all[1].next.is_none());
        let short = progress(&workouts[..1], &ExerciseBook::default(), 8, 12);
        assert_eq!(
            short[0].next,
            Some(NextStep {
                rule: ProgressionRule::AddReps,
                weight_kg: 100.0,
                reps: 8
            }),
            "5 reps short of the range: aim for its bottom"
        );
    }
}
