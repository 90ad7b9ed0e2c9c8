//! `balancelife foods import`: public food databases into the store.
//!
//! A dump is read as a stream, in its own thread, and imported in batches of
//! `MAX_IMPORT_BATCH` through `FoodStore::import` (an upsert by source and source
//! id), so memory stays flat whatever its size and a second run of the same file
//! changes nothing. After each batch a checkpoint beside the input records how far
//! the import got; an interrupted import started again goes on from there, and a
//! finished one removes it. Rows that fail the checks (`checks`) are skipped and
//! counted by reason.

pub mod checks;
mod input;
mod open_food_facts;
mod usda;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use self::checks::{Mend, RawFood, RowError, Skip, to_food};
use self::input::BytesRead;
use crate::domain::{Food, FoodSource};
use crate::store::foods::{ImportCounts, MAX_IMPORT_BATCH};
use crate::store::{Store, StoreError};
use crate::telemetry::ErrorChain;

/// The dumps the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Open Food Facts' JSON Lines export, one product per line.
    OpenFoodFactsJsonl,
    /// Open Food Facts' CSV export (tab-separated).
    OpenFoodFactsCsv,
    /// The folder of USDA FoodData Central's CSV download.
    UsdaFdcCsv,
}

impl Format {
    fn source(self) -> FoodSource {
        match self {
            Self::OpenFoodFactsJsonl | Self::OpenFoodFactsCsv => FoodSource::OpenFoodFacts,
            Self::UsdaFdcCsv => FoodSource::Usda,
        }
    }
}

/// How to run an import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Start from the first row even if a checkpoint says an earlier run got further.
    pub restart: bool,
    /// Stop after this many batches, leaving the checkpoint (to try a dump out).
    pub max_batches: Option<u64>,
}

/// What an import did, as it says at the end.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub rows: u64,
    pub created: u64,
    pub replaced: u64,
    pub unchanged: u64,
    pub skipped: BTreeMap<String, u64>,
    pub mended: BTreeMap<String, u64>,
    /// The row an interrupted import went on from, if it did.
    pub resumed_at_row: Option<u64>,
    /// Whether the whole dump was read (not stopped by `max_batches`).
    pub finished: bool,
}

