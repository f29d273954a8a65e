//! ARCHITECTURE.md's code map, enforced: every module of `src/` has a row and every row a
//! module; the "must not" column's machine-readable clauses hold (`use `X``: no path into `X`;
//! `call`/`touch the engine`: no path into `prove::engine`); only the engine names Symbolica;
//! only the modules the invariants name touch the filesystem; and no stage's modules import
//! each other in a cycle. Test modules at the end of a file are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module as the code map names it (`prove/search`, `lib`) and its code without tests.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().with_extension("").to_string_lossy().replace('\\', "/");
                let name = rel.strip_suffix("/mod").unwrap_or(&rel).to_string();
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
                let code: Vec<&str> = code.lines().map(|l| l.split("//").next().unwrap_or_default()).collect();
                out.insert(name, code.join("\n"));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

/// The module paths a module's code refers to (`prove::engine`, `model`), resolved from
/// `crate::…`, `super::…` and `self::…`, grouped `use` lines expanded.
fn references(module: &str, code: &str) -> BTreeSet<String> {
    // `self` is the module itself (a folder's `mod.rs` is the folder); `super` its parent.
    let own: Vec<&str> = if module == "lib" || module == "main" { vec![] } else { module.split('/').collect() };
    let mut paths = Vec::new();
    // Expand `use a::{b, c::{d}}` into `a::b`, `a::c::d`.
    fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
        let tree = tree.trim();
        match tree.find('{') {
            None => out.extend(tree.split(',').map(|t| format!("{prefix}{}", t.trim())).filter(|t| !t.ends_with("::"))),
            Some(open) => {
                let head = &tree[..open];
                let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
                let mut depth = 0;
                let mut start = 0;
                for (i, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            expand(&format!("{prefix}{head}"), &inner[start..i], out);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                expand(&format!("{prefix}{head}"), &inner[start..], out);
            }
        }
    }
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let end = rest[at..].find(';').map_or(rest.len(), |e| at + e);
        expand("", &rest[at + 4..end], &mut paths);
        rest = &rest[end..];
    }
    for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        if ["crate::", "super::", "self::", "derivcheck::"].iter().any(|p| word.starts_with(p)) {
            paths.push(word.to_string());
        }
    }
    let mut out = BTreeSet::new();
    for p in paths {
        let segments: Vec<&str> = p.split("::").map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
        let resolved: Vec<&str> = match segments.first() {
            // The binary names the library by its crate name.
            Some(&"crate") | Some(&"derivcheck") => segments[1..].to_vec(),
            Some(&"super") => {
                let ups = segments.iter().take_while(|s| **s == "super").count();
                own[..own.len().saturating_sub(ups)].iter().copied().chain(segments[ups..].iter().copied()).collect()
            }
            Some(&"self") => own.iter().copied().chain(segments[1..].iter().copied()).collect(),
            _ => continue,
        };
        if !resolved.is_empty() {
            out.insert(resolved.join("::"));
        }
    }
    out
}

/// The code map's rows: module → its "must not" text.
fn code_map() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md")).unwrap();
    let mut rows = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        let module = cells[0].trim().trim_matches('`').to_string();
        rows.insert(module, cells.last().unwrap_or(&"").trim().to_string());
    }
    rows
}

/// Module paths a "must not" text forbids: `use `a`, `b::c`` clauses, and the engine for
/// "call the engine" / "touch the engine" (all of it, or only directly with "except through").
fn forbidden(must_not: &str) -> Vec<String> {
    let mut out = Vec::new();
    for clause in must_not.split(';').map(str::trim) {
        if let Some(list) = clause.strip_prefix("use ") {
            out.extend(list.split('`').skip(1).step_by(2).map(|m| m.replace('/', "::")));
        } else if clause.contains("the engine") && (clause.starts_with("call") || clause.starts_with("touch")) {
            out.push("prove::engine".into());
        }
    }
    out
}

#[test]
fn the_code_map_lists_exactly_the_modules_of_the_tree() {
    let tree: BTreeSet<String> = modules().into_keys().collect();
    let map: BTreeSet<String> = code_map().into_keys().filter(|m| !m.contains('.')).collect();
    let missing: Vec<&String> = tree.difference(&map).collect();
    let stale: Vec<&String> = map.difference(&tree).collect();
    assert!(missing.is_empty() && stale.is_empty(), "ARCHITECTURE.md's code map: no row for {missing:?}; rows without a module: {stale:?}");
}

