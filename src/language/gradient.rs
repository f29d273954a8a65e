//! `grad(E, x)`: the gradient of a scalar expression `E` in a vector `x` (a name, or a
//! sequence's element such as `u[t-1]`), every other name held fixed.
//!
//! The symbolic layer differentiates with the rules below (sums, products, quotients, whole
//! and rational powers, `dot`, `norm(…)^2`, quadratic forms `u^T*A*v`, element-wise products,
//! all through expressions affine in `x`); the float models take central differences
//! instead, so the two layers meet only in the value. Holding the other names fixed is the
//! gradient only when none of them depends on `x`: `E` may not mention a name the file
//! defines, another element of a sequence, a declared function or an expectation
//! (`body_problem`, an input error).

use std::collections::HashSet;

use num_rational::BigRational;
use num_traits::{One, Zero};

use super::Kinds;
use super::affine::canonical_indices;
use super::ast::{BinOp, Expr, ExprKind, Kind};
use super::builtins::Func;
use super::text;

/// Why `E` cannot be differentiated in `x` by holding its other names fixed, with the part to
/// blame: `defined` holds the names the file defines (by a `def`, or a `given` with the name
/// on its left).
pub fn body_problem<'e>(body: &'e Expr, x: &Expr, defined: &HashSet<String>) -> Option<(&'e Expr, String)> {
    // `u[1+t-2]` is `u[t-1]`.
    if canonical_indices(body) == canonical_indices(x) {
        return None;
    }
    match &body.kind {
        ExprKind::Index(..) => {
            Some((body, format!("`{}` is not `{}`: another element of a sequence may depend on it", text::expr(body), text::expr(x))))
        }
        ExprKind::Name(n) if defined.contains(n) => {
            Some((body, format!("`{n}` is defined by the file, so it may depend on `{}`: write its definition out", text::expr(x))))
        }
        ExprKind::Call(f, _) => Some((body, format!("`{f}` is a declared function, whose derivative is unknown"))),
        ExprKind::Expect { .. } => Some((body, "a gradient of an expectation is not taken".into())),
        ExprKind::Builtin(Func::Grad, _) => Some((body, "a gradient inside a gradient is not taken".into())),
        _ => body.children().into_iter().find_map(|c| body_problem(c, x, defined)),
    }
}

/// `e` with every occurrence of `target` replaced by `with`.
pub fn replacing(e: &Expr, target: &Expr, with: &Expr) -> Expr {
    fn replace(e: &Expr, target: &Expr, with: &Expr) -> Expr {
        if e == target {
            return with.clone();
        }
        e.with_children(e.children().into_iter().map(|c| replace(c, target, with)).collect())
    }
    // Indices in one form: `u[1+t-2]` is an occurrence of `u[t-1]`.
    replace(&canonical_indices(e), &canonical_indices(target), with)
}

/// Every `grad(E, x)` of `e` replaced by its symbolic gradient.
pub fn expand(e: &Expr, kinds: &Kinds) -> Result<Expr, String> {
    if let ExprKind::Builtin(Func::Grad, args) = &e.kind {
        return gradient(&args[0], &args[1], kinds);
    }
    let children = e.children().into_iter().map(|c| expand(c, kinds)).collect::<Result<Vec<_>, _>>()?;
    Ok(e.with_children(children))
}

/// The gradient of the scalar `e` in the vector `x` (`0*x` when it is zero).
pub fn gradient(e: &Expr, x: &Expr, kinds: &Kinds) -> Result<Expr, String> {
    if !is_variable(x) {
        return Err(format!("a gradient is taken in a vector's name or a sequence's element, not in `{}`", text::expr(x)));
    }
    let (e, x) = (&canonical_indices(e), &canonical_indices(x));
    Ok(grad(e, x, kinds)?.unwrap_or_else(|| zero(x)))
}

/// What a gradient may be taken in: a name or a sequence's element, whose occurrences are
/// the only way an expression can depend on it (once the body's names are free).
pub fn is_variable(x: &Expr) -> bool {
    matches!(x.kind, ExprKind::Name(_) | ExprKind::Index(..))
}

/// A scalar, or a product `u^T*…*v` of vectors (a 1×1 matrix, as `x^T*A*x` is read).
pub fn is_scalar_form(e: &Expr, kinds: &Kinds) -> bool {
    if kinds.of(e) == Kind::Scalar {
        return true;
    }
    let mut factors = Vec::new();
    flatten(e, &mut factors);
    let row = matches!(&factors[0].kind, ExprKind::Transpose(u) if kinds.of(u) == Kind::Vector);
    factors.len() > 1 && row && factors.last().is_some_and(|v| kinds.of(v) == Kind::Vector)
}

