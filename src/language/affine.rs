//! Integer index arithmetic, shared by the symbolic layer and the numeric models: an index
//! such as `t - 1 + 1` is an affine form `c + Σ k·v`, written canonically (`t`) so that
//! equal indices look equal.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use super::ast::{BinOp, Expr, ExprKind};

/// `c + Σ k·v` with integer coefficients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affine {
    pub constant: BigInt,
    pub terms: BTreeMap<String, BigInt>,
}

impl Affine {
    pub fn constant(c: BigInt) -> Affine {
        Affine { constant: c, terms: BTreeMap::new() }
    }

    /// The variable `v` itself.
    pub fn var(v: &str) -> Affine {
        Affine { constant: BigInt::zero(), terms: BTreeMap::from([(v.to_string(), BigInt::one())]) }
    }

    pub fn of(e: &Expr) -> Option<Affine> {
        match &e.kind {
            ExprKind::Num(n) if n.is_integer() => Some(Affine::constant(n.to_integer())),
            ExprKind::Name(v) => Some(Affine::var(v)),
            ExprKind::Neg(a) => Affine::of(a).map(|a| a.scale(&-BigInt::one())),
            ExprKind::Bin(BinOp::Add, a, b) => Some(Affine::of(a)?.plus(&Affine::of(b)?)),
            ExprKind::Bin(BinOp::Sub, a, b) => Some(Affine::of(a)?.plus(&Affine::of(b)?.scale(&-BigInt::one()))),
            ExprKind::Bin(BinOp::Mul, a, b) => {
                let (a, b) = (Affine::of(a)?, Affine::of(b)?);
                if a.terms.is_empty() {
                    Some(b.scale(&a.constant))
                } else if b.terms.is_empty() {
                    Some(a.scale(&b.constant))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    pub fn plus(&self, other: &Affine) -> Affine {
        let mut out = self.clone();
        out.constant += &other.constant;
        for (v, k) in &other.terms {
            *out.terms.entry(v.clone()).or_insert_with(BigInt::zero) += k;
        }
        out.terms.retain(|_, k| !k.is_zero());
        out
    }

    pub fn scale(&self, k: &BigInt) -> Affine {
        let mut out = Affine { constant: &self.constant * k, terms: self.terms.iter().map(|(v, c)| (v.clone(), c * k)).collect() };
        out.terms.retain(|_, k| !k.is_zero());
        out
    }

    /// The canonical expression: variables in name order, then the constant (`t - 1`).
    pub fn to_expr(&self, span: crate::diagnostic::Span) -> Expr {
        let mut out: Option<Expr> = None;
        for (v, k) in &self.terms {
            let var = Expr::name(v, span);
            let term = if k.abs().is_one() { var } else { Expr::bin(BinOp::Mul, Expr::num(BigRational::from_integer(k.abs()), span), var) };
            out = Some(match out {
                None if k.is_negative() => Expr::new(ExprKind::Neg(Box::new(term)), span),
                None => term,
                Some(acc) => Expr::bin(if k.is_negative() { BinOp::Sub } else { BinOp::Add }, acc, term),
            });
        }
        let c = &self.constant;
        match out {
            None => Expr::num(BigRational::from_integer(c.clone()), span),
            Some(acc) if c.is_zero() => acc,
            Some(acc) => Expr::bin(if c.is_negative() { BinOp::Sub } else { BinOp::Add }, acc, Expr::num(BigRational::from_integer(c.abs()), span)),
        }
    }
}

/// An integer expression written canonically (`t - 1 + 1` → `t`), or as it is.
pub fn canonical_index(e: &Expr) -> Expr {
    Affine::of(e).map_or_else(|| canonical_indices(e), |a| a.to_expr(e.span))
}

/// Rewrites `e` with every integer index written canonically (`t - 1 + 1` → `t`), so that
/// syntactic matching sees equal indices as equal.
pub fn canonical_indices(e: &Expr) -> Expr {
    match &e.kind {
        ExprKind::Index(n, args) => Expr::new(ExprKind::Index(n.clone(), args.iter().map(canonical_index).collect()), e.span),
        _ => e.with_children(e.children().into_iter().map(canonical_indices).collect()),
    }
}
