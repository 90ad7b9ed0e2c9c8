//! USDA FoodData Central's CSV download: a folder of tables joined by `fdc_id`.
//! `food.csv` lists the foods, `food_nutrient.csv` their nutrients (named in
//! `nutrient.csv`, with their units), `food_portion.csv` their household portions
//! (units in `measure_unit.csv`), `branded_food.csv` a branded food's brand and
//! GTIN.
//!
//! The tables are read side by side in `fdc_id` order, as USDA writes them, so
//! memory stays flat however large the download: only the small `nutrient.csv` and
//! `measure_unit.csv` are held whole. A table out of that order is an error that
//! says so, never a silent mismatch.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use super::checks::{RawFood, RowError};
use super::input::{BytesRead, open, text};

/// One row of the download: the food, `Ok(None)` for a record that is not a food,
/// or why it could not be read.
pub type Row = Result<Option<RawFood>, RowError>;

/// Nutrient ids in `nutrient.csv` (FDC's, stable across releases).
const ENERGY_KCAL: u32 = 1008;
const ENERGY_ATWATER_GENERAL: u32 = 2047;
const ENERGY_ATWATER_SPECIFIC: u32 = 2048;
const ENERGY_KJ: u32 = 1062;
const PROTEIN: u32 = 1003;
const FAT: u32 = 1004;
const CARBOHYDRATE: u32 = 1005;
const ALCOHOL: u32 = 1018;
const FIBER: u32 = 1079;
const SUGARS: u32 = 2000;
const SUGARS_OLD: u32 = 1063;
const SATURATED_FAT: u32 = 1258;
const SODIUM: u32 = 1093;

/// The kinds of record in `food.csv` that are foods as eaten; the others are lab
/// samples and acquisitions behind them.
const FOOD_TYPES: [&str; 5] = [
    "foundation_food",
    "sr_legacy_food",
    "survey_fndds_food",
    "branded_food",
    "experimental_food",
];

/// A CSV table with its header, read row by row.
struct Table {
    records: csv::ByteRecordsIntoIter<Box<dyn BufRead + Send>>,
    columns: Arc<HashMap<String, usize>>,
    name: &'static str,
}

impl Table {
    fn open(folder: &Path, name: &'static str, read: &BytesRead) -> Result<Option<Self>, String> {
        let path = folder.join(name);
        if !path.exists() {
            return Ok(None);
        }
        let (reader, _) = open(&path, read).map_err(|e| format!("{name}: {e}"))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let columns = reader
            .byte_headers()
            .map_err(|e| format!("{name}: {e}"))?
            .iter()
            .enumerate()
            .map(|(i, column)| (text(column).0, i))
            .collect::<HashMap<_, _>>();
        Ok(Some(Self {
            columns: Arc::new(columns),
            records: reader.into_byte_records(),
            name,
        }))
    }

    fn next(&mut self) -> Option<Result<Record, String>> {
        let record = self.records.next()?;
        Some(
            record
                .map(|record| Record {
                    record,
                    columns: Arc::clone(&self.columns),
                })
                .map_err(|e| format!("{}: {e}", self.name)),
        )
    }
}

/// One row of a table, read by column name.
struct Record {
    record: csv::ByteRecord,
    columns: Arc<HashMap<String, usize>>,
}

impl Record {
    fn get(&self, column: &str) -> Option<String> {
        let bytes = self.columns.get(column).and_then(|&i| self.record.get(i))?;
        Some(text(bytes).0.trim().to_owned()).filter(|value| !value.is_empty())
    }

    fn mended(&self) -> bool {
        self.record.iter().any(|field| text(field).1)
    }

    fn number(&self, column: &str) -> Option<f64> {
        self.get(column)?.parse().ok()
    }

    fn fdc_id(&self) -> Option<u64> {
        self.get("fdc_id")?.parse().ok()
    }
}

/// A table read in `fdc_id` order, a food's rows at a time.
struct Grouped {
    table: Option<Table>,
    peeked: Option<Record>,
    last: u64,
}

