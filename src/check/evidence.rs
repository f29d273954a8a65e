//! Evidence about a claim beyond its proof: exact or float trajectories of two sequences
//! (with a control run that must differ), unrolling at concrete indices, and operation
//! counts of two evaluation orders. Each returns one `LayerResult`, with a table and a plot
//! where the numbers say more than a sentence.

use std::collections::HashMap;

use num_rational::BigRational;

use super::model::ModelSpec;
use super::symbolic::{self, Kinds};
use super::{Counterexample, Curve, Knowledge, Layer, LayerResult, Plot, Table, Verdict, exact, layer_result};
use crate::language::ast::{Expr, Kind, Relation, Rule};

/// Expands both sides of the claim from the definitions at each concrete index and compares.
pub(super) fn unroll_layer(rule: &Rule, known: &Knowledge, kinds: &Kinds, var: &str, from: i64, to: i64) -> LayerResult {
    let definitions = &known.model.definitions;
    for t in from..=to {
        let at = HashMap::from([(var.to_string(), Expr::int(t, rule.span))]);
        let (lhs, rhs) = (rule.relation.lhs.substitute(&at), rule.relation.rhs.substitute(&at));
        match symbolic::equal_after_expansion(&lhs, &rhs, definitions, kinds) {
            Err(e) => return layer_result(Layer::Unroll, Verdict::NotApplicable, e),
            Ok((true, _)) => {}
            Ok((false, residual)) => {
                let mut r = layer_result(Layer::Unroll, Verdict::Refuted, format!("at {var} = {t} the expanded sides differ by {residual}"));
                r.counterexample = Some(Counterexample {
                    values: vec![(var.to_string(), t.to_string())],
                    lhs: "expanded left side".into(),
                    rhs: format!("expanded right side; left − right = {residual}"),
                });
                return r;
            }
        }
    }
    layer_result(Layer::Unroll, Verdict::Holds, format!("for every {var} in {from}..{to}, both sides expanded from the definitions are identical"))
}

/// Multiply-adds of evaluating each side as written, at doubling sizes of one dimension.
pub(super) fn cost_layer(model: &ModelSpec, relation: &Relation, var: &str, from: i64, to: i64) -> LayerResult {
    let mut rows = Vec::new();
    let mut points: Vec<(f64, u64, u64)> = Vec::new();
    let mut size = from.max(1);
    while size <= to {
        let mut spec = model.clone();
        spec.sizes.insert(var.to_string(), size as usize);
        let count = |e: &Expr| exact::multiply_adds(&spec, e);
        match (count(&relation.lhs), count(&relation.rhs)) {
            (Ok(a), Ok(b)) => {
                rows.push(vec![size.to_string(), a.to_string(), b.to_string()]);
                points.push((size as f64, a, b));
            }
            (Err(e), _) | (_, Err(e)) => return layer_result(Layer::Cost, Verdict::NotApplicable, e),
        }
        size *= 2;
    }
    if points.len() < 2 {
        return layer_result(Layer::Cost, Verdict::NotApplicable, format!("the range of {var} needs two sizes at least (it doubles)"));
    }
    let slope = |pick: fn(&(f64, u64, u64)) -> u64| {
        let (p, q) = (&points[points.len() - 2], &points[points.len() - 1]);
        ((pick(q) as f64).ln() - (pick(p) as f64).ln()) / (q.0.ln() - p.0.ln())
    };
    let (left, right) = (slope(|p| p.1), slope(|p| p.2));
    let mut sizes: Vec<String> = model.sizes.iter().filter(|(k, _)| *k != var).map(|(k, v)| format!("{k} = {v}")).collect();
    sizes.sort();
    let detail = format!(
        "multiply-adds of the matrix products as written, counted exactly; {} fixed: the left side grows like {var}^{left:.2}, the right side like {var}^{right:.2}",
        sizes.join(", ")
    );
    let mut result = layer_result(Layer::Cost, Verdict::Holds, detail);
    result.table = Some(Table { columns: vec![var.to_string(), "left side".into(), "right side".into()], rows });
    result.plot = Some(Plot {
        title: "Multiply-adds of the two evaluation orders".into(),
        x_label: var.to_string(),
        y_label: "multiply-adds".into(),
        log_x: true,
        log_y: true,
        curves: vec![
            Curve { label: "left side".into(), points: points.iter().map(|p| (p.0, p.1 as f64)).collect(), intervals: None },
            Curve { label: "right side".into(), points: points.iter().map(|p| (p.0, p.2 as f64)).collect(), intervals: None },
        ],
    });
    result
}

