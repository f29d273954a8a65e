//! The search of the symbolic layer: a step `A = B by R1, …` holds when rewriting A and B
//! with the cited rules (either direction, any position, a bounded number of times) reaches
//! two forms with the same normal form. Breadth first from both sides; the normal forms of
//! each level go to the engine in one call.

use std::collections::{HashMap, HashSet};

use num_traits::{One, Zero};

use super::engine::{Normal, engine};
use super::rewrite::{Context, Direction, Rewrite, note};
use super::term::{readable, to_term, too_large, vector_leaves};
use crate::language::Kinds;
use crate::language::affine::canonical_indices;
use crate::language::ast::{BinOp, Expr, ExprKind, Kind};
use crate::language::builtins::Func;

/// Why `e` is undefined as a matrix expression, if it is: it takes the inverse of a matrix
/// that normalizes to the zero matrix (`(A - A)^-1`), which normalization could otherwise
/// make vanish (`0*(A - A)^-1`) or compare equal to itself.
fn singular_inverse(e: &Expr, kinds: &Kinds) -> Option<String> {
    if let ExprKind::Bin(BinOp::Pow, a, k) = &e.kind
        && kinds.of(a) == Kind::Matrix
        && (matches!(&k.kind, ExprKind::Neg(one) if matches!(&one.kind, ExprKind::Num(q) if q.is_one()))
            || matches!(&k.kind, ExprKind::Num(q) if (-q).is_one()))
    {
        let zero =
            to_term(a, kinds).ok().and_then(|t| engine().ok()?.canonical(vec![t]).ok()).is_some_and(|n| n.first().is_some_and(|n| n.text() == "0"));
        if zero {
            return Some(format!("the inverse of `{}`, which is the zero matrix", crate::language::text::expr(a)));
        }
    }
    e.children().into_iter().find_map(|c| singular_inverse(c, kinds))
}

/// Why `e` cannot be judged without sizes, if it cannot: a vector or matrix part of it is
/// zero (`p - p`, `0*p`, `(a - a)*p`). The engine's zero has no size, so `exp_elem(p - p)`
/// (length n) and `exp_elem(r - r)` (length m) would become one term, as would `ones + 0*p`
/// and `ones + 0*r`.
fn sizeless_zero(e: &Expr, kinds: &Kinds) -> Option<String> {
    let mut candidates = Vec::new();
    zero_candidates(e, kinds, true, &mut candidates);
    if candidates.is_empty() {
        return None;
    }
    let terms: Vec<_> = candidates.iter().filter_map(|(_, c)| to_term(c, kinds).ok()).collect();
    if terms.len() != candidates.len() {
        return None;
    }
    let normals = engine().ok()?.canonical(terms).ok()?;
    candidates.iter().zip(normals).find(|(_, n)| n.text() == "0").map(|((part, _), _)| {
        format!("`{}` is a zero vector or matrix, whose size the symbolic layer does not keep", crate::language::text::expr(part))
    })
}

/// Why `e` cannot be judged without sizes, if it cannot: an element-wise part of it normalizes
/// to something with no vector left in it (`(x .* x + 1) ./ (x .* x + 1)` is 1, `a .* ones` is
/// a), which has no length, so that the same part over vectors of another length would be
/// the same term.
fn sizeless_entrywise(e: &Expr, kinds: &Kinds) -> Option<String> {
    if let ExprKind::Builtin(Func::EMul | Func::EDiv | Func::SqrtElem | Func::AbsElem | Func::SignElem, _) = &e.kind {
        let leaves = vector_leaves(e, kinds);
        let normal = to_term(e, kinds).ok().and_then(|t| engine().ok()?.canonical(vec![t]).ok()).and_then(|n| n.into_iter().next());
        let kept = normal.is_some_and(|n| {
            let text = readable(n.text(), kinds);
            text.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|token| leaves.iter().any(|l| l == token))
        });
        if !kept {
            return Some(format!("`{}` normalizes to no vector, whose size the symbolic layer does not keep", crate::language::text::expr(e)));
        }
        return None;
    }
    e.children().into_iter().find_map(|c| sizeless_entrywise(c, kinds))
}

