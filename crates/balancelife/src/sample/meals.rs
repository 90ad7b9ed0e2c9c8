//! The published meal packages: one table of plans, each a few daily menus repeated
//! over the package's days, and how a plan becomes a `MealPackage`.

use uuid::Uuid;

use super::{Macros, NS_MEAL_PACKAGE, first_version, fixed_id, macros, parsed, tags, valid};
use crate::domain::{MealItem, MealPackage, MealSlot};

pub fn meal_packages() -> Vec<MealPackage> {
    MEAL_PLANS
        .iter()
        .zip(1..)
        .map(|(plan, n)| plan.build(fixed_id(NS_MEAL_PACKAGE, n)))
        .collect()
}

// ---------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------

// The table below is kept out of rustfmt: one dish per line reads as a
// table, while rustfmt would spread every call over eight lines.

#[rustfmt::skip]
static MEAL_PLANS: &[MealPlan] = &[
    MealPlan {
        slug: "mediterranean-table",
        name: "Mediterranean Table",
        description: "A week of sunny, unhurried cooking: olive oil, legumes, fish twice and plenty of vegetables. Around 1,800 kcal a day, built on the eating pattern with the strongest evidence for heart health.",
        tags: &["family", "heart-healthy"],
        diet_tags: &["mediterranean", "pescatarian"],
        duration_days: 7,
        menus: &[
            Menu {
                breakfast: dish("Greek yogurt with honey, walnuts and berries", 250.0, 340.0, 18.0, 34.0, 15.0),
                lunch: dish("Chickpea, feta and cucumber salad with pita", 380.0, 560.0, 22.0, 62.0, 24.0),
                dinner: dish("Baked sea bream with lemon potatoes and olives", 450.0, 620.0, 42.0, 48.0, 27.0),
                snack: Some(dish("Orange and a handful of almonds", 180.0, 210.0, 6.0, 20.0, 12.0)),
            },
            Menu {
                breakfast: dish("Tomato toast with olive oil and a boiled egg", 200.0, 330.0, 14.0, 36.0, 15.0),
                lunch: dish("Lentil and roasted vegetable soup with bread", 450.0, 480.0, 24.0, 66.0, 12.0),
                dinner: dish("Shrimp orzo with spinach and cherry tomatoes", 420.0, 590.0, 38.0, 68.0, 16.0),
                snack: Some(dish("Hummus with carrot and pepper sticks", 200.0, 230.0, 8.0, 22.0, 13.0)),
            },
            Menu {
                breakfast: dish("Shakshuka with wholegrain bread", 320.0, 410.0, 20.0, 38.0, 19.0),
                lunch: dish("Tuna, white bean and rocket salad", 350.0, 470.0, 36.0, 34.0, 20.0),
                dinner: dish("Vegetable moussaka with a green salad", 450.0, 560.0, 24.0, 46.0, 30.0),
                snack: Some(dish("Dates and pistachios", 60.0, 220.0, 5.0, 30.0, 10.0)),
            },
        ],
    },
    MealPlan {
        slug: "lean-and-strong",
        name: "Lean & Strong",
        description: "Five days of high-protein, gluten-free meals that batch-cook well: about 150 g of protein a day from lean meat, fish, eggs and dairy, to back up a strength programme.",
        tags: &["high-protein", "meal-prep", "muscle-gain"],
        diet_tags: &["gluten-free"],
        duration_days: 5,
        menus: &[
            Menu {
                breakfast: dish("Egg-white omelette with spinach, feta and potatoes", 350.0, 420.0, 38.0, 30.0, 16.0),
                lunch: dish("Chicken breast with jasmine rice and broccoli", 450.0, 620.0, 52.0, 72.0, 12.0),
                dinner: dish("Lean beef chili with kidney beans", 420.0, 560.0, 46.0, 44.0, 20.0),
                snack: Some(dish("Skyr with strawberries", 250.0, 195.0, 25.0, 20.0, 1.0)),
            },
            Menu {
                breakfast: dish("Cottage cheese bowl with pineapple and gluten-free oats", 300.0, 400.0, 32.0, 46.0, 9.0),
                lunch: dish("Turkey meatballs with quinoa and roasted peppers", 420.0, 590.0, 48.0, 56.0, 18.0),
                dinner: dish("Salmon fillet, sweet potato mash and asparagus", 430.0, 640.0, 42.0, 52.0, 28.0),
                snack: Some(dish("Protein shake with banana", 400.0, 280.0, 30.0, 34.0, 4.0)),
            },
        ],
    },
    MealPlan {
        slug: "plant-power",
        name: "Plant Power",
        description: "Hearty vegan cooking with beans, lentils, tofu and whole grains. Over 35 g of fibre a day and enough protein to stay full, on a modest shopping budget.",
        tags: &["high-fiber", "budget"],
        diet_tags: &["vegan", "vegetarian", "dairy-free"],
        duration_days: 5,
        menus: &[
            Menu {
                breakfast: dish("Peanut butter oatmeal with banana", 350.0, 450.0, 15.0, 62.0, 17.0),
                lunch: dish("Black bean and sweet potato tacos", 400.0, 560.0, 20.0, 84.0, 16.0),
                dinner: dish("Tofu green curry with brown rice", 480.0, 640.0, 26.0, 78.0, 25.0),
                snack: Some(dish("Roasted chickpeas", 50.0, 180.0, 9.0, 24.0, 5.0)),
            },
            Menu {
                breakfast: dish("Chia pudding with soy milk and mango", 280.0, 340.0, 11.0, 40.0, 15.0),
                lunch: dish("Falafel wrap with tahini and pickled cabbage", 350.0, 590.0, 20.0, 70.0, 26.0),
                dinner: dish("Red lentil dal with spinach and basmati rice", 480.0, 580.0, 26.0, 92.0, 11.0),
                snack: None,
            },
            Menu {
                breakfast: dish("Tofu scramble with peppers on rye toast", 300.0, 380.0, 24.0, 32.0, 17.0),
                lunch: dish("Quinoa, edamame and roasted squash bowl", 400.0, 520.0, 24.0, 64.0, 18.0),
                dinner: dish("Mushroom and walnut bolognese with spaghetti", 450.0, 650.0, 24.0, 88.0, 22.0),
                snack: Some(dish("Apple with almond butter", 200.0, 200.0, 5.0, 24.0, 9.0)),
            },
        ],
    },
    MealPlan {
        slug: "quick-weekdays",
        name: "Quick Weekdays",
        description: "Nothing here takes longer than 15 minutes: smoothies, wraps and one-pan dinners for busy evenings, with leftovers that travel well to work.",
        tags: &["quick", "family"],
        diet_tags: &["omnivore"],
        duration_days: 4,
        menus: &[
            Menu {
                breakfast: dish("Banana and peanut butter smoothie", 400.0, 390.0, 16.0, 52.0, 14.0),
                lunch: dish("Chicken Caesar wrap", 300.0, 540.0, 36.0, 44.0, 24.0),
                dinner: dish("Pesto gnocchi with cherry tomatoes and mozzarella", 400.0, 650.0, 22.0, 82.0, 26.0),
                snack: None,
            },
            Menu {
                breakfast: dish("Bagel with cream cheese and cucumber", 150.0, 360.0, 12.0, 52.0, 11.0),
                lunch: dish("Tuna melt on sourdough with a side salad", 320.0, 560.0, 34.0, 46.0, 26.0),
                dinner: dish("Teriyaki salmon with rice and edamame", 420.0, 640.0, 40.0, 70.0, 20.0),
                snack: Some(dish("Trail mix", 40.0, 190.0, 5.0, 16.0, 12.0)),
            },
        ],
    },
    MealPlan {
        slug: "budget-batch-cook",
        name: "Budget Batch Cook",
        description: "A vegetarian week built from pantry staples: cook a big pot on Sunday, reuse it twice, and keep a family of four fed for little money.",
        tags: &["budget", "meal-prep", "family"],
        diet_tags: &["vegetarian"],
        duration_days: 7,
        menus: &[
            Menu {
                breakfast: dish("Porridge with grated apple and cinnamon", 350.0, 330.0, 11.0, 56.0, 7.0),
                lunch: dish("Vegetable chili with rice", 450.0, 560.0, 20.0, 90.0, 12.0),
                dinner: dish("Baked potato with beans and cheddar", 450.0, 580.0, 24.0, 82.0, 17.0),
                snack: Some(dish("Carrot sticks with peanut butter", 150.0, 190.0, 6.0, 12.0, 13.0)),
            },
            Menu {
                breakfast: dish("Two boiled eggs with toast soldiers", 200.0, 350.0, 19.0, 30.0, 16.0),
                lunch: dish("Minestrone with pasta and white beans", 450.0, 420.0, 18.0, 66.0, 9.0),
                dinner: dish("Spinach and ricotta frittata with salad", 380.0, 520.0, 32.0, 22.0, 33.0),
                snack: Some(dish("Banana and a glass of milk", 370.0, 230.0, 9.0, 38.0, 5.0)),
            },
        ],
    },
    MealPlan {
        slug: "keto-kickstart",
        name: "Keto Kickstart",
        description: "Three low-carb days to try ketogenic eating without the guesswork: under 40 g of carbohydrate a day, generous fats and simple, quick recipes.",
        tags: &["low-carb", "quick"],
        diet_tags: &["keto-friendly", "gluten-free"],
        duration_days: 3,
        menus: &[
            Menu {
                breakfast: dish("Bacon, eggs and sautéed spinach", 250.0, 480.0, 28.0, 4.0, 39.0),
                lunch: dish("Cobb salad with chicken, avocado and blue cheese", 400.0, 620.0, 44.0, 10.0, 45.0),
                dinner: dish("Pan-fried salmon with creamed spinach and cauliflower mash", 450.0, 690.0, 44.0, 12.0, 52.0),
                snack: Some(dish("Cheese crisps with cucumber", 80.0, 180.0, 12.0, 3.0, 13.0)),
            },
            Menu {
                breakfast: dish("Full-fat Greek yogurt with walnuts and raspberries", 220.0, 360.0, 16.0, 11.0, 28.0),
                lunch: dish("Lettuce-wrap burgers with cheddar and pickles", 350.0, 640.0, 42.0, 8.0, 49.0),
                dinner: dish("Chicken thighs with garlic butter and green beans", 420.0, 680.0, 46.0, 10.0, 50.0),
                snack: Some(dish("Olives and almonds", 70.0, 230.0, 6.0, 5.0, 21.0)),
            },
        ],
    },
    MealPlan {
        slug: "ocean-and-greens",
        name: "Ocean & Greens",
        description: "Oily fish three times a week, seafood on the other days and vegetables at every meal: a gluten-free pescatarian plan rich in omega-3 fats.",
        tags: &["heart-healthy", "omega-3"],
        diet_tags: &["pescatarian", "gluten-free"],
        duration_days: 5,
        menus: &[
            Menu {
                breakfast: dish("Smoked salmon with scrambled eggs and avocado", 250.0, 430.0, 30.0, 6.0, 32.0),
                lunch: dish("Tuna poke bowl with rice and edamame", 420.0, 590.0, 38.0, 70.0, 16.0),
                dinner: dish("Baked cod with quinoa and roasted vegetables", 460.0, 560.0, 44.0, 52.0, 18.0),
                snack: Some(dish("Rice cakes with avocado", 110.0, 180.0, 3.0, 20.0, 10.0)),
            },
            Menu {
                breakfast: dish("Buckwheat porridge with berries and flaxseed", 330.0, 370.0, 12.0, 56.0, 11.0),
                lunch: dish("Sardine, potato and green bean salad", 380.0, 520.0, 30.0, 40.0, 26.0),
                dinner: dish("Garlic prawns with courgette, peppers and jasmine rice", 450.0, 560.0, 36.0, 68.0, 14.0),
                snack: None,
            },
            Menu {
                breakfast: dish("Yogurt parfait with gluten-free granola and kiwi", 280.0, 350.0, 16.0, 50.0, 10.0),
                lunch: dish("Mackerel and beetroot salad with new potatoes", 400.0, 560.0, 28.0, 38.0, 32.0),
                dinner: dish("Salmon and vegetable curry with brown rice", 470.0, 650.0, 40.0, 66.0, 24.0),
                snack: Some(dish("Pear and a few walnuts", 200.0, 190.0, 3.0, 26.0, 9.0)),
            },
        ],
    },
    MealPlan {
        slug: "family-favourites",
        name: "Family Favourites",
        description: "Six days of dinners the kids ask for again, quietly packed with vegetables, plus breakfasts and lunches the whole family shares.",
        tags: &["family", "kid-friendly"],
        diet_tags: &["omnivore"],
        duration_days: 6,
        menus: &[
            Menu {
                breakfast: dish("Wholegrain pancakes with berries and yogurt", 280.0, 420.0, 16.0, 64.0, 11.0),
                lunch: dish("Chicken, hummus and veggie pitta pockets", 320.0, 500.0, 34.0, 52.0, 16.0),
                dinner: dish("Turkey burgers with oven wedges and slaw", 480.0, 720.0, 42.0, 74.0, 28.0),
                snack: Some(dish("Cheese and apple slices", 150.0, 200.0, 8.0, 18.0, 11.0)),
            },
            Menu {
                breakfast: dish("Cinnamon porridge with banana", 350.0, 360.0, 12.0, 62.0, 7.0),
                lunch: dish("Cheese and tomato quesadillas with corn salad", 300.0, 540.0, 24.0, 56.0, 24.0),
                dinner: dish("Spaghetti bolognese with hidden vegetables", 450.0, 680.0, 38.0, 82.0, 20.0),
                snack: None,
            },
            Menu {
                breakfast: dish("Scrambled eggs on toast with orange slices", 280.0, 400.0, 20.0, 40.0, 17.0),
                lunch: dish("Tomato soup with grilled cheese fingers", 420.0, 520.0, 20.0, 54.0, 24.0),
                dinner: dish("Fish pie with peas", 450.0, 620.0, 38.0, 56.0, 26.0),
                snack: Some(dish("Frozen yogurt bark with strawberries", 120.0, 160.0, 7.0, 24.0, 4.0)),
            },
        ],
    },
    MealPlan {
        slug: "light-and-satisfying",
        name: "Light & Satisfying",
        description: "About 1,400 kcal a day without going hungry: vegetarian meals high in protein and fibre, for a steady and sustainable weight loss.",
        tags: &["weight-loss", "high-fiber", "quick"],
        diet_tags: &["vegetarian"],
        duration_days: 7,
        menus: &[
            Menu {
                breakfast: dish("Berry and spinach smoothie with oats", 400.0, 290.0, 14.0, 44.0, 6.0),
                lunch: dish("Garden salad with eggs, beans and vinaigrette", 420.0, 430.0, 22.0, 32.0, 22.0),
                dinner: dish("Vegetable and halloumi traybake with couscous", 420.0, 560.0, 24.0, 52.0, 28.0),
                snack: Some(dish("Skyr with cinnamon", 170.0, 110.0, 18.0, 8.0, 0.5)),
            },
            Menu {
                breakfast: dish("Cottage cheese on rye crispbread with tomato", 200.0, 270.0, 20.0, 26.0, 9.0),
                lunch: dish("Miso soup with soba noodles and tofu", 450.0, 420.0, 22.0, 58.0, 10.0),
                dinner: dish("Stuffed peppers with lentils and feta", 450.0, 520.0, 26.0, 58.0, 18.0),
                snack: Some(dish("Apple and a small handful of almonds", 200.0, 160.0, 4.0, 20.0, 8.0)),
            },
        ],
    },
];

