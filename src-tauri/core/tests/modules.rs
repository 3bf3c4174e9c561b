//! The engine's modules depend on each other in one direction only: a cycle (config and
//! tunnel importing each other, as they once did) means two ideas are tangled. Read from the
//! sources, so a new `use crate::...` that closes a loop fails here, naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module -> the modules its non-test code names as `crate::x`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else { continue };
        // A module is a file, a folder whose files all count as it (contacts/), or both.
        let files: Vec<_> = if path.is_dir() {
            std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()).filter(|p| p.file_name().is_some_and(|n| n != "tests.rs")).collect()
        } else if path.extension().is_some_and(|e| e == "rs") && stem != "lib" {
            vec![path.clone()]
        } else {
            continue;
        };
        let stem = stem.as_str();
        let mut code = String::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            // The unit tests come last in each file; what they use is not the module's dependency.
            code += text.split("#[cfg(test)]\nmod tests").next().unwrap();
        }
        let mut deps = BTreeSet::new();
        for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            for part in line.split("crate::").skip(1) {
                let name: String = part.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() && name != stem {
                    deps.insert(name);
                }
            }
            // `use crate::{a, b}` names several.
            if let Some(group) = line.strip_prefix("use crate::{") {
                for name in group.split(['}', ',']).map(|n| n.trim().split("::").next().unwrap_or("")) {
                    if !name.is_empty() && name != stem {
                        deps.insert(name.to_string());
                    }
                }
            }
        }
        // `store.rs` and its folder `store/` are one module.
        graph.entry(stem.to_string()).or_insert_with(BTreeSet::new).extend(deps);
    }
    graph
}

/// A cycle through `node`, if there is one reachable from it.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, node: &str, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| n == node) {
        let mut cycle = path[at..].to_vec();
        cycle.push(node.to_string());
        return Some(cycle);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node.to_string());
    for dep in graph.get(node).into_iter().flatten() {
        if let Some(c) = cycle_from(graph, dep, path, done) {
            return Some(c);
        }
    }
    path.pop();
    done.insert(node.to_string());
    None
}

#[test]
fn modules_import_each_other_in_one_direction_only() {
    let graph = graph();
    assert!(graph.len() > 10, "read the modules: {graph:?}");
    assert!(graph["store"].contains("call"), "the reader sees imports: {:?}", graph["store"]);
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, node, &mut Vec::new(), &mut done) {
            panic!("modules import each other: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut graph = BTreeMap::new();
    graph.insert("config".to_string(), BTreeSet::from(["tunnel".to_string()]));
    graph.insert("tunnel".to_string(), BTreeSet::from(["child".to_string(), "config".to_string()]));
    graph.insert("child".to_string(), BTreeSet::new());
    let cycle = cycle_from(&graph, "config", &mut Vec::new(), &mut BTreeSet::new());
    assert_eq!(cycle, Some(vec!["config".to_string(), "tunnel".to_string(), "config".to_string()]));
}
