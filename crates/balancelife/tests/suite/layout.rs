//! The module layout keeps its dependencies the right way round (see
//! ARCHITECTURE.md): the API knows no driver and no concrete store, the storage
//! contract names no backend, the web app takes nothing from the API, and no two
//! modules of the service import each other, directly or round a loop.
//!
//! These read the sources as text. Test code (`#[cfg(test)]` onwards) is left out:
//! a unit test may build whatever store it needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its text up to its tests and without comments.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path, code_of(&text)));
            }
        }
    }
    found.sort();
    found
}

fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let comment = Regex::new(r"//[^\n]*").unwrap();
    comment.replace_all(text, "").into_owned()
}

/// The files among `files` whose code matches `pattern`, with the matches.
fn mentions(files: &[(PathBuf, String)], pattern: &str) -> Vec<String> {
    let pattern = Regex::new(pattern).unwrap();
    files
        .iter()
        .flat_map(|(path, code)| {
            pattern.find_iter(code).map(move |found| {
                let file = path.strip_prefix(src()).unwrap().display();
                format!("{file}: {}", found.as_str())
            })
        })
        .collect()
}

const CONCRETE_STORES: &str = r"\b(MemoryStore|MongoStore|CachedStore|RedisCache)\b";

#[test]
fn the_api_knows_no_driver_and_no_concrete_store() {
    let api = sources(&src().join("api"));
    let found = mentions(
        &api,
        &format!(r"\bredis\b|\bmongodb\b|\bbson\b|store::(cache|mongo|memory)\b|{CONCRETE_STORES}"),
    );
    assert!(
        found.is_empty(),
        "the API reaches below the contract: {found:#?}"
    );
}

/// The HTTP machinery sits below the resources' handlers: it names none of them.
#[test]
fn the_http_machinery_knows_no_resource() {
    let http = sources(&src().join("api/http"));
    let found = mentions(
        &http,
        r"api::(account|catalogue|entries|summary|import_export|health|time_zones)\b",
    );
    assert!(
        found.is_empty(),
        "the HTTP machinery reaches up: {found:#?}"
    );
}

#[test]
fn the_storage_contract_names_no_backend() {
    let store = src().join("store");
    let contract: Vec<_> = ["mod.rs", "page.rs", "encoded.rs"]
        .iter()
        .map(|name| {
            let path = store.join(name);
            let code = code_of(&std::fs::read_to_string(&path).unwrap());
            (path, code)
        })
        .collect();
    let found = mentions(
        &contract,
        &format!(
            r"\bredis::|\bmongodb::|\bbson::|\bpub use (cache|mongo|memory)\b|{CONCRETE_STORES}"
        ),
    );
    assert!(found.is_empty(), "the contract names a backend: {found:#?}");
}

#[test]
fn the_web_app_takes_nothing_from_the_api() {
    let web = vec![(
        src().join("web.rs"),
        code_of(&std::fs::read_to_string(src().join("web.rs")).unwrap()),
    )];
    let found = mentions(&web, r"crate::api\b");
    assert!(found.is_empty(), "{found:#?}");
}

/// The module a file defines: `api/http/mod.rs` and `api/http.rs` are `api::http`.
fn module_of(path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Which modules each module's code names, by `crate::`, `super::` or `self::`
/// paths, each resolved to the deepest module that is a file. A module naming its
/// own ancestor or descendant is no loop (a parent declares its children, a child
/// implements its parent's contract), so those are left out.
fn imports() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let files = sources(&src());
    let modules: BTreeSet<Vec<String>> = files
        .iter()
        .filter(|(path, _)| !path.ends_with("main.rs"))
        .map(|(path, _)| module_of(path))
        .collect();
    let path = Regex::new(r"\b(crate|super|self)((?:::\w+)+)").unwrap();
    let mut graph = BTreeMap::new();
    for (file, code) in files.iter().filter(|(path, _)| !path.ends_with("main.rs")) {
        let module = module_of(file);
        let mut named = BTreeSet::new();
        for found in path.captures_iter(code) {
            let mut segments: Vec<&str> = found[2].split("::").skip(1).collect();
            let mut target: Vec<String> = match &found[1] {
                "crate" => Vec::new(),
                "self" => module.clone(),
                _ => module[..module.len().saturating_sub(1)].to_vec(),
            };
            while segments.first() == Some(&"super") {
                segments.remove(0);
                target.pop();
            }
            target.extend(segments.iter().map(|s| (*s).to_owned()));
            while !target.is_empty() && !modules.contains(&target) {
                target.pop();
            }
            let related = target.starts_with(&module) || module.starts_with(&target);
            if !related {
                named.insert(target);
            }
        }
        graph.insert(module, named);
    }
    graph
}

/// A loop through `start`, if there is one.
fn loop_through(
    graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    start: &Vec<String>,
) -> Option<Vec<Vec<String>>> {
    let mut trail = vec![start.clone()];
    let mut seen = BTreeSet::new();
    fn walk(
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        start: &Vec<String>,
        trail: &mut Vec<Vec<String>>,
        seen: &mut BTreeSet<Vec<String>>,
    ) -> bool {
        let here = trail.last().unwrap().clone();
        for next in graph.get(&here).into_iter().flatten() {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                trail.push(next.clone());
                if walk(graph, start, trail, seen) {
                    return true;
                }
                trail.pop();
            }
        }
        false
    }
    walk(graph, start, &mut trail, &mut seen).then_some(trail)
}

#[test]
fn no_modules_import_each_other() {
    let graph = imports();
    assert!(
        graph.contains_key(&vec![
            "store".to_owned(),
            "cache".to_owned(),
            "decorator".to_owned()
        ]),
        "the reader found the modules"
    );
    let loops: Vec<String> = graph
        .keys()
        .filter_map(|module| loop_through(&graph, module))
        .map(|trail| {
            trail
                .iter()
                .map(|m| m.join("::"))
                .collect::<Vec<_>>()
                .join(" -> ")
        })
        .collect();
    assert!(
        loops.is_empty(),
        "modules that import each other: {loops:#?}"
    );
}