// ---------------------------------------------------------------------------------
// Table types and how they become domain values
// ---------------------------------------------------------------------------------

struct Dish {
    name: &'static str,
    portion_g: f64,
    macros: Macros,
}

const fn dish(
    name: &'static str,
    portion_g: f64,
    kcal: f64,
    protein_g: f64,
    carbs_g: f64,
    fat_g: f64,
) -> Dish {
    Dish {
        name,
        portion_g,
        macros: macros(kcal, protein_g, carbs_g, fat_g),
    }
}

impl Dish {
    fn item(&self, day: u16, slot: MealSlot) -> MealItem {
        MealItem {
            day,
            slot,
            name: valid(self.name),
            portion_g: valid(self.portion_g),
            kcal: valid(self.macros.kcal),
            protein_g: valid(self.macros.protein_g),
            carbs_g: valid(self.macros.carbs_g),
            fat_g: valid(self.macros.fat_g),
        }
    }
}

/// One day of a meal package; the main meals are fields so none can be left out.
struct Menu {
    breakfast: Dish,
    lunch: Dish,
    dinner: Dish,
    snack: Option<Dish>,
}

impl Menu {
    fn courses(&self) -> impl Iterator<Item = (MealSlot, &Dish)> {
        [
            (MealSlot::Breakfast, Some(&self.breakfast)),
            (MealSlot::Lunch, Some(&self.lunch)),
            (MealSlot::Snack, self.snack.as_ref()),
            (MealSlot::Dinner, Some(&self.dinner)),
        ]
        .into_iter()
        .filter_map(|(slot, dish)| Some((slot, dish?)))
    }
}

