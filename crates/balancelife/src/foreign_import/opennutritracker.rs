//! OpenNutriTracker's export: a zip bundle (`opennutritracker-export.zip`) whose
//! `user_intake.json` lists the foods logged and `user_activity.json` the
//! activities, as its repository's `docs/export-format.md` describes them; or
//! `user_intake.json` sent alone. The CSV companions in the bundle repeat the JSON
//! and are not read. Unknown fields are passed over, as the app's own importer
//! does.
//!
//! An intake holds the food's nutrients per 100 g (or ml) and the amount eaten,
//! which the app stores already converted to grams (or millilitres) whatever unit
//! the user chose (its `totalQuantityConverted`), so its numbers are worked out as
//! a meal logged from a food is here; the unit only says how to show the portion.

use std::io::Read as _;

use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;

use super::{ForeignMeal, ForeignWorkout, Macros, Read, Unreadable, When, slot_named};
use crate::domain::{Activity, Unit};

/// The most the files read from the bundle may unpack to, together: an export of
/// years is a few MiB; a "zip bomb" is refused before it fills memory.
const MOST_UNPACKED: u64 = 6 * 1024 * 1024;

pub fn read(bytes: &[u8]) -> Result<Read, Unreadable> {
    let (intakes, activities) = if bytes.starts_with(b"PK\x03\x04") {
        let mut bundle = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|_| unreadable("the zip bundle cannot be opened"))?;
        let mut budget = MOST_UNPACKED;
        let intakes = member(&mut bundle, "user_intake.json", &mut budget)?
            .ok_or_else(|| unreadable("the bundle has no user_intake.json"))?;
        let activities = member(&mut bundle, "user_activity.json", &mut budget)?;
        (intakes, activities)
    } else {
        (json(bytes)?, None)
    };
    let mut read = Read::default();
    for intake in records(&intakes, "user_intake.json")? {
        match meal(intake) {
            Ok(meal) => read.meals.push(meal),
            Err(reason) => read.skip(reason),
        }
    }
    if let Some(activities) = activities {
        for activity in records(&activities, "user_activity.json")? {
            match workout(activity) {
                Ok(workout) => read.workouts.push(workout),
                Err(reason) => read.skip(reason),
            }
        }
    }
    Ok(read)
}

/// The bundle's file `name`, parsed, if it has one; what it unpacks to is taken
/// from `budget`.
fn member(
    bundle: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    name: &str,
    budget: &mut u64,
) -> Result<Option<Value>, Unreadable> {
    let file = match bundle.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        // Encrypted, or packed in a way the app never writes: not to be passed
        // over as if the file were not there.
        Err(_) => return Err(unreadable(&format!("{name} in the bundle cannot be read"))),
    };
    let mut unpacked = Vec::new();
    file.take(*budget + 1)
        .read_to_end(&mut unpacked)
        .map_err(|_| unreadable("the zip bundle cannot be unpacked"))?;
    let size = unpacked.len() as u64;
    if size > *budget {
        return Err(unreadable("the bundle unpacks to more than 6 MiB"));
    }
    *budget -= size;
    json(&unpacked).map(Some)
}

fn json(bytes: &[u8]) -> Result<Value, Unreadable> {
    serde_json::from_slice(bytes)
        .map_err(|_| unreadable("neither a zip bundle nor user_intake.json (JSON)"))
}

fn records<'a>(value: &'a Value, name: &str) -> Result<&'a Vec<Value>, Unreadable> {
    value
        .as_array()
        .ok_or_else(|| unreadable(&format!("{name} is not a list of records")))
}

fn unreadable(why: &str) -> Unreadable {
    Unreadable::NotThisFormat(format!("not an OpenNutriTracker export: {why}"))
}

/// A time as the app writes it: local (`2026-05-13T08:15:00.000`), or an instant
/// (`…Z`) for records written in UTC.
fn when(value: &Value) -> Option<When> {
    let text = value.as_str()?;
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(When::Instant(instant.to_utc()));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(When::Local)
}

