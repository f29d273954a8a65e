//! The exact layer: a relation evaluated at random rational points of a model of the file
//! (see `model`), independently of the engine; where exact arithmetic cannot apply, the
//! float layer evaluates the same points in double precision.

use std::collections::HashMap;

use num_rational::BigRational;

use crate::language::ast::{Binder, Expr, ExprKind, Fact, Kind, Rel};
use crate::model::{Model, ModelSpec, Number, Stop, Value, Wide, compare, constant, int};
use crate::verdict::{Counterexample, Layer, LayerResult, Verdict};

/// What the points say.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// With whether double precision disagreed by rounding at a point that 320-bit floats
    /// then confirmed.
    Holds {
        samples: usize,
        rounding: bool,
    },
    /// With whether a random positive function stood in for `exp` at that point (then `exp`
    /// itself must confirm it).
    Refuted {
        cx: Counterexample,
        oracle: bool,
    },
    NotApplicable(String),
    /// Undefined at every point drawn.
    Undefined(String),
    /// Double precision disagrees at a point that 320-bit floats cannot evaluate.
    Unconfirmed {
        cx: Counterexample,
        why: String,
    },
}

#[cfg(test)]
thread_local! {
    pub(crate) static WEAKENED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// How many times a point is redrawn when a side is undefined there, per sample.
const REDRAWS: usize = 20;

/// Draws values of the claim's variables: integers from their lower bound up, scalars like
/// free scalars, redrawing until every condition holds.
fn draw_binders<N: Number>(m: &mut Model<N>, binders: &[Binder], conditions: &[Fact], env: &mut HashMap<String, Value<N>>) -> Result<bool, Stop> {
    for _ in 0..200 {
        for b in binders {
            let v = if b.kind == Kind::Integer {
                // A lower bound from a constant, or from variables drawn before this one
                // (`for t >= 0, s >= t + 6`).
                let mut bound = |e: &Expr, env: &HashMap<String, Value<N>>| match m.eval(e, env) {
                    Ok(Value::S(v)) => Some(v.to_f64()),
                    _ => constant(e).map(|c| c.to_f64()),
                };
                let lower = conditions
                    .iter()
                    .filter_map(|f| match (&f.lhs.kind, &f.rhs.kind, f.rel) {
                        (ExprKind::Name(n), _, Rel::Ge) if *n == b.var => bound(&f.rhs, env).map(|c| c.ceil()),
                        (ExprKind::Name(n), _, Rel::Gt) if *n == b.var => bound(&f.rhs, env).map(|c| c.floor() + 1.0),
                        (_, ExprKind::Name(n), Rel::Le) if *n == b.var => bound(&f.lhs, env).map(|c| c.ceil()),
                        (_, ExprKind::Name(n), Rel::Lt) if *n == b.var => bound(&f.lhs, env).map(|c| c.floor() + 1.0),
                        _ => None,
                    })
                    .filter(|c| c.is_finite() && c.abs() < 1e12)
                    .reduce(f64::max)
                    .unwrap_or(0.0) as i64;
                // Mostly close to the bound, but far above it too: a definition that changes at
                // t = 6 must be seen.
                let offset = match rand::RngExt::random_range(&mut m.rng, 0..20) {
                    // The bound itself, where off-by-one mistakes show.
                    0..=4 => 0,
                    5..=11 => rand::RngExt::random_range(&mut m.rng, 1..=5i64),
                    12..=17 => rand::RngExt::random_range(&mut m.rng, 6..=30i64),
                    _ => rand::RngExt::random_range(&mut m.rng, 31..=60i64),
                };
                int(lower + offset)
            } else {
                Value::S(N::from_rational(&m.any_number()))
            };
            env.insert(b.var.clone(), v);
        }
        let mut ok = true;
        for c in conditions {
            if !m.holds(c, env)? {
                ok = false;
                break;
            }
        }
        if ok {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What the points are asked: `lhs REL rhs` for the claim's variables drawn under its
/// conditions, some of them fixed (the base case of an induction), at `samples` points.
pub struct Question<'a> {
    pub lhs: &'a Expr,
    pub rel: Rel,
    pub rhs: &'a Expr,
    pub binders: &'a [Binder],
    pub conditions: &'a [Fact],
    pub fixed: &'a HashMap<String, BigRational>,
    pub samples: usize,
    pub seed: u64,
}

/// Checks the question at random points of models of `spec`.
pub fn check<N: Number>(spec: &ModelSpec, q: &Question) -> Outcome {
    let (samples, seed) = (q.samples, q.seed);
    if let Some(reason) = &spec.unusable {
        return Outcome::NotApplicable(reason.clone());
    }
    #[cfg(test)]
    if WEAKENED.get() {
        // A deliberately broken exact layer, to show the symbolic layer alone.
        return Outcome::Holds { samples, rounding: false };
    }
    let mut m: Model<N> = Model::new(spec, seed);
    let (mut done, mut attempts) = (0, 0);
    let mut invalid: Option<String> = None;
    let mut rounding = false;
    while done < samples {
        attempts += 1;
        if attempts > samples * REDRAWS {
            // A statement undefined wherever we look says nothing: that is not shown, not n/a.
            return match (done, invalid) {
                (0, Some(why)) => Outcome::NotApplicable(format!("no point drawn is a model of the file: {why}")),
                (0, None) => Outcome::Undefined(format!("a side is undefined at every one of the {attempts} random points drawn")),
                _ => Outcome::NotApplicable(format!("both sides are defined at only {done} of {attempts} random points")),
            };
        }
        // Every named dimension takes two sizes, point by point.
        m.size_bump = attempts % 2;
        let start = m.rng.clone();
        let mut outcome = point(&mut m, q);
        // A double-precision disagreement is rechecked at the very same point in 320-bit
        // floats: rounding is not a refutation.
        if let (Ok(Some(cx)), true) = (&outcome, N::RECHECKED) {
            let mut wide: Model<Wide> = Model::new(spec, 0);
            wide.rng = start;
            wide.size_bump = m.size_bump;
            outcome = match point(&mut wide, q) {
                Ok(None) => {
                    rounding = true;
                    Ok(None)
                }
                Ok(Some(precise)) => Ok(Some(precise)),
                Err(e) => return Outcome::Unconfirmed { cx: cx.clone(), why: super::stop_text(e) },
            };
        }
        match outcome {
            Ok(None) => done += 1,
            Ok(Some(cx)) => return Outcome::Refuted { cx, oracle: m.used_oracle },
            Err(Stop::Undefined) => continue,
            Err(Stop::Invalid(why)) => {
                invalid = Some(why);
                continue;
            }
            Err(Stop::NotApplicable(reason)) => return Outcome::NotApplicable(reason),
            // With every shape declared, sizes that do not fit are an error of the derivation.
            Err(Stop::Shapes(what)) if !m.guessed_shapes => {
                let values = m.shown();
                return Outcome::Refuted { cx: Counterexample { values, lhs: format!("undefined: {what}"), rhs: "—".into() }, oracle: false };
            }
            Err(Stop::Shapes(what)) => {
                return Outcome::NotApplicable(format!("{what}, with sizes guessed for names declared without a shape"));
            }
        }
    }
    Outcome::Holds { samples: done, rounding }
}

/// One point, drawn from the model's stream: the sides compared there, with the values a
/// counterexample shows when they differ.
fn point<N: Number>(m: &mut Model<N>, q: &Question) -> Result<Option<Counterexample>, Stop> {
    let Question { lhs, rel, rhs, binders, conditions, fixed: given, .. } = *q;
    m.draw_assumptions()?;
    let mut env: HashMap<String, Value<N>> = given.iter().map(|(k, v)| (k.clone(), Value::S(N::from_rational(v)))).collect();
    let free: Vec<Binder> = binders.iter().filter(|b| !given.contains_key(&b.var)).cloned().collect();
    if !draw_binders(m, &free, conditions, &mut env)? {
        return Err(Stop::NotApplicable("no values of the variables satisfy the `for` conditions".into()));
    }
    m.clear_shown();
    let (a, b) = (m.eval(lhs, &env)?, m.eval(rhs, &env)?);
    // An overflow to infinity or a NaN is no value at all, not a counterexample.
    if !a.finite() || !b.finite() {
        return Err(Stop::Undefined);
    }
    let holds = if m.approximate && rel == Rel::Eq { a.close(&b, QUADRATURE) } else { compare(&a, rel, &b)? };
    if holds {
        return Ok(None);
    }
    let mut values: Vec<(String, String)> = binders.iter().filter_map(|b| env.get(&b.var).map(|v| (b.var.clone(), v.to_string()))).collect();
    values.extend(m.shown());
    Ok(Some(Counterexample { values, lhs: a.to_string(), rhs: b.to_string() }))
}

/// How closely two values from quadrature must agree.
const QUADRATURE: f64 = 1e-8;

/// The exact layer's verdict on the question; where it cannot apply (transcendental
/// functions), the float layer checks the same statement in double precision instead. A
/// refutation is only reported where it is one: an exact refutation that rests on the random
/// positive function standing in for `exp` is confirmed with `exp` itself, and a
/// double-precision one is rechecked in 320-bit floats, so rounding is never a refutation.
pub fn layer(spec: &ModelSpec, q: &Question) -> LayerResult {
    let binders: Vec<Binder> = q.binders.iter().filter(|b| !q.fixed.contains_key(&b.var)).cloned().collect();
    let q = Question { binders: &binders, ..*q };
    let seed = q.seed;
    let refuted = |layer, detail: String, cx| LayerResult { counterexample: Some(cx), ..LayerResult::new(layer, Verdict::Refuted, detail) };
    match check::<BigRational>(spec, &q) {
        Outcome::Holds { samples, .. } => {
            LayerResult::new(Layer::Exact, Verdict::Holds, format!("at {samples} random rational points (seed {seed})"))
        }
        Outcome::Refuted { cx, oracle: false } => refuted(Layer::Exact, format!("fails at a random rational point (seed {seed})"), cx),
        Outcome::Refuted { oracle: true, .. } => {
            float(spec, &q, "the exact models fail it with a random positive function in place of `exp`, so `exp` itself decides".into())
        }
        Outcome::NotApplicable(reason) => float(spec, &q, reason),
        Outcome::Undefined(why) => LayerResult::new(Layer::Exact, Verdict::NotShown, why),
        Outcome::Unconfirmed { why, .. } => LayerResult::new(Layer::Exact, Verdict::NotApplicable, why),
    }
}

/// The float layer, where exact arithmetic does not apply (`reason`).
fn float(spec: &ModelSpec, q: &Question, reason: String) -> LayerResult {
    let seed = q.seed;
    match check::<f64>(spec, q) {
        Outcome::Holds { samples, rounding } => {
            let recheck = if rounding { "; where double precision disagreed by rounding, 320-bit floats agree" } else { "" };
            LayerResult::new(
                Layer::Float,
                Verdict::Holds,
                format!("exact does not apply ({reason}); in double precision both sides agree at {samples} random points{recheck} (seed {seed})"),
            )
        }
        Outcome::Refuted { cx, .. } => LayerResult {
            counterexample: Some(cx),
            ..LayerResult::new(
                Layer::Float,
                Verdict::Refuted,
                format!(
                    "exact does not apply ({reason}); the sides differ at a random point, in double precision and again in 320-bit floats (seed {seed})"
                ),
            )
        },
        // The precise recheck cannot evaluate it: the mismatch stands unconfirmed.
        Outcome::Unconfirmed { cx, why } => LayerResult {
            counterexample: Some(cx),
            ..LayerResult::new(
                Layer::Float,
                Verdict::NotShown,
                format!(
                    "exact does not apply ({reason}); the sides differ in double precision, but the 320-bit recheck could not evaluate them ({why})"
                ),
            )
        },
        Outcome::NotApplicable(_) => LayerResult::new(Layer::Exact, Verdict::NotApplicable, reason),
        Outcome::Undefined(why) => LayerResult::new(Layer::Float, Verdict::NotShown, why),
    }
}
