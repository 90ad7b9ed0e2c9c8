//! How each entity is laid out in MongoDB. The BSON shape lives only here: `_id` is
//! the entity id (a UUID binary), timestamps are BSON dates, names are snake_case.
//! Value types (`Email`, `Kcal`, …) serialize as plain strings and numbers and
//! validate again when read back.

use bson::{DateTime, Uuid};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{
    Activity, Barcode, Basis, BodyFatPct, BodyMetricData, Device, DeviceName, DistanceKm,
    DurationSecs, Effort, Email, Entry, EntryData, EntryPosition, EntrySource, Food, FoodName,
    FoodRef, FoodSource, FoodText, GirthCm, HeartRate, Ingredient, Kcal, LoggedSet, MealData,
    MealSlot, MeasurementName, MetricSource, Micronutrient, Name, Notes, Nutrients, Nutrition,
    PackageRef, PasswordHash, Platform, Profile, Quantity, Recipe, RecipeGrams, Role, Serving,
    ServingCount, SourceId, Timezone, Title, Unit, User, Version, WeightKg, WorkoutData,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct UserDoc {
    #[serde(rename = "_id")]
    pub id: Uuid,
    /// Lower-cased by `Email`, so the unique index makes e-mails case-insensitive.
    pub email: Email,
    pub name: Name,
    pub password_hash: PasswordHash,
    pub role: Role,
    pub timezone: Timezone,
    pub profile: Profile,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub favourite_foods: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceDoc>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// A signed-in device, in its user's document (a user is written whole, so a
/// device signed out is gone from it).
#[derive(Debug, Serialize, Deserialize)]
pub struct DeviceDoc {
    pub id: Uuid,
    pub name: DeviceName,
    pub platform: Platform,
    pub created_at: DateTime,
    pub last_seen_at: DateTime,
    pub generation: u32,
    pub salt: String,
    pub rotated_at: DateTime,
}

impl From<&Device> for DeviceDoc {
    fn from(device: &Device) -> Self {
        Self {
            id: device.id.into(),
            name: device.name.clone(),
            platform: device.platform,
            created_at: DateTime::from_chrono(device.created_at),
            last_seen_at: DateTime::from_chrono(device.last_seen_at),
            generation: device.generation,
            salt: device.salt.clone(),
            rotated_at: DateTime::from_chrono(device.rotated_at),
        }
    }
}

impl From<DeviceDoc> for Device {
    fn from(doc: DeviceDoc) -> Self {
        Self {
            id: doc.id.into(),
            name: doc.name,
            platform: doc.platform,
            created_at: doc.created_at.to_chrono(),
            last_seen_at: doc.last_seen_at.to_chrono(),
            generation: doc.generation,
            salt: doc.salt,
            rotated_at: doc.rotated_at.to_chrono(),
        }
    }
}

impl From<&User> for UserDoc {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.into(),
            email: user.email.clone(),
            name: user.name.clone(),
            password_hash: user.password_hash.clone(),
            role: user.role,
            timezone: user.timezone,
            profile: user.profile.clone(),
            favourite_foods: user
                .favourite_foods
                .iter()
                .copied()
                .map(Uuid::from)
                .collect(),
            devices: user.devices.iter().map(DeviceDoc::from).collect(),
            created_at: DateTime::from_chrono(user.created_at),
            updated_at: DateTime::from_chrono(user.updated_at),
        }
    }
}

impl From<UserDoc> for User {
    fn from(doc: UserDoc) -> Self {
        Self {
            id: doc.id.into(),
            email: doc.email,
            name: doc.name,
            password_hash: doc.password_hash,
            role: doc.role,
            timezone: doc.timezone,
            profile: doc.profile,
            favourite_foods: doc
                .favourite_foods
                .into_iter()
                .map(uuid::Uuid::from)
                .collect(),
            devices: doc.devices.into_iter().map(Device::from).collect(),
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
        }
    }
}

/// The list order of entries as one string that sorts like `EntryPosition`:
/// `local_date|occurred_at|id`, every part fixed-width. One indexed field makes a
/// date range and a cursor a single index range, `{user_id, position}`, on any
/// MongoDB-compatible server, without `$or` keyset queries.
pub fn position_key(position: &EntryPosition) -> String {
    format!(
        "{}|{}|{}",
        position.local_date,
        position.occurred_at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        position.id
    )
}

/// The smallest key of any entry on `date`.
pub fn day_start_key(date: NaiveDate) -> String {
    date.to_string()
}

/// The names of `DaySums`' sums in a `$group` row, in the order of `SUMMED`.
pub const SUMMED_AS: [&str; 4] = ["kcal", "protein_g", "carbs_g", "fat_g"];

