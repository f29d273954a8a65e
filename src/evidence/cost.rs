//! Operation counts: the multiply-adds of evaluating each side as written, counted exactly
//! at doubling sizes of one dimension.

use std::collections::HashMap;

use super::stop_text;
use crate::language::ast::{Expr, Relation};
use crate::model::{Model, ModelSpec};
use crate::verdict::{Curve, Layer, LayerResult, Plot, Table, Verdict};

/// Multiply-adds of evaluating each side as written, at doubling sizes of one dimension.
pub fn layer(model: &ModelSpec, relation: &Relation, var: &str, from: i64, to: i64) -> LayerResult {
    let mut rows = Vec::new();
    let mut points: Vec<(f64, u64, u64)> = Vec::new();
    let mut size = from.max(1);
    while size <= to {
        let mut spec = model.clone();
        spec.sizes.insert(var.to_string(), size as usize);
        let count = |e: &Expr| multiply_adds(&spec, e);
        match (count(&relation.lhs), count(&relation.rhs)) {
            (Ok(a), Ok(b)) => {
                rows.push(vec![size.to_string(), a.to_string(), b.to_string()]);
                points.push((size as f64, a, b));
            }
            (Err(e), _) | (_, Err(e)) => return LayerResult::new(Layer::Cost, Verdict::NotApplicable, e),
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
    let mut sizes: Vec<String> = model.sizes.iter().filter(|(k, _)| *k != var).map(|(k, v)| format!("{k} = {v}")).collect();
    sizes.sort();
    let detail = format!(
        "multiply-adds of the matrix products as written, counted exactly; {} fixed: the left side grows like {var}^{left:.2}, the right side like {var}^{right:.2}",
        sizes.join(", ")
    );
    let mut result = LayerResult::new(Layer::Cost, Verdict::Holds, detail);
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

/// Multiply-adds of the matrix products in evaluating `e` once, as written.
pub fn multiply_adds(spec: &ModelSpec, e: &Expr) -> Result<u64, String> {
    let mut m: Model<f64> = Model::new(spec, 0);
    m.multiply_adds = Some(0);
    m.draw_assumptions().map_err(stop_text)?;
    m.eval(e, &HashMap::new()).map_err(stop_text)?;
    Ok(m.multiply_adds.unwrap_or(0))
}