impl Grouped {
    fn new(table: Option<Table>) -> Self {
        Self {
            table,
            peeked: None,
            last: 0,
        }
    }

    /// The rows of `fdc_id`. Rows of ids before it belong to no food of `food.csv`
    /// and are passed over.
    fn rows_of(&mut self, fdc_id: u64) -> Result<Vec<Record>, String> {
        let mut rows = Vec::new();
        let Some(table) = self.table.as_mut() else {
            return Ok(rows);
        };
        loop {
            let record = match self.peeked.take() {
                Some(record) => record,
                None => match table.next() {
                    Some(record) => record?,
                    None => return Ok(rows),
                },
            };
            let Some(id) = record.fdc_id() else {
                continue;
            };
            if id < self.last {
                return Err(format!(
                    "{} is not in fdc_id order ({id} after {}): sort it by fdc_id, as USDA's \
                     download is",
                    table.name, self.last
                ));
            }
            self.last = id;
            match id.cmp(&fdc_id) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => rows.push(record),
                std::cmp::Ordering::Greater => {
                    self.peeked = Some(record);
                    return Ok(rows);
                }
            }
        }
    }
}

/// The foods of the download in `folder`, and the bytes of `food_nutrient.csv` read
/// (the largest table: what the progress bar follows) in `read`.
pub fn foods(
    folder: &Path,
    read: &BytesRead,
) -> Result<impl Iterator<Item = Row> + Send + use<>, String> {
    let unread = BytesRead::default();
    let mut food = Table::open(folder, "food.csv", &unread)?
        .ok_or_else(|| format!("{} has no food.csv", folder.display()))?;
    let nutrient_units = units(folder, &unread)?;
    let measures = measures(folder, &unread)?;
    let mut nutrients = Grouped::new(Table::open(folder, "food_nutrient.csv", read)?);
    let mut portions = Grouped::new(Table::open(folder, "food_portion.csv", &unread)?);
    let mut branded = Grouped::new(Table::open(folder, "branded_food.csv", &unread)?);
    let mut last = 0;
    Ok(std::iter::from_fn(move || {
        let record = match food.next()? {
            Ok(record) => record,
            Err(error) => return Some(Err(RowError::Input(error))),
        };
        Some((|| {
            let fdc_id = record
                .fdc_id()
                .ok_or_else(|| RowError::Row("food.csv: a row without a numeric fdc_id".into()))?;
            if fdc_id < last {
                return Err(RowError::Input(format!(
                    "food.csv is not in fdc_id order ({fdc_id} after {last})"
                )));
            }
            last = fdc_id;
            let nutrient_rows = nutrients.rows_of(fdc_id).map_err(RowError::Input)?;
            let portion_rows = portions.rows_of(fdc_id).map_err(RowError::Input)?;
            let branded_rows = branded.rows_of(fdc_id).map_err(RowError::Input)?;
            let kind = record.get("data_type").unwrap_or_default();
            if !FOOD_TYPES.contains(&kind.as_str()) {
                return Ok(None);
            }
            let mut raw = RawFood {
                source_id: fdc_id.to_string(),
                name: record.get("description"),
                lang: Some("en".into()),
                text_mended: record.mended(),
                ..RawFood::default()
            };
            add_nutrients(&mut raw, &nutrient_rows, &nutrient_units);
            for portion in &portion_rows {
                if let Some(serving) = portion_of(portion, &measures) {
                    raw.servings.push(serving);
                }
            }
            if let Some(brand) = branded_rows.first() {
                raw.brand = brand.get("brand_name").or_else(|| brand.get("brand_owner"));
                raw.barcodes
                    .extend(brand.get("gtin_upc").map(gtin_as_barcode));
                let unit = brand
                    .get("serving_size_unit")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                raw.per_100_ml = unit == "ml";
                if let (Some(size), Some(label), "g") = (
                    brand.number("serving_size"),
                    brand.get("household_serving_fulltext"),
                    unit.as_str(),
                ) {
                    raw.servings.push((label, size));
                }
            }
            Ok(Some(raw))
        })())
    }))
}

