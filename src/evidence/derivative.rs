//! Derivative checks: a stated derivative (`J[t] = d(h[t])/d(h[0])`) against central
//! differences of what it differentiates, with the file's own definitions and concrete
//! functions, in 640-bit floats. With a step of 2^-200 the differences are the derivative to
//! about 120 digits (truncation 2^-400, rounding 2^-440 of the values), far below the
//! tolerance, while a wrong chain rule is off in the first digits.

use std::collections::HashMap;

use num_traits::Zero;

use super::stop_text;
use crate::language::ast::{Expr, ExprKind, Kind};
use crate::language::text;
use crate::model::{Model, ModelSpec, Number, Stop, Value, Wider, int};
use crate::verdict::{Counterexample, Layer, LayerResult, Table, Verdict};

const RUNS: usize = 3;
/// Relative to the larger of the stated entry and the differences: an entry much smaller than
/// its neighbours is checked to its own digits.
const TOLERANCE: f64 = 1e-30;
/// The rounding of the differences: the values differentiated round at 2^-640 of their size,
/// and the step is 2^-200 of the entry nudged, so the differences carry about
/// 2^-440 × size / |entry| (with room to spare here).
const ROUNDING: f64 = 1e-120;
/// An entry is resolved when that rounding is below this fraction of it.
const RESOLVED: f64 = 1e-20;

/// The largest difference at one step: `(t, largest |J|, largest |J - differences|)`.
type Row = (i64, f64, f64);

#[allow(clippy::too_many_arguments)]
pub fn layer(spec: &ModelSpec, jacobian: &Expr, of: &Expr, by: &Expr, var: &str, from: i64, to: i64, seed: u64) -> LayerResult {
    let mut spec = spec.clone();
    spec.kinds.0.insert(var.to_string(), Kind::Integer);
    spec.smooth = true;
    let c = Compare { spec: &spec, jacobian, of, by, var, ts: (from..=to).collect() };
    let what = format!("`{}` against central differences of `{}` by `{}`", text::expr(jacobian), text::expr(of), text::expr(by));
    match c.runs(seed) {
        Err(reason) => LayerResult::new(Layer::Derivative, Verdict::NotApplicable, reason),
        Ok(Err((run, t, (i, j), stated, differences))) => {
            let cx = Counterexample {
                values: vec![
                    ("run".into(), (run + 1).to_string()),
                    (var.to_string(), t.to_string()),
                    ("entry".into(), format!("({}, {})", i + 1, j + 1)),
                ],
                lhs: stated.clone(),
                rhs: differences.clone(),
            };
            let detail = format!(
                "{what}: at {var} = {t} (run {}, seed {seed}) entry ({}, {}) is {stated}, but the derivative is {differences}",
                run + 1,
                i + 1,
                j + 1
            );
            LayerResult { counterexample: Some(cx), ..LayerResult::new(Layer::Derivative, Verdict::Refuted, detail) }
        }
        Ok(Ok(rows)) => {
            let detail = format!(
                "{what}: every entry agrees to {TOLERANCE:e} of itself at every {var} in {from}..{to}, in {RUNS} runs on random inputs (seed {seed}), in 640-bit floats with a step of 2^-200"
            );
            let stride = rows.len().div_ceil(25).max(1);
            let table = Table {
                columns: vec![var.to_string(), "largest entry".into(), "largest difference".into()],
                rows: rows.iter().step_by(stride).map(|(t, big, gap)| vec![t.to_string(), format!("{big:.6e}"), format!("{gap:.3e}")]).collect(),
            };
            LayerResult { table: Some(table), ..LayerResult::new(Layer::Derivative, Verdict::Holds, detail) }
        }
    }
}

struct Compare<'a> {
    spec: &'a ModelSpec,
    jacobian: &'a Expr,
    of: &'a Expr,
    by: &'a Expr,
    var: &'a str,
    ts: Vec<i64>,
}

/// The first entry that differs: run, step, (row, column), stated, differences.
type Mismatch = (usize, i64, (usize, usize), String, String);

