//! Operation counts: the time of evaluating each side as written (the cost model of
//! complexity claims, `count`), counted exactly at doubling sizes of one dimension; at each
//! size the two sides' values must agree.

use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::count::{self, Program};
use super::stop_text;
use crate::language::ast::{Expr, Rel, Relation};
use crate::model::{Model, ModelSpec, Value};
use crate::verdict::{Counterexample, Curve, Layer, LayerResult, Plot, Table, Verdict};

/// Operations of evaluating each side as written, at doubling sizes of one dimension.
pub fn layer(model: &ModelSpec, program: &Program, relation: &Relation, var: &str, from: i64, to: i64) -> LayerResult {
    let mut rows = Vec::new();
    let mut points: Vec<(f64, u64, u64)> = Vec::new();
    let mut size = from.max(1);
    while size <= to {
        let mut spec = model.clone();
        spec.sizes.insert(var.to_string(), size as usize);
        let count = |e: &Expr| operations(&spec, program, e);
        match (count(&relation.lhs), count(&relation.rhs)) {
            (Ok(a), Ok(b)) => {
                rows.push(vec![size.to_string(), a.to_string(), b.to_string()]);
                points.push((size as f64, a, b));
            }
            (Err(e), _) | (_, Err(e)) => return LayerResult::new(Layer::Cost, Verdict::NotApplicable, e),
        }
        // Two evaluation orders of one value: at every size the values must agree (where the
        // models satisfy the givens; otherwise a difference may be one the givens exclude).
        if relation.rel == Rel::Eq && spec.unusable.is_none() {
            match differ(&spec, relation) {
                Ok(None) => {}
                Ok(Some(cx)) => {
                    let detail = format!("at {var} = {size} the two sides have different values, so they are not two ways to compute one thing");
                    return LayerResult { counterexample: Some(cx), ..LayerResult::new(Layer::Cost, Verdict::Refuted, detail) };
                }
                Err(e) => return LayerResult::new(Layer::Cost, Verdict::NotApplicable, e),
            }
        }
        size *= 2;
    }
    if points.len() < 2 {
        return LayerResult::new(Layer::Cost, Verdict::NotApplicable, format!("the range of {var} needs two sizes at least (it doubles)"));
    }
    let slope = |pick: fn(&(f64, u64, u64)) -> u64| {
        let (p, q) = (&points[points.len() - 2], &points[points.len() - 1]);
        ((pick(q) as f64).ln() - (pick(p) as f64).ln()) / (q.0.ln() - p.0.ln())
    };
    let (left, right) = (slope(|p| p.1), slope(|p| p.2));
    // The sizes the two sides read (through the definitions they use), not every size of the file.
    let mut read = std::collections::BTreeSet::new();
    for side in [&relation.lhs, &relation.rhs] {
        dimensions_read(side, model, program, &mut read, 0);
    }
    let mut sizes: Vec<String> = model.sizes.iter().filter(|(k, _)| *k != var && read.contains(*k)).map(|(k, v)| format!("{k} = {v}")).collect();
    sizes.sort();
    let fixed = if sizes.is_empty() { String::new() } else { format!("{} fixed: ", sizes.join(", ")) };
    let values = match (&model.unusable, relation.rel) {
        (None, Rel::Eq) => "the two sides agree in value at every size".to_string(),
        (Some(why), Rel::Eq) => format!("the values are not compared ({why})"),
        _ => "the values are not compared (not an equation)".to_string(),
    };
    let detail = format!(
        "operations as written (products p·q·r, element-wise work one per entry, as in complexity claims), counted exactly; {fixed}the left side grows like {var}^{left:.2}, the right side like {var}^{right:.2}; {values}"
    );
    // Counting alone reads nothing of the statement: the row holds only where the values
    // were compared too.
    let verdict = if model.unusable.is_none() && relation.rel == Rel::Eq { Verdict::Holds } else { Verdict::NotApplicable };
    let mut result = LayerResult::new(Layer::Cost, verdict, detail);
    result.table = Some(Table { columns: vec![var.to_string(), "left side".into(), "right side".into()], rows });
    result.plot = Some(Plot {
        title: "Operations of the two evaluation orders".into(),
        x_label: var.to_string(),
        y_label: "operations".into(),
        log_x: true,
        log_y: true,
        curves: vec![
            Curve { label: "left side".into(), points: points.iter().map(|p| (p.0, p.1 as f64)).collect(), intervals: None },
            Curve { label: "right side".into(), points: points.iter().map(|p| (p.0, p.2 as f64)).collect(), intervals: None },
        ],
    });
    result
}

/// Both sides at one random point (double precision): a counterexample where they differ by
/// more than rounding (a billionth of the largest entry).
fn differ(spec: &ModelSpec, relation: &Relation) -> Result<Option<Counterexample>, String> {
    let mut m: Model<f64> = Model::new(spec, 1);
    m.draw_assumptions().map_err(stop_text)?;
    let (a, b) = (m.eval(&relation.lhs, &HashMap::new()).map_err(stop_text)?, m.eval(&relation.rhs, &HashMap::new()).map_err(stop_text)?);
    let entries = |v: &Value<f64>| match v {
        Value::S(x) => Some(vec![*x]),
        Value::M(x) => Some(x.iter().copied().collect::<Vec<f64>>()),
        _ => None,
    };
    let (Some(x), Some(y)) = (entries(&a), entries(&b)) else { return Err("the sides are not numbers or matrices to compare".into()) };
    let largest = x.iter().chain(&y).fold(0.0f64, |acc, v| acc.max(v.abs()));
    let apart = x.len() != y.len() || x.iter().zip(&y).any(|(p, q)| (p - q).abs() > 1e-9 * largest);
    Ok(apart.then(|| Counterexample { values: m.shown(), lhs: a.to_string(), rhs: b.to_string() }))
}

/// The dimensions of the declared names `e` reads, following the definitions it inlines.
fn dimensions_read(e: &Expr, model: &ModelSpec, program: &Program, out: &mut std::collections::BTreeSet<String>, depth: usize) {
    if let Some(name) = e.head() {
        out.extend(model.shapes.get(name).into_iter().flatten().cloned());
        if let Some(def) = program.definitions.get(name).filter(|_| depth < 50) {
            dimensions_read(def, model, program, out, depth + 1);
        }
    }
    for c in e.children() {
        dimensions_read(c, model, program, out, depth);
    }
}

/// Operations of evaluating `e` once, as written, at the model's sizes.
fn operations(spec: &ModelSpec, program: &Program, e: &Expr) -> Result<u64, String> {
    let size = |d: &str| BigInt::from(spec.sizes.get(d).copied().unwrap_or(3));
    let counts = count::count::<BigInt>(program, e, &size)?;
    counts.time.to_u64().ok_or_else(|| "the count does not fit in 64 bits".into())
}
