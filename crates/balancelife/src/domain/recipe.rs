//! Recipes: a food made of other foods. A recipe is stored as one of its author's
//! foods, so search, logging by grams or servings, versions and the caches treat
//! it as any other; this part says what it is made of and works out its numbers.
//!
//! Its nutrients per 100 g are the ingredients' amounts added up and divided by the
//! recipe's weight: the cooked weight when the author weighed the pot (water boils
//! off, so 100 g of cooked stew holds more than 100 g of its raw parts), else the
//! raw ingredients' weight. A nutrient is known only when every ingredient knows
//! it: an unknown is not a zero, and adding the known part would understate it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::nutrients::{
    Amount, GramsPer100, KcalPer100, MicroUnit, Micronutrient, MilligramsPer100, Nutrients,
    Serving, ServingLabel,
};
use super::values::{Grams, InvalidValue, Text, Version, to_tenth};

crate::domain::values::bounded_f64!(
    /// An ingredient's amount or a recipe's cooked weight, in grams (millilitres for
    /// a drink, counted as grams in the recipe's weight).
    RecipeGrams,
    0.1,
    50_000.0
);
crate::domain::values::bounded_f64!(
    /// How many servings a recipe makes.
    ServingCount,
    0.1,
    1_000.0
);

/// The label of a recipe's one serving, as logging by serving names it.
pub const SERVING_LABEL: &str = "1 serving";

/// What a recipe is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recipe {
    pub ingredients: Vec<Ingredient>,
    pub servings: ServingCount,
    /// The pot's weight once cooked; the raw ingredients' weight counts when it is
    /// not given.
    #[schema(required = true)]
    pub cooked_grams: Option<RecipeGrams>,
}

/// One ingredient: the food (or another recipe) and the revision the recipe's
/// numbers were worked out from, with its name then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ingredient {
    pub food_id: Uuid,
    pub food_version: Version,
    /// The food's name (up to 200 characters, as every food's).
    pub name: Text<200>,
    pub grams: RecipeGrams,
}

/// The most ingredients a recipe has.
pub const MAX_INGREDIENTS: usize = 64;

/// What an ingredient's food holds per 100 g (or ml).
#[derive(Debug, Clone, Copy)]
pub struct PerHundred<'a> {
    pub nutrients: &'a Nutrients,
    pub micronutrients: &'a [Micronutrient],
}

/// How deep recipes may nest (a recipe of recipes of …): deeper is refused, which
/// also bounds the walk that looks for a recipe containing itself.
pub const MAX_NESTING: usize = 8;

impl Recipe {
    /// The ingredients' weight, raw.
    pub fn raw_grams(&self) -> f64 {
        self.ingredients.iter().map(|part| part.grams.get()).sum()
    }

    /// The weight the nutrients per 100 g are of.
    pub fn weight(&self) -> f64 {
        self.cooked_grams
            .map_or_else(|| self.raw_grams(), RecipeGrams::get)
    }

    /// One serving's weight.
    pub fn serving_grams(&self) -> f64 {
        self.weight() / self.servings.get()
    }

