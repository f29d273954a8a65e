//! Expanding definitions at concrete indices, for `check unroll`: `v[3]` becomes
//! `beta*(beta*(beta*v[0] + …) …)` down to the base case, and two expanded sides are
//! compared by their engine normal forms.

use super::engine::engine;
use super::normal::normalize_sums;
use super::rewrite::{Context, Direction, Equation};
use super::term::{readable, to_term};
use crate::language::Kinds;
use crate::language::affine::canonical_indices;
use crate::language::ast::{Expr, ExprKind};

/// Deeper than this, an expansion is not compared (the engine and the expansion itself
/// would recurse as deep).
const MAX_DEPTH: usize = 1000;

/// Expands `e` with the definitions until no defined element is left. Sums of a concrete
/// length are written out first, and again after each round (a definition may bring new
/// ones): `sum(i, 0, 2, f[i])` holds the defined elements `f[0]`, `f[1]`, `f[2]`.
pub fn expand_definitions(e: &Expr, definitions: &[Equation], kinds: &Kinds, budget: &mut usize) -> Result<Expr, String> {
    fn go(e: &Expr, defs: &[Equation], budget: &mut usize, depth: usize) -> Result<Expr, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the expansion is nested more than {MAX_DEPTH} deep"));
        }
        let children = e.children().into_iter().map(|c| go(c, defs, budget, depth + 1)).collect::<Result<_, _>>()?;
        let e = canonical_indices(&e.with_children(children));
        // Only a rewrite at the root: children were expanded already.
        if !matches!(e.kind, ExprKind::Index(..) | ExprKind::Name(_) | ExprKind::Call(..)) {
            return Ok(e);
        }
        for rule in defs.iter().filter(|rule| top_level_match(&e, rule)) {
            if let Some(next) = rule.rewrites_in(&e, Direction::Forward, &Context::default(), &mut Vec::new()).into_iter().next() {
                *budget = budget.checked_sub(1).ok_or("the expansions take more than the 100000 rewrites one check may")?;
                return go(&next, defs, budget, depth + 1);
            }
        }
        Ok(e)
    }
    let mut current = e.clone();
    loop {
        let next = go(&normalize_sums(&current, kinds), definitions, budget, 0)?;
        if next == current {
            return Ok(next);
        }
        current = next;
    }
}

fn top_level_match(e: &Expr, rule: &Equation) -> bool {
    match (&e.kind, &rule.lhs.kind) {
        (ExprKind::Index(a, _), ExprKind::Index(b, _)) | (ExprKind::Call(a, _), ExprKind::Call(b, _)) => a == b,
        (ExprKind::Name(a), ExprKind::Name(b)) => a == b,
        _ => false,
    }
}

/// Whether two concrete expressions are equal after expansion, with the difference. The
/// expansions take rewrites from `budget`, which one check shares over all its indices.
pub fn equal_after_expansion(lhs: &Expr, rhs: &Expr, definitions: &[Equation], kinds: &Kinds, budget: &mut usize) -> Result<(bool, String), String> {
    let (a, b) = (expand_definitions(lhs, definitions, kinds, budget)?, expand_definitions(rhs, definitions, kinds, budget)?);
    let (zero, residual) = engine().map_err(|e| e.to_string())?.difference(to_term(&a, kinds)?, to_term(&b, kinds)?).map_err(|e| e.to_string())?;
    Ok((zero, readable(residual.text(), kinds)))
}
