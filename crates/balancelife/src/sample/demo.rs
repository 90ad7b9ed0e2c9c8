//! The demo accounts: their credentials and users, and the last three local days of
//! meal and workout entries each of them logs, partly their own, partly following
//! a package from the catalogue.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use super::{
    Macros, NS_MEAL_ENTRY, NS_USER, NS_WORKOUT_ENTRY, fixed_id, macros, meal_packages, parsed,
    valid, workout_packages,
};
use crate::domain::{
    Activity, ActivityLevel, Entry, EntryData, EntrySource, Goal, MealData, MealEntry, MealPackage,
    MealSlot, Nutrition, Package, PackageRef, PasswordHash, Profile, Role, Sex, Timezone, Unit,
    User, WorkoutData, WorkoutEntry, WorkoutPackage,
};

// ---------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------

/// Credentials of a demo account, published so the README and the login screen can
/// offer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoAccount {
    pub email: &'static str,
    pub password: &'static str,
    pub role: Role,
}

pub const DEMO_ACCOUNTS: [DemoAccount; 2] = [
    DemoAccount {
        email: "ada@balancelife.example",
        password: "demo-password-ada",
        role: Role::User,
    },
    DemoAccount {
        email: "coach@balancelife.example",
        password: "demo-password-coach",
        role: Role::Admin,
    },
];

/// The demo accounts, in the order of `DEMO_ACCOUNTS`.
pub fn demo_users(now: DateTime<Utc>) -> Vec<User> {
    let ada = Profile {
        birth_date: Some(valid(date(1991, 4, 12))),
        sex: Some(Sex::Female),
        height_cm: Some(valid(168.0)),
        weight_kg: Some(valid(71.5)),
        activity_level: Some(ActivityLevel::Moderate),
        goal: Some(Goal::Lose),
        daily_kcal_target: Some(valid(1900.0)),
        protein_g_target: Some(valid(120.0)),
        carbs_g_target: Some(valid(205.0)),
        fat_g_target: Some(valid(65.0)),
    };
    let coach = Profile {
        birth_date: Some(valid(date(1986, 9, 3))),
        sex: Some(Sex::Male),
        height_cm: Some(valid(181.0)),
        weight_kg: Some(valid(82.0)),
        activity_level: Some(ActivityLevel::Active),
        goal: Some(Goal::Maintain),
        daily_kcal_target: Some(valid(2400.0)),
        protein_g_target: Some(valid(160.0)),
        carbs_g_target: Some(valid(270.0)),
        fat_g_target: Some(valid(75.0)),
    };
    let people = [
        ("Ada Fischer", "Europe/Berlin", ADA_PASSWORD_HASH, ada),
        ("Sam Rivera", "America/New_York", COACH_PASSWORD_HASH, coach),
    ];
    DEMO_ACCOUNTS
        .iter()
        .zip(people)
        .zip(1..)
        .map(|((account, (name, timezone, hash, profile)), n)| User {
            id: fixed_id(NS_USER, n),
            email: parsed(account.email),
            name: valid(name),
            password_hash: PasswordHash::from_phc(hash.to_owned()),
            role: account.role,
            timezone: parsed(timezone),
            profile,
            created_at: now,
            updated_at: now,
        })
        .collect()
}