impl Report {
    fn skip(&mut self, reason: Skip) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
    }

    fn mend(&mut self, what: Mend) {
        *self.mended.entry(what.to_string()).or_default() += 1;
    }

    fn add(&mut self, counts: ImportCounts) {
        self.created += counts.created;
        self.replaced += counts.replaced;
        self.unchanged += counts.unchanged;
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(row) = self.resumed_at_row {
            writeln!(f, "went on from row {row}, where an earlier run stopped")?;
        }
        writeln!(
            f,
            "{} rows read: {} foods created, {} changed, {} unchanged",
            self.rows, self.created, self.replaced, self.unchanged
        )?;
        if self.created + self.replaced == 0 {
            writeln!(
                f,
                "nothing changed: the store already held every food as the dump has it"
            )?;
        }
        let skipped: u64 = self.skipped.values().sum();
        writeln!(f, "{skipped} rows skipped")?;
        for (reason, count) in &self.skipped {
            writeln!(f, "  {count:>8}  {reason}")?;
        }
        if !self.mended.is_empty() {
            writeln!(f, "mended on the way")?;
            for (what, count) in &self.mended {
                writeln!(f, "  {count:>8}  {what}")?;
            }
        }
        if !self.finished {
            writeln!(f, "stopped early: run the same command again to go on")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Input(String),
    #[error("the checkpoint {path}: {error}")]
    Checkpoint {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("storing foods: {}", ErrorChain(.0))]
    Store(#[from] StoreError),
}

/// How far an import got, kept beside its input between batches.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    format: Format,
    /// The input's size and modification time: another file is started afresh.
    fingerprint: Vec<(u64, u64)>,
    rows_done: u64,
    report: Report,
}

/// What the reading thread hands over: a batch, and how many rows were read up to
/// its end, with what they skipped and mended.
struct Batch {
    foods: Vec<Food>,
    rows_done: u64,
    report: Report,
}

/// Imports the dump at `path` into `store`.
pub async fn import(
    store: &dyn Store,
    format: Format,
    path: &Path,
    options: &Options,
) -> Result<Report, ImportError> {
    let checkpoint_path = checkpoint_path(path);
    let fingerprint = fingerprint(format, path)?;
    let resumed = if options.restart {
        None
    } else {
        read_checkpoint(&checkpoint_path)?.filter(|checkpoint| {
            checkpoint.format == format && checkpoint.fingerprint == fingerprint
        })
    };
    let (skip_rows, mut report) = match resumed {
        Some(checkpoint) => {
            let mut report = checkpoint.report;
            report.resumed_at_row = Some(checkpoint.rows_done);
            (checkpoint.rows_done, report)
        }
        None => (0, Report::default()),
    };
    let read = BytesRead::default();
    let rows = rows(format, path, &read)?;
    let progress = progress_bar(format, path);
    let (batches, mut received) = tokio::sync::mpsc::channel::<Result<Batch, String>>(2);
    let source = format.source();
    let reader =
        tokio::task::spawn_blocking(move || read_batches(rows, source, skip_rows, &batches));
    let mut taken = 0;
    let mut stopped = false;
    while let Some(batch) = received.recv().await {
        let batch = batch.map_err(ImportError::Input)?;
        let counts = store.foods().import(batch.foods).await?;
        report.add(counts);
        report.rows = batch.rows_done;
        for (reason, count) in batch.report.skipped {
            *report.skipped.entry(reason).or_default() += count;
        }
        for (what, count) in batch.report.mended {
            *report.mended.entry(what).or_default() += count;
        }
        write_checkpoint(
            &checkpoint_path,
            &Checkpoint {
                format,
                fingerprint: fingerprint.clone(),
                rows_done: batch.rows_done,
                report: report.clone(),
            },
        )?;
        progress.set_position(read.get());
        progress.set_message(format!(
            "{} foods",
            report.created + report.replaced + report.unchanged
        ));
        taken += 1;
        if options.max_batches.is_some_and(|max| taken >= max) {
            stopped = true;
            break;
        }
    }
    drop(received);
    let _ = reader.await;
    progress.finish_and_clear();
    report.finished = !stopped;
    if report.finished {
        std::fs::remove_file(&checkpoint_path)
            .or_else(|error| match error.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(error),
            })
            .map_err(|error| ImportError::Checkpoint {
                path: checkpoint_path,
                error,
            })?;
    }
    Ok(report)
}

type Rows = Box<dyn Iterator<Item = Result<Option<RawFood>, RowError>> + Send>;

/// The rows of the dump, as raw foods (`None`: a record that is not a food).
fn rows(format: Format, path: &Path, read: &BytesRead) -> Result<Rows, ImportError> {
    let opened = |path: &Path| {
        input::open(path, read)
            .map(|(reader, _)| reader)
            .map_err(|error| ImportError::Input(format!("{}: {error}", path.display())))
    };
    Ok(match format {
        Format::OpenFoodFactsJsonl => {
            Box::new(open_food_facts::jsonl(opened(path)?).map(|row| row.map(Some)))
        }
        Format::OpenFoodFactsCsv => {
            Box::new(open_food_facts::csv(opened(path)?).map(|row| row.map(Some)))
        }
        Format::UsdaFdcCsv => Box::new(usda::foods(path, read).map_err(ImportError::Input)?),
    })
}