    /// The recipe's nutrients per 100 g, its micronutrients and its one serving,
    /// from what the ingredients' foods hold, in the same order.
    pub fn work_out(
        &self,
        foods: &[PerHundred<'_>],
    ) -> Result<(Nutrients, Vec<Micronutrient>, Serving), InvalidValue> {
        debug_assert_eq!(foods.len(), self.ingredients.len());
        if self.ingredients.is_empty() {
            return Err(InvalidValue::new("ingredients: a recipe has at least one"));
        }
        if self.ingredients.len() > MAX_INGREDIENTS {
            return Err(InvalidValue::new(format!(
                "ingredients: at most {MAX_INGREDIENTS} per recipe"
            )));
        }
        let weight = self.weight();
        // Each ingredient's share of 100 g of the recipe.
        let shares: Vec<(f64, PerHundred<'_>)> = self
            .ingredients
            .iter()
            .zip(foods)
            .map(|(part, food)| (part.grams.get() / weight, *food))
            .collect();
        let per_100 = |nutrient: fn(&Nutrients) -> Option<f64>| -> Option<f64> {
            shares
                .iter()
                .map(|(share, food)| nutrient(food.nutrients).map(|value| value * share))
                .sum::<Option<f64>>()
                .map(to_tenth)
        };
        let too_light = |what: &str| {
            InvalidValue::new(format!(
                "cooked_grams: 100 g of the recipe would hold more {what} than is possible; \
                 is the cooked weight right?"
            ))
        };
        let grams = |value: Option<f64>, what: &str| {
            value
                .map(GramsPer100::try_from)
                .transpose()
                .map_err(|_| too_light(what))
        };
        let nutrients = Nutrients {
            energy_kcal: per_100(|n| n.energy_kcal.map(KcalPer100::get))
                .map(KcalPer100::try_from)
                .transpose()
                .map_err(|_| too_light("energy"))?,
            protein_g: grams(per_100(|n| n.protein_g.map(GramsPer100::get)), "protein")?,
            carbs_g: grams(per_100(|n| n.carbs_g.map(GramsPer100::get)), "carbohydrate")?,
            fat_g: grams(per_100(|n| n.fat_g.map(GramsPer100::get)), "fat")?,
            fiber_g: grams(per_100(|n| n.fiber_g.map(GramsPer100::get)), "fibre")?,
            sugars_g: grams(per_100(|n| n.sugars_g.map(GramsPer100::get)), "sugars")?,
            saturated_fat_g: grams(
                per_100(|n| n.saturated_fat_g.map(GramsPer100::get)),
                "saturated fat",
            )?,
            sodium_mg: per_100(|n| n.sodium_mg.map(MilligramsPer100::get))
                .map(MilligramsPer100::try_from)
                .transpose()
                .map_err(|_| too_light("sodium"))?,
        };
        let micronutrients = self.micronutrients(&shares)?;
        if self.serving_grams() < 0.1 {
            return Err(InvalidValue::new(
                "servings: one serving would weigh less than 0.1 g",
            ));
        }
        let serving = Serving {
            label: ServingLabel::try_from(SERVING_LABEL.to_owned()).expect("a short label"),
            grams: Grams::try_from(to_tenth(self.serving_grams())).map_err(|_| {
                InvalidValue::new(format!(
                    "servings: one serving would weigh {:.0} g; a serving weighs at most {} g",
                    self.serving_grams(),
                    Grams::MAX
                ))
            })?,
        };
        Ok((nutrients, micronutrients, serving))
    }

    /// The micronutrients every ingredient gives in the same unit, per 100 g.
    fn micronutrients(
        &self,
        shares: &[(f64, PerHundred<'_>)],
    ) -> Result<Vec<Micronutrient>, InvalidValue> {
        let Some((_, first)) = shares.first() else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for micro in first.micronutrients {
            let amount_in = |food: &PerHundred<'_>| -> Option<f64> {
                food.micronutrients
                    .iter()
                    .find(|other| other.name == micro.name && other.unit == micro.unit)
                    .map(|other| other.amount.get())
            };
            let total: Option<f64> = shares
                .iter()
                .map(|(share, food)| amount_in(food).map(|amount| amount * share))
                .sum();
            if let Some(total) = total {
                found.push(Micronutrient {
                    name: micro.name.clone(),
                    amount: Amount::try_from(round_to(total, micro.unit)).map_err(|_| {
                        InvalidValue::new(format!(
                            "cooked_grams: 100 g of the recipe would hold too much {}",
                            micro.name.as_str()
                        ))
                    })?,
                    unit: micro.unit,
                });
            }
        }
        Ok(found)
    }
}

/// Micrograms and international units stay whole numbers' tenths too; grams of a
/// micronutrient keep three places.
fn round_to(value: f64, unit: MicroUnit) -> f64 {
    match unit {
        MicroUnit::G => (value * 1_000.0).round() / 1_000.0,
        MicroUnit::Mg | MicroUnit::Ug | MicroUnit::Iu => to_tenth(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Tag;

    /// A food's numbers, with 2 mg of iron per 100 g.
    struct Food {
        nutrients: Nutrients,
        micronutrients: Vec<Micronutrient>,
    }

    impl Food {
        fn per_hundred(&self) -> PerHundred<'_> {
            PerHundred {
                nutrients: &self.nutrients,
                micronutrients: &self.micronutrients,
            }
        }
    }

    fn food(kcal: f64, protein: Option<f64>, fat: f64) -> Food {
        Food {
            nutrients: Nutrients {
                energy_kcal: Some(KcalPer100::try_from(kcal).unwrap()),
                protein_g: protein.map(|g| GramsPer100::try_from(g).unwrap()),
                fat_g: Some(GramsPer100::try_from(fat).unwrap()),
                ..Nutrients::default()
            },
            micronutrients: vec![Micronutrient {
                name: Tag::try_from("iron".to_owned()).unwrap(),
                amount: Amount::try_from(2.0).unwrap(),
                unit: MicroUnit::Mg,
            }],
        }
    }

    fn recipe_of(parts: &[(&Food, f64)], servings: f64, cooked: Option<f64>) -> Recipe {
        Recipe {
            ingredients: parts
                .iter()
                .map(|(_, grams)| Ingredient {
                    food_id: Uuid::new_v4(),
                    food_version: Version::try_from(1_i64).unwrap(),
                    name: Text::try_from("an ingredient".to_owned()).unwrap(),
                    grams: RecipeGrams::try_from(*grams).unwrap(),
                })
                .collect(),
            servings: ServingCount::try_from(servings).unwrap(),
            cooked_grams: cooked.map(|g| RecipeGrams::try_from(g).unwrap()),
        }
    }

    #[test]
    fn nutrients_per_100_g_are_the_ingredients_amounts_over_the_raw_weight() {
        // 80 g of oats (379 kcal, 13.2 g protein, 6.5 g fat per 100 g) and 200 g of
        // milk (61 kcal, 3.2 g protein, 3.3 g fat): 303.2 + 122 = 425.2 kcal in
        // 280 g, 151.857… per 100 g; protein (10.56 + 6.4) / 2.8 = 6.057…; fat
        // (5.2 + 6.6) / 2.8 = 4.214….
        let oats = food(379.0, Some(13.2), 6.5);
        let milk = food(61.0, Some(3.2), 3.3);
        let recipe = recipe_of(&[(&oats, 80.0), (&milk, 200.0)], 2.0, None);
        let (nutrients, micros, serving) = recipe
            .work_out(&[oats.per_hundred(), milk.per_hundred()])
            .unwrap();
        assert_eq!(nutrients.energy_kcal.unwrap().get(), 151.9);
        assert_eq!(nutrients.protein_g.unwrap().get(), 6.1);
        assert_eq!(nutrients.fat_g.unwrap().get(), 4.2);
        assert_eq!(nutrients.fiber_g, None, "neither food says its fibre");
        assert_eq!(
            micros[0].amount.get(),
            2.0,
            "2 mg of iron per 100 g in both"
        );
        assert_eq!(serving.grams.get(), 140.0);
        assert_eq!(serving.label.as_str(), SERVING_LABEL);
    }

    #[test]
    fn a_cooked_weight_concentrates_the_nutrients() {
        // 500 g of lentils (116 kcal per 100 g) boiled down to 400 g: 580 kcal in
        // 400 g, 145 per 100 g; four servings of 100 g.
        let lentils = food(116.0, Some(9.0), 0.4);
        let recipe = recipe_of(&[(&lentils, 500.0)], 4.0, Some(400.0));
        let (nutrients, _, serving) = recipe.work_out(&[lentils.per_hundred()]).unwrap();
        assert_eq!(nutrients.energy_kcal.unwrap().get(), 145.0);
        assert_eq!(serving.grams.get(), 100.0);
    }

    #[test]
    fn a_nutrient_one_ingredient_does_not_know_stays_unknown() {
        let known = food(100.0, Some(5.0), 1.0);
        let unknown = food(100.0, None, 1.0);
        let recipe = recipe_of(&[(&known, 100.0), (&unknown, 100.0)], 1.0, None);
        let (nutrients, _, _) = recipe
            .work_out(&[known.per_hundred(), unknown.per_hundred()])
            .unwrap();
        assert_eq!(nutrients.protein_g, None);
        assert_eq!(nutrients.fat_g.unwrap().get(), 1.0);
    }

    #[test]
    fn a_cooked_weight_too_light_for_the_ingredients_is_refused() {
        // 100 g of oil boiled down to 50 g would be 1,800 kcal per 100 g.
        let oil = food(900.0, Some(0.0), 100.0);
        let recipe = recipe_of(&[(&oil, 100.0)], 1.0, Some(50.0));
        let refused = recipe.work_out(&[oil.per_hundred()]).unwrap_err();
        assert!(refused.0.starts_with("cooked_grams"), "{}", refused.0);
    }
}
