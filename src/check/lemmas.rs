//! The built-in lemmas as rewrites: sums, geometric series, linearity of expectation, the
//! Gaussian moment-generating function, softmax, transposes. Their statements and their own
//! evidence live in `library.md`, a literate file checked like a user's whenever a file
//! cites one of them.
//!
//! Normalizations that are always sound and cheap (a sum's constant factors pulled out, its
//! index shifted to start at 0, sums of concrete length written out) are not lemmas: the
//! symbolic layer applies them to every expression before comparing.

use std::collections::HashMap;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use super::rewrite::{Affine, Context, canonical_index, canonical_indices};
use super::symbolic::Kinds;
use crate::diagnostic::Span;
use crate::language::ast::{BigOp, BinOp, Expr, ExprKind, Fact, Kind, Rel};

/// A built-in lemma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lemma {
    Sum,
    Geometric,
    Linearity,
    GaussianMgf,
    Softmax,
    Transpose,
}

pub const ALL: &[Lemma] = &[Lemma::Sum, Lemma::Geometric, Lemma::Linearity, Lemma::GaussianMgf, Lemma::Softmax, Lemma::Transpose];

impl Lemma {
    pub fn name(self) -> &'static str {
        match self {
            Lemma::Sum => "sum",
            Lemma::Geometric => "geometric",
            Lemma::Linearity => "linearity",
            Lemma::GaussianMgf => "gaussian_mgf",
            Lemma::Softmax => "softmax",
            Lemma::Transpose => "transpose",
        }
    }

    /// Every expression obtained from `e` by one use of this lemma at one position.
    pub fn rewrites(self, e: &Expr, ctx: &Context, random: &dyn Fn(&Expr) -> bool) -> Vec<Expr> {
        let mut out = Vec::new();
        everywhere(
            e,
            ctx,
            &mut |sub, ctx| match self {
                Lemma::Sum => split_sum(sub, ctx),
                Lemma::Geometric => geometric(sub, &ctx.kinds).into_iter().collect(),
                Lemma::Linearity => linearity(sub, random).into_iter().collect(),
                Lemma::GaussianMgf => gaussian_mgf(sub).into_iter().collect(),
                Lemma::Softmax => softmax(sub).into_iter().collect(),
                // Transposes are normalized by the symbolic layer; the lemma only names it.
                Lemma::Transpose => Vec::new(),
            },
            &mut out,
        );
        out
    }
}

/// Applies `f` at every position of `e`; results are whole expressions. Inside a sum, the
/// context knows `lo <= i <= hi` for its index.
pub fn everywhere(e: &Expr, ctx: &Context, f: &mut dyn FnMut(&Expr, &Context) -> Vec<Expr>, out: &mut Vec<Expr>) {
    out.extend(f(e, ctx));
    let children = e.children();
    for (i, child) in children.iter().enumerate() {
        let inner_ctx;
        let ctx = match &e.kind {
            // Entering a binder: facts about an outer variable of the same name no longer
            // apply; a sum's index is known to lie between its bounds.
            _ if i == children.len() - 1 && e.binds().is_some() => {
                let var = e.binds().unwrap_or_default();
                let mut facts: Vec<Fact> = ctx.facts.iter().filter(|f| !f.lhs.mentions(var) && !f.rhs.mentions(var)).cloned().collect();
                if let ExprKind::BigOp { lo, hi, .. } = &e.kind {
                    let v = Expr::name(var, e.span);
                    facts.push(Fact { lhs: v.clone(), rel: Rel::Ge, rhs: (**lo).clone() });
                    facts.push(Fact { lhs: v, rel: Rel::Le, rhs: (**hi).clone() });
                }
                let mut kinds = ctx.kinds.clone();
                let bound_kind = if matches!(e.kind, ExprKind::Expect { .. }) { Kind::Vector } else { Kind::Integer };
                kinds.0.insert(var.to_string(), bound_kind);
                inner_ctx = Context { facts, kinds, random: ctx.random.clone() };
                &inner_ctx
            }
            _ => ctx,
        };
        let mut inner = Vec::new();
        everywhere(child, ctx, f, &mut inner);
        for replacement in inner {
            let mut new: Vec<Expr> = children.iter().map(|c| (*c).clone()).collect();
            new[i] = replacement;
            out.push(e.with_children(new));
        }
    }
}

fn int(k: i64, span: Span) -> Expr {
    Expr::int(k, span)
}

fn sub1(e: &Expr, k: i64) -> Expr {
    canonical_index(&Expr::bin(BinOp::Add, e.clone(), int(k, e.span)))
}

