//! Trajectories: two sequences run side by side from random inputs, exactly or in double
//! precision, with a control run whose coefficient is deliberately wrong to show the check
//! can fail.

use std::collections::HashMap;

use num_rational::BigRational;

use super::stop_text;
use crate::language::ast::{Expr, Fact, Kind, Rel, Relation};
use crate::model::{Model, ModelSpec, Number, Value, Wide, Wider, compare, constant, int};
use crate::verdict::{Counterexample, Curve, Layer, LayerResult, Plot, Table, Verdict};

/// Two sequences run side by side over the steps of a range.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    pub runs: usize,
    /// First step where they differ: (run, step, lhs, rhs).
    pub mismatch: Option<(usize, i64, String, String)>,
    /// Both sides at every step of the first run, as floats, for the report.
    pub first_run: Vec<(i64, f64, f64)>,
}

/// Both sides at every step of every run, with the binary exponent of the largest value the
/// run had computed by then (high-precision floats: their rounding scale).
type Steps<N> = Vec<Vec<(i64, Value<N>, Value<N>, Option<i32>)>>;

/// What one simulation runs: both sides at every step `ts` of `var`, in `runs` independent
/// models, one definition perhaps perturbed (the control run).
struct Runs<'a> {
    spec: &'a ModelSpec,
    lhs: &'a Expr,
    rel: Rel,
    rhs: &'a Expr,
    var: &'a str,
    ts: &'a [i64],
    runs: usize,
    perturb: Option<(&'a str, BigRational)>,
    seed: u64,
}

/// Evaluates both sides at every step, in every run.
fn evaluate<N: Number>(r: &Runs) -> Result<Steps<N>, String> {
    let Runs { spec, lhs, rhs, var, ts, runs, seed, .. } = *r;
    if let Some(reason) = &spec.unusable {
        return Err(reason.clone());
    }
    let mut m: Model<N> = Model::new(spec, seed);
    if let Some((name, factor)) = &r.perturb {
        m.perturb(name, factor.clone());
    }
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        m.draw_assumptions().map_err(stop_text)?;
        let mut steps = Vec::with_capacity(ts.len());
        for &t in ts {
            let env = HashMap::from([(var.to_string(), int(t))]);
            let (a, b) = (m.eval(lhs, &env).map_err(stop_text)?, m.eval(rhs, &env).map_err(stop_text)?);
            steps.push((t, a, b, m.largest));
        }
        out.push(steps);
    }
    Ok(out)
}

fn as_float<N: Number>(v: &Value<N>) -> f64 {
    match v {
        Value::S(x) => x.to_f64(),
        Value::M(x) => x.iter().map(|e| e.to_f64()).fold(0.0, |a, b| a + b * b).sqrt(),
        _ => f64::NAN,
    }
}

/// Runs both sides exactly: any step where the relation fails is a mismatch.
fn run_exact(r: &Runs) -> Result<Trajectory, String> {
    let steps = evaluate::<BigRational>(r)?;
    let mut mismatch = None;
    for (k, run) in steps.iter().enumerate() {
        if let Some((t, a, b, _)) = run.iter().find(|(_, a, b, _)| !compare(a, r.rel, b).unwrap_or(false)) {
            mismatch = Some((k, *t, a.to_string(), b.to_string()));
            break;
        }
    }
    Ok(Trajectory { runs: r.runs, mismatch, first_run: steps[0].iter().map(|(t, a, b, _)| (*t, as_float(a), as_float(b))).collect() })
}