/// Nutrient ids and their units (`G`, `MG`, `UG`, `KCAL`, `kJ`).
fn units(folder: &Path, read: &BytesRead) -> Result<HashMap<u32, String>, String> {
    let mut table = Table::open(folder, "nutrient.csv", read)?
        .ok_or_else(|| format!("{} has no nutrient.csv", folder.display()))?;
    let mut units = HashMap::new();
    while let Some(record) = table.next() {
        let record = record?;
        if let (Some(id), Some(unit)) = (record.number("id"), record.get("unit_name")) {
            units.insert(id as u32, unit.to_ascii_uppercase());
        }
    }
    Ok(units)
}

/// Measure unit ids and names ("cup", "tbsp"); none without the table.
fn measures(folder: &Path, read: &BytesRead) -> Result<HashMap<u32, String>, String> {
    let Some(mut table) = Table::open(folder, "measure_unit.csv", read)? else {
        return Ok(HashMap::new());
    };
    let mut measures = HashMap::new();
    while let Some(record) = table.next() {
        let record = record?;
        if let (Some(id), Some(name)) = (record.number("id"), record.get("name")) {
            measures.insert(id as u32, name);
        }
    }
    Ok(measures)
}

fn add_nutrients(raw: &mut RawFood, rows: &[Record], units: &HashMap<u32, String>) {
    let mut amounts: HashMap<u32, f64> = HashMap::new();
    for row in rows {
        if let (Some(id), Some(amount)) = (row.number("nutrient_id"), row.number("amount")) {
            amounts.insert(id as u32, amount);
        }
    }
    // A mass in grams, whatever unit the table gives it in.
    let grams = |id: u32| {
        let amount = *amounts.get(&id)?;
        match units.get(&id).map(String::as_str) {
            Some("MG") => Some(amount / 1_000.0),
            Some("UG") => Some(amount / 1_000_000.0),
            _ => Some(amount),
        }
    };
    raw.energy_kcal = [ENERGY_KCAL, ENERGY_ATWATER_SPECIFIC, ENERGY_ATWATER_GENERAL]
        .iter()
        .find_map(|id| amounts.get(id).copied());
    raw.energy_kj = amounts.get(&ENERGY_KJ).copied();
    raw.protein_g = grams(PROTEIN);
    raw.fat_g = grams(FAT);
    raw.carbs_g = grams(CARBOHYDRATE);
    raw.alcohol_g = grams(ALCOHOL);
    raw.fiber_g = grams(FIBER);
    raw.sugars_g = grams(SUGARS).or_else(|| grams(SUGARS_OLD));
    raw.saturated_fat_g = grams(SATURATED_FAT);
    raw.sodium_mg = grams(SODIUM).map(|grams| (grams * 1_000.0 * 1_000.0).round() / 1_000.0);
}

/// "1 cup, chopped" = 150 g: the amount, its unit unless undetermined, the
/// description and the modifier.
fn portion_of(row: &Record, measures: &HashMap<u32, String>) -> Option<(String, f64)> {
    let grams = row.number("gram_weight")?;
    let unit = row
        .number("measure_unit_id")
        .and_then(|id| measures.get(&(id as u32)))
        .filter(|unit| *unit != "undetermined");
    let parts: Vec<String> = [
        row.get("amount"),
        unit.cloned(),
        row.get("portion_description"),
        row.get("modifier"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        return None;
    }
    let label = match parts.split_first() {
        Some((first, [])) => first.clone(),
        Some((first, rest)) => format!("{first} {}", rest.join(", ")),
        None => return None,
    };
    Some((label, grams))
}

/// A GTIN as USDA lists it (often 12–14 digits, sometimes with leading zeros
/// beyond a barcode's length): a GTIN-14 with a leading zero is its GTIN-13.
fn gtin_as_barcode(gtin: String) -> String {
    match gtin.strip_prefix('0') {
        Some(rest) if gtin.len() == 14 => rest.to_owned(),
        _ => gtin,
    }
}
