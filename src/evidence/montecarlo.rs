//! The Monte Carlo layer: simulates the file's own definitions with the declared
//! distributions, estimates each side's expectation at every point of a range, and compares
//! them with a z-test at a stated level, Bonferroni-corrected over the points.

use std::collections::HashMap;

use crate::language::ast::{BigOp, BinOp, Expr, ExprKind, MonteCarloSetup, Rel, Relation};
use crate::model::{Definition, Model, ModelSpec, Stop, Value, int};
use crate::verdict::{Counterexample, Curve, Layer, LayerResult, Plot, Table, Verdict};

/// The per-check level: what 4 standard errors leave out, two-sided.
pub const LEVEL_SIGMAS: f64 = 4.0;

/// `erfc(x)`, fractional error below 1.2e-7 (Numerical Recipes' Chebyshev fit).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The two-sided tail probability of a standard normal beyond `z`.
fn two_sided_tail(z: f64) -> f64 {
    erfc(z / std::f64::consts::SQRT_2)
}

/// The `z` whose two-sided tail is `p`, by bisection.
pub fn z_for_tail(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if two_sided_tail(mid) > p { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// The threshold for `points` simultaneous comparisons at the 4-sigma family level.
pub fn bonferroni_z(points: usize) -> f64 {
    z_for_tail(two_sided_tail(LEVEL_SIGMAS) / points.max(1) as f64)
}

/// Running mean and variance (Welford).
#[derive(Default, Clone, Copy)]
pub struct Moments {
    pub n: f64,
    pub mean: f64,
    m2: f64,
}

impl Moments {
    pub fn push(&mut self, x: f64) {
        self.n += 1.0;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }

    pub fn variance(&self) -> f64 {
        if self.n > 1.0 { self.m2 / (self.n - 1.0) } else { f64::NAN }
    }

    pub fn standard_error(&self) -> f64 {
        (self.variance() / self.n).sqrt()
    }
}

fn scalar(v: Value<f64>) -> Result<f64, Stop> {
    match v {
        Value::S(x) => Ok(x),
        _ => Err(Stop::NotApplicable("a Monte Carlo side is not a scalar".into())),
    }
}

/// Runs the check; the relation's sides are random variables once `E[…]` is read as one draw.
pub fn check(spec: &ModelSpec, relation: &Relation, setup: &MonteCarloSetup, seed: u64) -> LayerResult {
    let fail = |detail: String| LayerResult::new(Layer::MonteCarlo, Verdict::NotApplicable, detail);
    // One draw per path estimates E[X] + c·E[Y] without bias, but not E[X]·E[Y].
    if !linear_in_expectations(&relation.lhs) || !linear_in_expectations(&relation.rhs) {
        return fail(
            "an expectation appears inside a product or a function: one draw per sample path cannot estimate it; check each expectation on its own"
                .into(),
        );
    }
    let mut spec = spec.clone();
    for (name, mean, sd) in &setup.draws {
        spec.distributions.insert(name.clone(), (mean.clone(), sd.clone()));
    }
    // Values fixed by the check come first, so they win over any other definition.
    let fixed: Vec<Definition> = setup
        .values
        .iter()
        .map(|(name, value)| Definition {
            name: format!("{name} (check)"),
            lhs: Expr::name(name, value.span),
            rhs: value.clone(),
            vars: vec![],
            conditions: vec![],
        })
        .collect();
    spec.definitions = fixed.into_iter().chain(spec.definitions).collect();
    spec.unusable = None;
    let points: Vec<Option<i64>> = match &setup.range {
        Some((_, a, b)) => (*a..=*b).map(Some).collect(),
        None => vec![None],
    };
    let var = setup.range.as_ref().map(|(v, ..)| v.clone());
    let mut left = vec![Moments::default(); points.len()];
    let mut right = vec![Moments::default(); points.len()];
    let mut diff = vec![Moments::default(); points.len()];
    let mut model: Model<f64> = Model::new(&spec, seed);
    model.sampling = true;
    model.outcomes = 1;
    for _ in 0..setup.samples {
        model.reset();
        for (k, point) in points.iter().enumerate() {
            let env: HashMap<String, Value<f64>> = match (&var, point) {
                (Some(v), Some(t)) => HashMap::from([(v.clone(), int(*t))]),
                _ => HashMap::new(),
            };
            let sides = model.eval(&relation.lhs, &env).and_then(scalar).and_then(|a| Ok((a, scalar(model.eval(&relation.rhs, &env)?)?)));
            match sides {
                Ok((a, b)) => {
                    left[k].push(a);
                    right[k].push(b);
                    diff[k].push(a - b);
                }
                Err(Stop::NotApplicable(reason)) => return fail(reason),
                Err(Stop::Undefined) => return fail("a side is undefined (division by zero) on a sample path".into()),
                Err(Stop::Shapes(what)) => return fail(format!("the shapes do not fit: {what}")),
                Err(Stop::Invalid(why)) => return fail(format!("a sample path is not a model of the file: {why}")),
            }
        }
    }
    let z_star = bonferroni_z(points.len());
    let mut rows = Vec::new();
    let mut worst: Option<(usize, f64)> = None;
    for k in 0..points.len() {
        let se = diff[k].standard_error();
        let z = if se > 0.0 {
            diff[k].mean / se
        } else if diff[k].mean == 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
        let badness = |z: f64| match relation.rel {
            Rel::Eq => z.abs(),
            Rel::Le | Rel::Lt => z,
            Rel::Ge | Rel::Gt => -z,
            Rel::Ne => -z.abs(),
        };
        if worst.is_none_or(|(_, w)| badness(z) > badness(w)) {
            worst = Some((k, z));
        }
        let label = points[k].map_or(String::new(), |t| t.to_string());
        rows.push(vec![
            label,
            format!("{:.5}", left[k].mean),
            format!("{:.5}", z_star * left[k].standard_error()),
            format!("{:.5}", right[k].mean),
            format!("{:.2}", z),
        ]);
    }
    let (k, z) = worst.unwrap_or((0, 0.0));
    let at = match (&var, points[k]) {
        (Some(v), Some(t)) => format!(" at {v} = {t}"),
        _ => String::new(),
    };
    // `=` is a two-sided test; `<=` and `>=` fail only when the estimate is significantly on
    // the wrong side (strict relations are tested like their non-strict forms).
    let holds = match relation.rel {
        Rel::Eq => z.abs() <= z_star,
        Rel::Le | Rel::Lt => z <= z_star,
        Rel::Ge | Rel::Gt => z >= -z_star,
        Rel::Ne => z.abs() > z_star,
    };
    let detail = format!(
        "{} samples (seed {seed}); the largest deviation is {:.2} standard errors{at}, {} the threshold {:.2} (4σ family level, Bonferroni over {} point(s))",
        setup.samples,
        z.abs(),
        if holds { "within" } else { "beyond" },
        z_star,
        points.len()
    );
    let columns = vec![
        var.clone().unwrap_or_else(|| "point".into()),
        "estimate (left)".into(),
        "± (threshold × s.e.)".into(),
        "claimed (right)".into(),
        "z".into(),
    ];
    let plot = var.as_ref().map(|v| {
        let xs: Vec<f64> = points.iter().map(|p| p.unwrap_or(0) as f64).collect();
        Plot {
            title: "Monte Carlo estimate against the claimed value".into(),
            x_label: v.clone(),
            y_label: "value".into(),
            log_x: false,
            log_y: false,
            curves: vec![
                Curve {
                    label: "estimate (left side)".into(),
                    points: xs.iter().zip(&left).map(|(x, m)| (*x, m.mean)).collect(),
                    intervals: Some(left.iter().map(|m| (m.mean - z_star * m.standard_error(), m.mean + z_star * m.standard_error())).collect()),
                },
                Curve { label: "claimed (right side)".into(), points: xs.iter().zip(&right).map(|(x, m)| (*x, m.mean)).collect(), intervals: None },
            ],
        }
    });
    let counterexample = (!holds).then(|| Counterexample {
        values: points[k].map(|t| vec![(var.clone().unwrap_or_default(), t.to_string())]).unwrap_or_default(),
        lhs: format!("{:.6} ± {:.6}", left[k].mean, z_star * left[k].standard_error()),
        rhs: format!("{:.6}", right[k].mean),
    });
    LayerResult {
        counterexample,
        table: Some(Table { columns, rows }),
        plot,
        ..LayerResult::new(Layer::MonteCarlo, if holds { Verdict::Holds } else { Verdict::Refuted }, detail)
    }
}

fn has_expectation(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Expect { .. }) || e.children().into_iter().any(has_expectation)
}

/// Whether every `E[…]` of `e` enters it linearly: through sums, differences, negation and
/// products or quotients with expectation-free factors.
fn linear_in_expectations(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Expect { .. } => true,
        ExprKind::Bin(BinOp::Add | BinOp::Sub, a, b) => linear_in_expectations(a) && linear_in_expectations(b),
        ExprKind::Neg(a) => linear_in_expectations(a),
        ExprKind::Bin(BinOp::Mul, a, b) => match (has_expectation(a), has_expectation(b)) {
            (true, true) => false,
            (true, false) => linear_in_expectations(a),
            (false, true) => linear_in_expectations(b),
            (false, false) => true,
        },
        ExprKind::Bin(BinOp::Div, a, b) => !has_expectation(b) && linear_in_expectations(a),
        ExprKind::BigOp { op: BigOp::Sum, lo, hi, body, .. } => !has_expectation(lo) && !has_expectation(hi) && linear_in_expectations(body),
        _ => !has_expectation(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_match_the_normal_table() {
        assert!((z_for_tail(0.05) - 1.95996).abs() < 1e-3);
        assert!((bonferroni_z(1) - 4.0).abs() < 1e-3);
        assert!(bonferroni_z(30) > 4.5 && bonferroni_z(30) < 5.0);
    }
}
