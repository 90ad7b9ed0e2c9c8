//! The published meal packages: `meal-packages.toml` read into its shape (plans,
//! each a few daily menus repeated over the package's days) and each plan turned
//! into a `MealPackage` whose id comes from its position in the file.

use std::sync::LazyLock;

use serde::Deserialize;

use super::file::{self, embedded};
use super::{NS_MEAL_PACKAGE, first_version, fixed_id};
use crate::domain::{
    Grams, Kcal, MealItem, MealPackage, MealSlot, Name, Notes, PackageStatus, Slug, Tag, Title,
};

const FILE: (&str, &str) = embedded!("meal-packages.toml");

/// Built once: the demo history asks for the catalogue for every entry it makes.
static PACKAGES: LazyLock<Vec<MealPackage>> = LazyLock::new(|| {
    let file: MealFile = file::parse(FILE);
    file.packages
        .into_iter()
        .zip(1..)
        .map(|(plan, n)| plan.build(fixed_id(NS_MEAL_PACKAGE, n)))
        .collect()
});

pub fn meal_packages() -> Vec<MealPackage> {
    PACKAGES.clone()
}

// ---------------------------------------------------------------------------------
// The shape of the file and how it becomes domain values
// ---------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MealFile {
    #[serde(rename = "package")]
    packages: Vec<MealPlan>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MealPlan {
    slug: Slug,
    name: Name,
    description: Notes,
    tags: Vec<Tag>,
    diet_tags: Vec<Tag>,
    duration_days: u16,
    /// Repeated in order over the days of the package.
    #[serde(rename = "menu")]
    menus: Vec<Menu>,
}

/// One day of a meal package; the main meals are required so none can be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Menu {
    breakfast: Dish,
    lunch: Dish,
    snack: Option<Dish>,
    dinner: Dish,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Dish {
    name: Title,
    portion_g: Grams,
    kcal: Kcal,
    protein_g: Grams,
    carbs_g: Grams,
    fat_g: Grams,
}

impl Dish {
    fn item(&self, day: u16, slot: MealSlot) -> MealItem {
        MealItem {
            day,
            slot,
            name: self.name.clone(),
            portion_g: self.portion_g,
            kcal: self.kcal,
            protein_g: self.protein_g,
            carbs_g: self.carbs_g,
            fat_g: self.fat_g,
        }
    }
}

impl Menu {
    /// In the order of the day, which is the order of a package's items.
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

impl MealPlan {
    fn build(self, id: uuid::Uuid) -> MealPackage {
        let items: Vec<MealItem> = (1..=self.duration_days)
            .zip(self.menus.iter().cycle())
            .flat_map(|(day, menu)| menu.courses().map(move |(slot, dish)| dish.item(day, slot)))
            .collect();
        MealPackage {
            id,
            slug: self.slug,
            name: self.name,
            description: self.description,
            tags: self.tags,
            diet_tags: self.diet_tags,
            duration_days: self.duration_days,
            daily_averages: MealPackage::average_of(&items, self.duration_days),
            items,
            status: PackageStatus::Published,
            version: first_version(),
            created_by: None,
            updated_by: None,
            created_at: None,
            updated_at: None,
            first_published_at: None,
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
    fn the_file_reads_and_every_value_is_valid() {
        let _: MealFile = file::parse(FILE);
    }

    #[test]
    fn a_bad_value_is_reported_with_its_file_and_line() {
        let change = ("portion_g = 250", "portion_g = -250");
        file::assert_refused::<MealFile>(
            FILE,
            change,
            &["Greek yogurt with honey", "must be a number from 0"],
        );
    }

    #[test]
    fn the_meal_catalogue_has_enough_packages_with_unique_slugs() {
        let meals = meal_packages();
        assert!(meals.len() >= 8);
        let meal_slugs: HashSet<_> = meals.iter().map(|p| &p.slug).collect();
        assert_eq!(meal_slugs.len(), meals.len());
        for package in &meals {
            assert_eq!(package.status, PackageStatus::Published);
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
