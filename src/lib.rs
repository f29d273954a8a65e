//! derivcheck checks hand-written derivations symbolically and by exact rational
//! instantiation, and renders a literate report. See ARCHITECTURE.md for the code map.
//!
//! The pipeline is `source` (read Markdown) → `language` (parse blocks) → `check` (verdicts
//! from `prove`, the symbolic layer, and `evidence`, the numeric layers on `model`s) →
//! `report` (render and write). [`load`] runs the first two, the CLI the rest.
//!
//! # Use from Rust
//!
//! Check a derivation given as text, as `derivcheck check` would:
//!
//! ~~~
//! let text = "```derivation
//! let a, b: scalar
//! claim square: (a + b)^2 = a^2 + 2*a*b + b^2
//! proof
//!   (a + b)^2 = a^2 + 2*a*b + b^2
//! qed
//! ```
//! ";
//! let checked = derivcheck::check_markdown("square.md", text, &derivcheck::Options::default()).unwrap();
//! assert!(checked.results.all_verified());
//! assert_eq!(checked.results.claim("square").unwrap().status, derivcheck::Status::Verified);
//! ~~~
//!
//! Or assert an identity at random rational points, in your own tests (no proof needed; the
//! panic message carries the counterexample):
//!
//! ```
//! derivcheck::assert_identity!("let x, y: scalar", "(x - y)*(x + y)", "x^2 - y^2");
//! ```

pub mod audit;
pub mod check;
pub mod diagnostic;
pub mod evidence;
mod identity;
pub mod language;
pub mod mathtex;
pub mod model;
mod parallel;
pub mod progress;
pub mod prove;
pub mod report;
pub mod source;
pub mod verdict;

use std::path::PathBuf;

pub use check::{Options, Results};
use diagnostic::{Located, SourceFiles};
pub use identity::{Identity, IdentityError, identity};
use language::Document;
pub use verdict::{Status, Verdict};

/// The parsed input of a run.
pub struct Loaded {
    pub files: SourceFiles,
    pub documents: Vec<Document>,
}

/// Why a run could not start checking: the CLI prints the text and exits with 2.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A missing file or folder, or one that cannot be read.
    #[error("{0}")]
    Io(String),
    /// Errors in the input, rendered with file:line:column and a caret, and located.
    #[error("{}", .rendered.join("\n"))]
    Input { rendered: Vec<String>, errors: Vec<Located> },
}

/// Reads and parses every `.md` file named by `paths` (folders are searched). All input errors
/// of all files are collected before giving up.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    let mut sources = Vec::new();
    for path in source::collect_paths(paths).map_err(LoadError::Io)? {
        let text = std::fs::read_to_string(&path).map_err(|e| LoadError::Io(format!("{}: {e}", path.display())))?;
        sources.push((path.display().to_string(), text));
    }
    load_sources(sources)
}