/// Runs both sides in 320- and in 640-bit floats: a difference is one only where it stays the
/// same in both precisions (see `points::settle`); one that neither vanishes nor stays makes
/// the check undecidable.
fn run_float(r: &Runs) -> Result<Trajectory, String> {
    crate::model::take_doubt();
    let (low, high) = (evaluate::<Wide>(r)?, evaluate::<Wider>(r)?);
    // A decision within rounding on the way (`sign`, a piecewise condition) may have taken
    // the wrong branch in both precisions alike: it refutes nothing.
    let doubted = crate::model::take_doubt();
    let (var, rel) = (r.var, r.rel);
    // The sign of left − right that breaks the relation, once it stays in both precisions.
    let breaks = |s: i64| match rel {
        Rel::Le | Rel::Lt => s > 0,
        Rel::Ge | Rel::Gt => s < 0,
        _ => s != 0,
    };
    // Equal to 640 bits cannot be told from a difference below that for a strict order.
    let strict = matches!(rel, Rel::Lt | Rel::Gt);
    let mut mismatch = None;
    'runs: for (r, (lr, hr)) in low.iter().zip(&high).enumerate() {
        for ((t, la, lb, largest), (_, ha, hb, _)) in lr.iter().zip(hr) {
            // Vectors and matrices entry by entry; values of different kinds or shapes are
            // unequal, and in no order.
            let signs = match super::settled_signs((la, lb), (ha, hb), *largest, true) {
                Some(signs) => signs,
                None if rel == Rel::Eq => vec![Some(1)],
                None => return Err(format!("at {var} = {t} the sides are not values of one shape, so `{}` cannot compare them", rel.symbol())),
            };
            if signs.iter().any(|s| s.is_some_and(breaks)) {
                if doubted {
                    return Err(format!(
                        "at {var} = {t} the sides differ, but {} even in 640-bit floats, so the check cannot tell",
                        crate::model::DOUBT_REASON
                    ));
                }
                mismatch = Some((r, *t, ha.to_string(), hb.to_string()));
                break 'runs;
            }
            // Rounding-sized differences leave an order relation holding only when it is not strict.
            if signs.iter().any(|s| s.is_none() || (strict && *s == Some(0))) && !matches!(rel, Rel::Le | Rel::Ge) {
                return Err(format!(
                    "at {var} = {t} the sides differ by about their rounding error even in 640-bit floats, so the check cannot tell"
                ));
            }
        }
    }
    Ok(Trajectory { runs: r.runs, mismatch, first_run: high[0].iter().map(|(t, a, b, _)| (*t, as_float(a), as_float(b))).collect() })
}

/// The factor by which the control run scales the perturbed `given`: a wrong coefficient.
const CONTROL_FACTOR: (i64, i64) = (8, 7);
const TRAJECTORY_RUNS: usize = 5;

/// The trajectory check of a claim: its two sides at every step of the range where the
/// claim's `conditions` hold.
#[allow(clippy::too_many_arguments)]
pub fn layer(
    model: &ModelSpec,
    relation: &Relation,
    conditions: &[Fact],
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
    let layer = |verdict, detail: String, counterexample| LayerResult { counterexample, ..LayerResult::new(Layer::Trajectory, verdict, detail) };
    let ts = steps_where(conditions, var, from, to);
    if ts.is_empty() {
        return layer(Verdict::NotApplicable, format!("the claim's conditions hold at no {var} in {from}..{to}"), None);
    }
    let skipped = (to - from + 1) as usize - ts.len();
    let arithmetic = if float { "in 320- and 640-bit floats (a difference counts only where it stays the same in both)" } else { "exactly" };
    let simulate = |runs, perturb: Option<(&str, BigRational)>| {
        let r = Runs { spec: &model, lhs: &relation.lhs, rel: relation.rel, rhs: &relation.rhs, var, ts: &ts, runs, perturb, seed };
        if float { run_float(&r) } else { run_exact(&r) }
    };
    let run = match simulate(TRAJECTORY_RUNS, None) {
        Err(reason) => return layer(Verdict::NotApplicable, reason, None),
        Ok(r) => r,
    };
    if let Some((r, t, a, b)) = &run.mismatch {
        let cx = Counterexample { values: vec![("run".into(), r.to_string()), (var.to_string(), t.to_string())], lhs: a.clone(), rhs: b.clone() };
        let fails = if relation.rel == Rel::Eq { "the two sides differ".to_string() } else { format!("`{}` fails", relation.rel.symbol()) };
        return layer(Verdict::Refuted, format!("{fails} at {var} = {t} in run {r} (seed {seed})"), Some(cx));
    }
    let outside =
        if skipped > 0 { format!(" where the claim's conditions hold ({skipped} steps of the range are outside them)") } else { String::new() };
    let holds = if relation.rel == Rel::Eq { "both sides coincide".to_string() } else { format!("left {} right", relation.rel.symbol()) };
    let mut detail = format!("{holds} {arithmetic} at every {var} in {from}..{to}{outside} in {} runs on random inputs (seed {seed})", run.runs);
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
                    let points: Vec<(f64, f64)> = control_run.first_run.iter().map(|(t, a, _)| (*t as f64, *a)).collect();
                    let (points, clipped) = clip_to(&curves, points);
                    let note = if clipped { ", clipped to the real runs' range" } else { "" };
                    curves.push(Curve { label: format!("left side, control ({given} wrong){note}"), points, intervals: None });
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
    let number = |x: &f64| if *x != 0.0 && x.abs() < 1e-3 { format!("{x:.6e}") } else { format!("{x:.6}") };
    let rows = run.first_run.iter().step_by(stride).map(|(t, a, b)| vec![t.to_string(), number(a), number(b)]).collect();
    let norm = if model.kinds.of(&relation.lhs) == Kind::Scalar { "" } else { " (Euclidean norm)" };
    // Values spread over orders of magnitude (a geometric decay) read on a log scale.
    let values: Vec<f64> = run.first_run.iter().flat_map(|(_, a, b)| [*a, *b]).collect();
    let positive = values.iter().all(|v| v.is_finite() && *v > 0.0);
    let spread = values.iter().cloned().fold(0.0, f64::max) / values.iter().cloned().fold(f64::INFINITY, f64::min);
    let log_y = positive && spread > 1e3;
    LayerResult {
        table: Some(Table { columns: vec![var.to_string(), format!("left side{norm}"), format!("right side{norm}")], rows }),
        plot: Some(Plot {
            title: format!("Both sides along the trajectory{norm}"),
            x_label: var.to_string(),
            y_label: "value".into(),
            log_x: false,
            log_y,
            curves,
        }),
        ..LayerResult::new(Layer::Trajectory, verdict, detail)
    }
}