struct MealPlan {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    tags: &'static [&'static str],
    diet_tags: &'static [&'static str],
    duration_days: u16,
    /// Repeated in order over the days of the package.
    menus: &'static [Menu],
}

impl MealPlan {
    fn build(&self, id: Uuid) -> MealPackage {
        let items: Vec<MealItem> = (1..=self.duration_days)
            .zip(self.menus.iter().cycle())
            .flat_map(|(day, menu)| menu.courses().map(move |(slot, dish)| dish.item(day, slot)))
            .collect();
        MealPackage {
            id,
            slug: parsed(self.slug),
            name: valid(self.name),
            description: valid(self.description),
            tags: tags(self.tags),
            diet_tags: tags(self.diet_tags),
            duration_days: self.duration_days,
            daily_averages: MealPackage::average_of(&items, self.duration_days),
            items,
            published: true,
            version: first_version(),
        }
    }
}

// ---------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::super::tests::within_ten_percent;
    use super::*;

    #[test]
    fn the_meal_catalogue_has_enough_packages_with_unique_slugs() {
        let meals = meal_packages();
        assert!(meals.len() >= 8);
        let meal_slugs: HashSet<_> = meals.iter().map(|p| &p.slug).collect();
        assert_eq!(meal_slugs.len(), meals.len());
        for package in &meals {
            assert!(package.published);
            assert_eq!(package.version, first_version());
            assert!(!package.tags.is_empty() && !package.diet_tags.is_empty());
        }
    }

    #[test]
    fn meal_packages_serve_every_main_meal_on_every_day() {
        for package in meal_packages() {
            assert!((3..=7).contains(&package.duration_days), "{}", package.slug);
            let mut slots_by_day: BTreeMap<u16, Vec<MealSlot>> = BTreeMap::new();
            for item in &package.items {
                slots_by_day.entry(item.day).or_default().push(item.slot);
            }
            let days: Vec<u16> = slots_by_day.keys().copied().collect();
            assert_eq!(
                days,
                (1..=package.duration_days).collect::<Vec<_>>(),
                "{}",
                package.slug
            );
            for (day, slots) in slots_by_day {
                for main in [MealSlot::Breakfast, MealSlot::Lunch, MealSlot::Dinner] {
                    assert!(
                        slots.contains(&main),
                        "{} day {day} lacks {main:?}",
                        package.slug
                    );
                }
                let distinct: HashSet<_> = slots.iter().collect();
                assert_eq!(
                    distinct.len(),
                    slots.len(),
                    "{} day {day} repeats a slot",
                    package.slug
                );
            }
        }
    }

    #[test]
    fn daily_averages_are_computed_from_the_items() {
        for package in meal_packages() {
            assert_eq!(
                package.daily_averages,
                MealPackage::average_of(&package.items, package.duration_days)
            );
            assert!(package.daily_averages.kcal > 1000.0, "{}", package.slug);
        }
    }

    #[test]
    fn dish_energy_agrees_with_macronutrients() {
        for package in meal_packages() {
            for item in &package.items {
                assert!(
                    within_ten_percent(
                        item.kcal.get(),
                        item.protein_g.get(),
                        item.carbs_g.get(),
                        item.fat_g.get()
                    ),
                    "{}: {}",
                    package.slug,
                    item.name
                );
            }
        }
    }
}
