//! Import graphs of a crate's source files, for the tests that hold "no circle" (the engine's
//! `tests/module_graph.rs`, the app's `src-tauri/src/file_graph.rs`): every `crate::…` path a
//! file names outside comments, and the first circle of a graph. Included by `#[path]`.

use std::collections::{BTreeMap, BTreeSet};

/// Every `crate::a::b` path `text` names outside `//` comments, `crate::x::{a, b}` as
/// `x::a` and `x::b` (without the leading `crate::`).
pub fn crate_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for line in text.lines().map(str::trim_start).filter(|l| !l.starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let path: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
            match rest[path.len()..].strip_prefix('{') {
                Some(inner) => {
                    let names = inner.split('}').next().unwrap_or_default();
                    paths.extend(names.split(',').map(|n| format!("{path}{}", n.trim())));
                }
                None => paths.push(path.trim_end_matches(':').to_owned()),
            }
        }
    }
    paths
}

/// The first circle found, as the path that closes it (`a → b → a`), or `None`.
pub fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
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
