//! The sum normal form, applied to every expression before it goes to the engine: sums of
//! a known length written out (empty ones are 0), the others split over `+`, shifted to
//! start at 0, with the scalar factors that do not mention the index pulled out. These
//! identities always hold, so they are normalization, not lemmas.

use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::{One, Zero};

use crate::diagnostic::Span;
use crate::language::Kinds;
use crate::language::affine::{Affine, canonical_index, canonical_indices};
use crate::language::ast::{BigOp, BinOp, Expr, ExprKind, Kind};

fn int(k: i64, span: Span) -> Expr {
    Expr::int(k, span)
}

/// Writes sums in normal form throughout: concrete-length sums expanded (empty ones are 0),
/// the others shifted to start at 0 with constant factors outside and split over `+`.
pub fn normalize_sums(e: &Expr, kinds: &Kinds) -> Expr {
    // Below a binder its variable has the binder's kind: a sum's index is an integer, the
    // `x` of `E(x ~ N(…))` a vector (never a scalar that could be pulled out of a product).
    let bound = match &e.kind {
        ExprKind::BigOp { var, .. } => Some((var, Kind::Integer)),
        ExprKind::Expect { gaussian: Some((var, ..)), .. } => Some((var, Kind::Vector)),
        _ => None,
    };
    let inner = bound.map(|(var, kind)| {
        let mut inner = kinds.clone();
        inner.0.insert(var.clone(), kind);
        inner
    });
    let e = e.with_children(e.children().into_iter().map(|c| normalize_sums(c, inner.as_ref().unwrap_or(kinds))).collect());
    let ExprKind::BigOp { op, var, lo, hi, body } = &e.kind else { return e };
    // The index runs over whole numbers: bounds not known to be whole are left as written.
    if !whole(lo, kinds) || !whole(hi, kinds) {
        return e;
    }
    let span = e.span;
    let length = Affine::of(hi).zip(Affine::of(lo)).map(|(h, l)| h.plus(&l.scale(&-BigInt::one())));
    if let Some(n) = length.filter(|n| n.terms.is_empty()).map(|n| n.constant) {
        if n < BigInt::zero() {
            return int(if *op == BigOp::Sum { 0 } else { 1 }, span);
        }
        if n <= BigInt::from(64) {
            let count: i64 = n.try_into().unwrap_or(0);
            let terms = (0..=count).map(|k| {
                let at = Expr::bin(BinOp::Add, (**lo).clone(), int(k, span));
                normalize_sums(&canonical_indices(&body.substitute(&HashMap::from([(var.clone(), at)]))), kinds)
            });
            let bin = if *op == BigOp::Sum { BinOp::Add } else { BinOp::Mul };
            return terms.reduce(|a, b| Expr::bin(bin, a, b)).unwrap_or_else(|| int(0, span));
        }
    }
    if *op != BigOp::Sum {
        return e;
    }
    if let ExprKind::Bin(op2 @ (BinOp::Add | BinOp::Sub), a, b) = &body.kind {
        let part = |x: &Expr| {
            normalize_sums(
                &Expr::new(ExprKind::BigOp { op: BigOp::Sum, var: var.clone(), lo: lo.clone(), hi: hi.clone(), body: Box::new(x.clone()) }, span),
                kinds,
            )
        };
        return Expr::bin(*op2, part(a), part(b));
    }
    match sum_parts(&e, kinds) {
        Some((outside, sum)) => outside.into_iter().fold(sum, |acc, f| Expr::bin(BinOp::Mul, f, acc)),
        None => e,
    }
}

/// A sum in normal form: index from 0, constant scalar factors outside (vectors and matrices
/// stay where they are: they do not commute). Returns the outside factors and the remaining
/// sum (or `None` when `e` is not a sum).
pub fn sum_parts(e: &Expr, kinds: &Kinds) -> Option<(Vec<Expr>, Expr)> {
    let ExprKind::BigOp { op: BigOp::Sum, var, lo, hi, body } = &e.kind else { return None };
    if !whole(lo, kinds) || !whole(hi, kinds) {
        return None;
    }
    let span = e.span;
    // Shift: i ↦ i + lo, so the index runs over 0..hi-lo.
    let shifted = if matches!(&lo.kind, ExprKind::Num(n) if n.is_zero()) {
        (**body).clone()
    } else {
        let plus = Expr::bin(BinOp::Add, Expr::name(var, span), (**lo).clone());
        canonical_indices(&body.substitute(&HashMap::from([(var.clone(), plus)])))
    };
    let length = canonical_index(&Expr::bin(BinOp::Sub, (**hi).clone(), (**lo).clone()));
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    let mut kinds = kinds.clone();
    kinds.0.insert(var.clone(), Kind::Integer);
    for f in factors(&shifted) {
        for piece in split_power(&f, var) {
            if piece.mentions(var) || kinds.of(&piece) != Kind::Scalar { inside.push(piece) } else { outside.push(piece) }
        }
    }
    let body = inside.into_iter().reduce(|a, b| Expr::bin(BinOp::Mul, a, b)).unwrap_or_else(|| int(1, span));
    let sum =
        Expr::new(ExprKind::BigOp { op: BigOp::Sum, var: var.clone(), lo: Box::new(int(0, span)), hi: Box::new(length), body: Box::new(body) }, span);
    Some((outside, sum))
}

/// Whether `e` is a whole number whatever its names are: an integer combination of
/// integer names.
fn whole(e: &Expr, kinds: &Kinds) -> bool {
    Affine::of(e).is_some_and(|a| a.terms.keys().all(|n| matches!(kinds.get(n), Some(Kind::Integer))))
}

/// The factors of a product (a minus sign is the factor -1; `a/c` is `a * c^-1`).
fn factors(e: &Expr) -> Vec<Expr> {
    match &e.kind {
        ExprKind::Bin(BinOp::Mul, a, b) => [factors(a), factors(b)].concat(),
        ExprKind::Bin(BinOp::Div, a, b) => {
            let inv = Expr::bin(BinOp::Pow, (**b).clone(), Expr::new(ExprKind::Neg(Box::new(int(1, e.span))), e.span));
            [factors(a), vec![inv]].concat()
        }
        ExprKind::Neg(a) => [vec![Expr::new(ExprKind::Neg(Box::new(int(1, e.span))), e.span)], factors(a)].concat(),
        _ => vec![e.clone()],
    }
}

/// `x^(a + k·i)` → `x^a`, `x^(k·i)` when the exponent is affine in `i`.
fn split_power(e: &Expr, var: &str) -> Vec<Expr> {
    let ExprKind::Bin(BinOp::Pow, base, exponent) = &e.kind else { return vec![e.clone()] };
    if base.mentions(var) {
        return vec![e.clone()];
    }
    let Some(a) = Affine::of(exponent) else { return vec![e.clone()] };
    let Some(k) = a.terms.get(var).cloned() else { return vec![e.clone()] };
    let mut rest = a.clone();
    rest.terms.remove(var);
    let mine = Affine { constant: BigInt::zero(), terms: [(var.to_string(), k)].into_iter().collect() };
    let pow = |x: &Affine| Expr::bin(BinOp::Pow, (**base).clone(), x.to_expr(e.span));
    if rest.terms.is_empty() && rest.constant.is_zero() { vec![e.clone()] } else { vec![pow(&rest), pow(&mine)] }
}