/// Three to four meals a day for each demo user over their last three local days,
/// today included. Every third day follows a meal package.
pub fn demo_meal_entries(now: DateTime<Utc>) -> Vec<MealEntry> {
    let packages = meal_packages();
    let mut entries = Vec::new();
    let users = demo_users(now);
    for ((user, log), namespace) in users.iter().zip(&DEMO_LOGS).zip(NS_MEAL_ENTRY..) {
        for date in recent_days(user.timezone, now) {
            let day = DemoDay::of(date);
            let meals: Vec<MealData> = match day.rotation() {
                0 => {
                    let package = by_slug(&packages, log.meal_package);
                    package_day_meals(package, day, user.timezone, date)
                }
                own => log.own_days[own - 1]
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
    for ((user, log), namespace) in users.iter().zip(&DEMO_LOGS).zip(NS_WORKOUT_ENTRY..) {
        for date in recent_days(user.timezone, now) {
            let day = DemoDay::of(date);
            let data = match day.rotation() {
                0 => {
                    let plan = &log.package_workout;
                    let package = by_slug(&packages, plan.slug);
                    plan.data(package, day, user.timezone, date)
                }
                1 => log.own_workout.data(user.timezone, date),
                _ => continue, // a rest day
            };
            let id = fixed_id(namespace, day.id_number(0));
            entries.push(entry(id, user, data, now));
        }
    }
    entries
}

// ---------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------

/// Argon2id (m=19456, t=2, p=1) of `demo-password-ada`.
const ADA_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$9vaGUkABjM2gpAQmIjeRHA$0yZFrHyhqZrgU6kJQoUAP57Nm9cVXe4MygWoQDyRCfs";
/// Argon2id (m=19456, t=2, p=1) of `demo-password-coach`.
const COACH_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$dwVrTyEhLAoC1QYaLBYOKA$dwYse/bSrwXHyj4Di1uRpX97YnkQENutB3GnQ5oCy0g";

// The table below is kept out of rustfmt: one meal per line reads as a
// table, while rustfmt would spread every call over eight lines.

/// What each demo user logs, in the order of `DEMO_ACCOUNTS`.
#[rustfmt::skip]
static DEMO_LOGS: [DemoLog; 2] = [
    DemoLog {
        meal_package: "light-and-satisfying",
        package_workout: PackageWorkout {
            slug: "first-steps-full-body",
            at: at(7, 0),
            activity: Activity::Strength,
            effort: 5,
        },
        own_days: [
            &[
                meal(at(7, 15), MealSlot::Breakfast, "Overnight oats with blueberries and chia", 1.0, Unit::Serving, macros(380.0, 16.0, 52.0, 12.0)).fiber(9.0).sugar(14.0).sodium(120.0),
                meal(at(12, 40), MealSlot::Lunch, "Lentil soup with rye bread", 450.0, Unit::G, macros(520.0, 26.0, 72.0, 12.0)).fiber(16.0).sodium(980.0).notes("Canteen at work"),
                meal(at(16, 0), MealSlot::Snack, "Apple with almond butter", 1.0, Unit::Piece, macros(200.0, 5.0, 22.0, 10.0)).fiber(5.0).sugar(16.0),
                meal(at(19, 10), MealSlot::Dinner, "Grilled salmon, new potatoes and green beans", 1.0, Unit::Serving, macros(610.0, 40.0, 45.0, 28.0)).sodium(420.0),
            ],
            &[
                meal(at(7, 30), MealSlot::Breakfast, "Scrambled eggs on wholegrain toast", 1.0, Unit::Serving, macros(390.0, 22.0, 30.0, 19.0)).fiber(4.0).sodium(520.0),
                meal(at(10, 15), MealSlot::Snack, "Cappuccino with oat milk", 250.0, Unit::Ml, macros(110.0, 3.0, 14.0, 4.5)).sugar(8.0),
                meal(at(13, 0), MealSlot::Lunch, "Chicken and quinoa salad bowl", 380.0, Unit::G, macros(540.0, 42.0, 48.0, 18.0)).fiber(8.0),
                meal(at(19, 30), MealSlot::Dinner, "Tofu and vegetable stir-fry with brown rice", 1.0, Unit::Serving, macros(520.0, 24.0, 62.0, 18.0)).fiber(7.0).sodium(890.0).notes("Went easy on the soy sauce"),
            ],
        ],
        own_workout: LoggedWorkout {
            at: at(18, 0),
            activity: Activity::Running,
            title: "Evening run along the Spree",
            minutes: 35,
            kcal: 330.0,
            effort: 6,
            distance_km: Some(5.8),
            avg_heart_rate: Some(154),
            notes: Some("Easy pace, felt good"),
        },
    },
    DemoLog {
        meal_package: "lean-and-strong",
        package_workout: PackageWorkout {
            slug: "barbell-powerbuilding",
            at: at(17, 30),
            activity: Activity::Strength,
            effort: 8,
        },
        own_days: [
            &[
                meal(at(6, 45), MealSlot::Breakfast, "Protein pancakes with banana and maple syrup", 1.0, Unit::Serving, macros(560.0, 38.0, 68.0, 14.0)).sugar(24.0),
                meal(at(12, 15), MealSlot::Lunch, "Turkey and avocado whole-wheat wraps", 2.0, Unit::Piece, macros(680.0, 45.0, 60.0, 28.0)).fiber(10.0).sodium(1350.0),
                meal(at(15, 30), MealSlot::Snack, "Greek yogurt with granola", 200.0, Unit::G, macros(290.0, 20.0, 32.0, 9.0)).sugar(18.0),
                meal(at(19, 45), MealSlot::Dinner, "Sirloin steak, sweet potato and broccoli", 1.0, Unit::Serving, macros(780.0, 55.0, 62.0, 33.0)).fiber(9.0).sodium(640.0),
            ],
            &[
                meal(at(7, 0), MealSlot::Breakfast, "Bagel with cream cheese and smoked salmon", 1.0, Unit::Piece, macros(520.0, 28.0, 58.0, 18.0)).sodium(1100.0),
                meal(at(12, 30), MealSlot::Lunch, "Chicken burrito bowl with black beans and rice", 1.0, Unit::Serving, macros(820.0, 52.0, 95.0, 24.0)).fiber(14.0).sodium(1280.0),
                meal(at(16, 30), MealSlot::Snack, "Protein shake with milk", 400.0, Unit::Ml, macros(310.0, 40.0, 20.0, 7.0)).sugar(18.0),
                meal(at(20, 0), MealSlot::Dinner, "Whole-wheat pasta with turkey bolognese", 1.0, Unit::Serving, macros(720.0, 48.0, 82.0, 20.0)).fiber(11.0).notes("Meal-prepped on Sunday"),
            ],
        ],
        own_workout: LoggedWorkout {
            at: at(6, 30),
            activity: Activity::Cycling,
            title: "Morning ride along the Hudson",
            minutes: 60,
            kcal: 560.0,
            effort: 5,
            distance_km: Some(24.5),
            avg_heart_rate: Some(138),
            notes: None,
        },
    },
];

// ---------------------------------------------------------------------------------
// Table types and how they become domain values
// ---------------------------------------------------------------------------------

struct DemoLog {
    /// Slug of the meal package followed on package days.
    meal_package: &'static str,
    package_workout: PackageWorkout,
    /// The user's own menus for the two days in three that follow no package.
    own_days: [&'static [LoggedMeal]; 2],
    own_workout: LoggedWorkout,
}

struct PackageWorkout {
    slug: &'static str,
    at: NaiveTime,
    activity: Activity,
    effort: u8,
}

impl PackageWorkout {
    /// Successive package days walk through the programme's sessions in order.
    fn data(
        &self,
        package: &WorkoutPackage,
        day: DemoDay,
        timezone: Timezone,
        date: NaiveDate,
    ) -> WorkoutData {
        let session = &package.sessions[day.pick(package.sessions.len())];
        WorkoutData {
            started_at: timezone.instant(date, self.at),
            activity: self.activity,
            title: session.title.clone(),
            duration_s: valid(i64::from(package.minutes_per_session) * 60),
            kcal_burned: package.kcal_per_session,
            effort: Some(valid(i64::from(self.effort))),
            distance_km: None,
            avg_heart_rate: None,
            package: Some(PackageRef {
                package_id: package.id,
                package_version: package.version,
            }),
            notes: None,
        }
    }
}

struct LoggedMeal {
    at: NaiveTime,
    slot: MealSlot,
    name: &'static str,
    quantity: f64,
    unit: Unit,
    macros: Macros,
    fiber_g: Option<f64>,
    sugar_g: Option<f64>,
    sodium_mg: Option<f64>,
    notes: Option<&'static str>,
}

const fn meal(
    at: NaiveTime,
    slot: MealSlot,
    name: &'static str,
    quantity: f64,
    unit: Unit,
    macros: Macros,
) -> LoggedMeal {
    LoggedMeal {
        at,
        slot,
        name,
        quantity,
        unit,
        macros,
        fiber_g: None,
        sugar_g: None,
        sodium_mg: None,
        notes: None,
    }
}

impl LoggedMeal {
    const fn fiber(mut self, grams: f64) -> Self {
        self.fiber_g = Some(grams);
        self
    }

    const fn sugar(mut self, grams: f64) -> Self {
        self.sugar_g = Some(grams);
        self
    }

    const fn sodium(mut self, milligrams: f64) -> Self {
        self.sodium_mg = Some(milligrams);
        self
    }

    const fn notes(mut self, notes: &'static str) -> Self {
        self.notes = Some(notes);
        self
    }

    fn data(&self, timezone: Timezone, date: NaiveDate) -> MealData {
        MealData {
            eaten_at: timezone.instant(date, self.at),
            slot: self.slot,
            name: valid(self.name),
            quantity: valid(self.quantity),
            unit: self.unit,
            nutrition: Nutrition {
                kcal: valid(self.macros.kcal),
                protein_g: valid(self.macros.protein_g),
                carbs_g: valid(self.macros.carbs_g),
                fat_g: valid(self.macros.fat_g),
                fiber_g: self.fiber_g.map(valid),
                sugar_g: self.sugar_g.map(valid),
                sodium_mg: self.sodium_mg.map(valid),
            },
            source: EntrySource::Manual,
            package: None,
            notes: self.notes.map(valid),
        }
    }
}

struct LoggedWorkout {
    at: NaiveTime,
    activity: Activity,
    title: &'static str,
    minutes: u32,
    kcal: f64,
    effort: u8,
    distance_km: Option<f64>,
    avg_heart_rate: Option<u16>,
    notes: Option<&'static str>,
}

impl LoggedWorkout {
    fn data(&self, timezone: Timezone, date: NaiveDate) -> WorkoutData {
        WorkoutData {
            started_at: timezone.instant(date, self.at),
            activity: self.activity,
            title: valid(self.title),
            duration_s: valid(i64::from(self.minutes) * 60),
            kcal_burned: valid(self.kcal),
            effort: Some(valid(i64::from(self.effort))),
            distance_km: self.distance_km.map(valid),
            avg_heart_rate: self.avg_heart_rate.map(|bpm| valid(i64::from(bpm))),
            package: None,
            notes: self.notes.map(valid),
        }
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

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

fn by_slug<'a, P: Package>(packages: &'a [P], slug: &str) -> &'a P {
    packages
        .iter()
        .find(|package| package.slug().as_str() == slug)
        .unwrap_or_else(|| panic!("the demo log names the unknown package {slug}"))
}

// ---------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use argon2::{Argon2, PasswordHash, PasswordVerifier};

    use super::super::tests::within_ten_percent;
    use super::*;

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
                    n.protein_g.get(),
                    n.carbs_g.get(),
                    n.fat_g.get()
                ),
                "{}",
                entry.data.name
            );
        }
    }

    #[test]
    fn demo_accounts_match_their_users() {
        let users = demo_users(Utc::now());
        assert_eq!(users.len(), DEMO_ACCOUNTS.len());
        for (user, account) in users.iter().zip(&DEMO_ACCOUNTS) {
            assert_eq!(user.email.as_str(), account.email);
            assert_eq!(user.role, account.role);
            assert!(user.profile.daily_kcal_target.is_some());
        }
        assert_eq!(users[0].timezone.to_string(), "Europe/Berlin");
        assert_eq!(users[1].timezone.to_string(), "America/New_York");
    }

    #[test]
    fn demo_password_hashes_verify() {
        for (user, account) in demo_users(Utc::now()).iter().zip(&DEMO_ACCOUNTS) {
            let hash = PasswordHash::new(user.password_hash.as_phc()).unwrap();
            assert_eq!(hash.algorithm.as_str(), "argon2id");
            assert!(
                Argon2::default()
                    .verify_password(account.password.as_bytes(), &hash)
                    .is_ok()
            );
            assert!(
                Argon2::default()
                    .verify_password(b"not-the-password", &hash)
                    .is_err()
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
