//! The meal entry's request and response shapes; the routes are in `entries`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::entries::{EntryResource, package_ref, patched_package, published_version};
use crate::api::http::error::{ApiError, ApiResult};
use crate::api::http::patch::{non_null, nullable, set};
use crate::domain::{
    ClientId, Entry, EntrySource, Grams, Kcal, MealData, MealSlot, Milligrams, Notes, Nutrition,
    PackageRef, Quantity, Title, Unit, Version, to_millis,
};
use crate::store::{EntryStore, Store, StoreResult};

/// The body of `POST /meal-entries` and `PUT /meal-entries/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MealEntryInput {
    id: Option<ClientId>,
    /// When it was eaten: from 2000-01-01 to one day from now.
    #[schema(example = "2026-11-20T12:30:00Z")]
    eaten_at: DateTime<Utc>,
    slot: MealSlot,
    name: Title,
    quantity: Quantity,
    unit: Unit,
    kcal: Kcal,
    /// Optional, like every macro: leave out (or send `null`) what is not known, as
    /// for a coffee logged by its calories alone. Unknown is not zero: summaries add
    /// what is known and count the entries that left a macro out.
    protein_g: Option<Grams>,
    carbs_g: Option<Grams>,
    fat_g: Option<Grams>,
    fiber_g: Option<Grams>,
    sugar_g: Option<Grams>,
    sodium_mg: Option<Milligrams>,
    /// Optional: it follows from `package_id`, and must agree with it when given.
    source: Option<EntrySource>,
    package_id: Option<Uuid>,
    package_version: Option<Version>,
    notes: Option<Notes>,
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
    #[schema(required = true)]
    notes: Option<Notes>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The source an entry has: from a package exactly when it names one.
pub fn source_of(
    package: Option<PackageRef>,
    claimed: Option<EntrySource>,
) -> ApiResult<EntrySource> {
    let source = if package.is_some() {
        EntrySource::Package
    } else {
        EntrySource::Manual
    };
    match claimed {
        Some(claimed) if claimed != source => Err(ApiError::invalid(
            "source",
            "must be \"package\" exactly when package_id is given",
        )),
        _ => Ok(source),
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
        let package = package_ref(input.package_id, input.package_version)?;
        let data = MealData {
            eaten_at: to_millis(input.eaten_at),
            slot: input.slot,
            name: input.name,
            quantity: input.quantity,
            unit: input.unit,
            nutrition: Nutrition {
                kcal: input.kcal,
                protein_g: input.protein_g,
                carbs_g: input.carbs_g,
                fat_g: input.fat_g,
                fiber_g: input.fiber_g,
                sugar_g: input.sugar_g,
                sodium_mg: input.sodium_mg,
            },
            source: source_of(package, input.source)?,
            package,
            notes: input.notes,
        };
        Ok((input.id, data))
    }

    fn apply_patch(&mut self, patch: MealEntryPatch) -> ApiResult<()> {
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
        self.source = source_of(self.package, None)?;
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
