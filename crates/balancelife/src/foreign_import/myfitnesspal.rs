//! MyFitnessPal's "Nutrition Summary" CSV: one row per meal of a day, with the
//! meal's totals (`Date`, `Meal`, `Time`, `Calories`, `Fat (g)`, `Carbohydrates
//! (g)`, `Protein (g)`, `Fiber`, `Sugar`, `Sodium (mg)`, `Note`, and more). It names
//! no foods, so each row becomes one meal named after the app and the slot.
//! Columns are found by their header, so an export with more or fewer columns
//! reads the same.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{
    ForeignMeal, MacroColumns, Read, Unreadable, When, column, csv_reader, number, slot_named,
    time_of_day, usual_time,
};
use crate::domain::Unit;

pub fn read(bytes: &[u8]) -> Result<Read, Unreadable> {
    let mut reader = csv_reader(bytes);
    let header = reader.headers().map_err(|_| not_this())?.clone();
    let required = |name: &str| column(&header, name).ok_or_else(not_this);
    let (date, meal, calories) = (required("Date")?, required("Meal")?, required("Calories")?);
    let optional = |names: &[&str]| names.iter().find_map(|name| column(&header, name));
    let time = optional(&["Time"]);
    let macros = MacroColumns::find(
        &header,
        [
            &["Protein (g)", "Protein"],
            &["Carbohydrates (g)", "Carbohydrates"],
            &["Fat (g)", "Fat"],
            &["Fiber", "Fiber (g)"],
            &["Sugar", "Sugar (g)"],
            &["Sodium (mg)", "Sodium"],
        ],
    );

    let mut read = Read::default();
    // How many rows of one day and slot came before: two snacks of a day are two
    // meals with two keys, the same on every export.
    let mut seen: HashMap<(NaiveDate, &'static str), usize> = HashMap::new();
    for row in reader.records() {
        let Ok(row) = row else {
            read.skip("unreadable_row");
            continue;
        };
        let cell = |at: Option<usize>| at.and_then(|at| row.get(at)).unwrap_or("");
        let Ok(day) = NaiveDate::parse_from_str(cell(Some(date)), "%Y-%m-%d") else {
            read.skip("no_date");
            continue;
        };
        let Some(slot) = slot_named(cell(Some(meal))) else {
            read.skip("unknown_meal");
            continue;
        };
        let Some(kcal) = number(cell(Some(calories))) else {
            read.skip("no_energy");
            continue;
        };
        let slot_name = slot_label(slot);
        let ordinal = seen.entry((day, slot_name)).or_default();
        *ordinal += 1;
        let at = match time_of_day(cell(time)) {
            Some(time) => When::Local(day.and_time(time)),
            None => usual_time(day, slot),
        };
        read.meals.push(ForeignMeal {
            key: format!("{day}|{slot_name}|{ordinal}"),
            at,
            slot,
            name: format!("{} (MyFitnessPal)", capitalised(slot_name)),
            quantity: 1.0,
            unit: Unit::Serving,
            kcal,
            macros: macros.read(&row),
        });
    }
    Ok(read)
}

fn slot_label(slot: crate::domain::MealSlot) -> &'static str {
    use crate::domain::MealSlot;
    match slot {
        MealSlot::Breakfast => "breakfast",
        MealSlot::Lunch => "lunch",
        MealSlot::Dinner => "dinner",
        MealSlot::Snack => "snack",
    }
}

fn capitalised(word: &str) -> String {
    let mut letters = word.chars();
    letters
        .next()
        .map(|first| first.to_uppercase().chain(letters).collect())
        .unwrap_or_default()
}

fn not_this() -> Unreadable {
    Unreadable::NotThisFormat(
        "not a MyFitnessPal nutrition CSV: its header needs Date, Meal and Calories".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_meal_row_is_one_meal_and_two_snacks_of_a_day_have_two_keys() {
        let file = "Date,Meal,Time,Calories,Fat (g),Saturated Fat,Sodium (mg),Carbohydrates (g),Fiber,Sugar,Protein (g),Note\n\
            2026-03-02,Breakfast,8:05 AM,420,12.5,3,310,60,7,12,18,\n\
            2026-03-02,Snacks,,150,,,,20,,,,\n\
            2026-03-02,Snacks,,95,1,,,,,,,\n\
            2026-03-02,Elevenses,,90,,,,,,,,\n\
            not a date,Lunch,,500,,,,,,,,\n";
        let read = read(file.as_bytes()).unwrap();
        let keys: Vec<&str> = read.meals.iter().map(|meal| meal.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "2026-03-02|breakfast|1",
                "2026-03-02|snack|1",
                "2026-03-02|snack|2"
            ]
        );
        let breakfast = &read.meals[0];
        assert_eq!(breakfast.name, "Breakfast (MyFitnessPal)");
        assert_eq!(breakfast.at.to_string(), "2026-03-02 08:05:00");
        assert_eq!(
            (
                breakfast.kcal,
                breakfast.macros.protein_g,
                breakfast.macros.sodium_mg
            ),
            (420.0, Some(18.0), Some(310.0))
        );
        assert_eq!(
            read.meals[1].macros.fat_g, None,
            "a blank is unknown, not zero"
        );
        assert_eq!(
            read.meals[1].at.to_string(),
            "2026-03-02 15:30:00",
            "no time given"
        );
        assert_eq!(read.skipped["unknown_meal"], 1);
        assert_eq!(read.skipped["no_date"], 1);
    }

    #[test]
    fn another_apps_csv_is_refused_whole() {
        assert!(read(b"Day,Food Name,Energy (kcal)\n2026-03-02,Oats,300\n").is_err());
    }
}
