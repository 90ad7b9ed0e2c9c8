//! The sample data every store loads: the published meal and workout catalogue and
//! two demo accounts with a few days of history. Keeping it in one place means the
//! memory store and MongoDB serve the same demo, and because every id is fixed,
//! loading it again, into a fresh store or one that already holds it, writes nothing
//! twice. The data itself is in `crates/balancelife/sample/*.toml`, embedded in the
//! binary; this module loads it and gives it its fixed ids, `file` reads the files,
//! `meals`, `workouts` and `demo` turn each into domain values and `history` makes
//! the demo accounts' entries. `foods` reads the starter foods from USDA's data
//! (`sample/usda-*.csv`).

mod demo;
mod file;
mod foods;
mod history;
mod meals;
mod workouts;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use demo::{DEMO_ACCOUNTS, DemoAccount, demo_users};
pub use foods::{load_starter_foods, starter_foods};
pub use history::{demo_meal_entries, demo_workout_entries};
pub use meals::meal_packages;
pub use workouts::workout_packages;

use crate::domain::{Package, Version};
use crate::store::{Optional, PackageStore, Store, StoreError, StoreResult, Written};

// ---------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------

/// How many documents a `load` wrote and how many it found already in place.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LoadReport {
    pub created: usize,
    pub unchanged: usize,
}

impl LoadReport {
    fn count(&mut self, created: bool) {
        if created {
            self.created += 1;
        } else {
            self.unchanged += 1;
        }
    }
}

/// Writes the whole sample into `store`. Safe to run at every start: what is already
/// there is left alone, including demo users and packages someone has since edited
/// (the catalogue belongs to its administrators once it is seeded).
pub async fn load(store: &dyn Store, now: DateTime<Utc>) -> StoreResult<LoadReport> {
    let mut report = load_catalogue(store).await?;
    let mut owners = Vec::new();
    for user in demo_users(now) {
        let id = user.id;
        match store.create_user(user).await {
            Ok(_) => report.count(true),
            Err(StoreError::Conflict(_)) => {
                report.count(false);
                // Someone may have registered a demo e-mail before the first seeding;
                // that account is theirs, not ours to fill with demo history.
                if store.get_user(id).await.optional()?.is_none() {
                    continue;
                }
            }
            Err(error) => return Err(error),
        }
        owners.push(id);
    }

    for entry in demo_meal_entries(now) {
        if owners.contains(&entry.user_id) {
            report.count(entry_created(store.meal_entries().create(entry).await)?);
        }
    }
    for entry in demo_workout_entries(now) {
        if owners.contains(&entry.user_id) {
            report.count(entry_created(store.workout_entries().create(entry).await)?);
        }
    }
    Ok(report)
}

/// The sample catalogue alone, without the demo accounts (whose passwords are
/// published): for a store that is not a demo.
pub async fn load_catalogue(store: &dyn Store) -> StoreResult<LoadReport> {
    let mut report = LoadReport::default();
    for package in meal_packages() {
        report.count(seed_package(store.meal_packages(), package).await?);
    }
    for package in workout_packages() {
        report.count(seed_package(store.workout_packages(), package).await?);
    }
    Ok(report)
}

/// Stores `package` unless its id is there already: whether it was stored.
async fn seed_package<P: Package>(catalog: &dyn PackageStore<P>, package: P) -> StoreResult<bool> {
    if catalog.get(package.id()).await.optional()?.is_some() {
        return Ok(false);
    }
    Ok(catalog.upsert(package).await?.was_created())
}

/// A conflict means an earlier run, from an older version of this sample, wrote other
/// content under the id: the demo history is there either way, and rewriting a log
/// is not the seeder's business.
fn entry_created<T>(result: StoreResult<Written<T>>) -> StoreResult<bool> {
    match result {
        Ok(written) => Ok(written.was_created()),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(error) => Err(error),
    }
}

// ---------------------------------------------------------------------------------
// Fixed ids
// ---------------------------------------------------------------------------------

/// 2026-01-01T00:00:00Z, the timestamp of every sample id.
const FIXED_MS: u64 = 1_767_225_600_000;

// Within a namespace, packages and demo users are numbered by their position in
// their data file, from 1; the files say so to whoever edits them.
const NS_USER: u8 = 0x01;
const NS_MEAL_PACKAGE: u8 = 0x02;
const NS_WORKOUT_PACKAGE: u8 = 0x03;
/// Starter foods, numbered by their FDC id.
const NS_STARTER_FOOD: u8 = 0x04;
/// Entry namespaces are per kind and per demo user (base + account index), so `n`
/// only has to tell days and slots apart.
const NS_MEAL_ENTRY: u8 = 0x10;
const NS_WORKOUT_ENTRY: u8 = 0x20;

/// A UUIDv7 that depends only on its arguments, so every run seeds the same ids.
/// The namespace goes where the version nibble cannot touch it and `n` where the
/// variant bits cannot, keeping distinct arguments distinct.
fn fixed_id(namespace: u8, n: u16) -> Uuid {
    let [high, low] = n.to_be_bytes();
    let bytes = [0, namespace, 0, high, low, 0, 0, 0, 0, 0];
    uuid::Builder::from_unix_timestamp_millis(FIXED_MS, &bytes).into_uuid()
}

/// `fixed_id` for a number that needs 32 bits (an FDC id), in the bytes the 16-bit
/// one leaves zero, so the two never meet.
fn fixed_wide_id(namespace: u8, n: u32) -> Uuid {
    let [a, b, c, d] = n.to_be_bytes();
    let bytes = [0, namespace, 0, 0, 0, 0, a, b, c, d];
    uuid::Builder::from_unix_timestamp_millis(FIXED_MS, &bytes).into_uuid()
}

