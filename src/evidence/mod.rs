//! Stage 3b: the numeric layers. The exact (or float) layer evaluates a relation at random
//! points of a model of the file; the evidence checks run trajectories, unroll recursions,
//! estimate expectations by Monte Carlo, count operations and fit rates of decay. Each
//! returns one `LayerResult`, with a table and a plot where the numbers say more than a
//! sentence.
//!
//! Architecture invariant: this stage never calls the engine except through `prove`'s
//! public functions (`unroll` compares normal forms); the exact layer of a step shares
//! nothing with the symbolic layer but the syntax tree.

pub mod cost;
pub mod count;
pub mod derivative;
pub mod growth;
pub mod montecarlo;
pub mod points;
pub mod rate;
pub mod trajectory;
pub mod unroll;
pub mod witness;

use crate::model::{Stop, Value, Wide, Wider, settle};

/// Why an evaluation that needs every point stopped, for a message.
pub fn stop_text(s: Stop) -> String {
    match s {
        Stop::Undefined => "a value is undefined (division by zero) on this trajectory".into(),
        Stop::NotApplicable(r) => r,
        Stop::Shapes(what) => format!("the shapes do not fit: {what}"),
        Stop::Invalid(why) => format!("the point is not a model of the file: {why}"),
    }
}

/// The sign of left − right that stays in 320- and 640-bit floats (see `model::settle`), for a
/// scalar pair or, where `entrywise`, entry by entry for matrices of one shape; `None` where
/// the values cannot be compared so.
pub fn settled_signs(
    low: (&Value<Wide>, &Value<Wide>),
    high: (&Value<Wider>, &Value<Wider>),
    largest: Option<i32>,
    entrywise: bool,
) -> Option<Vec<Option<i64>>> {
    match (low, high) {
        ((Value::S(la), Value::S(lb)), (Value::S(ha), Value::S(hb))) => Some(vec![settle(la, lb, ha, hb, largest)]),
        ((Value::M(la), Value::M(lb)), (Value::M(ha), Value::M(hb))) if entrywise && la.shape() == lb.shape() => {
            Some((0..la.len()).map(|i| settle(&la[i], &lb[i], &ha[i], &hb[i], largest)).collect())
        }
        _ => None,
    }
}
