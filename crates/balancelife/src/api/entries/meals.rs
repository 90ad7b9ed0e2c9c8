//! The meal entry's request and response shapes; the routes are in `entries`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::entries::{EntryResource, package_ref, patched_package, published_version};
use crate::api::http::error::{ApiError, ApiResult};
use crate::api::http::patch::{non_null, nullable, set};
use crate::domain::{
    ClientId, Entry, EntrySource, FoodRef, Grams, Kcal, MealData, MealSlot, Milligrams, Notes,
    Nutrition, PackageRef, Quantity, ServingLabel, Title, Unit, User, Version, to_millis,
};
use crate::store::{EntryStore, Optional, Store, StoreResult};

mod portion;
use portion::logged_from;

/// The body of `POST /meal-entries` and `PUT /meal-entries/{id}`: the meal's
/// numbers typed in, or `food` and a portion, from which the service works them
/// out.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MealEntryInput {
    id: Option<ClientId>,
    /// When it was eaten: from 2000-01-01 to one day from now.
    #[schema(example = "2026-11-20T12:30:00Z")]
    eaten_at: DateTime<Utc>,
    slot: MealSlot,
    /// Logged from a food: its name, the portion and the numbers come from it, so
    /// `quantity`, `unit`, `kcal` and the macros are left out (`name` may still
    /// say what it was).
    food: Option<FoodPortion>,
    /// Required unless `food` is given.
    name: Option<Title>,
    /// Required unless `food` is given.
    quantity: Option<Quantity>,
    /// Required unless `food` is given.
    unit: Option<Unit>,
    /// Required unless `food` is given.
    kcal: Option<Kcal>,
    /// Optional, like every macro: leave out (or send `null`) what is not known, as
    /// for a coffee logged by its calories alone. Unknown is not zero: summaries add
    /// what is known and count the entries that left a macro out.
    protein_g: Option<Grams>,
    carbs_g: Option<Grams>,
    fat_g: Option<Grams>,
    fiber_g: Option<Grams>,
    sugar_g: Option<Grams>,
    sodium_mg: Option<Milligrams>,
    /// Optional: it follows from `package_id` or `food`, and must agree with them
    /// when given.
    source: Option<EntrySource>,
    package_id: Option<Uuid>,
    package_version: Option<Version>,
    /// The food an exported entry was logged from, with its numbers typed in as
    /// exported: given together.
    food_id: Option<Uuid>,
    food_version: Option<Version>,
    /// The weight it was logged at, with `food_id`.
    food_grams: Option<Quantity>,
    notes: Option<Notes>,
}

/// A portion of a food: `grams` of it (millilitres for a drink), or `count` of one
/// of its servings.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FoodPortion {
    food_id: Uuid,
    grams: Option<Grams>,
    serving: Option<ServingPortion>,
}

/// `count` of the food's serving with this `label`, e.g. 2 of "1 slice".
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServingPortion {
    label: ServingLabel,
    count: Quantity,
}

