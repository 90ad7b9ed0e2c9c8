//! The food database at scale: search as you type and barcode lookups over an
//! index of synthetic foods with realistic names, and an import into MongoDB.
//!
//! The index is built and searched in a child process of this binary
//! (`--food-index N`), so its resident memory is the index's and the binary's
//! alone, as a service's would be, not the rest of the benchmark's. Latencies are
//! the server side of a search: the index's, without HTTP.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use balancelife::domain::{
    Barcode, Basis, Food, FoodName, FoodSource, GramsPer100, KcalPer100, LanguageTag, Nutrients,
    Version,
};
use balancelife::food_import::{self, Format, Options};
use balancelife::search::SearchRequest;
use balancelife::search::index::FoodIndex;
use balancelife::store::Store;
use balancelife::store::foods::FoodChange;

use crate::measure::{Stats, histogram, one_at_a_time};

/// What the child process reports.
#[derive(Debug, Serialize, Deserialize)]
pub struct IndexFigures {
    pub foods: usize,
    pub build_seconds: f64,
    pub on_disk_mib: f64,
    pub rss_mib: f64,
    /// (operation, stats), one row each.
    pub rows: Vec<(String, Stats)>,
}

const BASES: [&str; 40] = [
    "oats",
    "yogurt",
    "milk",
    "bread",
    "cheese",
    "chicken breast",
    "rice",
    "pasta",
    "apple",
    "banana",
    "orange juice",
    "peanut butter",
    "granola",
    "almonds",
    "salmon",
    "tuna",
    "eggs",
    "spinach",
    "broccoli",
    "tomato soup",
    "lentils",
    "chickpeas",
    "hummus",
    "tofu",
    "butter",
    "olive oil",
    "chocolate",
    "cookies",
    "crackers",
    "muesli",
    "cereal",
    "pizza",
    "burger",
    "sausage",
    "ham",
    "turkey",
    "beef mince",
    "quinoa",
    "couscous",
    "avocado",
];
const KINDS: [&str; 30] = [
    "organic",
    "whole grain",
    "low fat",
    "light",
    "greek",
    "smoked",
    "roasted",
    "crunchy",
    "creamy",
    "sweet",
    "salted",
    "unsalted",
    "spicy",
    "classic",
    "original",
    "vanilla",
    "strawberry",
    "honey",
    "protein",
    "gluten free",
    "vegan",
    "wild",
    "fresh",
    "frozen",
    "dark",
    "mild",
    "extra",
    "mini",
    "family",
    "crème",
];
const PREPARATIONS: [&str; 12] = [
    "raw",
    "cooked",
    "boiled",
    "baked",
    "fried",
    "grilled",
    "canned",
    "dried",
    "sliced",
    "plain",
    "with raisins",
    "ready meal",
];
const BRANDS: [&str; 24] = [
    "Nutty Co",
    "Hillside",
    "Bauer",
    "Müller",
    "Dairy Farms",
    "Golden Mill",
    "Sunrise",
    "Nordic Bakery",
    "Green Valley",
    "Casa Italia",
    "Ocean Catch",
    "Happy Hen",
    "Bio Garden",
    "Alpen Gold",
    "Maple Leaf",
    "Red Barn",
    "Blue Coast",
    "Little Chef",
    "Harvest Moon",
    "Urban Deli",
    "Old Mill",
    "Fjord",
    "Provence",
    "Kyoto Kitchen",
];