/// The factor by which the control run scales the perturbed `given`: a wrong coefficient.
const CONTROL_FACTOR: (i64, i64) = (8, 7);
const TRAJECTORY_RUNS: usize = 5;

#[allow(clippy::too_many_arguments)]
pub(super) fn trajectory_layer(
    model: &ModelSpec,
    relation: &Relation,
    var: &str,
    from: i64,
    to: i64,
    control: Option<&str>,
    float: bool,
    seed: u64,
) -> LayerResult {
    let mut kinds = model.kinds.clone();
    kinds.0.insert(var.to_string(), Kind::Integer);
    let model = ModelSpec { kinds, ..model.clone() };
    let layer =
        |verdict, detail: String, counterexample| LayerResult { layer: Layer::Trajectory, verdict, detail, counterexample, table: None, plot: None };
    let arithmetic = if float { "in double precision (agreement to 1e-9)" } else { "exactly" };
    let simulate = |runs, perturb: Option<(&str, BigRational)>| {
        if float {
            exact::trajectory::<f64>(&model, &relation.lhs, &relation.rhs, var, from, to, runs, perturb, seed)
        } else {
            exact::trajectory::<BigRational>(&model, &relation.lhs, &relation.rhs, var, from, to, runs, perturb, seed)
        }
    };
    let run = match simulate(TRAJECTORY_RUNS, None) {
        Err(reason) => return layer(Verdict::NotApplicable, reason, None),
        Ok(r) => r,
    };
    if let Some((r, t, a, b)) = &run.mismatch {
        let cx = Counterexample { values: vec![("run".into(), r.to_string()), (var.to_string(), t.to_string())], lhs: a.clone(), rhs: b.clone() };
        return layer(Verdict::Refuted, format!("the two sides differ at {var} = {t} in run {r} (seed {seed})"), Some(cx));
    }
    let mut detail = format!("both sides coincide {arithmetic} at every {var} in {from}..{to} in {} runs on random inputs (seed {seed})", run.runs);
    let mut verdict = Verdict::Holds;
    let mut curves = vec![
        Curve { label: "left side (run 1)".into(), points: run.first_run.iter().map(|(t, a, _)| (*t as f64, *a)).collect(), intervals: None },
        Curve { label: "right side (run 1)".into(), points: run.first_run.iter().map(|(t, _, b)| (*t as f64, *b)).collect(), intervals: None },
    ];
    if let Some(given) = control {
        let factor = BigRational::new(CONTROL_FACTOR.0.into(), CONTROL_FACTOR.1.into());
        let scaled = format!("`{given}` scaled by {}/{}", CONTROL_FACTOR.0, CONTROL_FACTOR.1);
        match simulate(1, Some((given, factor))) {
            Err(reason) => return layer(Verdict::NotApplicable, format!("control run: {reason}"), None),
            Ok(control_run) => match control_run.mismatch {
                Some((_, t, _, _)) => {
                    detail.push_str(&format!("; control: with {scaled} they differ from {var} = {t} on"));
                    curves.push(Curve {
                        label: format!("left side, control ({given} wrong)"),
                        points: control_run.first_run.iter().map(|(t, a, _)| (*t as f64, *a)).collect(),
                        intervals: None,
                    });
                }
                None => {
                    verdict = Verdict::NotShown;
                    detail.push_str(&format!("; but the control run with {scaled} does not differ either, so this check cannot tell"));
                }
            },
        }
    }
    // The first run, step by step (at most 25 rows, evenly spread), and its picture.
    let stride = run.first_run.len().div_ceil(25).max(1);
    let rows = run.first_run.iter().step_by(stride).map(|(t, a, b)| vec![t.to_string(), format!("{a:.6}"), format!("{b:.6}")]).collect();
    let norm = if model.kinds.of(&relation.lhs) == Kind::Scalar { "" } else { " (Euclidean norm)" };
    LayerResult {
        layer: Layer::Trajectory,
        verdict,
        detail,
        counterexample: None,
        table: Some(Table { columns: vec![var.to_string(), format!("left side{norm}"), format!("right side{norm}")], rows }),
        plot: Some(Plot {
            title: format!("Both sides along the trajectory{norm}"),
            x_label: var.to_string(),
            y_label: "value".into(),
            log_x: false,
            log_y: false,
            curves,
        }),
    }
}