/// The parts of `e` that may be a zero vector or matrix, each with the expression whose
/// normal form decides it: a difference or negation of vectors or matrices (itself), and a
/// product of one by a scalar that may vanish (that scalar). A part reached from the root
/// through sums, differences and scalar multiples only (`p[t] + 0*a[0]`) is not one: a zero
/// summand adds nothing, what remains keeps its own size, and a whole side that is zero is
/// the zero of the shape the equation gives both sides.
fn zero_candidates<'e>(e: &'e Expr, kinds: &Kinds, linear: bool, out: &mut Vec<(&'e Expr, Expr)>) {
    let shaped = |x: &Expr| matches!(kinds.of(x), Kind::Vector | Kind::Matrix);
    // Only a part made of vectors: the shapes of the sides are compared for those (input
    // errors), not for products with matrices (`s*(A*v - A*v)` with `A` of another height).
    let linear = linear && !has_matrix(e, kinds);
    let may_vanish = |x: &Expr| x.rational().is_some_and(|q| q.is_zero()) || has_difference(x);
    let mut linear_below = false;
    match &e.kind {
        ExprKind::Bin(BinOp::Add | BinOp::Sub, ..) | ExprKind::Neg(_) => linear_below = linear && shaped(e),
        _ => {}
    }
    match &e.kind {
        ExprKind::Bin(BinOp::Sub, ..) | ExprKind::Neg(_) if shaped(e) && !linear => out.push((e, e.clone())),
        ExprKind::Bin(BinOp::Mul, a, b) if shaped(e) => {
            for (factor, other) in [(a, b), (b, a)] {
                if kinds.of(factor) == Kind::Scalar && shaped(other) {
                    if linear {
                        // Only the vector factor stays in a linear position.
                        if e.binds().is_none() {
                            zero_candidates(other, kinds, true, out);
                            zero_candidates(factor, kinds, false, out);
                        }
                        return;
                    }
                    if may_vanish(factor) {
                        out.push((e, (**factor).clone()));
                    }
                }
            }
        }
        _ => {}
    }
    // Bound variables are left to the engine's own handling: a zero under a binder keeps
    // its binder's meaning.
    if e.binds().is_none() {
        e.children().into_iter().for_each(|c| zero_candidates(c, kinds, linear_below, out));
    }
}

fn has_matrix(e: &Expr, kinds: &Kinds) -> bool {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Index(..) => {
            matches!(kinds.of(e), Kind::Matrix)
                || matches!(kinds.get(e.head().map_or("", |h| h.as_str())), Some(Kind::Sequence(of)) if **of == Kind::Matrix)
        }
        _ => e.children().into_iter().any(|c| has_matrix(c, kinds)),
    }
}

fn has_difference(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Bin(BinOp::Sub, ..) | ExprKind::Neg(_)) || e.children().into_iter().any(has_difference)
}

/// How a symbolic check ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Equal after rewriting with these rules (in the order found, without repeats).
    Equal { used: Vec<String> },
    /// Every rewrite within the bound was tried and none made the sides equal; the
    /// normalized difference of the most rewritten forms, and the rewrites that matched but
    /// whose conditions did not follow from what is known.
    Different { residual: String, blocked: Vec<String> },
    /// The search stopped at its limit of forms before trying every rewrite: it cannot say
    /// the sides differ.
    GaveUp { residual: String, forms: usize, blocked: Vec<String> },
    /// A side is not defined where the step is (a denominator not shown nonzero, …), or too
    /// large to normalize: the layer cannot judge the step.
    Undefined { reason: String },
}

/// How many rewrites each side may take, and how many forms each side may collect.
pub const MAX_DEPTH: usize = 4;
pub const MAX_FORMS: usize = 300;

struct Form {
    expr: Expr,
    used: Vec<String>,
    forward_only: bool,
}

