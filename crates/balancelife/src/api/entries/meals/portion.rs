//! A meal logged from a food: the portion in grams, the numbers that portion has.

use super::FoodPortion;
use crate::api::http::error::{ApiError, ApiResult};
use crate::domain::{
    Basis, Food, FoodRef, Grams, Kcal, Milligrams, Nutrition, Quantity, Title, Unit, to_tenth,
};

/// What a meal logged from a food takes from it.
pub struct Logged {
    pub name: Title,
    pub quantity: Quantity,
    pub unit: Unit,
    pub nutrition: Nutrition,
    pub food: FoodRef,
}

/// `portion` of `food`: by weight (millilitres for a drink), or a count of one of
/// its servings. Energy must be known; every other nutrient the food leaves unknown
/// stays unknown.
pub fn logged_from(food: &Food, portion: &FoodPortion) -> ApiResult<Logged> {
    let (grams, quantity, unit) = match (&portion.grams, &portion.serving) {
        (Some(grams), None) => {
            let unit = match food.basis {
                Basis::Per100G => Unit::G,
                Basis::Per100Ml => Unit::Ml,
            };
            let quantity = Quantity::try_from(grams.get())
                .map_err(|invalid| ApiError::invalid("food.grams", invalid.0))?;
            (grams.get(), quantity, unit)
        }
        (None, Some(serving)) => {
            let known = food
                .servings
                .iter()
                .find(|known| known.label == serving.label)
                .ok_or_else(|| {
                    ApiError::invalid("food.serving.label", "is not one of the food's servings")
                })?;
            (
                known.grams.get() * serving.count.get(),
                serving.count,
                Unit::Serving,
            )
        }
        _ => {
            return Err(ApiError::invalid(
                "food",
                "takes `grams` or `serving`, one of the two",
            ));
        }
    };
    let share = grams / 100.0;
    let nutrients = &food.nutrients;
    let energy = nutrients.energy_kcal.ok_or_else(|| {
        ApiError::invalid(
            "food.food_id",
            "this food's energy is not known: log the meal with its calories typed in",
        )
    })?;
    let kcal = Kcal::try_from(to_tenth(energy.get() * share)).map_err(|invalid| {
        ApiError::invalid("food", format!("the portion's energy {}", invalid.0))
    })?;
    let grams_of = |per_100: Option<f64>, field: &str| -> ApiResult<Option<Grams>> {
        per_100
            .map(|value| Grams::try_from(to_tenth(value * share)))
            .transpose()
            .map_err(|invalid| {
                ApiError::invalid("food", format!("the portion's {field} {}", invalid.0))
            })
    };
    let nutrition = Nutrition {
        kcal,
        protein_g: grams_of(nutrients.protein_g.map(|g| g.get()), "protein")?,
        carbs_g: grams_of(nutrients.carbs_g.map(|g| g.get()), "carbohydrate")?,
        fat_g: grams_of(nutrients.fat_g.map(|g| g.get()), "fat")?,
        fiber_g: grams_of(nutrients.fiber_g.map(|g| g.get()), "fibre")?,
        sugar_g: grams_of(nutrients.sugars_g.map(|g| g.get()), "sugars")?,
        sodium_mg: nutrients
            .sodium_mg
            .map(|mg| Milligrams::try_from(to_tenth(mg.get() * share)))
            .transpose()
            .map_err(|invalid| {
                ApiError::invalid("food", format!("the portion's sodium {}", invalid.0))
            })?,
    };
    Ok(Logged {
        // A food's name may be longer than an entry's (200 characters against 120).
        name: Title::cut(food.name.text.as_str())
            .map_err(|invalid| ApiError::invalid("name", invalid.0))?,
        quantity,
        unit,
        nutrition,
        food: FoodRef {
            food_id: food.id,
            food_version: food.version,
            // Past the largest quantity only for a silly count of servings.
            grams: Quantity::try_from(grams).ok(),
        },
    })
}
