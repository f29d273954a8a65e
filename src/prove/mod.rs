//! Stage 3a: the symbolic layer. A step holds when rewriting both sides with the cited rules
//! reaches one normal form; normal forms come from the computer-algebra engine.
//!
//! Architecture invariant: `engine` is the only module that imports Symbolica, and no
//! Symbolica type leaves it. This stage never evaluates numbers (that is `model`), so the
//! numeric layers can disagree with it.
//!
//! Inside the stage the imports go one way: `rewrite` (matching, the `Rewrite` trait,
//! `facts`) ← `lemmas`, `normal` ← `term` ← `search`, `expand` ← `inequality`.

mod defined;
pub mod engine;
mod expand;
mod facts;
mod inequality;
mod lemmas;
mod limit;
mod normal;
mod rewrite;
mod search;
mod sign;
mod term;

pub use defined::side_conditions;
pub use engine::in_namespace;
pub use expand::equal_after_expansion;
pub use inequality::{Bound, Bounds, Comparison, prove_le};
pub use lemmas::{ALL as LEMMAS, Lemma};
pub use limit::tends_to;
pub use rewrite::{Context, Direction, Equation, Rewrite};
pub use search::{MAX_DEPTH, MAX_FORMS, Outcome, prove_equal};

#[cfg(test)]
pub(crate) use search::WEAKENED;
