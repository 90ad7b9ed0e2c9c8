//! The starter food set: common generic foods with their values as USDA FoodData
//! Central publishes them (Foundation Foods and SR Legacy, public domain), each
//! under its FDC id. Where the files come from and how they were checked is in
//! `crates/balancelife/sample/USDA.md`; the values are never estimated.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::{
    Basis, Food, FoodName, FoodSource, Grams, GramsPer100, KcalPer100, LanguageTag,
    MilligramsPer100, Nutrients, Serving, Version,
};
use crate::store::foods::{ImportCounts, MAX_IMPORT_BATCH};
use crate::store::{Store, StoreError, StoreResult};

const FOODS: &str = include_str!("../../sample/usda-foods.csv");
const PORTIONS: &str = include_str!("../../sample/usda-portions.csv");

#[derive(Deserialize)]
struct FoodRow {
    fdc_id: u32,
    description: String,
    energy_kcal: Option<f64>,
    protein_g: Option<f64>,
    carbohydrate_g: Option<f64>,
    fat_g: Option<f64>,
    fiber_g: Option<f64>,
    sugars_g: Option<f64>,
    saturated_fat_g: Option<f64>,
    sodium_mg: Option<f64>,
}

#[derive(Deserialize)]
struct PortionRow {
    fdc_id: u32,
    label: String,
    grams: f64,
}

/// The starter foods, as of `now` for a first load.
pub fn starter_foods(now: DateTime<Utc>) -> Result<Vec<Food>, String> {
    let mut servings: HashMap<u32, Vec<Serving>> = HashMap::new();
    for row in csv::Reader::from_reader(PORTIONS.as_bytes()).deserialize::<PortionRow>() {
        let row = row.map_err(|e| format!("usda-portions.csv: {e}"))?;
        let serving = Serving {
            label: row
                .label
                .as_str()
                .try_into()
                .map_err(|e| format!("portion {}: {e}", row.fdc_id))?,
            grams: Grams::try_from(row.grams)
                .map_err(|e| format!("portion {}: {e}", row.fdc_id))?,
        };
        servings.entry(row.fdc_id).or_default().push(serving);
    }
    let mut foods = Vec::new();
    for row in csv::Reader::from_reader(FOODS.as_bytes()).deserialize::<FoodRow>() {
        let row = row.map_err(|e| format!("usda-foods.csv: {e}"))?;
        foods.push(food_of(
            &row,
            servings.remove(&row.fdc_id).unwrap_or_default(),
            now,
        )?);
    }
    Ok(foods)
}

fn food_of(row: &FoodRow, servings: Vec<Serving>, now: DateTime<Utc>) -> Result<Food, String> {
    let wrong = |field: &str, error: crate::domain::InvalidValue| {
        format!("FDC {} {field}: {error}", row.fdc_id)
    };
    let grams = |field: &str, value: Option<f64>| {
        value
            .map(GramsPer100::try_from)
            .transpose()
            .map_err(|e| wrong(field, e))
    };
    let source_id = row.fdc_id.to_string();
    Ok(Food {
        // The same FDC id gets the same id in every store.
        id: super::fixed_wide_id(super::NS_STARTER_FOOD, row.fdc_id),
        source: FoodSource::Usda,
        source_id: Some(source_id.as_str().try_into().map_err(|e| wrong("id", e))?),
        owner: None,
        name: FoodName {
            text: row
                .description
                .as_str()
                .try_into()
                .map_err(|e| wrong("description", e))?,
            lang: LanguageTag::english(),
        },
        other_names: Vec::new(),
        brand: None,
        barcodes: Vec::new(),
        basis: Basis::Per100G,
        nutrients: Nutrients {
            energy_kcal: row
                .energy_kcal
                .map(KcalPer100::try_from)
                .transpose()
                .map_err(|e| wrong("energy", e))?,
            protein_g: grams("protein", row.protein_g)?,
            carbs_g: grams("carbohydrate", row.carbohydrate_g)?,
            fat_g: grams("fat", row.fat_g)?,
            fiber_g: grams("fiber", row.fiber_g)?,
            sugars_g: grams("sugars", row.sugars_g)?,
            saturated_fat_g: grams("saturated fat", row.saturated_fat_g)?,
            sodium_mg: row
                .sodium_mg
                .map(MilligramsPer100::try_from)
                .transpose()
                .map_err(|e| wrong("sodium", e))?,
        },
        micronutrients: Vec::new(),
        servings,
        recipe: None,
        version: Version::try_from(1_i64).expect("1 is a version"),
        created_at: now,
        updated_at: now,
    })
}

/// Imports the starter foods: a store that has them already is left as it is.
pub async fn load_starter_foods(
    store: &dyn Store,
    now: DateTime<Utc>,
) -> StoreResult<ImportCounts> {
    let foods = starter_foods(now).map_err(StoreError::internal)?;
    let mut counts = ImportCounts::default();
    for batch in foods.chunks(MAX_IMPORT_BATCH) {
        counts.add(store.foods().import(batch.to_vec()).await?);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn every_starter_food_is_valid_and_known_values_are_as_published() {
        let foods = starter_foods(crate::domain::now()).unwrap();
        assert!(foods.len() >= 300, "{}", foods.len());
        let banana = foods
            .iter()
            .find(|food| {
                food.source_id
                    .as_ref()
                    .is_some_and(|id| id.as_str() == "173944")
            })
            .expect("SR Legacy 'Bananas, raw'");
        assert_eq!(banana.name.text.as_str(), "Bananas, raw");
        let nutrients = &banana.nutrients;
        assert_eq!(nutrients.energy_kcal.map(KcalPer100::get), Some(89.0));
        assert_eq!(nutrients.protein_g.map(GramsPer100::get), Some(1.09));
        assert_eq!(nutrients.carbs_g.map(GramsPer100::get), Some(22.84));
        assert_eq!(nutrients.fat_g.map(GramsPer100::get), Some(0.33));
        assert!(!banana.servings.is_empty());
        let mut ids: Vec<Uuid> = foods.iter().map(|food| food.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), foods.len(), "one id per FDC id");
    }
}
