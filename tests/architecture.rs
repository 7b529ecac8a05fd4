//! The house's shape, read off the source: no module imports one that imports it (directly or
//! through others). Each `crate::`, `super::` and `self::` path in `src/` (the library; not the
//! command line, not `lib.rs`, which only names things) is resolved to the module that defines
//! the item, following `pub use` re-exports, and the import graph between files must have no
//! cycle. A facade's `pub use` of a child counts as an import, so a child must not import from
//! the module that re-exports it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`encodec::ecdc::decoder`) -> its source.
fn modules() -> BTreeMap<String, String> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("bin") {
                    pending.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path == src.join("lib.rs") {
                continue;
            }
            let code = strip_comments(&std::fs::read_to_string(&path).unwrap());
            // A file's unit tests (always last) are not part of its imports; their `super` is
            // the file itself.
            let code = match code.find("#[cfg(test)]\nmod tests") {
                Some(at) => code[..at].to_string(),
                None => code,
            };
            out.insert(module_name(&src, &path), code);
        }
    }
    out
}

fn module_name(src: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The code without `//` comments (doc links name paths that are not imports), in ASCII (other
/// characters, in strings, become spaces).
fn strip_comments(text: &str) -> String {
    let code: Vec<&str> = text.lines().map(|line| line.split("//").next().unwrap_or("")).collect();
    code.join("\n").chars().map(|c| if c.is_ascii() { c } else { ' ' }).collect()
}

/// Every path starting at `crate::`, `super::` or `self::`, brace groups expanded:
/// `crate::a::{b, c::D}` gives `crate::a::b` and `crate::a::c::D`. `pub use` paths are flagged.
fn paths(code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &code[i..];
        let starts = ["crate::", "super::", "self::"].iter().find(|s| rest.starts_with(**s));
        let boundary =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b'$');
        match starts {
            Some(start) if boundary => {
                let head = start.trim_end_matches("::").to_string();
                let (found, used) = parse_tail(&code[i + start.len()..], vec![head]);
                out.extend(found);
                i += start.len() + used;
            }
            _ => i += 1,
        }
    }
    out
}

/// Parses `a::b::{c, d::E}` after a prefix; returns the paths and the bytes read.
fn parse_tail(text: &str, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut path = prefix;
    loop {
        while at < bytes.len() && bytes[at] == b' ' {
            at += 1;
        }
        if at < bytes.len() && bytes[at] == b'{' {
            at += 1;
            let mut found = Vec::new();
            loop {
                while at < bytes.len() && (bytes[at] as char).is_whitespace()
                    || at < bytes.len() && bytes[at] == b','
                {
                    at += 1;
                }
                if at >= bytes.len() || bytes[at] == b'}' {
                    return (found, at + 1);
                }
                let (inner, used) = parse_tail(&text[at..], path.clone());
                found.extend(inner);
                at += used.max(1);
            }
        }
        let start = at;
        while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
            at += 1;
        }
        if at > start {
            path.push(text[start..at].to_string());
        }
        if text[at..].starts_with("::") {
            at += 2;
            continue;
        }
        return (vec![path], at);
    }
}

/// `use child::X` (and `pub use child::X`) written relative to this module, as `self::child::X`.
fn child_uses(module: &str, code: &str, modules: &BTreeMap<String, String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for statement in code.split(';') {
        let Some(at) = statement.find("use ") else { continue };
        let before = statement[..at].trim_end();
        let is_use =
            before.is_empty() || before.ends_with("pub") || before.ends_with(')') || before.ends_with('}');
        let rest = statement[at + 4..].trim();
        let first = rest.split("::").next().unwrap_or("");
        let child = if module.is_empty() { first.to_string() } else { format!("{module}::{first}") };
        if is_use && modules.contains_key(&child) {
            out.extend(paths(&format!("self::{rest}")));
        }
    }
    out
}