/// `sum(i, a, b, f)` → `sum(i, a, b-1, f) + f(b)` and `f(a) + sum(i, a+1, b, f)`, where
/// `b >= a` is known.
fn split_sum(e: &Expr, ctx: &Context) -> Vec<Expr> {
    let ExprKind::BigOp { op: BigOp::Sum, var, lo, hi, body } = &e.kind else { return Vec::new() };
    let nonempty = Fact { lhs: (**hi).clone(), rel: Rel::Ge, rhs: (**lo).clone() };
    if !ctx.proves(&nonempty) {
        return Vec::new();
    }
    let at = |k: &Expr| canonical_indices(&body.substitute(&HashMap::from([(var.clone(), k.clone())])));
    let sum = |a: Expr, b: Expr| {
        Expr::new(ExprKind::BigOp { op: BigOp::Sum, var: var.clone(), lo: Box::new(a), hi: Box::new(b), body: body.clone() }, e.span)
    };
    vec![Expr::bin(BinOp::Add, sum((**lo).clone(), sub1(hi, -1)), at(hi)), Expr::bin(BinOp::Add, at(lo), sum(sub1(lo, 1), (**hi).clone()))]
}

/// A sum in normal form: index from 0, constant scalar factors outside (vectors and matrices
/// stay where they are: they do not commute). Returns the outside factors and the remaining
/// sum (or `None` when `e` is not a sum).
pub fn sum_parts(e: &Expr, kinds: &Kinds) -> Option<(Vec<Expr>, Expr)> {
    let ExprKind::BigOp { op: BigOp::Sum, var, lo, hi, body } = &e.kind else { return None };
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

/// `c · sum(j, 0, n, x^(±j))` → `c · (1 - x^(±(n+1))) / (1 - x^(±1))`.
fn geometric(e: &Expr, kinds: &Kinds) -> Option<Expr> {
    let (outside, sum) = sum_parts(e, kinds)?;
    let ExprKind::BigOp { var, hi, body, .. } = &sum.kind else { return None };
    let ExprKind::Bin(BinOp::Pow, base, exponent) = &body.kind else { return None };
    let a = Affine::of(exponent)?;
    if base.mentions(var) || a.terms.len() != 1 || !a.constant.is_zero() {
        return None;
    }
    let k = a.terms.get(var.as_str())?.clone();
    if !k.abs().is_one() {
        return None;
    }
    let span = e.span;
    let ratio = Expr::bin(BinOp::Pow, (**base).clone(), Expr::num(BigRational::from_integer(k.clone()), span));
    let n_plus_1 = Expr::bin(BinOp::Add, (**hi).clone(), int(1, span));
    let top = Expr::bin(
        BinOp::Sub,
        int(1, span),
        Expr::bin(BinOp::Pow, (**base).clone(), Expr::bin(BinOp::Mul, Expr::num(BigRational::from_integer(k), span), n_plus_1)),
    );
    let closed = Expr::bin(BinOp::Div, top, Expr::bin(BinOp::Sub, int(1, span), ratio));
    Some(outside.into_iter().fold(closed, |acc, f| Expr::bin(BinOp::Mul, f, acc)))
}

/// One step of pushing `E` inward: over sums and differences, past non-random factors,
/// into `sum(…)`, and `E[c] = c`.
fn linearity(e: &Expr, random: &dyn Fn(&Expr) -> bool) -> Option<Expr> {
    let ExprKind::Expect { gaussian, body } = &e.kind else { return None };
    let wrap = |b: Expr| Expr::new(ExprKind::Expect { gaussian: gaussian.clone(), body: Box::new(b) }, e.span);
    let bound = gaussian.as_ref().map(|(v, ..)| v.as_str());
    let is_random = |x: &Expr| random(x) || bound.is_some_and(|v| x.mentions(v));
    if !is_random(body) {
        return Some((**body).clone());
    }
    Some(match &body.kind {
        ExprKind::Bin(op @ (BinOp::Add | BinOp::Sub), a, b) => Expr::bin(*op, wrap((**a).clone()), wrap((**b).clone())),
        ExprKind::Neg(a) => Expr::new(ExprKind::Neg(Box::new(wrap((**a).clone()))), e.span),
        ExprKind::Bin(BinOp::Mul, a, b) if !is_random(a) => Expr::bin(BinOp::Mul, (**a).clone(), wrap((**b).clone())),
        ExprKind::Bin(BinOp::Mul, a, b) if !is_random(b) => Expr::bin(BinOp::Mul, wrap((**a).clone()), (**b).clone()),
        ExprKind::Bin(BinOp::Div, a, b) if !is_random(b) => Expr::bin(BinOp::Div, wrap((**a).clone()), (**b).clone()),
        ExprKind::BigOp { op: BigOp::Sum, var, lo, hi, body: inner } if !is_random(lo) && !is_random(hi) => Expr::new(
            ExprKind::BigOp { op: BigOp::Sum, var: var.clone(), lo: lo.clone(), hi: hi.clone(), body: Box::new(wrap((**inner).clone())) },
            e.span,
        ),
        _ => return None,
    })
}

/// `E(x ~ N(0, I))[exp(dot(x, w))] = exp(norm(w)^2/2)` with `w` free of `x`, either way.
fn gaussian_mgf(e: &Expr) -> Option<Expr> {
    let span = e.span;
    let standard =
        |mean: &Expr, cov: &Expr| matches!(&mean.kind, ExprKind::Num(n) if n.is_zero()) && matches!(&cov.kind, ExprKind::Name(n) if n == "I");
    if let ExprKind::Expect { gaussian: Some((x, mean, cov)), body } = &e.kind {
        if !standard(mean, cov) {
            return None;
        }
        let ExprKind::Call(f, args) = &body.kind else { return None };
        let ExprKind::Call(d, pair) = &args.first()?.kind else { return None };
        if f != "exp" || d != "dot" {
            return None;
        }
        let w = match (&pair[0].kind, &pair[1].kind) {
            (ExprKind::Name(n), _) if n == x => &pair[1],
            (_, ExprKind::Name(n)) if n == x => &pair[0],
            _ => return None,
        };
        if w.mentions(x) {
            return None;
        }
        let norm2 = Expr::bin(BinOp::Pow, Expr::new(ExprKind::Call("norm".into(), vec![w.clone()]), span), int(2, span));
        return Some(Expr::new(ExprKind::Call("exp".into(), vec![Expr::bin(BinOp::Div, norm2, int(2, span))]), span));
    }
    // Backward: exp(norm(w)^2/2) → E(x ~ N(0, I))[exp(dot(x, w))].
    let ExprKind::Call(f, args) = &e.kind else { return None };
    let ExprKind::Bin(BinOp::Div, top, two) = &args.first()?.kind else { return None };
    let ExprKind::Bin(BinOp::Pow, norm, power) = &top.kind else { return None };
    let ExprKind::Call(n, w) = &norm.kind else { return None };
    let is_two = |x: &Expr| matches!(&x.kind, ExprKind::Num(k) if *k == BigRational::from_integer(2.into()));
    if f != "exp" || n != "norm" || !is_two(two) || !is_two(power) {
        return None;
    }
    let x = fresh("x", &w[0]);
    let dot = Expr::new(ExprKind::Call("dot".into(), vec![Expr::name(&x, span), w[0].clone()]), span);
    let body = Expr::new(ExprKind::Call("exp".into(), vec![dot]), span);
    Some(Expr::new(ExprKind::Expect { gaussian: Some((x, Box::new(int(0, span)), Box::new(Expr::name("I", span)))), body: Box::new(body) }, span))
}

/// A variable name not occurring in `e`.
fn fresh(base: &str, e: &Expr) -> String {
    (0..).map(|k| if k == 0 { base.to_string() } else { format!("{base}{k}") }).find(|n| !e.mentions(n)).unwrap_or_default()
}

/// `softmax_row(X)` → `diag(exp_elem(X)*ones)^-1 * exp_elem(X)`; columns likewise.
fn softmax(e: &Expr) -> Option<Expr> {
    let ExprKind::Call(f, args) = &e.kind else { return None };
    let span = e.span;
    let exp = Expr::new(ExprKind::Call("exp_elem".into(), vec![args.first()?.clone()]), span);
    let inv = |m: Expr| Expr::bin(BinOp::Pow, m, Expr::new(ExprKind::Neg(Box::new(int(1, span))), span));
    let diag = |v: Expr| Expr::new(ExprKind::Call("diag".into(), vec![v]), span);
    let ones = Expr::name("ones", span);
    match f.as_str() {
        "softmax_row" => Some(Expr::bin(BinOp::Mul, inv(diag(Expr::bin(BinOp::Mul, exp.clone(), ones))), exp)),
        "softmax_col" => {
            let col_sums = Expr::new(
                ExprKind::Transpose(Box::new(Expr::bin(BinOp::Mul, Expr::new(ExprKind::Transpose(Box::new(ones)), span), exp.clone()))),
                span,
            );
            Some(Expr::bin(BinOp::Mul, exp, inv(diag(col_sums))))
        }
        _ => None,
    }
}

/// Writes sums in normal form throughout: concrete-length sums expanded (empty ones are 0),
/// the others shifted to start at 0 with constant factors outside and split over `+`.
pub fn normalize_sums(e: &Expr, kinds: &Kinds) -> Expr {
    let e = e.with_children(e.children().into_iter().map(|c| normalize_sums(c, kinds)).collect());
    let ExprKind::BigOp { op, var, lo, hi, body } = &e.kind else { return e };
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
