//! Stage 2: the derivation language. Turns the `derivation` blocks of a literate file into
//! statements with names resolved (see `docs/language.md` for the user's description).
//!
//! Architecture invariant: this module knows nothing of checking; it produces syntax and
//! reports input errors, never verdicts.

pub mod ast;
pub mod latex;
mod lexer;
mod parser;

pub use parser::{BUILTIN_FUNCTIONS, BUILTIN_LEMMAS, BUILTIN_NAMES, Scope};

use crate::diagnostic::InputError;
use crate::source::{FrontMatter, LiterateFile, Part};
use ast::Block;

/// A literate file with its blocks parsed.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: crate::diagnostic::FileId,
    pub path: String,
    pub front: FrontMatter,
    pub items: Vec<Item>,
    /// Every name of the file, for rendering.
    pub scope: Scope,
}

impl Document {
    /// The file's `def`, `given`, `lemma` and `claim` statements, in order.
    pub fn rules(&self) -> impl Iterator<Item = &ast::Rule> {
        self.items
            .iter()
            .filter_map(|i| if let Item::Block(b) = i { Some(b) } else { None })
            .flat_map(|b| &b.statements)
            .filter_map(|s| if let ast::Statement::Rule(r) = s { Some(r) } else { None })
    }
}

#[derive(Debug, Clone)]
pub enum Item {
    Prose(String),
    Block(Block),
}

/// Parses every derivation block of a file; names flow from each block to the later ones.
/// Returns all errors of all blocks.
pub fn parse(file: &LiterateFile) -> Result<Document, Vec<InputError>> {
    let mut scope = Scope::default();
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for part in &file.parts {
        match part {
            Part::Prose(text) => items.push(Item::Prose(text.clone())),
            Part::Derivation { code, span } => {
                let parsed = lexer::lex(code, span.file, span.start).and_then(|tokens| parser::Parser::new(tokens, &mut scope).block());
                match parsed {
                    Ok(statements) => items.push(Item::Block(Block { statements, span: *span })),
                    Err(mut errs) => errors.append(&mut errs),
                }
            }
        }
    }
    if errors.is_empty() { Ok(Document { file: file.file, path: file.path.clone(), front: file.front.clone(), items, scope }) } else { Err(errors) }
}
