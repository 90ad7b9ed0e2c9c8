//! Small builders for domain values, so tests state only what matters to them.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use balancelife::domain::*;

pub fn at(date: &str, time: &str) -> DateTime<Utc> {
    let naive = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap()
        .and_time(chrono::NaiveTime::parse_from_str(time, "%H:%M").unwrap());
    Utc.from_utc_datetime(&naive)
}

pub fn date(value: &str) -> NaiveDate {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").unwrap()
}

pub fn unique_email(label: &str) -> Email {
    format!("{label}-{}@example.test", Uuid::now_v7().simple())
        .parse()
        .unwrap()
}

/// `user` under another name, as a later version (1 ms newer).
pub fn renamed(user: &User, name: &str) -> User {
    let mut changed = user.clone();
    changed.name = name.try_into().unwrap();
    changed.updated_at = user.updated_at + chrono::Duration::milliseconds(1);
    changed
}

pub fn user(email: Email) -> User {
    let now = balancelife::domain::now();
    User {
        id: new_id(),
        email,
        name: "Test Person".try_into().unwrap(),
        // Stores never look inside the hash; any PHC-shaped string will do.
        password_hash: PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        ),
        role: Role::User,
        timezone: "Europe/Berlin".parse().unwrap(),
        profile: Profile {
            daily_kcal_target: Some(KcalTarget::try_from(2000.0).unwrap()),
            ..Profile::default()
        },
        favourite_foods: Vec::new(),
        devices: Vec::new(),
        created_at: now,
        updated_at: now,
    }
}

/// Entry data the contract suite can make for either kind.
pub trait EntryFixture: EntryData {
    /// Entry data about instant `at`, varied by `n`.
    fn sample(n: u32, at: DateTime<Utc>) -> Self;
    /// The same entry with one visible change.
    fn altered(&self) -> Self;
    /// The same entry, logged from `package`.
    fn logged_from(self, package: PackageRef) -> Self;
}

impl EntryFixture for MealData {
    /// Every third meal is logged by its calories alone and every fourth without its
    /// fat, so each store keeps unknown macros apart from zero.
    fn sample(n: u32, at: DateTime<Utc>) -> Self {
        let known = |grams: f64, unknown: bool| (!unknown).then(|| Grams::try_from(grams).unwrap());
        let calories_only = n.is_multiple_of(3);
        MealData {
            eaten_at: at,
            slot: MealSlot::Lunch,
            name: format!("Meal {n}").try_into().unwrap(),
            quantity: Quantity::try_from(250.0).unwrap(),
            unit: Unit::G,
            nutrition: Nutrition {
                kcal: Kcal::try_from(400.0 + f64::from(n)).unwrap(),
                protein_g: known(30.0, calories_only),
                carbs_g: known(45.0, calories_only),
                fat_g: known(12.0, calories_only || n.is_multiple_of(4)),
                fiber_g: Some(Grams::try_from(6.0).unwrap()),
                sugar_g: None,
                sodium_mg: None,
            },
            source: EntrySource::Manual,
            package: None,
            food: None,
            notes: None,
        }
    }

    fn altered(&self) -> Self {
        let mut changed = self.clone();
        changed.nutrition.kcal = Kcal::try_from(self.nutrition.kcal.get() + 1.0).unwrap();
        changed
    }

    fn logged_from(self, package: PackageRef) -> Self {
        Self {
            source: EntrySource::Package,
            package: Some(package),
            ..self
        }
    }
}

impl EntryFixture for BodyMetricData {
    /// Every third record is a waist alone, with no weigh-in, so each store counts
    /// weigh-ins apart from records.
    fn sample(n: u32, at: DateTime<Utc>) -> Self {
        let weighed = !n.is_multiple_of(3);
        BodyMetricData {
            measured_at: at,
            weight_kg: weighed.then(|| WeightKg::try_from(70.0 + f64::from(n) / 10.0).unwrap()),
            body_fat_pct: None,
            waist_cm: Some(GirthCm::try_from(80.0 + f64::from(n % 7)).unwrap()),
            measurements: [("hips".parse().unwrap(), GirthCm::try_from(98.5).unwrap())].into(),
            source: MetricSource::Manual,
            notes: None,
        }
    }

    fn altered(&self) -> Self {
        let mut changed = self.clone();
        changed.waist_cm = self
            .waist_cm
            .map(|cm| GirthCm::try_from(cm.get() + 1.0).unwrap());
        changed.weight_kg = self
            .weight_kg
            .map(|kg| WeightKg::try_from(kg.get() + 0.5).unwrap());
        changed
    }