/// The degree of `e` as a polynomial in the entries of `x`, if it is one: what the exact layer
/// needs to differentiate by interpolation.
pub fn degree(e: &Expr, x: &Expr) -> Option<u32> {
    polynomial_degree(&canonical_indices(e), &canonical_indices(x))
}

fn polynomial_degree(e: &Expr, x: &Expr) -> Option<u32> {
    let degree = polynomial_degree;
    if !mentions(e, x) {
        return Some(0);
    }
    if e == x {
        return Some(1);
    }
    match &e.kind {
        ExprKind::Neg(a) | ExprKind::Transpose(a) => degree(a, x),
        ExprKind::Bin(BinOp::Add | BinOp::Sub, a, b) => Some(degree(a, x)?.max(degree(b, x)?)),
        ExprKind::Bin(BinOp::Mul, a, b) => Some(degree(a, x)? + degree(b, x)?),
        ExprKind::Builtin(Func::Dot | Func::EMul, args) => Some(degree(&args[0], x)? + degree(&args[1], x)?),
        ExprKind::Bin(BinOp::Div, a, c) if !mentions(c, x) => degree(a, x),
        ExprKind::Bin(BinOp::Pow, base, k) => {
            let k = k.rational().filter(|k| k.is_integer() && *k >= BigRational::zero())?;
            let k: u32 = k.to_integer().try_into().ok()?;
            match &base.kind {
                ExprKind::Builtin(Func::Norm, args) if k % 2 == 0 => Some(degree(&args[0], x)? * k),
                _ => Some(degree(base, x)? * k),
            }
        }
        _ => None,
    }
}

fn zero(x: &Expr) -> Expr {
    Expr::bin(BinOp::Mul, Expr::int(0, x.span), x.clone())
}

fn mentions(e: &Expr, x: &Expr) -> bool {
    e == x || e.children().into_iter().any(|c| mentions(c, x))
}

fn cannot(e: &Expr, x: &Expr) -> String {
    format!("cannot differentiate `{}` in `{}` (sums, products, powers, `dot`, `norm(…)^2` and quadratic forms are)", text::expr(e), text::expr(x))
}

fn add(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Expr::bin(BinOp::Add, a, b)),
        (a, b) => a.or(b),
    }
}

fn times(c: Expr, v: Option<Expr>) -> Option<Expr> {
    v.map(|v| Expr::bin(BinOp::Mul, c, v))
}

fn negated(v: Option<Expr>) -> Option<Expr> {
    v.map(|v| Expr::new(ExprKind::Neg(Box::new(v.clone())), v.span))
}