fn first_version() -> Version {
    Version::try_from(1).expect("1 is a valid version")
}

// ---------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::domain::Package;
    use crate::store::memory::MemoryStore;

    /// Shared with the tests of `meals` and `demo`.
    pub(super) fn within_ten_percent(kcal: f64, protein: f64, carbs: f64, fat: f64) -> bool {
        let from_macros = 4.0 * protein + 4.0 * carbs + 9.0 * fat;
        (kcal - from_macros).abs() <= 0.1 * kcal
    }

    #[test]
    fn fixed_ids_are_uuid_v7_and_distinct() {
        let mut seen = HashSet::new();
        for namespace in [0, 1, 0x10, 0x21, 0xff] {
            for n in [0, 1, 2, 3, 4, 255, 256, 65_535] {
                let id = fixed_id(namespace, n);
                assert_eq!(id.get_version_num(), 7);
                assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
                assert_eq!(id, fixed_id(namespace, n));
                assert!(seen.insert(id), "{namespace}/{n} repeats an id");
            }
        }
        let (seconds, _) = fixed_id(1, 1).get_timestamp().unwrap().to_unix();
        assert_eq!(seconds * 1000, FIXED_MS);
    }

    #[test]
    fn all_ids_are_uuid_v7_and_unique() {
        let now = Utc::now();
        let ids: Vec<Uuid> = meal_packages()
            .iter()
            .map(|p| p.id)
            .chain(workout_packages().iter().map(|p| p.id))
            .chain(demo_users(now).iter().map(|u| u.id))
            .chain(demo_meal_entries(now).iter().map(|e| e.id))
            .chain(demo_workout_entries(now).iter().map(|e| e.id))
            .collect();
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    }

    /// Ids come from position in the data files, so a package moved there would take
    /// another's id and a store seeded before would refuse the sample. These lists
    /// only ever grow at the end; the literal ids pin `fixed_id` itself.
    #[test]
    fn the_sample_keeps_its_order_and_so_its_ids() {
        const MEALS: [&str; 9] = [
            "mediterranean-table",
            "lean-and-strong",
            "plant-power",
            "quick-weekdays",
            "budget-batch-cook",
            "keto-kickstart",
            "ocean-and-greens",
            "family-favourites",
            "light-and-satisfying",
        ];
        const WORKOUTS: [&str; 8] = [
            "first-steps-full-body",
            "morning-mobility-flow",
            "core-and-posture",
            "dumbbell-strength-builder",
            "kettlebell-conditioning",
            "indoor-cycling-base",
            "hiit-fat-burner",
            "barbell-powerbuilding",
        ];
        fn slugs<P: Package>(packages: &[P]) -> Vec<&str> {
            packages.iter().map(|p| p.slug().as_str()).collect()
        }
        let (meals, workouts) = (meal_packages(), workout_packages());
        assert_eq!(slugs(&meals).get(..MEALS.len()), Some(&MEALS[..]));
        assert_eq!(slugs(&workouts).get(..WORKOUTS.len()), Some(&WORKOUTS[..]));

        let now = "2026-06-15T12:00:00Z".parse().unwrap();
        let (meal_entries, workout_entries) = (demo_meal_entries(now), demo_workout_entries(now));
        assert_eq!((meal_entries.len(), workout_entries.len()), (24, 4));
        let first_ids = [
            meals[0].id,
            workouts[0].id,
            demo_users(now)[1].id,
            meal_entries[0].id,
            workout_entries[0].id,
        ];
        assert_eq!(
            first_ids.map(|id| id.to_string()),
            [
                "019b76da-a800-7002-8000-010000000000",
                "019b76da-a800-7003-8000-010000000000",
                "019b76da-a800-7001-8000-020000000000",
                "019b76da-a800-7010-8002-8c0000000000",
                "019b76da-a800-7020-8002-8c0000000000",
            ]
        );
    }

    #[tokio::test]
    async fn loading_again_changes_nothing_and_a_day_later_adds_only_the_new_day() {
        let store = MemoryStore::new();
        let now: DateTime<Utc> = "2026-06-15T12:00:00Z".parse().unwrap();
        let total = meal_packages().len()
            + workout_packages().len()
            + demo_users(now).len()
            + demo_meal_entries(now).len()
            + demo_workout_entries(now).len();

        let first = load(&store, now).await.unwrap();
        assert_eq!(
            first,
            LoadReport {
                created: total,
                unchanged: 0
            }
        );
        let again = load(&store, now + chrono::Duration::minutes(5))
            .await
            .unwrap();
        assert_eq!(
            again,
            LoadReport {
                created: 0,
                unchanged: total
            }
        );

        let tomorrow = now + chrono::Duration::days(1);
        let ids_before: HashSet<Uuid> = demo_meal_entries(now)
            .iter()
            .map(|e| e.id)
            .chain(demo_workout_entries(now).iter().map(|e| e.id))
            .collect();
        let new_entries = demo_meal_entries(tomorrow)
            .iter()
            .map(|e| e.id)
            .chain(demo_workout_entries(tomorrow).iter().map(|e| e.id))
            .filter(|id| !ids_before.contains(id))
            .count();
        let next_day = load(&store, tomorrow).await.unwrap();
        assert!(new_entries > 0);
        assert_eq!(next_day.created, new_entries);

        let ada = store.get_user(fixed_id(NS_USER, 1)).await.unwrap();
        assert_eq!(ada.email.as_str(), DEMO_ACCOUNTS[0].email);
    }
}
