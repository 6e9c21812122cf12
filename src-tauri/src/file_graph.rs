//! The app crate's files import each other without a circle: settings and state stand below
//! the commands, and a command file holds no type another layer needs. Every `crate::…` path a
//! file names outside comments is an edge (`crate::commands::x` is the file `commands/x`); a
//! circle is printed as the path that closes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[path = "../../tests/support/import_graph.rs"]
mod import_graph;
use import_graph::{crate_paths, find_cycle};

fn node_of(path: &str) -> Option<String> {
    let mut parts = path.split("::");
    let first = parts.next()?;
    if first.is_empty() || !first.starts_with(|c: char| c.is_ascii_lowercase()) {
        return None; // `crate::AppState`, `crate::{…}`: the crate root's re-exports
    }
    if first != "commands" {
        return Some(first.to_owned());
    }
    match parts.next() {
        Some(file) if file.starts_with(|c: char| c.is_ascii_lowercase()) => Some(format!("commands/{file}")),
        _ => Some("commands/mod".to_owned()),
    }
}

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/src");
    let mut files = Vec::new();
    for dir in [src.clone(), src.join("commands")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut graph = BTreeMap::new();
    for path in files {
        let name = path.strip_prefix(&src).unwrap().with_extension("").to_string_lossy().into_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let uses = crate_paths(&text).iter().filter_map(|p| node_of(p)).filter(|n| *n != name).collect();
        graph.insert(name, uses);
    }
    graph
}

#[test]
fn the_app_files_import_each_other_without_a_circle() {
    let graph = edges();
    assert!(graph["commands/server"].contains("settings"), "edges are found: {graph:?}");
    assert!(graph["commands/chat"].contains("commands/tools"), "edges are found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import circle: {}", cycle.join(" → "));
    }
}