#[test]
fn no_module_does_what_its_row_says_it_must_not() {
    let map = code_map();
    let mods = modules();
    let mut broken = Vec::new();
    for (module, code) in &mods {
        let is_folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(module).is_dir();
        let refs = references(module, code);
        // The rows of the module and of every folder it is in.
        let mut rules = Vec::new();
        let parts: Vec<&str> = module.split('/').collect();
        for k in 1..=parts.len() {
            if let Some(must_not) = map.get(&parts[..k].join("/")) {
                rules.extend(forbidden(must_not));
            }
        }
        for f in rules {
            let own = module.replace('/', "::");
            // A folder's own modules may use each other (`prove` uses `prove::engine`), except
            // where the rule names a module inside the folder.
            if own == f || (f.starts_with(&format!("{own}::")) && is_folder) {
                continue;
            }
            if f.split("::").next() == own.split("::").next() && !f.contains("::") {
                continue;
            }
            for r in refs.iter().filter(|r| *r == &f || r.starts_with(&format!("{f}::"))) {
                broken.push(format!("{module} uses {r}, which its row forbids (`{f}`)"));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn only_the_engine_names_symbolica_and_only_io_modules_touch_the_filesystem() {
    for (module, code) in modules() {
        if module != "prove/engine" {
            assert!(!code.contains("symbolica::") && !code.contains("use symbolica"), "{module} uses Symbolica: only prove/engine may");
        }
        let touches = code.contains("std::fs") || code.contains("File::") || code.contains("fs::");
        let allowed = ["source", "lib", "prove/engine"].contains(&module.as_str()) || module.starts_with("report");
        assert!(!touches || allowed, "{module} touches the filesystem; only source, lib, report and the engine's lock may");
    }
}

#[test]
fn no_stage_has_an_import_cycle() {
    let mods = modules();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let folders: BTreeSet<String> = mods.keys().filter(|m| src.join(m).is_dir()).cloned().collect();
    for folder in &folders {
        let prefix = format!("{folder}/");
        // Direct children of the folder; the folder's own `mod.rs` is its surface and may
        // use them all.
        let children: BTreeSet<String> =
            mods.keys().filter_map(|m| m.strip_prefix(&prefix)).map(|rest| rest.split('/').next().unwrap_or_default().to_string()).collect();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, code) in mods.iter().filter(|(m, _)| m.starts_with(&prefix)) {
            let child = module[prefix.len()..].split('/').next().unwrap_or_default().to_string();
            let refs = references(module, code);
            let stage = format!("{}::", folder.replace('/', "::"));
            for r in refs.iter().filter_map(|r| r.strip_prefix(&stage)) {
                let target = r.split("::").next().unwrap_or_default().to_string();
                if target != child && children.contains(&target) {
                    edges.entry(child.clone()).or_default().insert(target);
                }
            }
        }
        // Depth-first search for a back edge.
        fn visit(n: &str, edges: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
            if let Some(at) = path.iter().position(|p| p == n) {
                return Some(path[at..].to_vec());
            }
            if done.contains(n) {
                return None;
            }
            path.push(n.to_string());
            for m in edges.get(n).into_iter().flatten() {
                if let Some(cycle) = visit(m, edges, path, done) {
                    return Some(cycle);
                }
            }
            path.pop();
            done.insert(n.to_string());
            None
        }
        let mut done = BTreeSet::new();
        for n in &children {
            if let Some(cycle) = visit(n, &edges, &mut vec![], &mut done) {
                panic!("{folder}: its modules import each other in a cycle: {}", cycle.join(" → "));
            }
        }
    }
}

#[test]
fn the_reference_reader_resolves_paths() {
    let refs = references(
        "prove/search",
        "use super::engine::engine;\nuse crate::language::{Kinds, affine::canonical_indices};\nlet x = super::term::to_term(e);",
    );
    assert!(
        refs.contains("prove::engine::engine") && refs.contains("language::Kinds") && refs.contains("language::affine::canonical_indices"),
        "{refs:?}"
    );
    assert!(refs.contains("prove::term::to_term"), "{refs:?}");
    let refs = references("prove", "pub use search::prove_equal;\nuse self::engine::Term;");
    assert!(refs.contains("prove::engine::Term"), "{refs:?}");
    assert_eq!(forbidden("decide verdicts; use `prove`, `evidence` or `model`"), ["prove", "evidence", "model"]);
    assert_eq!(forbidden("call the engine"), ["prove::engine"]);
}
