//! Importing food dumps into MongoDB: each official format, from small files the
//! project wrote in that format with the awkward rows real dumps have (missing
//! nutrients, kJ only, units in mg, a wrong check digit, a product listed twice,
//! text that is not UTF-8, rows no tracker should serve).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use balancelife::domain::{Basis, Food, FoodSource, GramsPer100, KcalPer100, MilligramsPer100};
use balancelife::food_import::{self, Format, Options, Report};
use balancelife::store::foods::FeedPosition;
use balancelife::store::mongo::MongoStore;
use balancelife::store::{Store, StoreError};
use balancelife_testkit::servers::mongo::{SHARED, TestDatabase, fresh_database};

use crate::support::binary::balancelife;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/foods")
        .join(name)
}

/// A copy of `name` in a fresh directory, so the checkpoint beside it is the
/// test's own.
fn copied(name: &str) -> (tempfile::TempDir, PathBuf) {
    let directory = tempfile::tempdir().unwrap();
    let source = fixture(name);
    let target = directory.path().join(name);
    if source.is_dir() {
        std::fs::create_dir(&target).unwrap();
        for file in std::fs::read_dir(&source).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, target.join(file.file_name().unwrap())).unwrap();
        }
    } else {
        std::fs::copy(&source, &target).unwrap();
    }
    (directory, target)
}

async fn store() -> (TestDatabase, Arc<dyn Store>) {
    let database = TestDatabase::new();
    let store = MongoStore::connect(&database.settings).await.unwrap();
    (database, Arc::new(store))
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs
        .iter()
        .map(|(what, n)| ((*what).to_owned(), *n))
        .collect()
}

/// Every food in the store, by its source id.
async fn stored(store: &Arc<dyn Store>) -> BTreeMap<String, Food> {
    let changes = store
        .foods()
        .changes(FeedPosition::START, 10_000)
        .await
        .unwrap();
    changes
        .into_iter()
        .filter_map(|change| change.food)
        .map(|food| (food.source_id.clone().unwrap().as_str().to_owned(), food))
        .collect()
}

fn kcal(food: &Food) -> Option<f64> {
    food.nutrients.energy_kcal.map(KcalPer100::get)
}

/// The second run of the same file reads every row again and writes nothing.
async fn imported_twice(store: &Arc<dyn Store>, format: Format, path: &Path) -> Report {
    let first = food_import::import(store.as_ref(), format, path, &Options::default())
        .await
        .unwrap();
    let second = food_import::import(store.as_ref(), format, path, &Options::default())
        .await
        .unwrap();
    assert_eq!((second.created, second.replaced), (0, 0), "{second}");
    assert_eq!(second.unchanged, first.created + first.replaced);
    assert!(second.to_string().contains("nothing changed"), "{second}");
    first
}

#[tokio::test]
async fn open_food_facts_json_lines_are_imported_with_their_awkward_rows_counted() {
    let (_database, store) = store().await;
    let (_directory, path) = copied("off-products.jsonl");

    let report = imported_twice(&store, Format::OpenFoodFactsJsonl, &path).await;

    assert_eq!(
        (report.rows, report.created, report.replaced),
        (12, 6, 0),
        "{report}"
    );
    assert_eq!(
        report.skipped,
        counts(&[
            ("a negative amount", 1),
            ("a nutrient over 100 g per 100 g", 1),
            (
                "energy far from 4·protein + 4·carbohydrate + 9·fat (+ 7·alcohol)",
                1
            ),
            ("listed again further on, where the later row counts", 1),
            ("no name", 1),
            ("unreadable row", 1),
        ]),
        "{report}"
    );
    assert_eq!(
        report.mended,
        counts(&[
            ("barcode dropped (wrong length or check digit)", 2),
            ("energy given in kJ only, turned into kcal", 1),
            ("text that was not UTF-8, mended", 1),
        ]),
        "{report}"
    );
    let foods = stored(&store).await;
    let peanut = &foods["036000291452"];
    assert_eq!(
        peanut.name.text.as_str(),
        "Peanut butter, smooth, no added sugar",
        "the later row"
    );
    assert_eq!(peanut.barcodes[0].as_str(), "0036000291452");
    assert_eq!(peanut.brand.as_ref().unwrap().as_str(), "Nutty Co");
    assert_eq!(peanut.source, FoodSource::OpenFoodFacts);
    let oats = &foods["4006381333931"];
    assert_eq!(oats.name.text.as_str(), "Kernige Haferflocken");
    assert_eq!(oats.name.lang.as_str(), "de");
    assert_eq!(kcal(oats), Some(379.1), "1586 kJ");
    let biscuits = &foods["73513537"];
    assert_eq!(kcal(biscuits), Some(480.0));
    assert_eq!(biscuits.nutrients.protein_g, None, "unknown, not zero");
    assert!(
        foods["4006381333932"].barcodes.is_empty(),
        "a wrong check digit"
    );
    let beer = &foods["5010677850100"];
    assert_eq!(beer.basis, Basis::Per100Ml);
    assert_eq!(
        beer.nutrients.sodium_mg.map(MilligramsPer100::get),
        Some(4.0),
        "from salt"
    );
    assert!(
        foods["20012345"].name.text.as_str().starts_with("Cr"),
        "mended, kept"
    );
}

