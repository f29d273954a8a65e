//! Trajectories: two sequences run side by side from random inputs, exactly or in double
//! precision, with a control run whose coefficient is deliberately wrong to show the check
//! can fail.

use std::collections::HashMap;

use num_rational::BigRational;

use super::stop_text;
use crate::language::ast::Rel;
use crate::language::ast::{Expr, Kind, Relation};
use crate::model::{Model, ModelSpec, Number, Value, Wide, compare, int};
use crate::verdict::{Counterexample, Curve, Layer, LayerResult, Plot, Table, Verdict};

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
pub fn run<N: Number>(
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

/// The factor by which the control run scales the perturbed `given`: a wrong coefficient.
const CONTROL_FACTOR: (i64, i64) = (8, 7);
const TRAJECTORY_RUNS: usize = 5;

#[allow(clippy::too_many_arguments)]
pub fn layer(model: &ModelSpec, relation: &Relation, var: &str, from: i64, to: i64, control: Option<&str>, float: bool, seed: u64) -> LayerResult {
    let mut kinds = model.kinds.clone();
    kinds.0.insert(var.to_string(), Kind::Integer);
    let model = ModelSpec { kinds, ..model.clone() };
    let layer = |verdict, detail: String, counterexample| LayerResult { counterexample, ..LayerResult::new(Layer::Trajectory, verdict, detail) };
    let arithmetic = if float { "in double precision (to a relative 1e-10; a mismatch rechecked in 320-bit floats)" } else { "exactly" };
    let simulate = |runs, perturb: Option<(&str, BigRational)>| {
        if !float {
            return run::<BigRational>(&model, &relation.lhs, &relation.rhs, var, from, to, runs, perturb.clone(), seed);
        }
        let double = run::<f64>(&model, &relation.lhs, &relation.rhs, var, from, to, runs, perturb.clone(), seed)?;
        // A double-precision mismatch may be rounding: the same runs in 320-bit floats decide.
        if double.mismatch.is_some() { run::<Wide>(&model, &relation.lhs, &relation.rhs, var, from, to, runs, perturb, seed) } else { Ok(double) }
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
        table: Some(Table { columns: vec![var.to_string(), format!("left side{norm}"), format!("right side{norm}")], rows }),
        plot: Some(Plot {
            title: format!("Both sides along the trajectory{norm}"),
            x_label: var.to_string(),
            y_label: "value".into(),
            log_x: false,
            log_y: false,
            curves,
        }),
        ..LayerResult::new(Layer::Trajectory, verdict, detail)
    }
}
