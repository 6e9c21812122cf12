//! The app crate's files import each other without a circle: settings and state stand below
//! the commands, and a command file holds no type another layer needs. Every `crate::…` path a
//! file names outside comments is an edge (`crate::commands::x` is the file `commands/x`); a
//! circle is printed as the path that closes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

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
        let rel = path.strip_prefix(&src).unwrap().with_extension("");
        let name = rel.to_string_lossy().into_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut uses = BTreeSet::new();
        for line in text.lines().map(str::trim_start).filter(|l| !l.starts_with("//")) {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let path: String =
                    rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
                let mut targets = vec![path.trim_end_matches(':').to_owned()];
                // `crate::commands::{a, b}`: each name in the braces.
                if let Some(inner) = rest.strip_prefix(&path).and_then(|r| r.strip_prefix('{')) {
                    let names = inner.split('}').next().unwrap_or_default();
                    targets = names.split(',').map(|n| format!("{path}{}", n.trim())).collect();
                }
                for target in targets.iter().filter_map(|t| node_of(t)) {
                    if target != name {
                        uses.insert(target);
                    }
                }
            }
        }
        graph.insert(name, uses);
    }
    graph
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node.to_owned()) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_app_files_import_each_other_without_a_circle() {
    let graph = edges();
    assert!(graph["commands/server"].contains("settings"), "edges are found: {graph:?}");
    assert!(graph["state"].contains("settings"), "edges are found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import circle: {}", cycle.join(" → "));
    }
}

#[test]
fn a_circle_is_found() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}