/// Food `n` of the synthetic set: the same for the same `n` on every run.
fn synthetic(n: usize, rng: &mut StdRng) -> Food {
    let base = BASES[rng.random_range(0..BASES.len())];
    let kind = KINDS[rng.random_range(0..KINDS.len())];
    let name = match rng.random_range(0..3) {
        0 => format!("{kind} {base}"),
        1 => format!(
            "{base}, {}",
            PREPARATIONS[rng.random_range(0..PREPARATIONS.len())]
        ),
        _ => format!(
            "{kind} {base}, {}",
            PREPARATIONS[rng.random_range(0..PREPARATIONS.len())]
        ),
    };
    let mut barcodes = Vec::new();
    if n.is_multiple_of(3) {
        barcodes.push(barcode_of(n));
    }
    let now = balancelife::domain::now();
    let grams = |g: f64| GramsPer100::try_from(g).ok();
    Food {
        id: Uuid::from_u128(n as u128 + 1),
        source: FoodSource::OpenFoodFacts,
        source_id: Some(format!("{n}").as_str().try_into().expect("a short id")),
        owner: None,
        name: FoodName {
            text: name.as_str().try_into().expect("a short name"),
            lang: LanguageTag::english(),
        },
        other_names: Vec::new(),
        brand: rng.random_bool(0.7).then(|| {
            BRANDS[rng.random_range(0..BRANDS.len())]
                .try_into()
                .expect("a brand")
        }),
        barcodes,
        basis: Basis::Per100G,
        nutrients: Nutrients {
            energy_kcal: KcalPer100::try_from(rng.random_range(20.0..600.0)).ok(),
            protein_g: grams(rng.random_range(0.0..30.0)),
            carbs_g: grams(rng.random_range(0.0..70.0)),
            fat_g: grams(rng.random_range(0.0..40.0)),
            ..Nutrients::default()
        },
        micronutrients: Vec::new(),
        servings: Vec::new(),
        recipe: None,
        version: Version::try_from(1_i64).expect("1 is a version"),
        created_at: now,
        updated_at: now,
    }
}

/// An EAN-13 with a right check digit, from `n`.
fn barcode_of(n: usize) -> Barcode {
    Barcode::completing(&format!("20{n:010}")).expect("twelve digits")
}

/// What people type: prefixes of one to three letters, a word, a word and the
/// start of the next, a typo.
fn queries(rng: &mut StdRng) -> Vec<(&'static str, String)> {
    let mut queries = Vec::new();
    for _ in 0..100 {
        let base = BASES[rng.random_range(0..BASES.len())];
        let kind = KINDS[rng.random_range(0..KINDS.len())];
        let first: String = base.split(' ').next().unwrap_or(base).to_owned();
        for letters in 1..=3 {
            let prefix: String = first.chars().take(letters).collect();
            queries.push(("prefix of 1-3 letters", prefix));
        }
        queries.push(("a word", first.clone()));
        let next: String = base.chars().take(3).collect();
        queries.push(("a word and a prefix", format!("{kind} {next}")));
        if first.chars().count() >= 5 {
            let mut typo: Vec<char> = first.chars().collect();
            typo.swap(1, 2);
            queries.push(("a word with a typo", typo.into_iter().collect()));
        }
    }
    queries
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn size_mib(directory: &Path) -> f64 {
    let bytes: u64 = std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| entry.metadata().ok())
                .map(|metadata| metadata.len())
                .sum()
        })
        .unwrap_or(0);
    bytes as f64 / (1024.0 * 1024.0)
}