/// Parses files given as `(path, text)`; adds the built-in lemma library when one cites a lemma.
pub fn load_sources(sources: Vec<(String, String)>) -> Result<Loaded, LoadError> {
    let mut files = SourceFiles::default();
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    for (path, text) in sources {
        let id = files.add(path, text);
        match parse(id, &files).and_then(|doc| not_a_library(doc, &files)) {
            Ok(doc) => documents.push(doc),
            Err(mut e) => errors.append(&mut e),
        }
    }
    // The built-in lemmas carry their own evidence: check them too when a file cites one.
    if errors.is_empty() && documents.iter().any(cites_builtin_lemma) {
        let id = files.add(LIBRARY_PATH.into(), LIBRARY.into());
        match parse(id, &files) {
            Ok(doc) => documents.push(Document { is_library: true, ..doc }),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(LoadError::Input {
            rendered: errors.iter().map(|e| e.render(&files)).collect(),
            errors: errors.iter().map(|e| e.locate(&files)).collect(),
        });
    }
    Ok(Loaded { files, documents })
}

/// Only the built-in library may mark its lemmas as supported by evidence alone: in a user's
/// file, a claim without a proof is unproved.
fn not_a_library(doc: Document, files: &SourceFiles) -> Result<Document, Vec<diagnostic::InputError>> {
    if !doc.front.extra.contains_key("evidence_only") {
        return Ok(doc);
    }
    let text = &files.get(doc.file).text;
    let at = text.find("evidence_only").unwrap_or(0);
    Err(vec![
        diagnostic::InputError::new(
            diagnostic::Span::new(doc.file, at, at + "evidence_only".len()),
            "`evidence_only` is only for the built-in lemma library",
        )
        .label("not allowed here")
        .help("remove it: a claim or lemma without a proof is unproved, whatever its checks say"),
    ])
}

fn parse(id: diagnostic::FileId, files: &SourceFiles) -> Result<Document, Vec<diagnostic::InputError>> {
    let (literate, mut errors) = source::split_with_errors(id, files)?;
    match language::parse(&literate) {
        Ok(doc) if errors.is_empty() => Ok(doc),
        Ok(_) => Err(errors),
        Err(mut more) => {
            errors.append(&mut more);
            Err(errors)
        }
    }
}

/// A derivation file checked: the parsed input and every verdict.
pub struct Checked {
    pub loaded: Loaded,
    pub results: Results,
}

/// Checks one literate Markdown file given as text, named `path` in messages. Input errors
/// come back as `Err`; a wrong derivation is a result (`results.all_verified()` is false).
pub fn check_markdown(path: &str, text: &str, options: &Options) -> Result<Checked, LoadError> {
    let loaded = load_sources(vec![(path.to_string(), text.to_string())])?;
    let results = check::check_documents(&loaded.documents, &loaded.files, options);
    Ok(Checked { loaded, results })
}

/// Checks loaded documents as `derivcheck check` does. Every document's results (the built-in
/// library's lemmas and their evidence among them) are kept in the user's cache folder
/// (`$XDG_CACHE_HOME/derivcheck`, or `~/.cache/derivcheck`) under its path, its exact text,
/// the build, the root seed, the sample count and strictness; every check is deterministic
/// given those, so a cached result is the result the run would compute, and a file that has
/// not changed is not checked again. Set `DERIVCHECK_CACHE=off` to check everything every
/// time, `DERIVCHECK_CACHE=library` to keep only the library's. Returns the results and, for
/// each document whose results came from the cache, its path and the cache file.
pub fn check_with_cache(loaded: &Loaded, options: &Options) -> (Results, Vec<(String, PathBuf)>) {
    let caches: Vec<Option<PathBuf>> = loaded.documents.iter().map(|d| document_cache(d, &loaded.files, options)).collect();
    let mut hits = Vec::new();
    let mut known = Vec::new();
    for (doc, cache) in loaded.documents.iter().zip(&caches) {
        let Some(path) = cache else { continue };
        let cached: Option<CachedDocument> = std::fs::read_to_string(path).ok().and_then(|text| serde_json::from_str(&text).ok());
        // The very text (not only its hash) and every claim of it, or it is checked again.
        let text = &loaded.files.get(doc.file).text;
        if let Some(mut cached) = cached.filter(|c| c.result.path == doc.path && *c.text == **text && c.result.claims.len() == doc.claims()) {
            let spans = cached.spans.clone();
            let mut slots = spans_of(&mut cached.result);
            if slots.len() != spans.len() {
                continue;
            }
            for (slot, (start, end)) in slots.iter_mut().zip(spans) {
                **slot = diagnostic::Span::new(doc.file, start, end);
            }
            hits.push((doc.path.clone(), path.clone()));
            known.push(cached.result);
        }
    }
    let options = Options { known, ..options.clone() };
    let results = check::check_documents(&loaded.documents, &loaded.files, &options);
    if !results.interrupted {
        // `check_documents` returns one result per document, in order.
        for ((doc, result), cache) in loaded.documents.iter().zip(&results.documents).zip(&caches) {
            let (Some(path), false) = (cache, hits.iter().any(|(p, _)| *p == result.path)) else { continue };
            let mut result = result.clone();
            let spans = spans_of(&mut result).into_iter().map(|s| (s.start, s.end)).collect();
            let text = loaded.files.get(doc.file).text.to_string();
            let Ok(text) = serde_json::to_string(&CachedDocument { text, result, spans }) else { continue };
            if let Some(dir) = path.parent()
                && std::fs::create_dir_all(dir).is_ok()
            {
                // A temp file and a rename: a parallel run reads the old file or the new one.
                let temp = path.with_extension(format!("tmp-{}", std::process::id()));
                if std::fs::write(&temp, text).is_ok() {
                    let _ = std::fs::rename(&temp, path);
                }
            }
        }
    }
    if let Some(dir) = caches.iter().flatten().next().and_then(|p| p.parent()) {
        prune(dir);
    }
    (results, hits)
}

/// Results kept at most: beyond these, the least recently written go (every build and every
/// edit of a file writes another).
const KEPT_RESULTS: usize = 400;

fn prune(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() > KEPT_RESULTS {
        files.sort();
        for (_, path) in &files[..files.len() - KEPT_RESULTS] {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A document's results as the cache keeps them: with the spans the JSON leaves out (where
/// each step and finding is in the file), in the order `spans_of` lists them.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedDocument {
    /// The file's text the results are of.
    text: String,
    result: check::DocumentResult,
    spans: Vec<(usize, usize)>,
}

/// The spans of a document's results, in a fixed order: each claim's problems, then its steps,
/// each with its findings.
fn spans_of(result: &mut check::DocumentResult) -> Vec<&mut diagnostic::Span> {
    let mut spans = Vec::new();
    for claim in &mut result.claims {
        spans.extend(claim.problems.iter_mut().map(|p| &mut p.span));
        for step in claim.chains.iter_mut().flat_map(|c| &mut c.steps) {
            spans.push(&mut step.span);
            spans.extend(step.findings.iter_mut().map(|f| &mut f.span));
        }
    }
    spans
}

/// Where a document's results for this build, text and these options are kept, if anywhere.
fn document_cache(doc: &Document, files: &diagnostic::SourceFiles, options: &Options) -> Option<PathBuf> {
    match std::env::var("DERIVCHECK_CACHE").as_deref() {
        Ok("off") => return None,
        Ok("library") if !doc.is_library => return None,
        _ => {}
    }
    let dir = match (std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")) {
        (Some(cache), _) if !cache.is_empty() => PathBuf::from(cache),
        (_, Some(home)) => PathBuf::from(home).join(".cache"),
        _ => return None,
    };
    // The build: a rebuilt binary has another size or time, whatever its version says.
    let exe = std::env::current_exe().ok()?.metadata().ok()?;
    let built = exe.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    let key = format!(
        "{}\0{}\0{built}\0{}\0{}\0{}\0{}\0{}",
        env!("CARGO_PKG_VERSION"),
        exe.len(),
        options.seed,
        options.samples,
        options.strict,
        doc.path,
        files.get(doc.file).text
    );
    let hash = key.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
    let kind = if doc.is_library { "library" } else { "file" };
    Some(dir.join("derivcheck").join(format!("{kind}-{hash:016x}.json")))
}

/// The built-in lemma library, a literate file of lemmas with their evidence.
pub const LIBRARY: &str = include_str!("prove/library.md");
pub const LIBRARY_PATH: &str = "built-in lemma library";

fn cites_builtin_lemma(doc: &Document) -> bool {
    doc.rules().any(|r| r.searches() || r.cited().iter().any(|n| language::builtins::is_lemma(n)))
}