/// The body of `PATCH /meal-entries/{id}`: absent fields stay, `null` clears.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MealEntryPatch {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    eaten_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    slot: Option<MealSlot>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    name: Option<Title>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    quantity: Option<Quantity>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    unit: Option<Unit>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    kcal: Option<Kcal>,
    /// `null` makes the macro unknown again.
    #[serde(default, deserialize_with = "nullable")]
    protein_g: Option<Option<Grams>>,
    #[serde(default, deserialize_with = "nullable")]
    carbs_g: Option<Option<Grams>>,
    #[serde(default, deserialize_with = "nullable")]
    fat_g: Option<Option<Grams>>,
    #[serde(default, deserialize_with = "nullable")]
    fiber_g: Option<Option<Grams>>,
    #[serde(default, deserialize_with = "nullable")]
    sugar_g: Option<Option<Grams>>,
    #[serde(default, deserialize_with = "nullable")]
    sodium_mg: Option<Option<Milligrams>>,
    #[serde(default, deserialize_with = "nullable")]
    package_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    package_version: Option<Option<Version>>,
    #[serde(default, deserialize_with = "nullable")]
    notes: Option<Option<Notes>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MealEntryView {
    id: Uuid,
    user_id: Uuid,
    eaten_at: DateTime<Utc>,
    local_date: NaiveDate,
    slot: MealSlot,
    name: Title,
    quantity: Quantity,
    unit: Unit,
    kcal: Kcal,
    /// `null` when not known.
    #[schema(required = true)]
    protein_g: Option<Grams>,
    #[schema(required = true)]
    carbs_g: Option<Grams>,
    #[schema(required = true)]
    fat_g: Option<Grams>,
    #[schema(required = true)]
    fiber_g: Option<Grams>,
    #[schema(required = true)]
    sugar_g: Option<Grams>,
    #[schema(required = true)]
    sodium_mg: Option<Milligrams>,
    source: EntrySource,
    #[schema(required = true)]
    package_id: Option<Uuid>,
    #[schema(required = true)]
    package_version: Option<Version>,
    /// The food it was logged from, and that food's version then.
    #[schema(required = true)]
    food_id: Option<Uuid>,
    #[schema(required = true)]
    food_version: Option<Version>,
    /// The weight of the food logged (millilitres for a drink), when known.
    #[schema(required = true)]
    food_grams: Option<Quantity>,
    #[schema(required = true)]
    notes: Option<Notes>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The source an entry has: from a package exactly when it names one, from a food
/// exactly when it names one (never both).
pub fn source_of(
    package: Option<PackageRef>,
    food: Option<FoodRef>,
    claimed: Option<EntrySource>,
) -> ApiResult<EntrySource> {
    let source = match (package, food) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "food_id",
                "an entry comes from a package or from a food, not both",
            ));
        }
        (Some(_), None) => EntrySource::Package,
        (None, Some(_)) => EntrySource::Food,
        (None, None) => EntrySource::Manual,
    };
    match claimed {
        Some(claimed) if claimed != source => Err(ApiError::invalid(
            "source",
            "must be \"package\" exactly when package_id is given, \"food\" exactly when \
             a food is",
        )),
        _ => Ok(source),
    }
}

/// `food_id` and `food_version`, given together or not at all, and `food_grams`
/// only with them.
fn food_ref(
    food_id: Option<Uuid>,
    food_version: Option<Version>,
    grams: Option<Quantity>,
) -> ApiResult<Option<FoodRef>> {
    match (food_id, food_version) {
        (None, None) if grams.is_some() => Err(ApiError::invalid(
            "food_grams",
            "is given only with food_id and food_version",
        )),
        (None, None) => Ok(None),
        (Some(food_id), Some(food_version)) => Ok(Some(FoodRef {
            food_id,
            food_version,
            grams,
        })),
        (Some(_), None) => Err(ApiError::invalid(
            "food_version",
            "is required with food_id",
        )),
        (None, Some(_)) => Err(ApiError::invalid(
            "food_id",
            "is required with food_version",
        )),
    }
}

#[async_trait]
impl EntryResource for MealData {
    const NOUN: &'static str = "meal entry";
    const COLLECTION_PATH: &'static str = "/api/v1/meal-entries";
    const OCCURRED_AT_FIELD: &'static str = "eaten_at";
    type Input = MealEntryInput;
    type Patch = MealEntryPatch;
    type View = MealEntryView;

    fn entries(store: &dyn Store) -> &dyn EntryStore<Self> {
        store.meal_entries()
    }

    fn from_input(input: MealEntryInput) -> ApiResult<(Option<ClientId>, Self)> {
        if input.food.is_some() {
            // Only `resolve`, with the store, can read the food.
            return Err(ApiError::invalid(
                "food",
                "is taken when logging a meal, not here",
            ));
        }
        let required = |field: &str| ApiError::invalid(field, "is required unless `food` is given");
        let package = package_ref(input.package_id, input.package_version)?;
        let food = food_ref(input.food_id, input.food_version, input.food_grams)?;
        let data = MealData {
            eaten_at: to_millis(input.eaten_at),
            slot: input.slot,
            name: input.name.ok_or_else(|| required("name"))?,
            quantity: input.quantity.ok_or_else(|| required("quantity"))?,
            unit: input.unit.ok_or_else(|| required("unit"))?,
            nutrition: Nutrition {
                kcal: input.kcal.ok_or_else(|| required("kcal"))?,
                protein_g: input.protein_g,
                carbs_g: input.carbs_g,
                fat_g: input.fat_g,
                fiber_g: input.fiber_g,
                sugar_g: input.sugar_g,
                sodium_mg: input.sodium_mg,
            },
            source: source_of(package, food, input.source)?,
            package,
            food,
            notes: input.notes,
        };
        Ok((input.id, data))
    }