    /// Body measurements come from no package: the same record.
    fn logged_from(self, _package: PackageRef) -> Self {
        self
    }
}

impl EntryFixture for WorkoutData {
    fn sample(n: u32, at: DateTime<Utc>) -> Self {
        WorkoutData {
            started_at: at,
            activity: Activity::Running,
            title: format!("Run {n}").try_into().unwrap(),
            duration_s: DurationSecs::try_from(1800).unwrap(),
            kcal_burned: Kcal::try_from(300.0 + f64::from(n)).unwrap(),
            effort: Some(Effort::try_from(6).unwrap()),
            distance_km: Some(DistanceKm::try_from(5.0).unwrap()),
            avg_heart_rate: None,
            package: None,
            notes: None,
            // Every other one set by set, so each store keeps sets whole.
            sets: if n.is_multiple_of(2) {
                sample_sets(n)
            } else {
                Vec::new()
            },
            kcal_estimated: n.is_multiple_of(4),
        }
    }

    fn altered(&self) -> Self {
        let mut changed = self.clone();
        changed.kcal_burned = Kcal::try_from(self.kcal_burned.get() + 1.0).unwrap();
        changed
    }

    fn logged_from(self, package: PackageRef) -> Self {
        Self {
            package: Some(package),
            ..self
        }
    }
}

/// An entry of `user` about `at`, with the local date taken as UTC's for simplicity.
pub fn entry<D: EntryFixture>(user_id: Uuid, n: u32, at: DateTime<Utc>) -> Entry<D> {
    let now = balancelife::domain::now();
    Entry {
        id: new_id(),
        user_id,
        local_date: at.date_naive(),
        data: D::sample(n, at),
        created_at: now,
        updated_at: now,
    }
}

pub fn meal_package(slug: &str, tags: &[&str], published: bool) -> MealPackage {
    let items = vec![MealItem {
        day: 1,
        slot: MealSlot::Breakfast,
        name: "Porridge".try_into().unwrap(),
        portion_g: Grams::try_from(300.0).unwrap(),
        kcal: Kcal::try_from(350.0).unwrap(),
        protein_g: Grams::try_from(12.0).unwrap(),
        carbs_g: Grams::try_from(55.0).unwrap(),
        fat_g: Grams::try_from(8.0).unwrap(),
    }];
    MealPackage {
        id: new_id(),
        slug: slug.parse().unwrap(),
        name: format!("Package {slug}").try_into().unwrap(),
        description: "A test package".try_into().unwrap(),
        tags: tags.iter().map(|t| t.parse().unwrap()).collect(),
        diet_tags: vec!["vegetarian".parse().unwrap()],
        duration_days: 1,
        daily_averages: MealPackage::average_of(&items, 1),
        items,
        status: if published {
            PackageStatus::Published
        } else {
            PackageStatus::Draft
        },
        version: Version::try_from(1).unwrap(),
        created_by: None,
        updated_by: None,
        created_at: None,
        updated_at: None,
        first_published_at: None,
    }
}

pub fn workout_package(slug: &str, level: Level, tags: &[&str]) -> WorkoutPackage {
    WorkoutPackage {
        id: new_id(),
        slug: slug.parse().unwrap(),
        name: format!("Plan {slug}").try_into().unwrap(),
        description: "A test plan".try_into().unwrap(),
        level,
        tags: tags.iter().map(|t| t.parse().unwrap()).collect(),
        equipment: vec![],
        duration_weeks: 1,
        sessions_per_week: 1,
        minutes_per_session: 30,
        kcal_per_session: Kcal::try_from(250.0).unwrap(),
        sessions: vec![WorkoutSession {
            week: 1,
            day: 1,
            title: "Full body".try_into().unwrap(),
            exercises: vec![Exercise {
                name: "Squat".try_into().unwrap(),
                exercise_id: Some("bodyweight-squat".parse().unwrap()),
                sets: 3,
                dose: ExerciseDose::Reps(10),
                rest_s: 60,
            }],
        }],
        status: PackageStatus::Published,
        version: Version::try_from(1).unwrap(),
        created_by: None,
        updated_by: None,
        created_at: None,
        updated_at: None,
        first_published_at: None,
    }
}

