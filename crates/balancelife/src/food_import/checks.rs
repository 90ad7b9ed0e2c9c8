//! What an imported row must pass to become a food, and what is mended on the way.
//!
//! Public dumps hold rows no tracker should serve: no name, negative amounts, more
//! than 100 g of a nutrient in 100 g, energy that cannot come from the macros. Such
//! rows are skipped and counted by reason. Rows that are only awkward are mended and
//! counted: energy given in kJ alone, a barcode whose check digit is wrong (the food
//! stays, the barcode goes), text that was not UTF-8.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::domain::{
    Barcode, Basis, Food, FoodName, FoodSource, Grams, GramsPer100, KcalPer100, LanguageTag,
    MilligramsPer100, Nutrients, Serving, Version, new_id,
};

/// kJ in a kcal.
pub const KJ_PER_KCAL: f64 = 4.184;
/// Grams of ethanol in 1 ml, to turn % vol into grams per 100 ml.
const ETHANOL_G_PER_ML: f64 = 0.789;

/// A row as a reader understood it, before any check.
#[derive(Debug, Clone, Default)]
pub struct RawFood {
    pub source_id: String,
    pub name: Option<String>,
    pub lang: Option<String>,
    pub brand: Option<String>,
    pub barcodes: Vec<String>,
    pub per_100_ml: bool,
    pub energy_kcal: Option<f64>,
    pub energy_kj: Option<f64>,
    pub protein_g: Option<f64>,
    pub carbs_g: Option<f64>,
    pub fat_g: Option<f64>,
    pub fiber_g: Option<f64>,
    pub sugars_g: Option<f64>,
    pub saturated_fat_g: Option<f64>,
    pub sodium_mg: Option<f64>,
    /// Alcohol, as % vol (Open Food Facts) or grams (USDA), already in grams here.
    pub alcohol_g: Option<f64>,
    pub servings: Vec<(String, f64)>,
    /// Whether some of its text had to be mended (it was not UTF-8).
    pub text_mended: bool,
}

impl RawFood {
    /// Alcohol given as % vol.
    pub fn set_alcohol_percent(&mut self, percent: Option<f64>) {
        self.alcohol_g = percent.map(|percent| percent * ETHANOL_G_PER_ML);
    }
}

/// Why a reader could not give a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowError {
    /// This row is malformed: it is skipped and counted.
    Row(String),
    /// The input itself failed (unreadable, a table out of order): the import stops.
    Input(String),
}

/// Why a row was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    Unreadable,
    NoSourceId,
    NoName,
    Negative,
    OverTheWhole,
    OutOfRange,
    EnergyFarFromMacros,
    /// A USDA record that is not a food (a lab sample, an acquisition).
    NotAFood,
    /// The same product again further on in its batch, whose row counts instead.
    RepeatedLater,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unreadable => "unreadable row",
            Self::NoSourceId => "no id in its source",
            Self::NoName => "no name",
            Self::Negative => "a negative amount",
            Self::OverTheWhole => "a nutrient over 100 g per 100 g",
            Self::OutOfRange => "energy over 1000 kcal or sodium over 100 g per 100 g",
            Self::EnergyFarFromMacros => {
                "energy far from 4·protein + 4·carbohydrate + 9·fat (+ 7·alcohol)"
            }
            Self::NotAFood => "a USDA sample or acquisition record, not a food",
            Self::RepeatedLater => "listed again further on, where the later row counts",
        })
    }
}

/// What was mended in a row that was imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mend {
    EnergyFromKilojoules,
    BarcodeDropped,
    TextNotUtf8,
    ServingDropped,
}

impl fmt::Display for Mend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EnergyFromKilojoules => "energy given in kJ only, turned into kcal",
            Self::BarcodeDropped => "barcode dropped (wrong length or check digit)",
            Self::TextNotUtf8 => "text that was not UTF-8, mended",
            Self::ServingDropped => "serving dropped (no label, or no weight)",
        })
    }
}