#[cfg(test)]
thread_local! {
    /// Replaces the symbolic layer by a broken one, to show the exact layer alone.
    pub(crate) static WEAKENED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Searches for rewrites of `lhs` and `rhs` with `rules`, at most `depth` on each side, that
/// meet in one normal form. Every form the search reaches, the two sides included, must be
/// defined where the step is (`defined`), and small enough to normalize.
pub fn prove_equal(lhs: &Expr, rhs: &Expr, rules: &[&dyn Rewrite], ctx: &Context, depth: usize) -> Result<Outcome, String> {
    #[cfg(test)]
    if WEAKENED.get() {
        // A deliberately broken normalizer: "equal" when both sides mention the same names.
        let names = |e: &Expr| {
            let mut v = Vec::new();
            tests::names(e, &mut v);
            v.sort();
            v
        };
        return Ok(if names(lhs) == names(rhs) {
            Outcome::Equal { used: vec![] }
        } else {
            Outcome::Different { residual: "?".into(), blocked: vec![] }
        });
    }
    let kinds = &ctx.kinds;
    for (side, e) in [("left", lhs), ("right", rhs)] {
        if let Some(reason) = ctx
            .undefined(e)
            .or_else(|| too_large(e, kinds))
            .or_else(|| singular_inverse(e, kinds))
            .or_else(|| sizeless_zero(e, kinds))
            .or_else(|| sizeless_entrywise(e, kinds))
        {
            return Ok(Outcome::Undefined { reason: format!("the {side} side: {reason}") });
        }
    }
    let engine = engine().map_err(|e| e.to_string())?;
    let depth = depth.min(MAX_DEPTH);
    let mut sides: [Vec<Form>; 2] = [
        vec![Form { expr: canonical_indices(lhs), used: vec![], forward_only: true }],
        vec![Form { expr: canonical_indices(rhs), used: vec![], forward_only: true }],
    ];
    let mut seen: [HashSet<Expr>; 2] = [HashSet::from([sides[0][0].expr.clone()]), HashSet::from([sides[1][0].expr.clone()])];
    let mut canon: [HashMap<String, usize>; 2] = [HashMap::new(), HashMap::new()];
    let mut frontier = [0usize, 0usize];
    let mut truncated = false;
    let mut blocked: Vec<String> = Vec::new();
    for level in 0..=depth {
        // Normal forms of the forms added since the last level, then look for a meeting.
        for side in 0..2 {
            let new = &sides[side][frontier[side]..];
            let terms = new.iter().map(|f| to_term(&f.expr, kinds)).collect::<Result<Vec<_>, _>>()?;
            let forms = engine.canonical(terms).map_err(|e| e.to_string())?;
            for (i, normal) in forms.into_iter().enumerate() {
                let index = frontier[side] + i;
                let Normal::Defined(text) = normal else {
                    if index == 0 {
                        let which = if side == 0 { "left" } else { "right" };
                        return Ok(Outcome::Undefined { reason: format!("the {which} side normalizes to an undefined value ({})", normal.text()) });
                    }
                    continue;
                };
                canon[side].entry(text.clone()).or_insert(index);
                if let Some(&other) = canon[1 - side].get(&text) {
                    let (l, r) = if side == 0 { (index, other) } else { (other, index) };
                    return Ok(Outcome::Equal { used: union(&sides[0][l].used, &sides[1][r].used) });
                }
            }
        }
        if level == depth {
            break;
        }
        for side in 0..2 {
            let start = frontier[side];
            frontier[side] = sides[side].len();
            for i in start..frontier[side] {
                for rule in rules {
                    for (expr, direction) in rule.rewrites(&sides[side][i].expr, ctx, &mut blocked) {
                        if seen[side].contains(&expr) {
                            continue;
                        }
                        seen[side].insert(expr.clone());
                        // A rewrite that leaves the expression undefined (a rule instance
                        // dividing by what may be zero) or too large to normalize is not taken.
                        if let Some(reason) = ctx
                            .undefined(&expr)
                            .or_else(|| too_large(&expr, kinds))
                            .or_else(|| singular_inverse(&expr, kinds))
                            .or_else(|| sizeless_zero(&expr, kinds))
                            .or_else(|| sizeless_entrywise(&expr, kinds))
                        {
                            note(&mut blocked, format!("rewriting with `{}` would leave {reason}", rule.name()));
                            continue;
                        }
                        if sides[side].len() >= MAX_FORMS {
                            truncated = true;
                            continue;
                        }
                        let used = union(&sides[side][i].used, &[rule.name().to_string()]);
                        let forward_only = sides[side][i].forward_only && direction == Direction::Forward;
                        sides[side].push(Form { expr, used, forward_only });
                    }
                }
            }
        }
    }
    // The most rewritten forward forms show what is left to explain.
    let (a, b) = (most_rewritten(&sides[0]), most_rewritten(&sides[1]));
    let (zero, residual) = engine.difference(to_term(&a.expr, kinds)?, to_term(&b.expr, kinds)?).map_err(|e| e.to_string())?;
    if zero {
        // Canonical text can differ for equal rational functions; the difference decides.
        return Ok(Outcome::Equal { used: union(&a.used, &b.used) });
    }
    let residual = readable(residual.text(), kinds);
    Ok(if truncated { Outcome::GaveUp { residual, forms: MAX_FORMS, blocked } } else { Outcome::Different { residual, blocked } })
}

/// The last form reached by forward rewrites only (the starting form if none).
fn most_rewritten(side: &[Form]) -> &Form {
    side.iter().rev().find(|f| f.forward_only).unwrap_or(&side[0])
}

/// `a` then the names of `b` not in `a`.
fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diagnostic::Span;
    use crate::language::ast::{BinOp, ExprKind, Kind};

    /// The names an expression mentions (the weakened layer compares these).
    pub(crate) fn names(e: &Expr, out: &mut Vec<String>) {
        match &e.kind {
            ExprKind::Name(n) if !out.contains(n) => out.push(n.clone()),
            _ => e.children().into_iter().for_each(|c| names(c, out)),
        }
    }

    fn kinds(pairs: &[(&str, Kind)]) -> Context {
        Context { kinds: crate::language::Kinds(pairs.iter().map(|(n, k)| (n.to_string(), k.clone())).collect()), ..Context::default() }
    }

    fn name(n: &str) -> Expr {
        Expr::name(n, Span::default())
    }

    #[test]
    fn matrix_products_keep_their_order_and_scalars_commute() {
        let k = kinds(&[("W", Kind::Matrix), ("U", Kind::Matrix), ("a", Kind::Scalar)]);
        let wu = Expr::bin(BinOp::Mul, name("W"), name("U"));
        let uw = Expr::bin(BinOp::Mul, name("U"), name("W"));
        assert!(matches!(prove_equal(&wu, &uw, &[], &k, 0).unwrap(), Outcome::Different { .. }));
        let a_wu = Expr::bin(BinOp::Mul, name("a"), wu.clone());
        let w_a_u = Expr::bin(BinOp::Mul, Expr::bin(BinOp::Mul, name("W"), name("a")), name("U"));
        assert!(matches!(prove_equal(&a_wu, &w_a_u, &[], &k, 0).unwrap(), Outcome::Equal { .. }));
    }

    #[test]
    fn distribution_over_sums_is_ordered() {
        let k = kinds(&[("W", Kind::Matrix), ("x", Kind::Vector), ("y", Kind::Vector)]);
        let lhs = Expr::bin(BinOp::Mul, name("W"), Expr::bin(BinOp::Add, name("x"), name("y")));
        let rhs = Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, name("W"), name("x")), Expr::bin(BinOp::Mul, name("W"), name("y")));
        assert!(matches!(prove_equal(&lhs, &rhs, &[], &k, 0).unwrap(), Outcome::Equal { .. }));
        let wrong = Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, name("x"), name("W")), Expr::bin(BinOp::Mul, name("W"), name("y")));
        assert!(matches!(prove_equal(&lhs, &wrong, &[], &k, 0).unwrap(), Outcome::Different { .. }));
    }

    #[test]
    fn transpose_reverses_products() {
        let k = kinds(&[("A", Kind::Matrix), ("B", Kind::Matrix)]);
        let ab_t = Expr::new(ExprKind::Transpose(Box::new(Expr::bin(BinOp::Mul, name("A"), name("B")))), Span::default());
        let bt_at = Expr::bin(
            BinOp::Mul,
            Expr::new(ExprKind::Transpose(Box::new(name("B"))), Span::default()),
            Expr::new(ExprKind::Transpose(Box::new(name("A"))), Span::default()),
        );
        assert!(matches!(prove_equal(&ab_t, &bt_at, &[], &k, 0).unwrap(), Outcome::Equal { .. }));
    }
}
