//! What the food endpoints take and answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::http::error::{ApiError, ApiResult};
use crate::domain::{
    Barcode, Basis, ClientId, Food, FoodName, FoodSource, FoodText, GramsPer100, Ingredient,
    InvalidValue, KcalPer100, LanguageTag, Licence, Micronutrient, MilligramsPer100, Nutrients,
    Recipe, RecipeGrams, Serving, ServingCount, SourceId, Version, to_tenth,
};

/// A food's name, as sent: its language defaults to English.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameInput {
    pub text: FoodText,
    #[serde(default)]
    pub lang: Option<LanguageTag>,
}

impl From<NameInput> for FoodName {
    fn from(input: NameInput) -> Self {
        Self {
            text: input.text,
            lang: input.lang.unwrap_or_else(LanguageTag::english),
        }
    }
}

/// A food as a user (or an admin, for everyone) writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FoodInput {
    /// A client-made id (any RFC 9562 UUID), so sending it again is harmless.
    #[serde(default)]
    pub id: Option<ClientId>,
    pub name: NameInput,
    #[serde(default)]
    pub other_names: Vec<NameInput>,
    #[serde(default)]
    pub brand: Option<FoodText>,
    /// EAN-13, EAN-8 or UPC-A codes, each with its check digit.
    #[serde(default)]
    pub barcodes: Vec<Barcode>,
    /// What the nutrients are per; `per100_g` unless said.
    #[serde(default)]
    pub basis: Option<Basis>,
    /// Per 100 g (or ml). Leave out what you do not know: unknown is not zero.
    #[serde(deserialize_with = "crate::api::http::extract::object")]
    pub nutrients: Nutrients,
    #[serde(default)]
    pub micronutrients: Vec<Micronutrient>,
    /// Household measures, e.g. `{"label": "1 slice", "grams": 28}`.
    #[serde(default)]
    pub servings: Vec<Serving>,
    /// Admins only: publish it for everyone (as an `admin` food) rather than
    /// keeping it private.
    #[serde(default)]
    pub public: bool,
}

impl FoodInput {
    /// The food this input describes, stored under `id` for `author`.
    pub fn into_food(self, id: Uuid, author: Uuid, now: DateTime<Utc>) -> ApiResult<Food> {
        let (source, owner) = if self.public {
            (FoodSource::Admin, None)
        } else {
            (FoodSource::User, Some(author))
        };
        let mut food = Food {
            id,
            source,
            source_id: None,
            owner,
            name: self.name.into(),
            other_names: self.other_names.into_iter().map(FoodName::from).collect(),
            brand: self.brand,
            barcodes: self.barcodes,
            basis: self.basis.unwrap_or(Basis::Per100G),
            nutrients: self.nutrients,
            micronutrients: self.micronutrients,
            servings: self.servings,
            recipe: None,
            version: Version::try_from(1_i64).expect("1 is a version"),
            created_at: now,
            updated_at: now,
        };
        food.normalize();
        food.check().map_err(refused)?;
        Ok(food)
    }
}

/// A food or recipe the domain refused, as a 422 naming the field its message
/// starts with (`servings: at most 64 per food`).
pub fn refused(invalid: InvalidValue) -> ApiError {
    let field = invalid.0.split(':').next().unwrap_or("food").to_owned();
    ApiError::invalid(field, invalid.0)
}

/// A food as every food endpoint answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoodView {
    pub id: Uuid,
    pub source: FoodSource,
    /// Its id in its source database (an FDC id, an Open Food Facts code).
    #[schema(required = true)]
    pub source_id: Option<SourceId>,
    /// Whether it is the caller's own, private food.
    pub mine: bool,
    pub name: FoodName,
    pub other_names: Vec<FoodName>,
    #[schema(required = true)]
    pub brand: Option<FoodText>,
    pub barcodes: Vec<Barcode>,
    pub basis: Basis,
    pub nutrients: Nutrients,
    pub micronutrients: Vec<Micronutrient>,
    pub servings: Vec<Serving>,
    /// What it is made of, when it is a recipe.
    #[schema(required = true)]
    pub recipe: Option<RecipeView>,
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The licence of its source, and the attribution it asks for.
    pub licence: Licence,
}