/// Reads rows into batches until the dump ends or the importer stops taking them.
/// An error that is not one row's (the file cannot be read, a table out of order)
/// ends the import.
fn read_batches(
    rows: Rows,
    source: FoodSource,
    skip_rows: u64,
    batches: &tokio::sync::mpsc::Sender<Result<Batch, String>>,
) {
    let now = crate::domain::now();
    let mut batch = Batch {
        foods: Vec::with_capacity(MAX_IMPORT_BATCH),
        rows_done: skip_rows,
        report: Report::default(),
    };
    for (number, row) in rows.enumerate() {
        if (number as u64) < skip_rows {
            continue;
        }
        batch.rows_done = number as u64 + 1;
        match row {
            Ok(Some(raw)) => match to_food(raw, source, now) {
                Ok((food, mends)) => {
                    mends.into_iter().for_each(|what| batch.report.mend(what));
                    batch.foods.push(food);
                }
                Err(reason) => batch.report.skip(reason),
            },
            Ok(None) => batch.report.skip(Skip::NotAFood),
            Err(RowError::Input(error)) => {
                let _ = batches.blocking_send(Err(error));
                return;
            }
            Err(RowError::Row(_)) => batch.report.skip(Skip::Unreadable),
        }
        if batch.foods.len() == MAX_IMPORT_BATCH {
            keep_the_last_of_each(&mut batch);
        }
        if batch.foods.len() == MAX_IMPORT_BATCH {
            let full = std::mem::replace(
                &mut batch,
                Batch {
                    foods: Vec::with_capacity(MAX_IMPORT_BATCH),
                    rows_done: number as u64 + 1,
                    report: Report::default(),
                },
            );
            if batches.blocking_send(Ok(full)).is_err() {
                return;
            }
        }
    }
    keep_the_last_of_each(&mut batch);
    let _ = batches.blocking_send(Ok(batch));
}

/// A product listed twice in one batch: the later row counts, as it would if
/// they were further apart.
fn keep_the_last_of_each(batch: &mut Batch) {
    let mut seen = std::collections::HashSet::new();
    let mut kept = Vec::with_capacity(batch.foods.len());
    for food in batch.foods.drain(..).rev() {
        if seen.insert(food.source_id.clone()) {
            kept.push(food);
        } else {
            batch.report.skip(Skip::RepeatedLater);
        }
    }
    kept.reverse();
    batch.foods = kept;
}

fn progress_bar(format: Format, path: &Path) -> indicatif::ProgressBar {
    let main = match format {
        Format::UsdaFdcCsv => path.join("food_nutrient.csv"),
        _ => path.to_owned(),
    };
    let size = std::fs::metadata(&main).map_or(0, |metadata| metadata.len());
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .expect("a valid template"),
    );
    bar
}

/// Where the checkpoint of an import of `path` is kept: beside it.
fn checkpoint_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".balancelife-import.json");
    path.with_file_name(name)
}

fn fingerprint(format: Format, path: &Path) -> Result<Vec<(u64, u64)>, ImportError> {
    let files = match format {
        Format::UsdaFdcCsv => vec![path.join("food.csv"), path.join("food_nutrient.csv")],
        _ => vec![path.to_owned()],
    };
    files
        .iter()
        .filter(|file| file.exists() || format != Format::UsdaFdcCsv)
        .map(|file| {
            let metadata = std::fs::metadata(file)
                .map_err(|error| ImportError::Input(format!("{}: {error}", file.display())))?;
            let modified = metadata
                .modified()
                .ok()
                .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |since| since.as_secs());
            Ok((metadata.len(), modified))
        })
        .collect()
}

fn read_checkpoint(path: &Path) -> Result<Option<Checkpoint>, ImportError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ImportError::Checkpoint {
            path: path.to_owned(),
            error,
        }),
    }
}

/// Written whole, then renamed over the last, so an interruption leaves one or
/// the other.
fn write_checkpoint(path: &Path, checkpoint: &Checkpoint) -> Result<(), ImportError> {
    let fail = |error| ImportError::Checkpoint {
        path: path.to_owned(),
        error,
    };
    let partial = path.with_extension("json.partial");
    let bytes = serde_json::to_vec_pretty(checkpoint).expect("a checkpoint encodes");
    std::fs::write(&partial, bytes).map_err(fail)?;
    std::fs::rename(&partial, path).map_err(fail)
}
