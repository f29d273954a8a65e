//! The exact layer: statements evaluated at random rational points of a model of the file
//! (see `model`), independently of the engine; and exact trajectories of two sequences.

use std::collections::HashMap;

use num_rational::BigRational;

use super::model::{Model, ModelSpec, Number, Stop, Value, compare, constant, int};
use crate::language::ast::{Binder, Expr, ExprKind, Fact, Kind, Rel};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Counterexample {
    /// The claim's variables, then the free values the two sides used, in order.
    pub values: Vec<(String, String)>,
    pub lhs: String,
    pub rhs: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Holds { samples: usize },
    Refuted(Counterexample),
    NotApplicable(String),
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

/// Checks `lhs REL rhs` at `samples` random points, the claim's variables drawn under its
/// conditions (`given` fixes some of them, e.g. the base case of an induction).
#[allow(clippy::too_many_arguments)]
pub fn check<N: Number>(
    spec: &ModelSpec,
    lhs: &Expr,
    rel: Rel,
    rhs: &Expr,
    binders: &[Binder],
    conditions: &[Fact],
    given: &HashMap<String, BigRational>,
    samples: usize,
    seed: u64,
) -> Verdict {
    if let Some(reason) = &spec.unusable {
        return Verdict::NotApplicable(reason.clone());
    }
    #[cfg(test)]
    if WEAKENED.get() {
        // A deliberately broken exact layer, to show the symbolic layer alone.
        return Verdict::Holds { samples };
    }
    let mut m: Model<N> = Model::new(spec, seed);
    let (mut done, mut attempts) = (0, 0);
    while done < samples {
        attempts += 1;
        if attempts > samples * REDRAWS {
            return Verdict::NotApplicable(format!("both sides are defined at only {done} of {attempts} random points"));
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
            Ok(Some(cx)) => return Verdict::Refuted(cx),
            Err(Stop::Undefined) => continue,
            Err(Stop::NotApplicable(reason)) => return Verdict::NotApplicable(reason),
            // With every shape declared, sizes that do not fit are an error of the derivation.
            Err(Stop::Shapes(what)) if !m.guessed_shapes => {
                let values = m.touched.iter().map(|(label, v)| (label.clone(), v.to_string())).collect();
                return Verdict::Refuted(Counterexample { values, lhs: format!("undefined: {what}"), rhs: "—".into() });
            }
            Err(Stop::Shapes(what)) => {
                return Verdict::NotApplicable(format!("{what}, with sizes guessed for names declared without a shape"));
            }
        }
    }
    Verdict::Holds { samples: done }
}

/// Two sequences run side by side for steps `from..=to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    pub runs: usize,
    /// First step where they differ: (run, step, lhs, rhs).
    pub mismatch: Option<(usize, i64, String, String)>,
    /// Both sides at every step of the first run, as floats, for the report.
    pub first_run: Vec<(i64, f64, f64)>,
}

/// Evaluates `lhs` and `rhs` at every step of the range, in `runs` independent models.
#[allow(clippy::too_many_arguments)]
pub fn trajectory<N: Number>(
    spec: &ModelSpec,
    lhs: &Expr,
    rhs: &Expr,
    var: &str,
    from: i64,
    to: i64,
    runs: usize,
    perturb: Option<(&str, BigRational)>,
    seed: u64,
) -> Result<Trajectory, String> {
    if let Some(reason) = &spec.unusable {
        return Err(reason.clone());
    }
    let mut m: Model<N> = Model::new(spec, seed);
    if let Some((name, factor)) = perturb {
        m.perturb(name, factor);
    }
    let mut out = Trajectory { runs, mismatch: None, first_run: Vec::new() };
    let scalar = |v: &Value<N>| match v {
        Value::S(x) => x.to_f64(),
        Value::M(x) => x.iter().map(|e| e.to_f64()).fold(0.0, |a, b| a + b * b).sqrt(),
        _ => f64::NAN,
    };
    for run in 0..runs {
        m.draw_assumptions().map_err(stop_text)?;
        for t in from..=to {
            let env = HashMap::from([(var.to_string(), int(t))]);
            let a = m.eval(lhs, &env).map_err(stop_text)?;
            let b = m.eval(rhs, &env).map_err(stop_text)?;
            if run == 0 {
                out.first_run.push((t, scalar(&a), scalar(&b)));
            }
            if !compare(&a, Rel::Eq, &b).map_err(stop_text)? && out.mismatch.is_none() {
                out.mismatch = Some((run, t, a.to_string(), b.to_string()));
            }
        }
    }
    Ok(out)
}

pub fn stop_text(s: Stop) -> String {
    match s {
        Stop::Undefined => "a value is undefined (division by zero) on this trajectory".into(),
        Stop::NotApplicable(r) => r,
        Stop::Shapes(what) => format!("the shapes do not fit: {what}"),
    }
}

/// Multiply-adds of the matrix products in evaluating `e` once, as written.
pub fn multiply_adds(spec: &ModelSpec, e: &Expr) -> Result<u64, String> {
    let mut m: Model<f64> = Model::new(spec, 0);
    m.multiply_adds = Some(0);
    m.draw_assumptions().map_err(stop_text)?;
    m.eval(e, &HashMap::new()).map_err(stop_text)?;
    Ok(m.multiply_adds.unwrap_or(0))
}
