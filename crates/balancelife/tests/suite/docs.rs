//! The documentation stays walkable: a short README that opens with the two
//! commands, relative links (and their `#anchors`) that resolve, and no references
//! to a tracker a reader of the repository cannot see.

use std::path::{Path, PathBuf};

use regex::Regex;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md, ARCHITECTURE.md and every page under docs/.
fn pages() -> Vec<PathBuf> {
    let root = repository();
    let mut pages = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// GitHub's anchor for a heading: lower case, spaces to hyphens, and everything
/// but letters, digits, hyphens and underscores dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a page's headings (outside code blocks), numbered as GitHub
/// numbers repeats.
fn anchors(text: &str) -> Vec<String> {
    let mut anchors: Vec<String> = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            let base = slug(line.trim_start_matches('#'));
            let repeats = anchors
                .iter()
                .filter(|a| **a == base || a.starts_with(&format!("{base}-")))
                .count();
            anchors.push(if repeats == 0 {
                base
            } else {
                format!("{base}-{repeats}")
            });
        }
    }
    anchors
}

#[test]
fn the_readme_is_short_and_opens_with_the_two_commands() {
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "the README has {lines} lines; move detail to docs/"
    );
    let first_block = readme
        .split("```")
        .nth(1)
        .expect("the README has a code block");
    assert!(
        first_block.contains("cargo run") && first_block.contains("scripts/test"),
        "the first block runs the service and the suite: {first_block}"
    );
}

#[test]
fn every_relative_link_resolves() {
    let link = Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let text_outside_code: String = text.split("```").step_by(2).collect::<Vec<_>>().join("\n");
        for found in link.captures_iter(&text_outside_code) {
            let target = &found[1];
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let resolved = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            let name = page.file_name().unwrap().to_string_lossy().into_owned();
            if !resolved.exists() {
                broken.push(format!("{name}: {target} (no such file)"));
            } else if !anchor.is_empty() {
                let target_text = std::fs::read_to_string(&resolved).unwrap_or_default();
                if !anchors(&target_text).iter().any(|a| a == anchor) {
                    broken.push(format!("{name}: {target} (no such heading)"));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} links were found: is the reader right?"
    );
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

#[test]
fn nothing_refers_to_tracker_numbers() {
    let reference = Regex::new(r"(?i)\bissues? #?\d+|\bticket #?\d+").unwrap();
    let root = repository();
    let mut files = pages();
    let mut pending = vec![
        root.join("crates"),
        root.join("scripts"),
        root.join("clients"),
    ];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "node_modules" | "target" | "generated") {
                    pending.push(path);
                }
            } else if ["rs", "md", "js", "ts", "toml", "sh", "html"]
                .iter()
                .any(|ext| name.ends_with(&format!(".{ext}")))
                || path.parent().is_some_and(|p| p.ends_with("scripts"))
            {
                files.push(path);
            }
        }
    }
    let this_file = Path::new(file!()).file_name().unwrap();
    let found: Vec<String> = files
        .iter()
        .filter(|path| path.file_name() != Some(this_file))
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            let hit = reference.find(&text)?;
            Some(format!("{}: {}", path.display(), hit.as_str()))
        })
        .collect();
    assert!(
        found.is_empty(),
        "say what was measured or decided, and when: {found:#?}"
    );
}