/// How one entry kind maps to its collection.
pub trait EntryDocument: EntryData {
    const COLLECTION: &'static str;
    /// The fields that `DaySums` adds up, in the order of `SUMMED_AS` (`None`: zero).
    const SUMMED: [Option<&'static str>; 4];
    /// The fields an entry may leave out; one without any of them counts in
    /// `DaySums::without_macros` (none: no entry counts).
    const OPTIONAL_MACROS: &'static [&'static str];
    /// The field of a weigh-in's weight, which `DaySums` counts and adds up (none:
    /// the kind weighs nothing).
    const WEIGHT: Option<&'static str> = None;
    type Doc: Serialize + serde::de::DeserializeOwned + Send + Sync + Unpin + 'static;

    fn to_doc(entry: &Entry<Self>) -> Self::Doc;
    fn from_doc(doc: Self::Doc) -> Entry<Self>;
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MealEntryDoc {
    #[serde(rename = "_id")]
    id: Uuid,
    user_id: Uuid,
    local_date: NaiveDate,
    position: String,
    eaten_at: DateTime,
    slot: MealSlot,
    name: Title,
    quantity: Quantity,
    unit: Unit,
    nutrition: Nutrition,
    source: EntrySource,
    package_id: Option<Uuid>,
    package_version: Option<Version>,
    /// Absent on entries not logged from a food, and on those of older releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    food_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    food_version: Option<Version>,
    /// Written as `null` when unknown, never left out: a partial update `$set`s the
    /// fields it encodes, and a weight forgotten must not stay behind.
    #[serde(default)]
    food_grams: Option<Quantity>,
    notes: Option<Notes>,
    created_at: DateTime,
    updated_at: DateTime,
}

impl EntryDocument for MealData {
    const COLLECTION: &'static str = super::collections::MEAL_ENTRIES;
    const SUMMED: [Option<&'static str>; 4] = [
        Some("nutrition.kcal"),
        Some("nutrition.protein_g"),
        Some("nutrition.carbs_g"),
        Some("nutrition.fat_g"),
    ];
    const OPTIONAL_MACROS: &'static [&'static str] = &[
        "nutrition.protein_g",
        "nutrition.carbs_g",
        "nutrition.fat_g",
    ];
    type Doc = MealEntryDoc;

    fn to_doc(entry: &Entry<Self>) -> MealEntryDoc {
        let data = &entry.data;
        MealEntryDoc {
            id: entry.id.into(),
            user_id: entry.user_id.into(),
            local_date: entry.local_date,
            position: position_key(&entry.position()),
            eaten_at: DateTime::from_chrono(data.eaten_at),
            slot: data.slot,
            name: data.name.clone(),
            quantity: data.quantity,
            unit: data.unit,
            nutrition: data.nutrition.clone(),
            source: data.source,
            package_id: data.package.map(|p| p.package_id.into()),
            package_version: data.package.map(|p| p.package_version),
            food_id: data.food.map(|f| f.food_id.into()),
            food_version: data.food.map(|f| f.food_version),
            food_grams: data.food.and_then(|f| f.grams),
            notes: data.notes.clone(),
            created_at: DateTime::from_chrono(entry.created_at),
            updated_at: DateTime::from_chrono(entry.updated_at),
        }
    }