impl FoodView {
    pub fn of(food: Food, viewer: Uuid) -> Self {
        let recipe = food
            .recipe
            .map(|recipe| RecipeView::of(recipe, &food.nutrients));
        Self {
            mine: food.owner == Some(viewer),
            licence: food.source.licence(),
            id: food.id,
            source: food.source,
            source_id: food.source_id,
            name: food.name,
            other_names: food.other_names,
            brand: food.brand,
            barcodes: food.barcodes,
            basis: food.basis,
            nutrients: food.nutrients,
            micronutrients: food.micronutrients,
            servings: food.servings,
            recipe,
            version: food.version,
            created_at: food.created_at,
            updated_at: food.updated_at,
        }
    }
}

/// A search as the user types it.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FoodSearchQuery {
    /// Words of the name or brand, in any order; the last may be unfinished, and
    /// one typo is forgiven in words of five letters or more.
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    /// Only foods from this source.
    #[param(inline)]
    pub source: Option<FoodSource>,
    /// Only foods of this brand (case and accents aside).
    #[param(max_length = 200)]
    pub brand: Option<String>,
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 512)]
    pub cursor: Option<String>,
}

/// A recipe's parts, and what one serving of it holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecipeView {
    pub ingredients: Vec<Ingredient>,
    pub servings: ServingCount,
    #[schema(required = true)]
    pub cooked_grams: Option<RecipeGrams>,
    /// The weight the nutrients per 100 g are of: the cooked weight, else the raw
    /// ingredients'.
    pub total_grams: f64,
    /// One serving's weight, also listed among the food's servings as "1 serving".
    pub serving_grams: f64,
    /// What one serving holds; a nutrient stays out when an ingredient does not
    /// say it.
    pub per_serving: NutrientAmounts,
}

/// Amounts of a portion (not per 100 g): kilocalories, grams, sodium in mg.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct NutrientAmounts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_kcal: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protein_g: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carbs_g: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fat_g: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fiber_g: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sugars_g: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saturated_fat_g: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sodium_mg: Option<f64>,
}

impl NutrientAmounts {
    /// What `grams` of a food with `per_100` hold, to a tenth.
    pub fn of(per_100: &Nutrients, grams: f64) -> Self {
        // As a logged portion works it out (`entries::meals::portion`), so the two agree.
        let share = grams / 100.0;
        let part = |value: Option<f64>| value.map(|value| to_tenth(value * share));
        Self {
            energy_kcal: part(per_100.energy_kcal.map(KcalPer100::get)),
            protein_g: part(per_100.protein_g.map(GramsPer100::get)),
            carbs_g: part(per_100.carbs_g.map(GramsPer100::get)),
            fat_g: part(per_100.fat_g.map(GramsPer100::get)),
            fiber_g: part(per_100.fiber_g.map(GramsPer100::get)),
            sugars_g: part(per_100.sugars_g.map(GramsPer100::get)),
            saturated_fat_g: part(per_100.saturated_fat_g.map(GramsPer100::get)),
            sodium_mg: part(per_100.sodium_mg.map(MilligramsPer100::get)),
        }
    }
}

impl RecipeView {
    pub fn of(recipe: Recipe, per_100: &Nutrients) -> Self {
        let serving_grams = to_tenth(recipe.serving_grams());
        Self {
            total_grams: to_tenth(recipe.weight()),
            // Of the serving as listed (to a tenth of a gram), so that logging one
            // serving says exactly this.
            per_serving: NutrientAmounts::of(per_100, serving_grams),
            serving_grams,
            ingredients: recipe.ingredients,
            servings: recipe.servings,
            cooked_grams: recipe.cooked_grams,
        }
    }
}
