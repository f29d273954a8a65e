//! Stage 2: the derivation language. Turns the `derivation` blocks of a literate file into
//! statements with names resolved (see `docs/language.md` for the user's description).
//!
//! Architecture invariant: this module knows nothing of checking; it produces syntax and
//! reports input errors, never verdicts.

pub mod affine;
pub mod ast;
pub mod builtins;
pub mod elaborate;
pub mod gradient;
pub mod kinds;
pub mod latex;
mod lexer;
mod parser;
pub mod shapes;
pub mod text;
mod wellformed;

pub use kinds::Kinds;
pub use parser::Scope;
pub use wellformed::kind_errors;

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
    /// The built-in lemma library (`prove/library.md`), not a user's file.
    pub is_library: bool,
}

impl Document {
    /// The file's `def`, `given`, `lemma` and `claim` statements, in order.
    /// How many claims, lemmas, existence, complexity and simulation claims it states.
    pub fn claims(&self) -> usize {
        let existences = self
            .items
            .iter()
            .filter_map(|i| if let Item::Block(b) = i { Some(b) } else { None })
            .flat_map(|b| &b.statements)
            .filter(|s| matches!(s, ast::Statement::Exists(_) | ast::Statement::Complexity(_) | ast::Statement::Simulation(_)))
            .count();
        existences + self.rules().filter(|r| matches!(r.kind, ast::RuleKind::Claim | ast::RuleKind::Lemma)).count()
    }

    pub fn rules(&self) -> impl Iterator<Item = &ast::Rule> {
        self.items
            .iter()
            .filter_map(|i| if let Item::Block(b) = i { Some(b) } else { None })
            .flat_map(|b| &b.statements)
            .filter_map(|s| if let ast::Statement::Rule(r) = s { Some(r.as_ref()) } else { None })
    }
}

#[derive(Debug, Clone)]
pub enum Item {
    Prose(String),
    Block(Block),
}

/// Reads text the checker wrote in the language (a remaining difference, a counterexample's
/// side) as an expression over a file's names, for typesetting; `None` when it is not one.
pub fn parse_expr(text: &str, scope: &Scope) -> Option<ast::Expr> {
    let tokens = lexer::lex(text, 0, 0).ok()?;
    let mut scope = scope.clone();
    // A claim's `for` variables (`t`) are not names of the file: read them as scalars.
    for token in &tokens {
        if let lexer::Tok::Ident(name) = &token.tok
            && !scope.decls.contains_key(name)
            && !builtins::reserved(name)
        {
            let decl = ast::Decl { name: name.clone(), kind: ast::Kind::Scalar, shape: vec![], latex: None, span: token.span };
            scope.decls.insert(name.clone(), decl);
        }
    }
    parser::Parser::new(tokens, &mut scope).lone_expr()
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
    if !errors.is_empty() {
        return Err(errors);
    }
    let doc = Document { file: file.file, path: file.path.clone(), front: file.front.clone(), items, scope, is_library: false };
    let errors = wellformed::errors(&doc);
    if errors.is_empty() { Ok(doc) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};

    use crate::diagnostic::SourceFiles;

    /// The parser never panics: random edits of the worked derivations (deleted, duplicated
    /// and inserted tokens) either parse or give errors with spans inside the file.
    #[test]
    fn mutated_derivations_never_panic_the_parser() {
        let sources: Vec<&str> = vec![
            include_str!("../../derivations/q1_rnn.md"),
            include_str!("../../derivations/q2_momentum.md"),
            include_str!("../../derivations/q3_attention.md"),
            include_str!("../../derivations/q4_weight_decay.md"),
        ];
        let inserts = [
            "(", ")", "[", "]", "=", "for", "by", "proof", "qed", "check", "^T", "-1", "E[", "sum(", ",", ":", "~", "\n", "..", "β", "0.5", "step:",
            "base:",
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for round in 0..3000 {
            let mut text = sources[round % sources.len()].to_string();
            for _ in 0..rng.random_range(1..6) {
                let mut at = rng.random_range(0..text.len());
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match rng.random_range(0..3) {
                    0 => {
                        let mut end = (at + rng.random_range(1..12)).min(text.len());
                        while !text.is_char_boundary(end) {
                            end -= 1;
                        }
                        text.replace_range(at..end, "");
                    }
                    1 => text.insert_str(at, inserts[rng.random_range(0..inserts.len())]),
                    _ => {
                        let mut end = (at + rng.random_range(1..20)).min(text.len());
                        while !text.is_char_boundary(end) {
                            end -= 1;
                        }
                        let copy = text[at..end].to_string();
                        text.insert_str(end, &copy);
                    }
                }
            }
            let mut files = SourceFiles::default();
            let id = files.add("mutated.md".into(), text.clone());
            let parsed = crate::source::split(id, &files).and_then(|lit| super::parse(&lit));
            if let Err(errors) = parsed {
                for e in errors {
                    assert!(e.span.end <= text.len() && e.span.start <= e.span.end, "span out of the file: {e:?}");
                    let _ = e.render(&files);
                }
            }
        }
    }
}
