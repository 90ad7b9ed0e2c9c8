//! Fingerprints the crate's own sources (code, bundled exercises and samples) as
//! `BALANCELIFE_SOURCE_ID`: answers kept in the store are reused only by a build
//! of the same sources, since another one may compute them otherwise, and the
//! package version does not move with every change.

use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};

/// What the crate's answers are made by: its code and its bundled data.
const SOURCES: [&str; 4] = ["src", "exercises", "sample", "Cargo.toml"];

fn main() {
    let mut files = Vec::new();
    for source in SOURCES {
        println!("cargo:rerun-if-changed={source}");
        collect(Path::new(source), &mut files);
    }
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in &files {
        hasher.write(file.to_string_lossy().as_bytes());
        hasher.write(&std::fs::read(file).unwrap_or_default());
    }
    println!(
        "cargo:rustc-env=BALANCELIFE_SOURCE_ID={:016x}",
        hasher.finish()
    );
}

/// Every file at or below `path`.
fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            collect(&entry.path(), files);
        }
    } else if path.is_file() {
        files.push(path.to_path_buf());
    }
}
