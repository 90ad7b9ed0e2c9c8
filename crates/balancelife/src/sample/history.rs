//! The demo accounts' history: what each logs on its last three local days, partly
//! its own meals and workouts from `demo.toml`, partly following a package from the
//! catalogue, and the fixed ids that let a load on a later day add only the new day.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use super::demo::{PERSONAS, PackageWorkout};
use super::{
    NS_MEAL_ENTRY, NS_WORKOUT_ENTRY, demo_users, fixed_id, meal_packages, workout_packages,
};
use crate::domain::{
    DurationSecs, Entry, EntryData, MOST_SETS, MealData, MealEntry, MealPackage, MealSlot, Package,
    PackageRef, Slug, Timezone, User, WorkoutData, WorkoutEntry, WorkoutPackage,
};

/// Three to four meals a day for each demo user over their last three local days,
/// today included. Every third day follows a meal package.
pub fn demo_meal_entries(now: DateTime<Utc>) -> Vec<MealEntry> {
    let packages = meal_packages();
    let mut entries = Vec::new();
    let users = demo_users(now);
    for ((user, persona), namespace) in users.iter().zip(PERSONAS.iter()).zip(NS_MEAL_ENTRY..) {
        for date in recent_days(user.timezone, now) {
            let day = DemoDay::of(date);
            let meals: Vec<MealData> = match day.rotation() {
                0 => {
                    let package = by_slug(&packages, &persona.meal_package);
                    package_day_meals(package, day, user.timezone, date)
                }
                own => persona.own_days[own - 1]
                    .meals
                    .iter()
                    .map(|meal| meal.data(user.timezone, date))
                    .collect(),
            };
            for data in meals {
                let id = fixed_id(namespace, day.id_number(slot_index(data.slot)));
                entries.push(entry(id, user, data, now));
            }
        }
    }
    entries
}

/// One workout on two of each demo user's last three local days; one of the two
/// follows a workout package.
pub fn demo_workout_entries(now: DateTime<Utc>) -> Vec<WorkoutEntry> {
    let packages = workout_packages();
    let mut entries = Vec::new();
    let users = demo_users(now);
    for ((user, persona), namespace) in users.iter().zip(PERSONAS.iter()).zip(NS_WORKOUT_ENTRY..) {
        for date in recent_days(user.timezone, now) {
            let day = DemoDay::of(date);
            let data = match day.rotation() {
                0 => {
                    let plan = &persona.package_workout;
                    let package = by_slug(&packages, &plan.slug);
                    package_session(plan, package, day, user.timezone, date)
                }
                1 => persona.own_workout.data(user.timezone, date),
                _ => continue, // a rest day
            };
            let id = fixed_id(namespace, day.id_number(0));
            entries.push(entry(id, user, data, now));
        }
    }
    entries
}

/// Successive package days walk through the programme's sessions in order.
fn package_session(
    plan: &PackageWorkout,
    package: &WorkoutPackage,
    day: DemoDay,
    timezone: Timezone,
    date: NaiveDate,
) -> WorkoutData {
    let session = &package.sessions[day.pick(package.sessions.len())];
    WorkoutData {
        started_at: timezone.instant(date, plan.at),
        activity: plan.activity,
        title: session.title.clone(),
        duration_s: DurationSecs::try_from(i64::from(package.minutes_per_session) * 60)
            .expect("a package session is no longer than a workout may be"),
        kcal_burned: package.kcal_per_session,
        effort: Some(plan.effort),
        distance_km: None,
        avg_heart_rate: None,
        package: Some(PackageRef {
            package_id: package.id,
            package_version: package.version,
        }),
        notes: None,
        // Done as prescribed, without a load (the sample knows none): the demo
        // accounts' training page shows their sessions and volume.
        sets: session
            .exercises
            .iter()
            .flat_map(|exercise| exercise.prescribed_sets(None, true))
            .take(MOST_SETS)
            .collect(),
        kcal_estimated: false,
    }
}

/// One day of a meal package logged as eaten, each item at the usual time of its
/// slot. Successive package days walk through the package's days in order.
fn package_day_meals(
    package: &MealPackage,
    day: DemoDay,
    timezone: Timezone,
    date: NaiveDate,
) -> Vec<MealData> {
    let package_day = day.pick(package.duration_days.into()) + 1;
    let reference = PackageRef {
        package_id: package.id,
        package_version: package.version,
    };
    package
        .items
        .iter()
        .filter(|item| usize::from(item.day) == package_day)
        .map(|item| {
            let time = match item.slot {
                MealSlot::Breakfast => at(7, 30),
                MealSlot::Lunch => at(12, 30),
                MealSlot::Snack => at(16, 0),
                MealSlot::Dinner => at(19, 0),
            };
            item.logged_at(timezone.instant(date, time), reference)
        })
        .collect()
}

fn entry<D: EntryData>(id: Uuid, user: &User, data: D, now: DateTime<Utc>) -> Entry<D> {
    Entry {
        id,
        user_id: user.id,
        local_date: user.timezone.local_date(data.occurred_at()),
        data,
        created_at: now,
        updated_at: now,
    }
}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// A user's calendar day counted from 2026-01-01. What a demo day holds, and the ids
/// of its entries, depend only on it: a run on a later day writes the same entries
/// for the days an earlier run already covered and adds only the new day.
#[derive(Debug, Clone, Copy)]
struct DemoDay(i64);

impl DemoDay {
    const ZERO: NaiveDate = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a valid date");
    /// Four slots a day fit in `u16` for this many days (about 44 years) before ids
    /// repeat.
    const ID_DAYS: i64 = 1 << 14;

    fn of(date: NaiveDate) -> Self {
        Self((date - Self::ZERO).num_days())
    }