#[tokio::test]
async fn open_food_facts_csv_is_imported_like_its_json() {
    let (_database, store) = store().await;
    let (_directory, path) = copied("off-products.csv");

    let report = imported_twice(&store, Format::OpenFoodFactsCsv, &path).await;

    assert_eq!((report.rows, report.created), (8, 6), "{report}");
    assert_eq!(
        report.skipped,
        counts(&[
            (
                "energy far from 4·protein + 4·carbohydrate + 9·fat (+ 7·alcohol)",
                1
            ),
            ("no name", 1),
        ]),
        "{report}"
    );
    let foods = stored(&store).await;
    assert_eq!(kcal(&foods["4006381333931"]), Some(379.1));
    assert_eq!(
        foods["036000291452"]
            .nutrients
            .sodium_mg
            .map(MilligramsPer100::get),
        Some(430.0),
        "grams of sodium, in mg"
    );
    assert_eq!(foods["036000291452"].servings[0].grams.get(), 32.0);
}

#[tokio::test]
async fn a_usda_download_is_joined_food_by_food() {
    let (_database, store) = store().await;
    let (_directory, path) = copied("usda-fdc");

    let report = imported_twice(&store, Format::UsdaFdcCsv, &path).await;

    assert_eq!((report.rows, report.created), (8, 6), "{report}");
    assert_eq!(
        report.skipped,
        counts(&[
            ("a USDA sample or acquisition record, not a food", 1),
            ("no name", 1),
        ]),
        "{report}"
    );
    let foods = stored(&store).await;
    let banana = &foods["173944"];
    assert_eq!(banana.source, FoodSource::Usda);
    assert_eq!(kcal(banana), Some(89.0));
    assert_eq!(banana.nutrients.carbs_g.map(GramsPer100::get), Some(22.84));
    assert_eq!(
        banana.nutrients.sodium_mg.map(MilligramsPer100::get),
        Some(1.0)
    );
    let portions: Vec<(&str, f64)> = banana
        .servings
        .iter()
        .map(|serving| (serving.label.as_str(), serving.grams.get()))
        .collect();
    assert_eq!(
        portions,
        [
            ("1 cup, mashed", 225.0),
            ("1 medium (7\" to 7-7/8\" long)", 118.0)
        ]
    );
    assert_eq!(kcal(&foods["167512"]), Some(321.0), "1343 kJ");
    assert_eq!(
        kcal(&foods["321358"]),
        Some(229.0),
        "Atwater specific factors"
    );
    assert_eq!(kcal(&foods["1105073"]), None);
    let yogurt = &foods["2000001"];
    assert_eq!(
        yogurt.barcodes[0].as_str(),
        "0036000291452",
        "GTIN-14 with a leading zero"
    );
    assert_eq!(yogurt.brand.as_ref().unwrap().as_str(), "HILLSIDE");
    assert_eq!(foods["2000003"].basis, Basis::Per100Ml);
}

