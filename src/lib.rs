//! derivcheck: checks hand-written derivations symbolically and by exact rational
//! instantiation, and renders a literate report. See ARCHITECTURE.md for the code map.

pub mod check;
pub mod diagnostic;
pub mod language;
pub mod source;