/// A published custom exercise of `slug`: a landmine press, with every optional
/// field filled in so a store that loses one is seen to.
pub fn custom_exercise(slug: &str) -> CustomExercise {
    CustomExercise {
        id: new_id(),
        slug: slug.parse().unwrap(),
        name: format!("Landmine press {slug}").try_into().unwrap(),
        category: ExerciseCategory::Strength,
        level: ExerciseLevel::Intermediate,
        equipment: Some(Equipment::Barbell),
        force: Some(Force::Push),
        mechanic: Some(Mechanic::Compound),
        primary_muscles: vec![Muscle::Shoulders],
        secondary_muscles: vec![Muscle::Triceps, Muscle::Chest],
        instructions: vec![
            "Wedge one end of the bar in a corner.".try_into().unwrap(),
            "Press the other end up and forward.".try_into().unwrap(),
        ],
        status: PackageStatus::Published,
        version: Version::try_from(1).unwrap(),
        created_by: Some(new_id()),
        updated_by: None,
        created_at: Some(DateTime::from_timestamp_millis(1_780_000_000_000).unwrap()),
        updated_at: None,
        first_published_at: Some(DateTime::from_timestamp_millis(1_780_000_000_000).unwrap()),
    }
}

/// A food of `source`: a user's (owned by `owner`) or everyone's, with a source id
/// for the public databases, 100 g of it being 250 kcal of bread.
pub fn food(source: FoodSource, owner: Option<Uuid>, name: &str) -> Food {
    let now = balancelife::domain::now();
    let imported = matches!(source, FoodSource::Usda | FoodSource::OpenFoodFacts);
    let grams = |g: f64| Some(GramsPer100::try_from(g).unwrap());
    Food {
        id: new_id(),
        source,
        source_id: imported.then(|| Uuid::now_v7().simple().to_string().try_into().unwrap()),
        owner,
        name: FoodName {
            text: name.try_into().unwrap(),
            lang: LanguageTag::english(),
        },
        other_names: Vec::new(),
        brand: None,
        barcodes: Vec::new(),
        basis: Basis::Per100G,
        nutrients: Nutrients {
            energy_kcal: Some(KcalPer100::try_from(250.0).unwrap()),
            protein_g: grams(9.0),
            carbs_g: grams(49.0),
            fat_g: grams(3.2),
            fiber_g: None,
            sugars_g: grams(5.0),
            saturated_fat_g: None,
            sodium_mg: Some(MilligramsPer100::try_from(490.0).unwrap()),
        },
        micronutrients: Vec::new(),
        servings: vec![Serving {
            label: "1 slice".try_into().unwrap(),
            grams: Grams::try_from(28.0).unwrap(),
        }],
        recipe: None,
        version: Version::try_from(1_i64).unwrap(),
        created_at: now,
        updated_at: now,
    }
}

/// `food` with `barcode` (any accepted form).
pub fn with_barcode(mut food: Food, barcode: &str) -> Food {
    food.barcodes.push(Barcode::parse(barcode).unwrap());
    food.normalize();
    food
}

/// `food` under another name, as a later version (1 ms newer).
pub fn renamed_food(food: &Food, name: &str) -> Food {
    let mut changed = food.clone();
    changed.name.text = name.try_into().unwrap();
    changed.version = food.version.next().unwrap();
    changed.updated_at = food.updated_at + chrono::Duration::milliseconds(1);
    changed
}

/// Three sets of squats (a warm-up, then two at work) and a timed plank not yet
/// done, the load growing with `n`.
pub fn sample_sets(n: u32) -> Vec<LoggedSet> {
    let set = |exercise: &str, reps: Option<i64>, weight_kg: Option<f64>| LoggedSet {
        exercise_id: exercise.parse().unwrap(),
        reps: reps.map(|r| Reps::try_from(r).unwrap()),
        weight_kg: weight_kg.map(|w| LoadKg::try_from(w).unwrap()),
        rpe: None,
        duration_s: None,
        distance_km: None,
        warm_up: false,
        done: true,
    };
    let load = 60.0 + f64::from(n % 40);
    vec![
        LoggedSet {
            warm_up: true,
            ..set("barbell-squat", Some(10), Some(40.0))
        },
        set("barbell-squat", Some(8), Some(load)),
        LoggedSet {
            rpe: Some(Rpe::try_from(8.5).unwrap()),
            ..set("barbell-squat", Some(7), Some(load))
        },
        LoggedSet {
            duration_s: Some(DurationSecs::try_from(60).unwrap()),
            done: false,
            ..set("plank", None, None)
        },
    ]
}
