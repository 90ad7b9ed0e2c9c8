//! What the food endpoints take and answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::http::error::{ApiError, ApiResult};
use crate::domain::{
    Barcode, Basis, ClientId, Food, FoodName, FoodSource, FoodText, LanguageTag, Licence,
    Micronutrient, Nutrients, Serving, SourceId, Version,
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
            version: Version::try_from(1_i64).expect("1 is a version"),
            created_at: now,
            updated_at: now,
        };
        food.normalize();
        food.check().map_err(|invalid| {
            let field = invalid.0.split(':').next().unwrap_or("food").to_owned();
            ApiError::invalid(field, invalid.0)
        })?;
        Ok(food)
    }
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
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The licence of its source, and the attribution it asks for.
    pub licence: Licence,
}

impl FoodView {
    pub fn of(food: Food, viewer: Uuid) -> Self {
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