/// The steps of `from..=to` at which every condition that mentions only `var` holds (a
/// condition about other variables cannot be told here, so it does not exclude a step).
pub fn steps_where(conditions: &[Fact], var: &str, from: i64, to: i64) -> Vec<i64> {
    (from..=to)
        .filter(|&t| {
            let at = HashMap::from([(var.to_string(), Expr::int(t, Default::default()))]);
            conditions.iter().all(|c| match (constant(&c.lhs.substitute(&at)), constant(&c.rhs.substitute(&at))) {
                (Some(l), Some(r)) => c.rel.holds(l.cmp(&r)),
                _ => true,
            })
        })
        .collect()
}

/// A control run that blows up would flatten the real runs to a line at the bottom of the
/// plot: its points are kept within the real curves' range widened by twice its height.
fn clip_to(real: &[Curve], points: Vec<(f64, f64)>) -> (Vec<(f64, f64)>, bool) {
    let ys = real.iter().flat_map(|c| c.points.iter().map(|p| p.1)).filter(|y| y.is_finite());
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    if lo > hi {
        return (points, false);
    }
    let margin = 2.0 * (hi - lo).max(1e-9 * hi.abs().max(lo.abs())).max(f64::MIN_POSITIVE);
    let (lo, hi) = (lo - margin, hi + margin);
    let clipped = points.iter().any(|p| !(lo..=hi).contains(&p.1));
    (points.into_iter().map(|(x, y)| (x, if y.is_nan() { y } else { y.clamp(lo, hi) })).collect(), clipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_run_that_blows_up_is_clipped_and_says_so() {
        let real = vec![Curve { label: "left".into(), points: vec![(0.0, 1.0), (1.0, 2.0)], intervals: None }];
        let (points, clipped) = clip_to(&real, vec![(0.0, 1.0), (1.0, 1e30), (2.0, -1e30)]);
        assert!(clipped);
        assert_eq!(points, [(0.0, 1.0), (1.0, 4.0), (2.0, -1.0)]);
        let (points, clipped) = clip_to(&real, vec![(0.0, 1.5), (1.0, 3.0)]);
        assert!(!clipped, "a control within reach is drawn as it is");
        assert_eq!(points, [(0.0, 1.5), (1.0, 3.0)]);
    }
}