/// The food `raw` makes, with what was mended; or why it is skipped.
pub fn to_food(
    raw: RawFood,
    source: FoodSource,
    now: DateTime<Utc>,
) -> Result<(Food, Vec<Mend>), Skip> {
    let mut mends = Vec::new();
    if raw.text_mended {
        mends.push(Mend::TextNotUtf8);
    }
    let source_id = raw
        .source_id
        .trim()
        .try_into()
        .map_err(|_| Skip::NoSourceId)?;
    let name = raw
        .name
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .ok_or(Skip::NoName)?;
    let name = truncated(name, 200).try_into().map_err(|_| Skip::NoName)?;
    let grams = [
        raw.protein_g,
        raw.carbs_g,
        raw.fat_g,
        raw.fiber_g,
        raw.sugars_g,
        raw.saturated_fat_g,
        raw.alcohol_g,
    ];
    let all = grams
        .iter()
        .chain([&raw.energy_kcal, &raw.energy_kj, &raw.sodium_mg]);
    if all
        .flatten()
        .any(|value| *value < 0.0 || !value.is_finite())
    {
        return Err(Skip::Negative);
    }
    if grams.iter().flatten().any(|value| *value > 100.0) {
        return Err(Skip::OverTheWhole);
    }
    let energy = match (raw.energy_kcal, raw.energy_kj) {
        (Some(kcal), _) => Some(kcal),
        (None, Some(kj)) => {
            mends.push(Mend::EnergyFromKilojoules);
            Some((kj / KJ_PER_KCAL * 10.0).round() / 10.0)
        }
        (None, None) => None,
    };
    if let (Some(energy), Some(p), Some(c), Some(f)) =
        (energy, raw.protein_g, raw.carbs_g, raw.fat_g)
        && !energy_fits(energy, p, c, f, raw.alcohol_g.unwrap_or(0.0))
    {
        return Err(Skip::EnergyFarFromMacros);
    }
    let per_100 = |value: Option<f64>| value.map(GramsPer100::try_from).transpose();
    let nutrients = Nutrients {
        energy_kcal: energy
            .map(KcalPer100::try_from)
            .transpose()
            .map_err(|_| Skip::OutOfRange)?,
        protein_g: per_100(raw.protein_g).map_err(|_| Skip::OverTheWhole)?,
        carbs_g: per_100(raw.carbs_g).map_err(|_| Skip::OverTheWhole)?,
        fat_g: per_100(raw.fat_g).map_err(|_| Skip::OverTheWhole)?,
        fiber_g: per_100(raw.fiber_g).map_err(|_| Skip::OverTheWhole)?,
        sugars_g: per_100(raw.sugars_g).map_err(|_| Skip::OverTheWhole)?,
        saturated_fat_g: per_100(raw.saturated_fat_g).map_err(|_| Skip::OverTheWhole)?,
        sodium_mg: raw
            .sodium_mg
            .map(MilligramsPer100::try_from)
            .transpose()
            .map_err(|_| Skip::OutOfRange)?,
    };
    let mut barcodes = Vec::new();
    for code in &raw.barcodes {
        match Barcode::parse(code) {
            Ok(barcode) => barcodes.push(barcode),
            Err(_) => mends.push(Mend::BarcodeDropped),
        }
    }
    let mut servings = Vec::new();
    for (label, grams) in &raw.servings {
        let serving = truncated(label.trim(), 80).try_into().ok().zip(
            Grams::try_from(*grams)
                .ok()
                .filter(|grams| grams.get() > 0.0),
        );
        match serving {
            Some((label, grams)) if servings.len() < Food::MAX_LISTED => {
                servings.push(Serving { label, grams });
            }
            _ => mends.push(Mend::ServingDropped),
        }
    }
    let brand = raw
        .brand
        .as_deref()
        .map(str::trim)
        .filter(|brand| !brand.is_empty())
        .and_then(|brand| truncated(brand, 200).try_into().ok());
    let lang = raw
        .lang
        .and_then(|lang| LanguageTag::try_from(lang).ok())
        .unwrap_or_else(LanguageTag::english);
    let mut food = Food {
        id: new_id(),
        source,
        source_id: Some(source_id),
        owner: None,
        name: FoodName { text: name, lang },
        other_names: Vec::new(),
        brand,
        barcodes,
        basis: if raw.per_100_ml {
            Basis::Per100Ml
        } else {
            Basis::Per100G
        },
        nutrients,
        micronutrients: Vec::new(),
        servings,
        recipe: None,
        version: Version::try_from(1_i64).expect("1 is a version"),
        created_at: now,
        updated_at: now,
    };
    food.barcodes.truncate(Food::MAX_LISTED);
    food.normalize();
    Ok((food, mends))
}

