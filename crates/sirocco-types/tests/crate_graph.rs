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
