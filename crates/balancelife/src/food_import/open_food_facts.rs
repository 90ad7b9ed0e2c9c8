//! Open Food Facts' dumps: the JSON Lines export (`openfoodfacts-products.jsonl.gz`,
//! one product per line) and the CSV export (`en.openfoodfacts.org.products.csv.gz`,
//! tab-separated). A product's code is its id there and, when its check digit is
//! right, its barcode. Nutrients are per 100 g or ml (`_100g` fields); sodium is in
//! grams; alcohol in % vol.

use std::collections::HashMap;
use std::io::BufRead;

use serde_json::Value;

use super::checks::{RawFood, RowError};
use super::input::text;

/// One row of a dump: the food, or why it could not be read.
pub type Row = Result<RawFood, RowError>;

/// The products of a JSON Lines dump, one per line.
pub fn jsonl(reader: Box<dyn BufRead + Send>) -> impl Iterator<Item = Row> {
    reader.split(b'\n').filter_map(|line| {
        let line = match line {
            Ok(line) => line,
            Err(error) => return Some(Err(RowError::Input(format!("reading: {error}")))),
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let (line, mended) = text(&line);
        Some(
            serde_json::from_str::<Value>(&line)
                .map_err(|error| RowError::Row(format!("not JSON: {error}")))
                .map(|product| {
                    let mut raw = from_json(&product);
                    raw.text_mended = mended;
                    raw
                }),
        )
    })
}

fn from_json(product: &Value) -> RawFood {
    let text_of = |field: &str| {
        product[field]
            .as_str()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let code = product["code"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| product["code"].as_u64().map(|code| code.to_string()))
        .unwrap_or_default();
    let lang = text_of("lang");
    let name = lang
        .as_ref()
        .and_then(|lang| text_of(&format!("product_name_{lang}")))
        .or_else(|| text_of("product_name"))
        .or_else(|| text_of("product_name_en"));
    let nutriments = &product["nutriments"];
    let number = |field: &str| number_of(&nutriments[field]);
    let fields: HashMap<&str, Option<f64>> = NUTRIENT_FIELDS
        .iter()
        .map(|field| (*field, number(field)))
        .collect();
    let mut raw = with_nutrients(code, name, &fields);
    raw.lang = lang;
    raw.brand = text_of("brands").map(first_brand);
    raw.per_100_ml = text_of("product_quantity_unit").is_some_and(|unit| unit == "ml")
        || text_of("quantity").is_some_and(|quantity| is_volume(&quantity));
    if let (Some(label), Some(grams)) = (
        text_of("serving_size"),
        number_of(&product["serving_quantity"]),
    ) {
        raw.servings.push((label, grams));
    }
    raw
}

/// The `_100g` fields read, as the JSON and CSV dumps both name them.
const NUTRIENT_FIELDS: [&str; 12] = [
    "energy-kcal_100g",
    "energy-kj_100g",
    "energy_100g",
    "proteins_100g",
    "carbohydrates_100g",
    "fat_100g",
    "fiber_100g",
    "sugars_100g",
    "saturated-fat_100g",
    "sodium_100g",
    "salt_100g",
    "alcohol_100g",
];

fn with_nutrients(
    code: String,
    name: Option<String>,
    fields: &HashMap<&str, Option<f64>>,
) -> RawFood {
    let field = |name: &str| fields.get(name).copied().flatten();
    let mut raw = RawFood {
        source_id: code.trim().to_owned(),
        barcodes: vec![code.trim().to_owned()],
        name,
        energy_kcal: field("energy-kcal_100g"),
        // `energy_100g` is in kJ, as the dump documents it.
        energy_kj: field("energy-kj_100g").or_else(|| field("energy_100g")),
        protein_g: field("proteins_100g"),
        carbs_g: field("carbohydrates_100g"),
        fat_g: field("fat_100g"),
        fiber_g: field("fiber_100g"),
        sugars_g: field("sugars_100g"),
        saturated_fat_g: field("saturated-fat_100g"),
        // Sodium in grams; salt is sodium × 2.5 by the labelling rules both use.
        sodium_mg: field("sodium_100g")
            .or_else(|| field("salt_100g").map(|salt| salt / 2.5))
            .map(|grams| (grams * 1_000.0 * 1_000.0).round() / 1_000.0),
        ..RawFood::default()
    };
    raw.set_alcohol_percent(field("alcohol_100g"));
    raw
}

/// A number, whether the dump wrote it as one or as text.
fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// The first of a comma-separated list of brands.
fn first_brand(brands: String) -> String {
    brands
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Whether a pack's quantity ("1 l", "330 ml", "75cl") is a volume.
fn is_volume(quantity: &str) -> bool {
    let unit: String = quantity
        .trim()
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ',' || c == ' ')
        .to_ascii_lowercase();
    matches!(unit.trim(), "ml" | "cl" | "l" | "dl")
}

/// The products of a CSV dump (tab-separated, a header row first).
pub fn csv(reader: Box<dyn BufRead + Send>) -> impl Iterator<Item = Row> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .flexible(true)
        .from_reader(reader);
    let header: Result<Vec<String>, RowError> = reader
        .byte_headers()
        .map(|header| header.iter().map(|name| text(name).0).collect())
        .map_err(|error| RowError::Input(format!("reading the header: {error}")));
    let mut records = reader.into_byte_records();
    let mut header = Some(header);
    let mut columns: Option<HashMap<String, usize>> = None;
    std::iter::from_fn(move || {
        if let Some(header) = header.take() {
            match header {
                Ok(names) => {
                    columns = Some(
                        names
                            .into_iter()
                            .enumerate()
                            .map(|(i, name)| (name, i))
                            .collect(),
                    );
                }
                Err(error) => return Some(Err(error)),
            }
        }
        let columns = columns.as_ref()?;
        let record = match records.next()? {
            Ok(record) => record,
            Err(error) if error.is_io_error() => {
                return Some(Err(RowError::Input(format!("reading: {error}"))));
            }
            Err(error) => return Some(Err(RowError::Row(error.to_string()))),
        };
        let mut mended = false;
        let mut cell = |name: &str| {
            let bytes = columns.get(name).and_then(|&i| record.get(i))?;
            let (value, was_mended) = text(bytes);
            mended |= was_mended;
            Some(value.trim().to_owned()).filter(|value| !value.is_empty())
        };
        let code = cell("code").unwrap_or_default();
        let name = cell("product_name");
        let fields: HashMap<&str, Option<f64>> = NUTRIENT_FIELDS
            .iter()
            .map(|field| (*field, cell(field).and_then(|value| value.parse().ok())))
            .collect();
        let brand = cell("brands").map(first_brand);
        let lang = cell("lang");
        let volume = cell("quantity").is_some_and(|quantity| is_volume(&quantity));
        let serving =
            cell("serving_size").zip(cell("serving_quantity").and_then(|grams| grams.parse().ok()));
        let mut raw = with_nutrients(code, name, &fields);
        raw.brand = brand;
        raw.lang = lang;
        raw.per_100_ml = volume;
        raw.servings.extend(serving);
        raw.text_mended = mended;
        Some(Ok(raw))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_are_told_from_weights() {
        assert!(is_volume("330 ml"));
        assert!(is_volume("1,5 l"));
        assert!(is_volume("75cl"));
        assert!(!is_volume("500 g"));
        assert!(!is_volume("2 x 125 g"));
    }
}