    /// 0 for a package day, 1 or 2 for the user's own menus; any three consecutive
    /// days see each once.
    fn rotation(self) -> usize {
        self.0.rem_euclid(3) as usize
    }

    /// Steps through `len` things (package days, sessions) one per package day.
    fn pick(self, len: usize) -> usize {
        self.0.div_euclid(3).rem_euclid(len.max(1) as i64) as usize
    }

    fn id_number(self, slot: u16) -> u16 {
        let day = u16::try_from(self.0.rem_euclid(Self::ID_DAYS)).expect("reduced below 2^14");
        day * 4 + slot
    }
}

fn slot_index(slot: MealSlot) -> u16 {
    match slot {
        MealSlot::Breakfast => 0,
        MealSlot::Lunch => 1,
        MealSlot::Dinner => 2,
        MealSlot::Snack => 3,
    }
}

/// The day before yesterday, yesterday and today on the user's wall calendar.
fn recent_days(timezone: Timezone, now: DateTime<Utc>) -> [NaiveDate; 3] {
    let today = timezone.local_date(now);
    [today - Days::new(2), today - Days::new(1), today]
}

const fn at(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).expect("a valid wall-clock time")
}

fn by_slug<'a, P: Package>(packages: &'a [P], slug: &Slug) -> &'a P {
    packages
        .iter()
        .find(|package| package.slug() == slug)
        .unwrap_or_else(|| panic!("sample/demo.toml names the unknown package {slug}"))
}

// ---------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::DEMO_ACCOUNTS;
    use super::super::tests::within_ten_percent;
    use super::*;
    use crate::domain::EntrySource;

    /// Instants that stress the local-day logic: both DST switches in each zone and
    /// moments when Berlin and New York are on different calendar days.
    fn sample_instants() -> Vec<DateTime<Utc>> {
        [
            "2026-03-08T04:30:00Z",
            "2026-03-29T00:30:00Z",
            "2026-06-15T12:00:00Z",
            "2026-06-15T23:30:00Z",
            "2026-10-25T01:30:00Z",
            "2026-11-01T05:30:00Z",
            "2027-01-01T00:15:00Z",
        ]
        .into_iter()
        .map(|text| text.parse().unwrap())
        .collect()
    }

    #[test]
    fn logged_meal_energy_agrees_with_macronutrients() {
        for entry in demo_meal_entries(Utc::now()) {
            let n = &entry.data.nutrition;
            assert!(
                within_ten_percent(
                    n.kcal.get(),
                    n.protein_g.unwrap().get(),
                    n.carbs_g.unwrap().get(),
                    n.fat_g.unwrap().get()
                ),
                "{}",
                entry.data.name
            );
        }
    }

    #[test]
    fn demo_entries_fall_on_the_users_last_three_local_days() {
        for now in sample_instants() {
            let users = demo_users(now);
            let meals = demo_meal_entries(now);
            let workouts = demo_workout_entries(now);
            for user in &users {
                let days: BTreeSet<NaiveDate> = recent_days(user.timezone, now).into();
                assert_eq!(days.last(), Some(&user.timezone.local_date(now)));

                let own_meals: Vec<_> = meals.iter().filter(|e| e.user_id == user.id).collect();
                let own_workouts: Vec<_> =
                    workouts.iter().filter(|e| e.user_id == user.id).collect();
                for entry in &own_meals {
                    assert_eq!(
                        entry.local_date,
                        user.timezone.local_date(entry.data.eaten_at)
                    );
                    assert_eq!((entry.created_at, entry.updated_at), (now, now));
                }
                for entry in &own_workouts {
                    assert_eq!(
                        entry.local_date,
                        user.timezone.local_date(entry.data.started_at)
                    );
                }

                let mut package_days = 0;
                for day in &days {
                    let of_day: Vec<_> =
                        own_meals.iter().filter(|e| e.local_date == *day).collect();
                    assert!(
                        (3..=4).contains(&of_day.len()),
                        "{now}: {} meals on {day}",
                        of_day.len()
                    );
                    let from_package = of_day
                        .iter()
                        .filter(|e| e.data.source == EntrySource::Package);
                    let from_package = from_package.count();
                    assert!(from_package == 0 || from_package == of_day.len());
                    if from_package > 0 {
                        package_days += 1;
                    }
                }
                assert_eq!(package_days, 1, "{now}");

                let workout_days: BTreeSet<_> = own_workouts.iter().map(|e| e.local_date).collect();
                assert_eq!(own_workouts.len(), 2, "{now}");
                assert_eq!(workout_days.len(), 2, "{now}");
                assert!(workout_days.is_subset(&days));
            }
        }
    }

    #[test]
    fn package_entries_point_at_real_packages() {
        let meals = meal_packages();
        let workouts = workout_packages();
        let now = Utc::now();
        for entry in demo_meal_entries(now) {
            match entry.data.source {
                EntrySource::Manual => assert!(entry.data.package.is_none()),
                EntrySource::Food => panic!("the demo history logs no meal from a food"),
                EntrySource::Package => {
                    let reference = entry.data.package.unwrap();
                    let package = meals.iter().find(|p| p.id == reference.package_id).unwrap();
                    assert_eq!(reference.package_version, package.version);
                    assert!(
                        package
                            .items
                            .iter()
                            .any(|item| item.name == entry.data.name)
                    );
                }
            }
        }
        let from_packages = demo_workout_entries(now)
            .into_iter()
            .filter_map(|entry| entry.data.package)
            .inspect(|reference| assert!(workouts.iter().any(|p| p.id == reference.package_id)))
            .count();
        assert_eq!(from_packages, DEMO_ACCOUNTS.len());
    }
}