/// The gradient of a scalar, `None` where it is zero.
fn grad(e: &Expr, x: &Expr, kinds: &Kinds) -> Result<Option<Expr>, String> {
    if !mentions(e, x) {
        return Ok(None);
    }
    let scalar = |a: &Expr| kinds.of(a) == Kind::Scalar;
    Ok(match &e.kind {
        ExprKind::Neg(a) => negated(grad(a, x, kinds)?),
        ExprKind::Bin(BinOp::Add, a, b) => add(grad(a, x, kinds)?, grad(b, x, kinds)?),
        ExprKind::Bin(BinOp::Sub, a, b) => add(grad(a, x, kinds)?, negated(grad(b, x, kinds)?)),
        ExprKind::Bin(BinOp::Mul, a, b) if scalar(a) && scalar(b) => {
            add(times((**a).clone(), grad(b, x, kinds)?), times((**b).clone(), grad(a, x, kinds)?))
        }
        // A scalar written as a product of vectors and matrices: `u^T*v`, `u^T*A*v`.
        ExprKind::Bin(BinOp::Mul, ..) => {
            let mut factors = Vec::new();
            flatten(e, &mut factors);
            let ExprKind::Transpose(u) = &factors[0].kind else { return Err(cannot(e, x)) };
            if kinds.of(u) != Kind::Vector {
                return Err(cannot(e, x));
            }
            let rest = factors[1..].iter().cloned().reduce(|p, f| Expr::bin(BinOp::Mul, p, f)).ok_or_else(|| cannot(e, x))?;
            add(pullback(u, &rest, x, kinds)?, pullback(&rest, u, x, kinds)?)
        }
        ExprKind::Bin(BinOp::Div, a, c) if !mentions(c, x) => times(Expr::bin(BinOp::Div, Expr::int(1, c.span), (**c).clone()), grad(a, x, kinds)?),
        ExprKind::Bin(BinOp::Div, a, c) => {
            // (c ∇a − a ∇c) / c²
            let numerator = add(times((**c).clone(), grad(a, x, kinds)?), negated(times((**a).clone(), grad(c, x, kinds)?)));
            let square = Expr::bin(BinOp::Pow, (**c).clone(), Expr::int(2, c.span));
            times(Expr::bin(BinOp::Div, Expr::int(1, c.span), square), numerator)
        }
        ExprKind::Bin(BinOp::Pow, base, k) => {
            let Some(k) = k.rational() else { return Err(cannot(e, x)) };
            if let (ExprKind::Builtin(Func::Norm, args), true) = (&base.kind, k == BigRational::from_integer(2.into())) {
                return Ok(twice(pullback(&args[0], &args[0], x, kinds)?));
            }
            if !scalar(base) {
                return Err(cannot(e, x));
            }
            if k.is_zero() {
                return Ok(None);
            }
            let lower = if (k.clone() - BigRational::one()).is_one() {
                (**base).clone()
            } else {
                Expr::bin(BinOp::Pow, (**base).clone(), Expr::num(k.clone() - BigRational::one(), e.span))
            };
            times(Expr::bin(BinOp::Mul, Expr::num(k, e.span), lower), grad(base, x, kinds)?)
        }
        ExprKind::Builtin(Func::Dot, args) => add(pullback(&args[0], &args[1], x, kinds)?, pullback(&args[1], &args[0], x, kinds)?),
        _ => return Err(cannot(e, x)),
    })
}

fn twice(v: Option<Expr>) -> Option<Expr> {
    v.map(|v| Expr::bin(BinOp::Mul, Expr::int(2, v.span), v))
}

fn flatten(e: &Expr, out: &mut Vec<Expr>) {
    match &e.kind {
        ExprKind::Bin(BinOp::Mul, a, b) => {
            flatten(a, out);
            flatten(b, out);
        }
        _ => out.push(e.clone()),
    }
}

/// `J_u(x)ᵀ w` for a vector `u` built from `x` by sums, scalar multiples, products with
/// matrices free of `x` and element-wise products: the gradient of `dot(u, w)` with `w` held
/// fixed. `None` where it is zero.
fn pullback(u: &Expr, w: &Expr, x: &Expr, kinds: &Kinds) -> Result<Option<Expr>, String> {
    if !mentions(u, x) {
        return Ok(None);
    }
    if u == x {
        return Ok(Some(w.clone()));
    }
    let scalar = |a: &Expr| kinds.of(a) == Kind::Scalar;
    Ok(match &u.kind {
        ExprKind::Neg(a) => negated(pullback(a, w, x, kinds)?),
        ExprKind::Bin(BinOp::Add, a, b) => add(pullback(a, w, x, kinds)?, pullback(b, w, x, kinds)?),
        ExprKind::Bin(BinOp::Sub, a, b) => add(pullback(a, w, x, kinds)?, negated(pullback(b, w, x, kinds)?)),
        ExprKind::Bin(BinOp::Mul, c, v) | ExprKind::Bin(BinOp::Mul, v, c) if scalar(c) && kinds.of(v) == Kind::Vector => {
            // (c v)ᵀ-pullback: c J_vᵀ w + ∇c (vᵀ w).
            let along = Expr::new(ExprKind::Builtin(Func::Dot, vec![(**v).clone(), w.clone()]), u.span);
            add(times((**c).clone(), pullback(v, w, x, kinds)?), times(along, grad(c, x, kinds)?))
        }
        ExprKind::Bin(BinOp::Mul, a, v) if kinds.of(a) == Kind::Matrix && !mentions(a, x) => {
            let back = Expr::bin(BinOp::Mul, Expr::new(ExprKind::Transpose(a.clone()), a.span), w.clone());
            pullback(v, &back, x, kinds)?
        }
        ExprKind::Builtin(Func::EMul, args) => {
            let with = |other: &Expr| Expr::new(ExprKind::Builtin(Func::EMul, vec![other.clone(), w.clone()]), u.span);
            add(pullback(&args[0], &with(&args[1]), x, kinds)?, pullback(&args[1], &with(&args[0]), x, kinds)?)
        }
        _ => return Err(cannot(u, x)),
    })
}
