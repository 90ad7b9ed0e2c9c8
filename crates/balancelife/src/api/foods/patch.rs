//! `PATCH /foods/{id}`: a change to some of a food's fields, so a client fixing a
//! typo or one nutrient need not send the whole food back, and so two clients
//! changing different fields do not undo each other. The write is conditional on
//! the revision this request read, so a change made in between is never lost; a
//! patch names only its fields, and leaves the others as the latest writer left
//! them.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::inputs::{FoodView, NameInput};
use super::{Created, may_change, not_a_recipe, replace_checked, visible};
use crate::api::account::auth::AuthUser;
use crate::api::http::error::{ApiResult, ErrorBody};
use crate::api::http::extract::{PathId, ValidJson};
use crate::api::http::patch::{non_null, nullable, set};
use crate::api::http::state::SharedState;
use crate::domain::{
    Barcode, Basis, Food, FoodName, FoodText, GramsPer100, KcalPer100, Micronutrient,
    MilligramsPer100, Nutrients, Serving,
};

/// The fields to change: absent ones stay, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FoodPatch {
    #[serde(
        default,
        deserialize_with = "crate::api::http::extract::object_or_absent"
    )]
    #[schema(nullable = false)]
    name: Option<NameInput>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    other_names: Option<Vec<NameInput>>,
    #[serde(default, deserialize_with = "nullable")]
    brand: Option<Option<FoodText>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    barcodes: Option<Vec<Barcode>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    basis: Option<Basis>,
    /// Nutrient by nutrient: one given replaces it, `null` makes it unknown, one
    /// left out stays.
    #[serde(
        default,
        deserialize_with = "crate::api::http::extract::object_or_absent"
    )]
    #[schema(nullable = false)]
    nutrients: Option<NutrientsPatch>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    micronutrients: Option<Vec<Micronutrient>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    servings: Option<Vec<Serving>>,
}

/// Nutrients per 100 g (or ml) to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NutrientsPatch {
    #[serde(default, deserialize_with = "nullable")]
    energy_kcal: Option<Option<KcalPer100>>,
    #[serde(default, deserialize_with = "nullable")]
    protein_g: Option<Option<GramsPer100>>,
    #[serde(default, deserialize_with = "nullable")]
    carbs_g: Option<Option<GramsPer100>>,
    #[serde(default, deserialize_with = "nullable")]
    fat_g: Option<Option<GramsPer100>>,
    #[serde(default, deserialize_with = "nullable")]
    fiber_g: Option<Option<GramsPer100>>,
    #[serde(default, deserialize_with = "nullable")]
    sugars_g: Option<Option<GramsPer100>>,
    #[serde(default, deserialize_with = "nullable")]
    saturated_fat_g: Option<Option<GramsPer100>>,
    #[serde(default, deserialize_with = "nullable")]
    sodium_mg: Option<Option<MilligramsPer100>>,
}

impl NutrientsPatch {
    fn apply(self, n: &mut Nutrients) {
        set(&mut n.energy_kcal, self.energy_kcal);
        set(&mut n.protein_g, self.protein_g);
        set(&mut n.carbs_g, self.carbs_g);
        set(&mut n.fat_g, self.fat_g);
        set(&mut n.fiber_g, self.fiber_g);
        set(&mut n.sugars_g, self.sugars_g);
        set(&mut n.saturated_fat_g, self.saturated_fat_g);
        set(&mut n.sodium_mg, self.sodium_mg);
    }
}

impl FoodPatch {
    fn apply(self, food: &mut Food) {
        set(&mut food.name, self.name.map(FoodName::from));
        set(
            &mut food.other_names,
            self.other_names
                .map(|names| names.into_iter().map(FoodName::from).collect()),
        );
        set(&mut food.brand, self.brand);
        set(&mut food.barcodes, self.barcodes);
        set(&mut food.basis, self.basis);
        if let Some(nutrients) = self.nutrients {
            nutrients.apply(&mut food.nutrients);
        }
        set(&mut food.micronutrients, self.micronutrients);
        set(&mut food.servings, self.servings);
        food.normalize();
    }
}

/// Changes some of a food's fields.
///
/// As for `PUT`, new content is a new version, and entries logged from the old one
/// keep theirs. A recipe is changed through `/recipes/{id}`.
#[utoipa::path(
    patch,
    path = "/api/v1/foods/{id}",
    tag = "foods",
    operation_id = "patch_food",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The food's id")),
    request_body = FoodPatch,
    responses(
        (status = 200, description = "Changed, or already so", body = FoodView,
            headers(("location" = String, description = "The food's URL"))),
        (status = 403, description = "Not the caller's to change", body = ErrorBody),
        (status = 404, description = "No such food the caller may see", body = ErrorBody),
        (status = 409, description = "Changed concurrently, or a recipe", body = ErrorBody),
    )
)]
pub async fn patch(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    ValidJson(patch): ValidJson<FoodPatch>,
) -> ApiResult<Created> {
    let stored = visible(&state, &user, id).await?;
    may_change(&user, &stored)?;
    not_a_recipe(&stored)?;
    let mut food = stored.clone();
    patch.apply(&mut food);
    food.check().map_err(super::inputs::refused)?;
    food.updated_at = crate::domain::now();
    replace_checked(&state, &user, food, stored).await
}