/// The child's work: builds an index of `count` foods, searches it and prints the
/// figures as JSON.
pub fn measure_index(count: usize) -> anyhow::Result<()> {
    let directory = tempfile::tempdir()?;
    let index = FoodIndex::create_in(directory.path())?;
    let mut rng = StdRng::seed_from_u64(0xF00D);
    let started = Instant::now();
    let at = balancelife::domain::now();
    let mut batch = Vec::with_capacity(10_000);
    for n in 0..count {
        let food = synthetic(n, &mut rng);
        batch.push(FoodChange {
            id: food.id,
            changed_at: at,
            food: Some(food),
        });
        if batch.len() == 10_000 {
            index.apply(&batch)?;
            batch.clear();
        }
    }
    index.apply(&batch)?;
    let build_seconds = started.elapsed().as_secs_f64();

    let mut rows = Vec::new();
    let mut by_kind: std::collections::BTreeMap<&str, hdrhistogram::Histogram<u64>> =
        std::collections::BTreeMap::new();
    let mut all = histogram();
    let queries = queries(&mut rng);
    // Once to warm the page cache, as a running service's is, then measured.
    for (_, text) in &queries {
        index.search(&request(text))?;
    }
    for (kind, text) in &queries {
        let started = Instant::now();
        index.search(&request(text))?;
        let took = started.elapsed().as_nanos() as u64;
        all.record(took.max(1))?;
        by_kind
            .entry(kind)
            .or_insert_with(histogram)
            .record(took.max(1))?;
    }
    rows.push(("search, every query".to_owned(), one_at_a_time(&all)));
    for (kind, latencies) in by_kind {
        rows.push((format!("search, {kind}"), one_at_a_time(&latencies)));
    }
    let mut barcodes = histogram();
    for round in 0..2 {
        for n in (0..count).step_by(3).take(2_000) {
            let barcode = barcode_of(n);
            let started = Instant::now();
            let found = index.with_barcode(&barcode)?;
            if round == 1 {
                barcodes.record((started.elapsed().as_nanos() as u64).max(1))?;
                anyhow::ensure!(
                    found.len() == 1,
                    "barcode {barcode} found {} foods",
                    found.len()
                );
            }
        }
    }
    rows.push(("barcode lookup, hot".to_owned(), one_at_a_time(&barcodes)));
    let figures = IndexFigures {
        foods: count,
        build_seconds,
        on_disk_mib: size_mib(directory.path()),
        rss_mib: rss_mib(),
        rows,
    };
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}

fn request(text: &str) -> SearchRequest {
    SearchRequest {
        text: text.to_owned(),
        viewer: Some(Uuid::from_u128(u128::MAX)),
        limit: 20,
        ..SearchRequest::default()
    }
}

/// Runs `measure_index` in a child process and reads what it found.
pub fn index_in_child(count: usize) -> anyhow::Result<IndexFigures> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .arg("--food-index")
        .arg(count.to_string())
        .env("LOG_LEVEL", "warn")
        .output()
        .context("running the food index child")?;
    anyhow::ensure!(
        output.status.success(),
        "the food index child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(line.trim()).context("the food index child's figures")
}

/// What importing a dump of `count` foods into `store` gave.
pub struct ImportFigures {
    pub foods_per_second: f64,
    pub rss_growth_mib: f64,
}

/// Writes a JSON Lines dump of `count` synthetic products and imports it into
/// `store` with the real importer, sampling this process's memory as it goes.
pub async fn import_into(store: &dyn Store, count: usize) -> anyhow::Result<ImportFigures> {
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("products.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let mut rng = StdRng::seed_from_u64(0xD0E5);
    for n in 0..count {
        let food = synthetic(n, &mut rng);
        let line = serde_json::json!({
            "code": barcode_of(n).as_str(),
            "product_name": food.name.text.as_str(),
            "brands": food.brand.as_ref().map(|brand| brand.as_str()),
            "nutriments": {
                "energy-kcal_100g": 4.0 * 10.0 + 4.0 * 20.0 + 9.0 * 5.0,
                "proteins_100g": 10, "carbohydrates_100g": 20, "fat_100g": 5,
            },
        });
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    drop(file);
    let before = rss_mib();
    let peak = std::sync::Arc::new(std::sync::Mutex::new(before));
    let sampling = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                let now = rss_mib();
                let mut peak = peak.lock().expect("not poisoned");
                *peak = peak.max(now);
            }
        })
    };
    let started = Instant::now();
    let report = food_import::import(
        store,
        Format::OpenFoodFactsJsonl,
        &path,
        &Options::default(),
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    sampling.abort();
    anyhow::ensure!(
        report.created as usize == count,
        "the import created {} of {count} foods:\n{report}",
        report.created
    );
    let peak = *peak.lock().expect("not poisoned");
    Ok(ImportFigures {
        foods_per_second: count as f64 / seconds,
        rss_growth_mib: peak - before,
    })
}
