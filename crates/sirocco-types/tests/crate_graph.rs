//! The workspace's crates stand in layers (ARCHITECTURE.md): plain data at the bottom links
//! nothing, and what only keeps or judges files (the store, the hub) builds without the engine,
//! so an engine change rebuilds neither. Edges are the `sirocco-*` names under each
//! manifest's `[dependencies]` (dev-dependencies are the tests' own business).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn manifest_deps(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut section = String::new();
    let mut deps = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
        } else if section == "[dependencies]" && line.starts_with("sirocco-") {
            deps.insert(line.split([' ', '=']).next().unwrap().to_owned());
        }
    }
    deps
}

/// Every workspace crate's direct `sirocco-*` dependencies; the app (the root package) is `sirocco`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut graph = BTreeMap::new();
    graph.insert("sirocco".to_owned(), manifest_deps(&root.join("Cargo.toml")));
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("Cargo.toml").is_file() {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            graph.insert(name, manifest_deps(&dir.join("Cargo.toml")));
        }
    }
    graph
}

fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_owned()];
    while let Some(next) = todo.pop() {
        for dep in graph.get(&next).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                todo.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn the_graph_is_read_from_the_manifests() {
    let graph = graph();
    assert!(graph["sirocco-engine"].contains("sirocco-types"), "{graph:?}");
    assert!(reaches(&graph, "sirocco").contains("sirocco-engine"), "{graph:?}");
    assert!(!graph["sirocco-hub"].contains("sirocco-test-hosts"), "dev-dependencies are not edges: {graph:?}");
}

#[test]
fn plain_data_and_the_gguf_reader_stand_on_no_other_crate() {
    let graph = graph();
    for base in ["sirocco-types", "sirocco-gguf"] {
        assert_eq!(graph[base], BTreeSet::new(), "{base}");
    }
}

#[test]
fn the_store_and_the_hub_build_without_the_engine() {
    let graph = graph();
    for keeper in ["sirocco-store", "sirocco-hub"] {
        let below = reaches(&graph, keeper);
        assert!(!below.contains("sirocco-engine"), "{keeper} reaches the engine through {below:?}");
    }
}

/// The runtime is what the app and the CLI stand on: only they depend on it, nothing below.
#[test]
fn only_the_app_and_the_cli_stand_on_the_runtime() {
    let graph = graph();
    let users: BTreeSet<&str> =
        graph.iter().filter(|(_, deps)| deps.contains("sirocco-runtime")).map(|(name, _)| name.as_str()).collect();
    assert_eq!(users, BTreeSet::from(["sirocco", "sirocco-cli"]), "{graph:?}");
}

/// Every `.rs` file under the crates' `src/` (the engine's own excepted: it makes the events)
/// and `src-tauri/src`, with its text.
fn sources_outside_the_engine() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs = vec![root.join("src-tauri/src")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.ends_with("sirocco-engine") {
            dirs.push(dir.join("src"));
        }
    }
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let name = path.strip_prefix(&root).unwrap().display().to_string();
                files.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files
}

/// A generation is drained one way (`sirocco_engine::collect`): a file that reads a
/// generation's events itself goes through the `Collector` or asks `is_last()`, and none
/// writes its own rule for the last event (the arena once ended at a thought).
#[test]
fn every_generation_is_drained_by_the_one_collector() {
    let files = sources_outside_the_engine();
    assert!(files.iter().any(|(name, _)| name.ends_with("routes/chat_completions.rs")), "the walk finds the routes");
    let mut wrong = Vec::new();
    for (name, text) in &files {
        let reads_events = text.contains("events.recv()") && text.contains("GenerationEvent");
        if reads_events && !(text.contains("Collector") || text.contains("is_last()")) {
            wrong.push(format!("{name}: reads a generation's events without the collector"));
        }
        for rule in ["matches!(event, GenerationEvent::", "matches!(e, GenerationEvent::"] {
            if text.contains(rule) {
                wrong.push(format!("{name}: decides the last event itself (`{rule}`)"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The domain crates know no window: no manifest under `crates/` names a `tauri` crate among
/// its dependencies (only the app package, at the root, does).
#[test]
fn no_crate_below_the_app_depends_on_tauri() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        let mut section = "";
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line;
            } else if section.ends_with("dependencies]") && line.starts_with("tauri") {
                wrong.push(format!("{}: {line}", manifest.display()));
            }
        }
    }
    assert!(root.join("Cargo.toml").exists(), "the walk starts at the workspace");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