/// Whether `energy` (kcal) can come from the macros: within a quarter of the larger
/// of the two, plus 25 kcal. The factors are Atwater's; fibre (2 kcal/g in the EU,
/// within carbohydrate in the US) and polyols are why the margin is wide.
pub fn energy_fits(energy: f64, protein: f64, carbs: f64, fat: f64, alcohol: f64) -> bool {
    let from_macros = 4.0 * protein + 4.0 * carbs + 9.0 * fat + 7.0 * alcohol;
    (energy - from_macros).abs() <= 0.25 * energy.max(from_macros) + 25.0
}

/// `text` cut to at most `max` characters.
fn truncated(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oats() -> RawFood {
        RawFood {
            source_id: "123".into(),
            name: Some("Oats".into()),
            energy_kcal: Some(379.0),
            protein_g: Some(13.2),
            carbs_g: Some(67.7),
            fat_g: Some(6.5),
            ..RawFood::default()
        }
    }

    fn skip_of(raw: RawFood) -> Skip {
        to_food(raw, FoodSource::Usda, crate::domain::now()).unwrap_err()
    }

    #[test]
    fn a_plausible_row_is_a_food() {
        let (food, mends) = to_food(oats(), FoodSource::Usda, crate::domain::now()).unwrap();
        assert_eq!(food.name.text.as_str(), "Oats");
        assert!(mends.is_empty());
    }

    #[test]
    fn implausible_rows_are_skipped_for_their_reason() {
        assert_eq!(
            skip_of(RawFood {
                name: None,
                ..oats()
            }),
            Skip::NoName
        );
        assert_eq!(
            skip_of(RawFood {
                name: Some("  ".into()),
                ..oats()
            }),
            Skip::NoName
        );
        assert_eq!(
            skip_of(RawFood {
                fat_g: Some(-1.0),
                ..oats()
            }),
            Skip::Negative
        );
        assert_eq!(
            skip_of(RawFood {
                carbs_g: Some(100.5),
                ..oats()
            }),
            Skip::OverTheWhole
        );
        assert_eq!(
            skip_of(RawFood {
                energy_kcal: Some(37.9),
                ..oats()
            }),
            Skip::EnergyFarFromMacros,
            "a decimal point slipped"
        );
        assert_eq!(
            skip_of(RawFood {
                source_id: " ".into(),
                ..oats()
            }),
            Skip::NoSourceId
        );
    }

    #[test]
    fn kilojoules_alone_are_turned_into_kilocalories() {
        let raw = RawFood {
            energy_kcal: None,
            energy_kj: Some(1586.0),
            ..oats()
        };
        let (food, mends) = to_food(raw, FoodSource::Usda, crate::domain::now()).unwrap();
        assert_eq!(food.nutrients.energy_kcal.map(KcalPer100::get), Some(379.1));
        assert_eq!(mends, [Mend::EnergyFromKilojoules]);
    }

    #[test]
    fn spirits_are_plausible_with_their_alcohol() {
        let mut vodka = RawFood {
            name: Some("Vodka".into()),
            energy_kcal: Some(231.0),
            protein_g: Some(0.0),
            carbs_g: Some(0.0),
            fat_g: Some(0.0),
            per_100_ml: true,
            ..oats()
        };
        assert_eq!(skip_of(vodka.clone()), Skip::EnergyFarFromMacros);
        vodka.set_alcohol_percent(Some(40.0));
        assert!(to_food(vodka, FoodSource::OpenFoodFacts, crate::domain::now()).is_ok());
    }

    #[test]
    fn a_bad_barcode_is_dropped_and_the_food_kept() {
        let raw = RawFood {
            barcodes: vec!["4006381333931".into(), "4006381333932".into()],
            ..oats()
        };
        let (food, mends) = to_food(raw, FoodSource::OpenFoodFacts, crate::domain::now()).unwrap();
        assert_eq!(food.barcodes.len(), 1);
        assert_eq!(mends, [Mend::BarcodeDropped]);
    }
}