impl Compare<'_> {
    fn runs(&self, seed: u64) -> Result<Result<Vec<Row>, Mismatch>, String> {
        if let Some(reason) = &self.spec.unusable {
            return Err(reason.clone());
        }
        let (head, args) = match &self.by.kind {
            ExprKind::Name(n) => (n.clone(), vec![]),
            ExprKind::Index(n, a) => (n.clone(), a.iter().filter_map(|e| e.rational()).map(|r| Wider::from_rational(&r)).map(Value::S).collect()),
            _ => return Err("the derivative is taken by a name or a sequence element".into()),
        };
        let mut m: Model<Wider> = Model::new(self.spec, seed);
        // One outcome per point: a derivative of one sample path.
        m.sampling = true;
        let mut rows: Vec<Row> = self.ts.iter().map(|t| (*t, 0.0, 0.0)).collect();
        let mut resolved = false;
        for run in 0..RUNS {
            m.fixed.clear();
            m.draw_assumptions().map_err(stop_text)?;
            let at = |t: i64| HashMap::from([(self.var.to_string(), int::<Wider>(t))]);
            let x = m.eval(self.by, &HashMap::new()).map_err(stop_text)?;
            let mut stated = Vec::new();
            for &t in &self.ts {
                stated.push(m.eval(self.jacobian, &at(t)).map_err(stop_text)?);
                m.eval(self.of, &at(t)).map_err(stop_text)?;
            }
            m.keep_drawn();
            if !m.is_fixed(&head, &args) {
                return Err(format!("`{}` is not a free value of the models (the file defines it), so nothing varies it", text::expr(self.by)));
            }
            let entries = match &x {
                Value::S(_) => 1,
                Value::M(v) if v.ncols() == 1 => v.nrows(),
                _ => return Err(format!("`{}` is not a scalar or a vector", text::expr(self.by))),
            };
            for j in 0..entries {
                // A step relative to the entry: 2^-200 of it (of 1 at 0), small against it
                // however small or large it is.
                let nudged_entry = match &x {
                    Value::S(s) => s.clone(),
                    Value::M(v) => v[(j, 0)].clone(),
                    _ => Wider::from_f64(1.0),
                };
                let scale = if nudged_entry.is_zero() { 1.0 } else { nudged_entry.to_f64().abs() };
                let step = if nudged_entry.is_zero() { Wider::from_f64(1.0) } else { magnitude_of(&nudged_entry) } * Wider::from_f64(2f64.powi(-200));
                let nudged = |sign: f64| -> Value<Wider> {
                    let d = step.clone() * Wider::from_f64(sign);
                    match &x {
                        Value::S(s) => Value::S(s.clone() + d),
                        Value::M(v) => {
                            let mut v = v.clone();
                            v[(j, 0)] = v[(j, 0)].clone() + d;
                            Value::M(v)
                        }
                        other => other.clone(),
                    }
                };
                let mut sides = Vec::new();
                for sign in [1.0, -1.0] {
                    m.reset();
                    m.fix(&head, &args, nudged(sign));
                    let mut values = Vec::new();
                    for &t in &self.ts {
                        values.push(m.eval(self.of, &at(t)).map_err(stop_text)?);
                    }
                    sides.push(values);
                }
                for (k, &t) in self.ts.iter().enumerate() {
                    let column = difference(&sides[0][k], &sides[1][k], &step).map_err(stop_text)?;
                    let size = magnitude(&sides[0][k]).max(magnitude(&sides[1][k]));
                    let largest = entries_of(&stated[k], column.len(), entries).iter().map(|e| e.to_f64().abs()).fold(0.0, f64::max);
                    for (i, d) in column.iter().enumerate() {
                        let s = entry(&stated[k], i, j, column.len(), entries).ok_or_else(|| {
                            format!(
                                "`{}` at {} = {t} is {}, not a {}×{entries} derivative",
                                text::expr(self.jacobian),
                                self.var,
                                stated[k],
                                column.len()
                            )
                        })?;
                        let gap = (s.clone() - d.clone()).to_f64().abs();
                        let entry_size = s.to_f64().abs().max(d.to_f64().abs());
                        let rounding = ROUNDING * size / scale;
                        rows[k].1 = rows[k].1.max(largest);
                        rows[k].2 = rows[k].2.max(gap);
                        resolved |= rounding <= RESOLVED * entry_size;
                        if gap.is_nan() || gap > TOLERANCE * entry_size + rounding {
                            return Ok(Err((run, t, (i, j), s.to_string(), d.to_string())));
                        }
                    }
                }
            }
        }
        if !resolved {
            return Err(format!(
                "the values of `{}` are too large against its derivative for differences in 640-bit floats to resolve any entry",
                text::expr(self.of)
            ));
        }
        Ok(Ok(rows))
    }
}

/// The power of two nearest below `|x|` (nonzero): a step that scales with `x` exactly.
fn magnitude_of(x: &Wider) -> Wider {
    let exponent = x.magnitude().unwrap_or(0);
    Wider::from_f64(2f64).pow(&Wider::from_f64(exponent as f64 - 1.0)).unwrap_or_else(|| Wider::from_f64(1.0))
}

/// `(plus - minus) / (2 step)`, entry by entry.
fn difference(plus: &Value<Wider>, minus: &Value<Wider>, step: &Wider) -> Result<Vec<Wider>, Stop> {
    let two_step = step.clone() + step.clone();
    match (plus, minus) {
        (Value::S(a), Value::S(b)) => Ok(vec![(a.clone() - b.clone()) / two_step]),
        (Value::M(a), Value::M(b)) if a.ncols() == 1 && a.shape() == b.shape() => {
            Ok(a.iter().zip(b.iter()).map(|(p, q)| (p.clone() - q.clone()) / two_step.clone()).collect())
        }
        _ => Err(Stop::NotApplicable(format!("`{plus}` is not a scalar or a vector"))),
    }
}

/// Entry `(i, j)` of a stated derivative with `rows` × `cols` entries (`I` and a scalar read
/// as what they are).
fn entry(v: &Value<Wider>, i: usize, j: usize, rows: usize, cols: usize) -> Option<Wider> {
    match v {
        Value::S(s) if rows == 1 && cols == 1 => Some(s.clone()),
        Value::M(m) if m.nrows() == rows && m.ncols() == cols => Some(m[(i, j)].clone()),
        Value::Identity if rows == cols => Some(Wider::from_f64(if i == j { 1.0 } else { 0.0 })),
        _ => None,
    }
}

/// The largest absolute entry of a scalar or vector value.
fn magnitude(v: &Value<Wider>) -> f64 {
    match v {
        Value::S(x) => x.to_f64().abs(),
        Value::M(m) => m.iter().map(|x| x.to_f64().abs()).fold(0.0, f64::max),
        _ => 0.0,
    }
}

fn entries_of(v: &Value<Wider>, rows: usize, cols: usize) -> Vec<Wider> {
    (0..rows).flat_map(|i| (0..cols).map(move |j| (i, j))).filter_map(|(i, j)| entry(v, i, j, rows, cols)).collect()
}