    async fn resolve(
        store: &dyn Store,
        user: &User,
        mut input: MealEntryInput,
    ) -> ApiResult<(Option<ClientId>, Self)> {
        let Some(portion) = input.food.take() else {
            return Self::from_input(input);
        };
        let typed = [
            ("quantity", input.quantity.is_some()),
            ("unit", input.unit.is_some()),
            ("kcal", input.kcal.is_some()),
            ("protein_g", input.protein_g.is_some()),
            ("carbs_g", input.carbs_g.is_some()),
            ("fat_g", input.fat_g.is_some()),
            ("fiber_g", input.fiber_g.is_some()),
            ("sugar_g", input.sugar_g.is_some()),
            ("sodium_mg", input.sodium_mg.is_some()),
            ("package_id", input.package_id.is_some()),
            ("package_version", input.package_version.is_some()),
            ("food_id", input.food_id.is_some()),
            ("food_version", input.food_version.is_some()),
            ("food_grams", input.food_grams.is_some()),
        ];
        if let Some((field, _)) = typed.iter().find(|(_, given)| *given) {
            return Err(ApiError::invalid(
                *field,
                "is worked out from `food`: leave it out",
            ));
        }
        let food = store
            .foods()
            .get(portion.food_id)
            .await
            .optional()?
            .filter(|food| food.visible_to(Some(user.id)))
            .ok_or_else(|| ApiError::invalid("food.food_id", "is not a food you can see"))?;
        let logged = logged_from(&food, &portion)?;
        let data = MealData {
            eaten_at: to_millis(input.eaten_at),
            slot: input.slot,
            name: input.name.unwrap_or(logged.name),
            quantity: logged.quantity,
            unit: logged.unit,
            nutrition: logged.nutrition,
            source: source_of(None, Some(logged.food), input.source)?,
            package: None,
            food: Some(logged.food),
            notes: input.notes,
        };
        Ok((input.id, data))
    }

    fn apply_patch(&mut self, patch: MealEntryPatch) -> ApiResult<()> {
        let portion_changed = patch.quantity.is_some() || patch.unit.is_some();
        let n = &mut self.nutrition;
        set(&mut self.eaten_at, patch.eaten_at.map(to_millis));
        set(&mut self.slot, patch.slot);
        set(&mut self.name, patch.name);
        set(&mut self.quantity, patch.quantity);
        set(&mut self.unit, patch.unit);
        set(&mut n.kcal, patch.kcal);
        set(&mut n.protein_g, patch.protein_g);
        set(&mut n.carbs_g, patch.carbs_g);
        set(&mut n.fat_g, patch.fat_g);
        set(&mut n.fiber_g, patch.fiber_g);
        set(&mut n.sugar_g, patch.sugar_g);
        set(&mut n.sodium_mg, patch.sodium_mg);
        set(&mut self.notes, patch.notes);
        self.package = patched_package(self.package, patch.package_id, patch.package_version)?;
        self.source = source_of(self.package, self.food, None)?;
        if portion_changed && let Some(food) = &mut self.food {
            // A portion typed over: its weight is known only when it is one.
            food.grams = matches!(self.unit, Unit::G | Unit::Ml).then_some(self.quantity);
        }
        Ok(())
    }

    async fn package_version(store: &dyn Store, id: Uuid) -> StoreResult<Option<Version>> {
        published_version(store.meal_packages().get(id).await, |p| p.version)
    }

    fn view(entry: Entry<Self>) -> MealEntryView {
        let Entry {
            id,
            user_id,
            local_date,
            data,
            created_at,
            updated_at,
        } = entry;
        MealEntryView {
            id,
            user_id,
            eaten_at: data.eaten_at,
            local_date,
            slot: data.slot,
            name: data.name,
            quantity: data.quantity,
            unit: data.unit,
            kcal: data.nutrition.kcal,
            protein_g: data.nutrition.protein_g,
            carbs_g: data.nutrition.carbs_g,
            fat_g: data.nutrition.fat_g,
            fiber_g: data.nutrition.fiber_g,
            sugar_g: data.nutrition.sugar_g,
            sodium_mg: data.nutrition.sodium_mg,
            source: data.source,
            package_id: data.package.map(|p| p.package_id),
            package_version: data.package.map(|p| p.package_version),
            food_id: data.food.map(|f| f.food_id),
            food_version: data.food.map(|f| f.food_version),
            food_grams: data.food.and_then(|f| f.grams),
            notes: data.notes,
            created_at,
            updated_at,
        }
    }
}

crate::api::entries::entry_endpoints! {
    data: MealData,
    input: MealEntryInput,
    patch: MealEntryPatch,
    view: MealEntryView,
    collection: "/api/v1/meal-entries",
    item: "/api/v1/meal-entries/{id}",
    tag: "meal entries",
    singular: "meal_entry",
    plural: "meal_entries",
}