    fn from_doc(doc: MealEntryDoc) -> Entry<Self> {
        Entry {
            id: doc.id.into(),
            user_id: doc.user_id.into(),
            local_date: doc.local_date,
            data: MealData {
                eaten_at: doc.eaten_at.to_chrono(),
                slot: doc.slot,
                name: doc.name,
                quantity: doc.quantity,
                unit: doc.unit,
                nutrition: doc.nutrition,
                source: doc.source,
                package: package_ref(doc.package_id, doc.package_version),
                food: doc
                    .food_id
                    .zip(doc.food_version)
                    .map(|(food_id, food_version)| FoodRef {
                        food_id: food_id.into(),
                        food_version,
                        grams: doc.food_grams,
                    }),
                notes: doc.notes,
            },
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct WorkoutEntryDoc {
    #[serde(rename = "_id")]
    id: Uuid,
    user_id: Uuid,
    local_date: NaiveDate,
    position: String,
    started_at: DateTime,
    activity: Activity,
    title: Title,
    duration_s: DurationSecs,
    kcal_burned: Kcal,
    effort: Option<Effort>,
    distance_km: Option<DistanceKm>,
    avg_heart_rate: Option<HeartRate>,
    package_id: Option<Uuid>,
    package_version: Option<Version>,
    notes: Option<Notes>,
    // Written always (an update sets each field it writes, so one left out would
    // keep its old value); absent from documents older than sets.
    #[serde(default)]
    sets: Vec<LoggedSet>,
    #[serde(default)]
    kcal_estimated: bool,
    created_at: DateTime,
    updated_at: DateTime,
}

impl EntryDocument for WorkoutData {
    const COLLECTION: &'static str = super::collections::WORKOUT_ENTRIES;
    const SUMMED: [Option<&'static str>; 4] = [Some("kcal_burned"), None, None, None];
    const OPTIONAL_MACROS: &'static [&'static str] = &[];
    type Doc = WorkoutEntryDoc;

    fn to_doc(entry: &Entry<Self>) -> WorkoutEntryDoc {
        let data = &entry.data;
        WorkoutEntryDoc {
            id: entry.id.into(),
            user_id: entry.user_id.into(),
            local_date: entry.local_date,
            position: position_key(&entry.position()),
            started_at: DateTime::from_chrono(data.started_at),
            activity: data.activity,
            title: data.title.clone(),
            duration_s: data.duration_s,
            kcal_burned: data.kcal_burned,
            effort: data.effort,
            distance_km: data.distance_km,
            avg_heart_rate: data.avg_heart_rate,
            package_id: data.package.map(|p| p.package_id.into()),
            package_version: data.package.map(|p| p.package_version),
            notes: data.notes.clone(),
            sets: data.sets.clone(),
            kcal_estimated: data.kcal_estimated,
            created_at: DateTime::from_chrono(entry.created_at),
            updated_at: DateTime::from_chrono(entry.updated_at),
        }
    }

    fn from_doc(doc: WorkoutEntryDoc) -> Entry<Self> {
        Entry {
            id: doc.id.into(),
            user_id: doc.user_id.into(),
            local_date: doc.local_date,
            data: WorkoutData {
                started_at: doc.started_at.to_chrono(),
                activity: doc.activity,
                title: doc.title,
                duration_s: doc.duration_s,
                kcal_burned: doc.kcal_burned,
                effort: doc.effort,
                distance_km: doc.distance_km,
                avg_heart_rate: doc.avg_heart_rate,
                package: package_ref(doc.package_id, doc.package_version),
                notes: doc.notes,
                sets: doc.sets,
                kcal_estimated: doc.kcal_estimated,
            },
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BodyMetricDoc {
    #[serde(rename = "_id")]
    id: Uuid,
    user_id: Uuid,
    local_date: NaiveDate,
    position: String,
    measured_at: DateTime,
    /// Each value written as `null` when unknown, never left out: a partial update
    /// `$set`s the fields it encodes, and a value cleared must not stay behind.
    weight_kg: Option<WeightKg>,
    body_fat_pct: Option<BodyFatPct>,
    waist_cm: Option<GirthCm>,
    #[serde(default)]
    measurements: std::collections::BTreeMap<MeasurementName, GirthCm>,
    source: MetricSource,
    notes: Option<Notes>,
    created_at: DateTime,
    updated_at: DateTime,
}

impl EntryDocument for BodyMetricData {
    const COLLECTION: &'static str = super::collections::BODY_METRICS;
    const SUMMED: [Option<&'static str>; 4] = [None, None, None, None];
    const OPTIONAL_MACROS: &'static [&'static str] = &[];
    const WEIGHT: Option<&'static str> = Some("weight_kg");
    type Doc = BodyMetricDoc;

    fn to_doc(entry: &Entry<Self>) -> BodyMetricDoc {
        let data = &entry.data;
        BodyMetricDoc {
            id: entry.id.into(),
            user_id: entry.user_id.into(),
            local_date: entry.local_date,
            position: position_key(&entry.position()),
            measured_at: DateTime::from_chrono(data.measured_at),
            weight_kg: data.weight_kg,
            body_fat_pct: data.body_fat_pct,
            waist_cm: data.waist_cm,
            measurements: data.measurements.clone(),
            source: data.source,
            notes: data.notes.clone(),
            created_at: DateTime::from_chrono(entry.created_at),
            updated_at: DateTime::from_chrono(entry.updated_at),
        }
    }

    fn from_doc(doc: BodyMetricDoc) -> Entry<Self> {
        Entry {
            id: doc.id.into(),
            user_id: doc.user_id.into(),
            local_date: doc.local_date,
            data: BodyMetricData {
                measured_at: doc.measured_at.to_chrono(),
                weight_kg: doc.weight_kg,
                body_fat_pct: doc.body_fat_pct,
                waist_cm: doc.waist_cm,
                measurements: doc.measurements,
                source: doc.source,
                notes: doc.notes,
            },
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
        }
    }
}

fn package_ref(id: Option<Uuid>, version: Option<Version>) -> Option<PackageRef> {
    Some(PackageRef {
        package_id: id?.into(),
        package_version: version?,
    })
}

/// A food. `source_key` (`source|source id`) is set only on imported foods, whose
/// unique sparse index makes an import an upsert by source. `changed_at` orders
/// the feed of changes that search indexes follow; a deleted food leaves a
/// tombstone (`FoodTombstone`) in its place for a while.
#[derive(Debug, Serialize, Deserialize)]
pub struct FoodDoc {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub source: FoodSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<SourceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Uuid>,
    pub name: FoodName,
    #[serde(default)]
    pub other_names: Vec<FoodName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<FoodText>,
    #[serde(default)]
    pub barcodes: Vec<Barcode>,
    pub basis: Basis,
    pub nutrients: Nutrients,
    #[serde(default)]
    pub micronutrients: Vec<Micronutrient>,
    #[serde(default)]
    pub servings: Vec<Serving>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<RecipeDoc>,
    pub version: Version,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    pub changed_at: DateTime,
}

/// A recipe's parts, with the ingredients' ids as BSON UUIDs like every other id.
#[derive(Debug, Serialize, Deserialize)]
pub struct RecipeDoc {
    pub ingredients: Vec<IngredientDoc>,
    pub servings: ServingCount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooked_grams: Option<RecipeGrams>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct IngredientDoc {
    pub food_id: Uuid,
    pub food_version: Version,
    pub name: FoodText,
    pub grams: RecipeGrams,
}

impl From<&Recipe> for RecipeDoc {
    fn from(recipe: &Recipe) -> Self {
        Self {
            ingredients: recipe
                .ingredients
                .iter()
                .map(|part| IngredientDoc {
                    food_id: part.food_id.into(),
                    food_version: part.food_version,
                    name: part.name.clone(),
                    grams: part.grams,
                })
                .collect(),
            servings: recipe.servings,
            cooked_grams: recipe.cooked_grams,
        }
    }
}

impl From<RecipeDoc> for Recipe {
    fn from(doc: RecipeDoc) -> Self {
        Self {
            ingredients: doc
                .ingredients
                .into_iter()
                .map(|part| Ingredient {
                    food_id: part.food_id.into(),
                    food_version: part.food_version,
                    name: part.name,
                    grams: part.grams,
                })
                .collect(),
            servings: doc.servings,
            cooked_grams: doc.cooked_grams,
        }
    }
}

impl FoodDoc {
    pub fn new(food: &Food, changed_at: chrono::DateTime<chrono::Utc>) -> Self {
        let source_key = food
            .source_id
            .as_ref()
            .filter(|_| food.owner.is_none())
            .map(|source_id| food_source_key(food.source, source_id));
        Self {
            id: food.id.into(),
            source: food.source,
            source_id: food.source_id.clone(),
            source_key,
            owner: food.owner.map(Uuid::from),
            name: food.name.clone(),
            other_names: food.other_names.clone(),
            brand: food.brand.clone(),
            barcodes: food.barcodes.clone(),
            basis: food.basis,
            nutrients: food.nutrients.clone(),
            micronutrients: food.micronutrients.clone(),
            servings: food.servings.clone(),
            recipe: food.recipe.as_ref().map(RecipeDoc::from),
            version: food.version,
            created_at: DateTime::from_chrono(food.created_at),
            updated_at: DateTime::from_chrono(food.updated_at),
            changed_at: DateTime::from_chrono(changed_at),
        }
    }
}

impl From<FoodDoc> for Food {
    fn from(doc: FoodDoc) -> Self {
        Self {
            id: doc.id.into(),
            source: doc.source,
            source_id: doc.source_id,
            owner: doc.owner.map(uuid::Uuid::from),
            name: doc.name,
            other_names: doc.other_names,
            brand: doc.brand,
            barcodes: doc.barcodes,
            basis: doc.basis,
            nutrients: doc.nutrients,
            micronutrients: doc.micronutrients,
            servings: doc.servings,
            recipe: doc.recipe.map(Recipe::from),
            version: doc.version,
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
        }
    }
}

/// What an import matches on: the source and the id there, as one string.
pub fn food_source_key(source: FoodSource, source_id: &SourceId) -> String {
    format!("{}|{}", source.as_str(), source_id.as_str())
}

/// What is left of a deleted food: its id and when, until `deleted_at` expires.
#[derive(Debug, Serialize, Deserialize)]
pub struct FoodTombstone {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub deleted: bool,
    pub changed_at: DateTime,
    pub deleted_at: DateTime,
}