/// The items `pub use` makes visible in each module: name -> the path it stands for.
fn reexports(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let root = strip_comments(
        &std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap(),
    );
    let mut out = BTreeMap::new();
    for (module, code) in modules.iter().chain([(&String::new(), &root)]) {
        let mut names = BTreeMap::new();
        for statement in code.split(';') {
            let statement = statement.trim();
            let statement = statement.replace("pub(crate) use ", "pub use ");
            let Some(rest) = statement.split("pub use ").nth(1) else { continue };
            // Relative re-exports (`pub use model::Encodec`) are written from this module.
            let rest = rest.trim();
            let qualified = if rest.starts_with("crate::") || rest.starts_with("super::") {
                rest.to_string()
            } else {
                format!("self::{rest}")
            };
            for path in paths(&qualified) {
                let path = absolute(module, &path);
                if let Some(name) = path.last() {
                    names.insert(name.clone(), path);
                }
            }
        }
        out.insert(module.clone(), names);
    }
    out
}

/// `path` (starting `crate`, `super` or `self`) from inside `module`, as `crate`-relative
/// segments.
fn absolute(module: &str, path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = module.split("::").filter(|s| !s.is_empty()).map(String::from).collect();
    let mut rest = path;
    match path[0].as_str() {
        "crate" => base.clear(),
        "self" => {}
        _ => {}
    }
    while let Some(first) = rest.first() {
        match first.as_str() {
            "crate" | "self" => rest = &rest[1..],
            "super" => {
                base.pop();
                rest = &rest[1..];
            }
            _ => break,
        }
    }
    base.extend(rest.iter().cloned());
    base
}

/// The module defining what `path` names: its longest prefix that is a module, followed
/// through re-exports while the next name is re-exported there rather than a child.
fn resolve(
    path: &[String],
    modules: &BTreeMap<String, String>,
    reexports: &BTreeMap<String, BTreeMap<String, Vec<String>>>,
    depth: usize,
) -> Option<String> {
    let mut module = String::new();
    let mut used = 0;
    for n in 1..=path.len() {
        let candidate = path[..n].join("::");
        if modules.contains_key(&candidate) {
            module = candidate;
            used = n;
        }
    }
    if let Some(name) = path.get(used) {
        if let Some(target) = reexports.get(&module).and_then(|r| r.get(name)) {
            // The re-exported name, then whatever the path names inside it.
            let full: Vec<String> = target.iter().chain(&path[used + 1..]).cloned().collect();
            if depth < 8 && full.as_slice() != path {
                return resolve(&full, modules, reexports, depth + 1);
            }
        }
    }
    (!module.is_empty()).then_some(module)
}

#[test]
fn no_module_imports_one_that_imports_it() {
    let modules = modules();
    assert!(modules.len() > 30, "found only {} modules", modules.len());
    let reexports = reexports(&modules);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, code) in &modules {
        let edges = graph.entry(module.clone()).or_default();
        for path in paths(code).into_iter().chain(child_uses(module, code, &modules)) {
            let path = absolute(module, &path);
            if let Some(target) = resolve(&path, &modules, &reexports, 0) {
                if &target != module && !target.starts_with(&format!("{module}::tests")) {
                    edges.insert(target);
                }
            }
        }
    }
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(edges > 60, "found only {edges} imports: the parser is broken");
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|m| m == next).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(cycle) = visit(node, &graph, &mut state, &mut Vec::new()) {
                panic!("import cycle: {}", cycle.join(" -> "));
            }
        }
    }
    println!("{} modules, {edges} imports, no cycle", graph.len());
}

#[test]
fn the_checker_finds_a_planted_cycle() {
    // The same parser on two files that import each other, through a re-export.
    let modules = BTreeMap::from([
        ("a".to_string(), "pub use crate::b::Thing; pub struct Other;".to_string()),
        ("b".to_string(), "use crate::a::{self, Other};\npub struct Thing;".to_string()),
    ]);
    let reexports = reexports(&modules);
    let a_imports: Vec<_> = paths(&modules["a"])
        .iter()
        .filter_map(|p| resolve(&absolute("a", p), &modules, &reexports, 0))
        .collect();
    let b_imports: Vec<_> = paths(&modules["b"])
        .iter()
        .filter_map(|p| resolve(&absolute("b", p), &modules, &reexports, 0))
        .collect();
    assert!(a_imports.contains(&"b".to_string()), "{a_imports:?}");
    assert!(b_imports.contains(&"a".to_string()), "{b_imports:?}");
}
