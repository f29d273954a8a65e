//! The exact layer: a relation evaluated at random rational points of a model of the file
//! (see `model`), independently of the engine; where exact arithmetic cannot apply, the
//! float layer evaluates the same points in double precision.

use std::collections::HashMap;

use num_rational::BigRational;

use crate::language::ast::{Binder, Expr, ExprKind, Fact, Kind, Rel};
use crate::model::{Model, ModelSpec, Number, Stop, Value, compare, constant, int};
use crate::verdict::{Counterexample, Layer, LayerResult, Verdict};

/// What the points say.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Holds {
        samples: usize,
    },
    Refuted(Counterexample),
    NotApplicable(String),
    /// Undefined at every point drawn.
    Undefined(String),
}

#[cfg(test)]
thread_local! {
    pub(crate) static WEAKENED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// How many times a point is redrawn when a side is undefined there, per sample.
const REDRAWS: usize = 20;

/// Draws values of the claim's variables: integers from their lower bound up (a few steps),
/// scalars like free scalars, redrawing until every condition holds.
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
                int(lower + rand::RngExt::random_range(&mut m.rng, 0..=5i64))
            } else {
                let q: i64 = rand::RngExt::random_range(&mut m.rng, 1..=12);
                let p: i64 = rand::RngExt::random_range(&mut m.rng, -4 * q..=4 * q);
                Value::S(N::from_rational(&BigRational::new(p.into(), q.into())))
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
    let Question { lhs, rel, rhs, binders, conditions, fixed: given, samples, seed } = *q;
    if let Some(reason) = &spec.unusable {
        return Outcome::NotApplicable(reason.clone());
    }
    #[cfg(test)]
    if WEAKENED.get() {
        // A deliberately broken exact layer, to show the symbolic layer alone.
        return Outcome::Holds { samples };
    }
    let mut m: Model<N> = Model::new(spec, seed);
    let (mut done, mut attempts) = (0, 0);
    while done < samples {
        attempts += 1;
        if attempts > samples * REDRAWS {
            // A statement undefined wherever we look says nothing: that is not shown, not n/a.
            return if done == 0 {
                Outcome::Undefined(format!("a side is undefined at every one of the {attempts} random points drawn"))
            } else {
                Outcome::NotApplicable(format!("both sides are defined at only {done} of {attempts} random points"))
            };
        }
        let outcome = (|| -> Result<Option<Counterexample>, Stop> {
            m.draw_assumptions()?;
            let mut env: HashMap<String, Value<N>> = given.iter().map(|(k, v)| (k.clone(), Value::S(N::from_rational(v)))).collect();
            let free: Vec<Binder> = binders.iter().filter(|b| !given.contains_key(&b.var)).cloned().collect();
            if !draw_binders(&mut m, &free, conditions, &mut env)? {
                return Err(Stop::NotApplicable("no values of the variables satisfy the `for` conditions".into()));
            }
            m.touched.clear();
            let (a, b) = (m.eval(lhs, &env)?, m.eval(rhs, &env)?);
            if compare(&a, rel, &b)? {
                return Ok(None);
            }
            let mut values: Vec<(String, String)> = binders.iter().filter_map(|b| env.get(&b.var).map(|v| (b.var.clone(), v.to_string()))).collect();
            values.extend(m.touched.iter().map(|(label, v)| (label.clone(), v.to_string())));
            Ok(Some(Counterexample { values, lhs: a.to_string(), rhs: b.to_string() }))
        })();
        match outcome {
            Ok(None) => done += 1,
            Ok(Some(cx)) => return Outcome::Refuted(cx),
            Err(Stop::Undefined) => continue,
            Err(Stop::NotApplicable(reason)) => return Outcome::NotApplicable(reason),
            // With every shape declared, sizes that do not fit are an error of the derivation.
            Err(Stop::Shapes(what)) if !m.guessed_shapes => {
                let values = m.touched.iter().map(|(label, v)| (label.clone(), v.to_string())).collect();
                return Outcome::Refuted(Counterexample { values, lhs: format!("undefined: {what}"), rhs: "—".into() });
            }
            Err(Stop::Shapes(what)) => {
                return Outcome::NotApplicable(format!("{what}, with sizes guessed for names declared without a shape"));
            }
        }
    }
    Outcome::Holds { samples: done }
}

/// The exact layer's verdict on the question; where it cannot apply (transcendental
/// functions), the float layer checks the same statement in double precision instead.
pub fn layer(spec: &ModelSpec, q: &Question) -> LayerResult {
    let binders: Vec<Binder> = q.binders.iter().filter(|b| !q.fixed.contains_key(&b.var)).cloned().collect();
    let q = Question { binders: &binders, ..*q };
    let seed = q.seed;
    let with_counterexample = |layer, verdict, detail: String, cx| LayerResult { counterexample: cx, ..LayerResult::new(layer, verdict, detail) };
    match check::<BigRational>(spec, &q) {
        Outcome::Holds { samples } => LayerResult::new(Layer::Exact, Verdict::Holds, format!("at {samples} random rational points (seed {seed})")),
        Outcome::Refuted(cx) => {
            with_counterexample(Layer::Exact, Verdict::Refuted, format!("fails at a random rational point (seed {seed})"), Some(cx))
        }
        Outcome::NotApplicable(reason) => match check::<f64>(spec, &q) {
            Outcome::Holds { samples } => LayerResult::new(
                Layer::Float,
                Verdict::Holds,
                format!("exact does not apply ({reason}); in double precision both sides agree to 1e-9 at {samples} random points (seed {seed})"),
            ),
            Outcome::Refuted(cx) => with_counterexample(
                Layer::Float,
                Verdict::Refuted,
                format!("exact does not apply ({reason}); in double precision the sides differ at a random point (seed {seed})"),
                Some(cx),
            ),
            Outcome::NotApplicable(_) => LayerResult::new(Layer::Exact, Verdict::NotApplicable, reason),
            Outcome::Undefined(why) => LayerResult::new(Layer::Float, Verdict::NotShown, why),
        },
        Outcome::Undefined(why) => LayerResult::new(Layer::Exact, Verdict::NotShown, why),
    }
}
