//! Cronometer's "Servings" CSV (`servings.csv`): one row per food logged, with
//! `Day`, optionally `Time`, `Group` (the meal: Breakfast, Lunch, Dinner, Snacks,
//! Uncategorized), `Food Name`, `Amount` (a number and a unit in one cell, such as
//! `1.00 cup` or `150.00 g`), `Energy (kcal)` and some eighty nutrient columns, of
//! which the ones an entry holds are read. Columns are found by their header.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{
    ForeignMeal, MacroColumns, Read, Unreadable, When, column, csv_reader, number, slot_named,
    time_of_day, usual_time,
};
use crate::domain::{MealSlot, Unit};

pub fn read(bytes: &[u8]) -> Result<Read, Unreadable> {
    let mut reader = csv_reader(bytes);
    let header = reader.headers().map_err(|_| not_this())?.clone();
    let required = |name: &str| column(&header, name).ok_or_else(not_this);
    let (day_at, name_at, energy_at) = (
        required("Day")?,
        required("Food Name")?,
        required("Energy (kcal)")?,
    );
    let optional = |name: &str| column(&header, name);
    let (time_at, group_at, amount_at) = (optional("Time"), optional("Group"), optional("Amount"));
    let macros = MacroColumns::find(
        &header,
        [
            &["Protein (g)"],
            &["Carbs (g)"],
            &["Fat (g)"],
            &["Fiber (g)"],
            &["Sugars (g)"],
            &["Sodium (mg)"],
        ],
    );

    let mut read = Read::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in reader.records() {
        let Ok(row) = row else {
            read.skip("unreadable_row");
            continue;
        };
        let cell = |at: Option<usize>| at.and_then(|at| row.get(at)).unwrap_or("");
        let Ok(day) = NaiveDate::parse_from_str(cell(Some(day_at)), "%Y-%m-%d") else {
            read.skip("no_date");
            continue;
        };
        let name = cell(Some(name_at)).to_owned();
        if name.is_empty() {
            read.skip("no_name");
            continue;
        }
        let Some(kcal) = number(cell(Some(energy_at))) else {
            read.skip("no_energy");
            continue;
        };
        // "Uncategorized" and groups a user named themselves are snacks: the
        // entry keeps its food's name, and a snack is the slot of no meal.
        let slot = slot_named(cell(group_at)).unwrap_or(MealSlot::Snack);
        let time = cell(time_at);
        let base = format!("{day}|{time}|{}|{name}", cell(group_at));
        let ordinal = seen.entry(base.clone()).or_default();
        *ordinal += 1;
        let Some((quantity, unit)) = amount(cell(amount_at)) else {
            read.skip("no_amount");
            continue;
        };
        read.meals.push(ForeignMeal {
            key: format!("{base}|{ordinal}"),
            at: match time_of_day(time) {
                Some(time) => When::Local(day.and_time(time)),
                None => usual_time(day, slot),
            },
            slot,
            name,
            quantity,
            unit,
            kcal,
            macros: macros.read(&row),
        });
    }
    Ok(read)
}

/// `150.00 g` is 150 grams, `200 ml` 200 millilitres; any other unit (`1.00 cup`,
/// `2 large`) is that many servings, as Cronometer's own units have no weight in
/// the file. No amount at all is one serving; an amount that is not a positive
/// number is `None`: the row is not guessed at.
fn amount(cell: &str) -> Option<(f64, Unit)> {
    let mut parts = cell.split_whitespace();
    let Some(count) = parts.next() else {
        return Some((1.0, Unit::Serving));
    };
    let count = number(count).filter(|count| *count > 0.0)?;
    let unit = parts.next().unwrap_or("").to_lowercase();
    Some(match unit.as_str() {
        "g" => (count, Unit::G),
        "ml" => (count, Unit::Ml),
        _ => (count, Unit::Serving),
    })
}

fn not_this() -> Unreadable {
    Unreadable::NotThisFormat(
        "not a Cronometer servings CSV: its header needs Day, Food Name and Energy (kcal)".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_serving_is_a_meal_with_its_amount_and_group() {
        let file = "Day,Time,Group,Food Name,Amount,Energy (kcal),Carbs (g),Fat (g),Protein (g),Sodium (mg),Category\n\
            2026-03-02,07:45,Breakfast,\"Oats, Rolled\",40.00 g,152.0,27.0,2.6,5.3,1.0,Cereals\n\
            2026-03-02,,Uncategorized,Coffee,1.00 cup,2.4,0.0,0.0,0.3,,Beverages\n\
            2026-03-02,,Dinner,,1.00 serving,300,,,,,\n\
            2026-03-02,,Dinner,Soup,1.00 serving,,,,,,\n";
        let read = read(file.as_bytes()).unwrap();
        assert_eq!(read.meals.len(), 2);
        let oats = &read.meals[0];
        assert_eq!(
            (oats.name.as_str(), oats.slot, oats.quantity, oats.unit),
            ("Oats, Rolled", MealSlot::Breakfast, 40.0, Unit::G)
        );
        assert_eq!(oats.at.to_string(), "2026-03-02 07:45:00");
        assert_eq!(
            (oats.kcal, oats.macros.fat_g, oats.macros.fiber_g),
            (152.0, Some(2.6), None)
        );
        let coffee = &read.meals[1];
        assert_eq!(
            (coffee.slot, coffee.quantity, coffee.unit),
            (MealSlot::Snack, 1.0, Unit::Serving)
        );
        assert_eq!(coffee.macros.sodium_mg, None);
        assert_eq!((read.skipped["no_name"], read.skipped["no_energy"]), (1, 1));
    }
}
