//! derivcheck: checks hand-written derivations symbolically and by exact rational
//! instantiation, and renders a literate report. See ARCHITECTURE.md for the code map.
//!
//! The pipeline is `source` (read Markdown) → `language` (parse blocks) → `check` (verdicts)
//! → `report` (render and write); [`load`] runs the first two, the CLI runs the rest.

pub mod check;
pub mod diagnostic;
pub mod language;
pub mod progress;
pub mod report;
pub mod source;

use std::path::PathBuf;

use diagnostic::SourceFiles;
use language::Document;

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
    /// Errors in the input, already rendered with file:line:column and a caret.
    #[error("{}", .rendered.join("\n"))]
    Input { rendered: Vec<String>, count: usize },
}

/// Reads and parses every `.md` file named by `paths` (folders are searched). All input errors
/// of all files are collected before giving up.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    let mut files = SourceFiles::default();
    let mut documents = Vec::new();
    let mut rendered = Vec::new();
    let mut count = 0;
    for path in source::collect_paths(paths).map_err(LoadError::Io)? {
        let text = std::fs::read_to_string(&path).map_err(|e| LoadError::Io(format!("{}: {e}", path.display())))?;
        let id = files.add(path.display().to_string(), text);
        let parsed = source::split(id, &files).map_err(|e| vec![e]).and_then(|lit| language::parse(&lit));
        match parsed {
            Ok(doc) => documents.push(doc),
            Err(errors) => {
                count += errors.len();
                rendered.extend(errors.iter().map(|e| e.render(&files)));
            }
        }
    }
    if !rendered.is_empty() {
        return Err(LoadError::Input { rendered, count });
    }
    // The built-in lemmas carry their own evidence: check them too when a file cites one.
    if documents.iter().any(cites_builtin_lemma) {
        let id = files.add(LIBRARY_PATH.into(), LIBRARY.into());
        let library = source::split(id, &files).map_err(|e| vec![e]).and_then(|lit| language::parse(&lit));
        match library {
            Ok(doc) => documents.push(doc),
            Err(errors) => return Err(LoadError::Input { count: errors.len(), rendered: errors.iter().map(|e| e.render(&files)).collect() }),
        }
    }
    Ok(Loaded { files, documents })
}

/// The built-in lemma library, a literate file of lemmas with their evidence.
pub const LIBRARY: &str = include_str!("check/library.md");
pub const LIBRARY_PATH: &str = "built-in lemma library";

fn cites_builtin_lemma(doc: &Document) -> bool {
    doc.rules().any(|r| r.searches() || r.cited().iter().any(|n| language::BUILTIN_LEMMAS.contains(n)))
}