#[tokio::test]
async fn a_usda_table_out_of_order_stops_the_import_and_says_so() {
    let (_database, store) = store().await;
    let (_directory, path) = copied("usda-fdc");
    let nutrients = path.join("food_nutrient.csv");
    let text = std::fs::read_to_string(&nutrients).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.len() - 1;
    lines.swap(1, last);
    std::fs::write(&nutrients, lines.join("\n")).unwrap();

    let error = food_import::import(
        store.as_ref(),
        Format::UsdaFdcCsv,
        &path,
        &Options::default(),
    )
    .await
    .unwrap_err();

    assert!(error.to_string().contains("not in fdc_id order"), "{error}");
}

/// A dump of `n` plausible products, gzip-compressed.
fn generated_dump(directory: &Path, n: usize) -> PathBuf {
    let path = directory.join("products.jsonl.gz");
    let file = std::fs::File::create(&path).unwrap();
    let mut gzip = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    for i in 0..n {
        let line = serde_json::json!({
            "code": format!("9{i:07}"),
            "product_name": format!("Granola bar {i}"),
            "nutriments": {"energy-kcal_100g": 450, "proteins_100g": 8, "carbohydrates_100g": 62,
                "fat_100g": 18},
        });
        writeln!(gzip, "{line}").unwrap();
    }
    gzip.finish().unwrap();
    path
}

#[tokio::test]
async fn an_interrupted_import_goes_on_where_it_stopped() {
    let (_database, store) = store().await;
    let directory = tempfile::tempdir().unwrap();
    let path = generated_dump(directory.path(), 2_500);
    let stopped_early = Options {
        max_batches: Some(1),
        ..Options::default()
    };

    let first = food_import::import(
        store.as_ref(),
        Format::OpenFoodFactsJsonl,
        &path,
        &stopped_early,
    )
    .await
    .unwrap();
    let rest = food_import::import(
        store.as_ref(),
        Format::OpenFoodFactsJsonl,
        &path,
        &Options::default(),
    )
    .await
    .unwrap();

    assert!(!first.finished, "{first}");
    assert_eq!((first.rows, first.created), (1_000, 1_000), "{first}");
    assert!(rest.finished, "{rest}");
    assert_eq!(rest.resumed_at_row, Some(1_000), "{rest}");
    assert_eq!(
        (rest.rows, rest.created, rest.unchanged),
        (2_500, 2_500, 0),
        "{rest}"
    );
    assert_eq!(stored(&store).await.len(), 2_500, "each product once");
    assert!(
        !directory
            .path()
            .join("products.jsonl.gz.balancelife-import.json")
            .exists(),
        "a finished import leaves no checkpoint"
    );
}

#[tokio::test]
async fn an_import_batch_with_one_product_twice_is_refused_by_the_store() {
    let (_database, store) = store().await;
    let food = balancelife_testkit::fixtures::food(FoodSource::Usda, None, "Twice");
    let again = balancelife::domain::Food {
        id: balancelife::domain::new_id(),
        ..food.clone()
    };
    assert!(matches!(
        store.foods().import(vec![food, again]).await,
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn the_command_needs_mongodb_and_says_so() {
    let output = balancelife()
        .args(["foods", "import", "--format", "usda-fdc-csv"])
        .arg(fixture("usda-fdc"))
        .env_remove("MONGODB_URI")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MONGODB_URI"), "{stderr}");
}

#[test]
fn the_command_imports_and_reports_into_mongodb() {
    let database = fresh_database();
    let (_directory, path) = copied("off-products.csv");
    let uri = SHARED.uri();
    let output = balancelife()
        .args(["foods", "import", "--format", "open-food-facts-csv"])
        .arg(&path)
        .env("MONGODB_URI", uri)
        .env("MONGODB_DATABASE", &database)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("8 rows read: 6 foods created"), "{stdout}");
    assert!(stdout.contains("no name"), "{stdout}");
}