fn id_of(record: &Value) -> Option<String> {
    match &record["id"] {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

fn meal(intake: &Value) -> Result<ForeignMeal, &'static str> {
    let id = id_of(intake).ok_or("no_id")?;
    let at = when(&intake["dateTime"]).ok_or("no_date")?;
    let slot = intake["type"]
        .as_str()
        .and_then(slot_named)
        .ok_or("unknown_meal")?;
    let food = &intake["meal"];
    let name = food["name"]
        .as_str()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .ok_or("no_name")?;
    // Grams (millilitres for a drink), whatever unit the user logged it in.
    let grams = intake["amount"]
        .as_f64()
        .filter(|amount| amount.is_finite() && *amount > 0.0)
        .ok_or("no_amount")?;
    let (quantity, unit) = match intake["unit"]
        .as_str()
        .unwrap_or("")
        .to_lowercase()
        .as_str()
    {
        "g" | "g/ml" | "gml" | "oz" => (grams, Unit::G),
        "ml" | "fl.oz" => (grams, Unit::Ml),
        "serving" => {
            let serving = food["servingQuantity"]
                .as_f64()
                .filter(|grams| grams.is_finite() && *grams > 0.0)
                .ok_or("serving_without_weight")?;
            (grams / serving, Unit::Serving)
        }
        _ => return Err("unknown_unit"),
    };
    let per_100 = &food["nutriments"];
    let portion = |field: &str| per_100[field].as_f64().map(|value| value * grams / 100.0);
    Ok(ForeignMeal {
        key: format!("intake|{id}"),
        at,
        slot,
        name: name.to_owned(),
        quantity,
        unit,
        kcal: portion("energyKcal100").ok_or("no_energy")?,
        macros: Macros {
            protein_g: portion("proteins100"),
            carbs_g: portion("carbohydrates100"),
            fat_g: portion("fat100"),
            fiber_g: portion("fiber100"),
            sugar_g: portion("sugars100"),
            sodium_mg: portion("sodium100"),
        },
    })
}

fn workout(record: &Value) -> Result<ForeignWorkout, &'static str> {
    let id = id_of(record).ok_or("no_id")?;
    let at = when(&record["date"]).ok_or("no_date")?;
    let minutes = record["duration"]
        .as_f64()
        .filter(|minutes| *minutes > 0.0)
        .ok_or("no_duration")?;
    let kcal = record["userKcal"]
        .as_f64()
        .or_else(|| record["burnedKcal"].as_f64())
        .ok_or("no_energy")?;
    let activity = &record["physicalActivityDBO"];
    let title = activity["specificActivity"]
        .as_str()
        .or_else(|| activity["description"].as_str())
        .map(str::trim)
        .filter(|title| !title.is_empty())
        .unwrap_or("Activity");
    Ok(ForeignWorkout {
        key: format!("activity|{id}"),
        at,
        title: title.to_owned(),
        activity: match activity["type"].as_str().unwrap_or("") {
            "running" => Activity::Running,
            "bicycling" => Activity::Cycling,
            "waterActivities" => Activity::Swimming,
            "conditioningExercise" => Activity::Strength,
            _ => Activity::Other,
        },
        duration_s: minutes * 60.0,
        kcal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_intake_by_weight_or_serving_takes_its_food_numbers_for_the_portion() {
        let intakes = json!([
            {"id": "a", "unit": "g", "amount": 150.0, "type": "breakfast",
             "dateTime": "2026-05-13T08:15:00.000",
             "meal": {"name": "Whole Milk", "nutriments":
                {"energyKcal100": 61.0, "proteins100": 3.2, "fat100": 3.3, "carbohydrates100": 4.8}}},
            {"id": "b", "unit": "serving", "amount": 80.0, "type": "snack",
             "dateTime": "2026-05-13T16:00:00.000Z",
             "meal": {"name": "Bar", "servingQuantity": 40.0,
                "nutriments": {"energyKcal100": 400.0, "fiber100": null}}},
            {"id": "c", "unit": "piece", "amount": 1.0, "type": "lunch",
             "dateTime": "2026-05-13T12:00:00.000", "meal": {"name": "Apple",
                "nutriments": {"energyKcal100": 52.0}}},
            {"id": "d", "unit": "g", "amount": 10.0, "type": "lunch",
             "dateTime": "2026-05-13T12:00:00.000", "meal": {"name": "Mystery",
                "nutriments": {}}}
        ]);
        let read = read(intakes.to_string().as_bytes()).unwrap();
        assert_eq!(read.meals.len(), 2);
        let milk = &read.meals[0];
        assert_eq!(milk.key, "intake|a");
        assert_eq!((milk.quantity, milk.unit), (150.0, Unit::G));
        assert!((milk.kcal - 91.5).abs() < 1e-9, "61 × 1.5");
        assert!((milk.macros.protein_g.unwrap() - 4.8).abs() < 1e-9);
        assert_eq!(milk.macros.fiber_g, None);
        assert!(matches!(milk.at, When::Local(_)));
        let bar = &read.meals[1];
        assert_eq!((bar.quantity, bar.unit), (2.0, Unit::Serving));
        assert!(
            (bar.kcal - 320.0).abs() < 1e-9,
            "400 × 80 g / 100: two 40 g servings"
        );
        assert!(matches!(bar.at, When::Instant(_)));
        assert_eq!(
            (read.skipped["unknown_unit"], read.skipped["no_energy"]),
            (1, 1)
        );
    }

    #[test]
    fn neither_a_bundle_nor_json_is_refused_whole() {
        assert!(read(b"Date,Meal,Calories\n").is_err());
        assert!(read(b"PK\x03\x04 not really a zip").is_err());
    }
}
