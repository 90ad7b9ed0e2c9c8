//! The demo accounts: their credentials, published in code for the README and the
//! log-in screen, and `demo.toml`, which says who each one is and what they log,
//! read into its shape and turned into their users. `history` makes their entries.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;

use super::file::{self, embedded};
use super::{NS_USER, fixed_id};
use crate::domain::{
    Activity, DistanceKm, DurationSecs, Effort, Email, EntrySource, Grams, HeartRate, Kcal,
    MealData, MealSlot, Milligrams, Name, Notes, Nutrition, PasswordHash, Profile, Quantity, Role,
    Slug, Timezone, Title, Unit, User, WorkoutData,
};

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
    PERSONAS
        .iter()
        .zip(&DEMO_ACCOUNTS)
        .zip(1..)
        .map(|((persona, account), n)| User {
            id: fixed_id(NS_USER, n),
            email: persona.email.clone(),
            name: persona.name.clone(),
            password_hash: persona.password_hash.clone(),
            role: account.role,
            timezone: persona.timezone,
            profile: persona.profile.clone(),
            favourite_foods: Vec::new(),
            devices: Vec::new(),
            created_at: now,
            updated_at: now,
        })
        .collect()
}

const FILE: (&str, &str) = embedded!("demo.toml");

/// What `demo.toml` says about each account, in the order of `DEMO_ACCOUNTS`: the
/// users' ids and their entries' come from that position.
pub(super) static PERSONAS: LazyLock<Vec<Persona>> = LazyLock::new(|| {
    let file: DemoFile = file::parse(FILE);
    let listed: Vec<&str> = file.accounts.iter().map(|p| p.email.as_str()).collect();
    let published: Vec<&str> = DEMO_ACCOUNTS.iter().map(|a| a.email).collect();
    assert_eq!(
        listed, published,
        "sample/demo.toml must list the accounts of DEMO_ACCOUNTS, in that order"
    );
    file.accounts
});

// ---------------------------------------------------------------------------------
// The shape of the file and how it becomes domain values
// ---------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    #[serde(rename = "account")]
    accounts: Vec<Persona>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Persona {
    email: Email,
    name: Name,
    timezone: Timezone,
    password_hash: PasswordHash,
    profile: Profile,
    /// Followed on package days.
    pub(super) meal_package: Slug,
    pub(super) package_workout: PackageWorkout,
    /// Done on the first of the two days in three that follow no package.
    pub(super) own_workout: LoggedWorkout,
    /// The menus of the two days in three that follow no package.
    #[serde(rename = "own_day")]
    pub(super) own_days: [OwnDay; 2],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PackageWorkout {
    pub(super) slug: Slug,
    #[serde(deserialize_with = "file::wall_clock")]
    pub(super) at: NaiveTime,
    pub(super) activity: Activity,
    pub(super) effort: Effort,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OwnDay {
    pub(super) meals: Vec<LoggedMeal>,
}

/// A meal the user logs by hand. The fields are spelt out rather than a flattened
/// `Nutrition`, because serde cannot refuse unknown keys beside a flattened field and
/// a misspelt `fibre_g` should fail, not vanish.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LoggedMeal {
    #[serde(deserialize_with = "file::wall_clock")]
    at: NaiveTime,
    slot: MealSlot,
    name: Title,
    quantity: Quantity,
    unit: Unit,
    kcal: Kcal,
    protein_g: Grams,
    carbs_g: Grams,
    fat_g: Grams,
    fiber_g: Option<Grams>,
    sugar_g: Option<Grams>,
    sodium_mg: Option<Milligrams>,
    notes: Option<Notes>,
}

impl LoggedMeal {
    pub(super) fn data(&self, timezone: Timezone, date: NaiveDate) -> MealData {
        MealData {
            eaten_at: timezone.instant(date, self.at),
            slot: self.slot,
            name: self.name.clone(),
            quantity: self.quantity,
            unit: self.unit,
            nutrition: Nutrition {
                kcal: self.kcal,
                protein_g: Some(self.protein_g),
                carbs_g: Some(self.carbs_g),
                fat_g: Some(self.fat_g),
                fiber_g: self.fiber_g,
                sugar_g: self.sugar_g,
                sodium_mg: self.sodium_mg,
            },
            source: EntrySource::Manual,
            package: None,
            food: None,
            notes: self.notes.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LoggedWorkout {
    #[serde(deserialize_with = "file::wall_clock")]
    at: NaiveTime,
    activity: Activity,
    title: Title,
    #[serde(rename = "minutes", deserialize_with = "file::minutes")]
    duration_s: DurationSecs,
    kcal: Kcal,
    effort: Effort,
    distance_km: Option<DistanceKm>,
    avg_heart_rate: Option<HeartRate>,
    notes: Option<Notes>,
}

impl LoggedWorkout {
    pub(super) fn data(&self, timezone: Timezone, date: NaiveDate) -> WorkoutData {
        WorkoutData {
            started_at: timezone.instant(date, self.at),
            activity: self.activity,
            title: self.title.clone(),
            duration_s: self.duration_s,
            kcal_burned: self.kcal,
            effort: Some(self.effort),
            distance_km: self.distance_km,
            avg_heart_rate: self.avg_heart_rate,
            package: None,
            notes: self.notes.clone(),
            sets: Vec::new(),
            kcal_estimated: false,
        }
    }
}

// ---------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use argon2::{Argon2, PasswordHash, PasswordVerifier};

    use super::*;

    #[test]
    fn the_file_reads_and_every_value_is_valid() {
        let _: DemoFile = file::parse(FILE);
        assert_eq!(PERSONAS.len(), DEMO_ACCOUNTS.len());
    }

    /// `Profile` is the domain type, which ignores keys it does not know (the API
    /// relies on that); here a misspelt key would silently drop a value.
    #[test]
    fn every_profile_key_in_the_file_is_a_profile_field() {
        let fields = serde_json::to_value(Profile::default()).unwrap();
        let file: toml::Table = toml::from_str(FILE.1).unwrap();
        for account in file["account"].as_array().unwrap() {
            for key in account["profile"].as_table().unwrap().keys() {
                assert!(
                    fields.get(key).is_some(),
                    "demo.toml: unknown profile key {key}"
                );
            }
        }
    }

    #[test]
    fn a_bad_value_is_reported_with_its_file_and_line() {
        let change = ("at = \"07:15\"", "at = \"7.15am\"");
        file::assert_refused::<DemoFile>(FILE, change, &["Overnight oats", "not a time of day"]);
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
}
