//! The layering rules of docs/ARCHITECTURE.md, checked on the source itself: dependencies
//! between the top-level modules of `src/` point one way (no cycle), the actors never
//! reach into the use cases, the domain imports nothing of the crate, and no file grows
//! past 400 lines. Test code (`#[cfg(test)] mod tests`) is left out: a unit test may reach
//! for an adapter. And the map itself stays true: every path and type docs/ARCHITECTURE.md
//! names exists.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Longest a file under `src/` may be.
const MAX_LINES: usize = 400;

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file belongs to: `src/usecases/mfa/codes.rs` is `usecases`,
/// `src/app.rs` is `app`.
fn module_of(file: &Path) -> String {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The file's code without comments and without its unit tests.
fn production_code(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod tests"))
        {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// The crate's top-level modules a piece of code names as `crate::<module>`.
fn imports(code: &str) -> BTreeSet<String> {
    code.match_indices("crate::")
        .map(|(at, _)| {
            code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// module -> the modules it imports (itself left out).
fn dependency_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src()) {
        let module = module_of(&file);
        if module == "lib" || module == "main" {
            continue;
        }
        let code = production_code(&fs::read_to_string(&file).unwrap());
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(imports(&code).into_iter().filter(|m| *m != module));
    }
    graph
}

/// A cycle in `graph`, if there is one, as the modules along it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn dependencies_between_modules_point_one_way() {
    let graph = dependency_graph();
    assert!(
        graph.contains_key("usecases") && graph.contains_key("actors"),
        "{graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("modules import each other in a circle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_actors_call_traits_not_use_cases() {
    let graph = dependency_graph();
    assert!(
        !graph["actors"].contains("usecases"),
        "actors import {:?}",
        graph["actors"]
    );
}

#[test]
fn the_domain_imports_nothing_of_the_crate() {
    let graph = dependency_graph();
    assert!(graph["domain"].is_empty(), "domain imports {:?}", graph["domain"]);
    let ports: BTreeSet<String> = ["domain".to_owned()].into();
    assert_eq!(graph["ports"], ports, "ports import only the domain");
}

#[test]
fn use_cases_and_handlers_reach_no_adapter() {
    let graph = dependency_graph();
    for adapter in ["storage", "crypto", "notifications", "federation"] {
        assert!(!graph["usecases"].contains(adapter), "use cases import {adapter}");
        assert!(!graph["http"].contains(adapter), "handlers import {adapter}");
    }
}

#[test]
fn no_source_file_is_over_400_lines() {
    let long: Vec<String> = rust_files(&src())
        .into_iter()
        .filter_map(|file| {
            let lines = fs::read_to_string(&file).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}

#[test]
fn the_checks_see_a_cycle_when_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), ["b".to_owned()].into()),
        ("b".to_owned(), ["c".to_owned()].into()),
        ("c".to_owned(), ["a".to_owned()].into()),
    ]
    .into();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let code = production_code("use crate::x::Y;\n// crate::z\n#[cfg(test)]\nmod tests {\n use crate::w;\n}\n");
    assert_eq!(imports(&code), ["x".to_owned()].into());
}

/// Every source file under the repository (`src/`, `tests/`, `migrations/`, ...), as
/// paths relative to its root.
fn repository_files() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') || ["target", "node_modules", "data"].contains(&name.as_str()) {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                files.push(format!("{relative}/"));
                folders.push(path);
            } else {
                files.push(relative);
            }
        }
    }
    files
}

/// Names the map may use that other crates declare.
const FOREIGN_NAMES: [&str; 5] = ["Any", "Authorization", "Debug", "FromRef", "SecretString"];

/// Whether the source declares `name` (a type, trait, function, field, enum variant, macro
/// or constant).
fn declared(code: &str, name: &str) -> bool {
    if FOREIGN_NAMES.contains(&name) || code.contains(&format!("pub {name}:")) {
        return true;
    }
    let ident = |at: usize| {
        let end = at + name.len();
        code[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_')
    };
    [
        "struct ",
        "enum ",
        "trait ",
        "type ",
        "fn ",
        "const ",
        "static ",
        "mod ",
        "macro_rules! ",
    ]
    .iter()
    .any(|keyword| {
        code.match_indices(&format!("{keyword}{name}"))
            .any(|(at, _)| ident(at + keyword.len()))
    }) || code.match_indices(&format!("    {name}")).any(|(at, _)| {
        // an enum variant: indented, then `,`, `(` or ` {`
        let rest = &code[at + 4 + name.len()..];
        rest.starts_with(',') || rest.starts_with('(') || rest.starts_with(" {")
    })
}

/// docs/ARCHITECTURE.md is the map: every file path it names in backticks exists, and every
/// type or `Type::item` it names is declared in `src/`.
#[test]
fn the_architecture_map_names_only_what_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let files = repository_files();
    let code: String = rust_files(&src())
        .iter()
        .map(|file| fs::read_to_string(file).unwrap())
        .collect();
    let spans: BTreeSet<&str> = map.split('`').skip(1).step_by(2).collect();
    let mut missing = Vec::new();
    for span in spans {
        let looks_like_path = !span.contains(' ')
            && !span.contains("://")
            && (span.contains('/') || span.ends_with(".rs"))
            && span.chars().all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
            && !span.starts_with('/');
        if looks_like_path {
            let span = span.trim_end_matches('/');
            let found = files
                .iter()
                .map(|file| file.trim_end_matches('/'))
                .any(|file| file == span || file.ends_with(&format!("/{span}")) || file == format!("src/{span}"));
            if !found {
                missing.push(format!("file {span}"));
            }
            continue;
        }
        let is_code_name = span.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && span.chars().all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '_')
            && span.chars().any(|c| c.is_ascii_lowercase());
        if is_code_name {
            for name in span.split("::").filter(|part| !part.is_empty()) {
                if !declared(&code, name) {
                    missing.push(format!("name {name} (in `{span}`)"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md names what is not there: {missing:#?}"
    );
}
