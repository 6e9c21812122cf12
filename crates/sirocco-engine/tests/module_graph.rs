//! The engine's modules form no import cycle (ARCHITECTURE.md draws them as layers): every
//! `crate::module` a source file names outside comments is an edge, and the graph must be
//! acyclic. A cycle is printed as the path that closes it.

use std::collections::{BTreeMap, BTreeSet};

#[path = "../../../tests/support/import_graph.rs"]
mod import_graph;
use import_graph::{crate_paths, find_cycle};

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let Some(module) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else { continue };
        if module == "lib" || path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // `crate::{A, B}` and `crate::Result` name the crate root's re-exports, not a module.
        let uses = crate_paths(&text)
            .into_iter()
            .filter_map(|p| p.split("::").next().map(str::to_owned))
            .filter(|name| name.starts_with(|c: char| c.is_ascii_lowercase()) && *name != module)
            .collect();
        graph.insert(module, uses);
    }
    graph
}

#[test]
fn the_engine_modules_import_each_other_without_a_cycle() {
    let graph = edges();
    assert!(graph.contains_key("engine") && graph.contains_key("scheduler"), "read the sources: {graph:?}");
    assert!(graph["scheduler"].contains("request"), "edges are found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn a_cycle_is_found_and_brace_lists_are_read() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let paths = crate_paths("use crate::tools::{self, Tool};\n// crate::hidden\nlet x = crate::load::LoadedModel;");
    assert_eq!(paths, ["tools::self", "tools::Tool", "load::LoadedModel"]);
}
