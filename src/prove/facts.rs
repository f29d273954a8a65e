//! Deciding conditions from what is known where a rewrite happens: `for` conditions, the
//! induction's facts, sum ranges, `assume` facts, and the side conditions of the claim being
//! proved. Two sound procedures, tried in turn; unknown is `false`:
//!
//! - linear: `d >= 0` (or `> 0`) for a linear `d`, from the constant bounds of its variables
//!   or from one known fact plus such bounds (`t >= 2` gives `t - 1 >= 1`; `i <= t - 1` gives
//!   `i < t`). A strict fact becomes `>= 1` only when every term is an integer: `x > -1` says
//!   nothing about `x >= 0` for a real `x`.
//! - intervals (`sign`): an enclosure of `d` from the known ranges of its parts, for what is
//!   not linear (`1 - beta^t > 0` from `0 < beta < 1` and `t >= 1`).

use std::collections::BTreeMap;

use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use super::rewrite::Context;
use crate::language::ast::{BinOp, Expr, ExprKind, Fact, Kind, Rel};

/// `c + Σ k·v` with rational coefficients.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Linear {
    pub(super) constant: BigRational,
    pub(super) terms: BTreeMap<String, BigRational>,
}

impl Linear {
    fn constant(c: BigRational) -> Linear {
        Linear { constant: c, terms: BTreeMap::new() }
    }

    pub(super) fn of(e: &Expr) -> Option<Linear> {
        match &e.kind {
            ExprKind::Num(n) => Some(Linear::constant(n.clone())),
            ExprKind::Name(v) => Some(Linear { constant: BigRational::zero(), terms: BTreeMap::from([(v.clone(), BigRational::one())]) }),
            ExprKind::Neg(a) => Some(Linear::of(a)?.scale(&-BigRational::one())),
            ExprKind::Bin(BinOp::Add, a, b) => Some(Linear::of(a)?.plus(&Linear::of(b)?)),
            ExprKind::Bin(BinOp::Sub, a, b) => Some(Linear::of(a)?.minus(&Linear::of(b)?)),
            ExprKind::Bin(BinOp::Mul, a, b) => {
                let (a, b) = (Linear::of(a)?, Linear::of(b)?);
                if a.terms.is_empty() {
                    Some(b.scale(&a.constant))
                } else if b.terms.is_empty() {
                    Some(a.scale(&b.constant))
                } else {
                    None
                }
            }
            ExprKind::Bin(BinOp::Div, a, b) => {
                let b = Linear::of(b)?;
                (b.terms.is_empty() && !b.constant.is_zero()).then(|| Linear::of(a).map(|a| a.scale(&b.constant.recip())))?
            }
            _ => None,
        }
    }

    fn plus(&self, other: &Linear) -> Linear {
        let mut out = self.clone();
        out.constant += &other.constant;
        for (v, k) in &other.terms {
            *out.terms.entry(v.clone()).or_insert_with(BigRational::zero) += k;
        }
        out.terms.retain(|_, k| !k.is_zero());
        out
    }

    fn minus(&self, other: &Linear) -> Linear {
        self.plus(&other.scale(&-BigRational::one()))
    }

    fn scale(&self, k: &BigRational) -> Linear {
        let mut out = Linear { constant: &self.constant * k, terms: self.terms.iter().map(|(v, c)| (v.clone(), c * k)).collect() };
        out.terms.retain(|_, c| !c.is_zero());
        out
    }

    /// Whether it takes only whole values: whole coefficients over integer variables.
    fn integral(&self, ctx: &Context) -> bool {
        self.constant.is_integer() && self.terms.iter().all(|(v, k)| k.is_integer() && ctx.is_integer_name(v))
    }
}

/// `l >= 0`, or `l > 0` when strict.
#[derive(Debug, Clone)]
pub(super) struct Bound {
    pub(super) l: Linear,
    pub(super) strict: bool,
}

impl Bound {
    /// A strict bound on whole values is the non-strict one shifted by one.
    fn tightened(self, ctx: &Context) -> Bound {
        if self.strict && self.l.integral(ctx) { Bound { l: self.l.minus(&Linear::constant(BigRational::one())), strict: false } } else { self }
    }
}

impl Context {
    /// Whether `fact` follows from the context.
    pub fn proves(&self, fact: &Fact) -> bool {
        if self.facts.iter().any(|f| same_fact(f, fact)) {
            return true;
        }
        let difference = Expr::bin(BinOp::Sub, fact.lhs.clone(), fact.rhs.clone());
        // A fact about vectors holds entry by entry: only the entrywise signs decide it, never
        // the scalar procedures below, which would read a vector as one number.
        if self.kinds.of(&fact.lhs) != Kind::Scalar || self.kinds.of(&fact.rhs) != Kind::Scalar {
            let d = if fact.rhs.rational().is_some_and(|q| q.is_zero()) { fact.lhs.clone() } else { difference };
            let flipped = || Expr::bin(BinOp::Sub, fact.rhs.clone(), fact.lhs.clone());
            return match fact.rel {
                Rel::Ge => self.entrywise(&d, false),
                Rel::Gt => self.entrywise(&d, true),
                Rel::Le => self.entrywise(&flipped(), false),
                Rel::Lt => self.entrywise(&flipped(), true),
                Rel::Ne => self.entrywise(&d, true) || self.entrywise(&flipped(), true),
                Rel::Eq | Rel::To => false,
            };
        }
        if let Some(d) = Linear::of(&difference) {
            let neg = d.scale(&-BigRational::one());
            let linear = match fact.rel {
                Rel::Ge => self.at_least_zero(Bound { l: d, strict: false }),
                Rel::Gt => self.at_least_zero(Bound { l: d, strict: true }),
                Rel::Le => self.at_least_zero(Bound { l: neg, strict: false }),
                Rel::Lt => self.at_least_zero(Bound { l: neg, strict: true }),
                Rel::Eq => self.at_least_zero(Bound { l: d, strict: false }) && self.at_least_zero(Bound { l: neg, strict: false }),
                Rel::Ne => self.at_least_zero(Bound { l: d, strict: true }) || self.at_least_zero(Bound { l: neg, strict: true }),
                Rel::To => false,
            };
            if linear {
                return true;
            }
        }
        self.interval(&difference).satisfies(fact.rel)
    }

    /// Whether a name stands for whole numbers only (summation and index variables, `for`
    /// variables that are integers, `let n: integer`).
    pub(super) fn is_integer_name(&self, name: &str) -> bool {
        matches!(self.kinds.get(name), Some(Kind::Integer))
    }

    /// The known facts as linear bounds (those that are linear).
    pub(super) fn bounds(&self) -> Vec<Bound> {
        let mut out = Vec::new();
        // A fact about vectors (entry by entry) is no bound on a number.
        let scalar = |e: &Expr| self.kinds.of(e) == Kind::Scalar;
        for f in self.facts.iter().filter(|f| scalar(&f.lhs) && scalar(&f.rhs)) {
            let Some(d) = Linear::of(&f.lhs).zip(Linear::of(&f.rhs)).map(|(l, r)| l.minus(&r)) else { continue };
            let neg = d.scale(&-BigRational::one());
            let mut push = |l: Linear, strict| out.push(Bound { l, strict }.tightened(self));
            match f.rel {
                Rel::Ge => push(d, false),
                Rel::Gt => push(d, true),
                Rel::Le => push(neg, false),
                Rel::Lt => push(neg, true),
                Rel::Eq => {
                    push(d, false);
                    push(neg, false);
                }
                Rel::Ne | Rel::To => {}
            }
        }
        out
    }

    /// Whether `goal` (`l >= 0` or `l > 0`) follows from constant bounds of its variables, or
    /// from one known bound plus such bounds.
    fn at_least_zero(&self, goal: Bound) -> bool {
        let goal = goal.tightened(self);
        let bounds = self.bounds();
        let holds_by_box = |l: &Linear, strict: bool| -> bool {
            // The least value of `l` over the box of single-variable bounds.
            let mut least = l.constant.clone();
            let mut least_strict = false;
            for (v, k) in &l.terms {
                let candidates = bounds.iter().filter(|b| b.l.terms.len() == 1 && b.l.terms.contains_key(v));
                // `c·v + d >= 0` bounds `v` below when c > 0 (v >= -d/c), above when c < 0.
                let best = candidates
                    .filter_map(|b| {
                        let c = &b.l.terms[v];
                        (c.is_positive() == k.is_positive()).then(|| (-&b.l.constant / c, b.strict))
                    })
                    .reduce(|a, b| {
                        let better = if k.is_positive() { b.0 > a.0 || (b.0 == a.0 && b.1) } else { b.0 < a.0 || (b.0 == a.0 && b.1) };
                        if better { b } else { a }
                    });
                let Some((value, strict)) = best else { return false };
                least += k * value;
                least_strict |= strict;
            }
            least.is_positive() || (least.is_zero() && (!strict || least_strict))
        };
        if holds_by_box(&goal.l, goal.strict) {
            return true;
        }
        // goal = fact + rest, with rest >= 0 by the box.
        bounds.iter().any(|b| {
            let rest = goal.l.minus(&b.l);
            holds_by_box(&rest, goal.strict && !b.strict)
        })
    }
}

/// The same fact, read either way round (`a < b` is `b > a`).
fn same_fact(known: &Fact, goal: &Fact) -> bool {
    (known.rel == goal.rel && known.lhs == goal.lhs && known.rhs == goal.rhs)
        || (known.rel == goal.rel.flipped() && known.lhs == goal.rhs && known.rhs == goal.lhs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;
    use crate::language::Kinds;

    fn name(n: &str) -> Expr {
        Expr::name(n, Span::default())
    }

    fn int(k: i64) -> Expr {
        Expr::int(k, Span::default())
    }

    fn fact(lhs: Expr, rel: Rel, rhs: Expr) -> Fact {
        Fact { lhs, rel, rhs }
    }

    fn ctx(facts: Vec<Fact>, integers: &[&str]) -> Context {
        let kinds = Kinds(integers.iter().map(|n| (n.to_string(), Kind::Integer)).collect());
        Context { facts, kinds, ..Context::default() }
    }

    #[test]
    fn integer_facts_are_strengthened_and_real_ones_are_not() {
        // t > 1 for an integer t gives t >= 2; for a real x, x > -1 does not give x >= 0.
        let c = ctx(vec![fact(name("t"), Rel::Gt, int(1)), fact(name("x"), Rel::Gt, int(-1))], &["t"]);
        assert!(c.proves(&fact(name("t"), Rel::Ge, int(2))));
        assert!(!c.proves(&fact(name("x"), Rel::Ge, int(0))));
        assert!(c.proves(&fact(name("x"), Rel::Gt, int(-2))));
        assert!(c.proves(&fact(name("x"), Rel::Ne, int(-1))));
        // t < x with x real is not t <= x - 1.
        let c = ctx(vec![fact(name("t"), Rel::Lt, name("x"))], &["t"]);
        assert!(!c.proves(&fact(name("t"), Rel::Le, Expr::bin(BinOp::Sub, name("x"), int(1)))));
        let c = ctx(vec![fact(name("t"), Rel::Lt, name("n"))], &["t", "n"]);
        assert!(c.proves(&fact(name("t"), Rel::Le, Expr::bin(BinOp::Sub, name("n"), int(1)))));
    }

    #[test]
    fn rational_bounds_and_one_fact_combine() {
        let half = Expr::num(BigRational::new(1.into(), 2.into()), Span::default());
        let c = ctx(vec![fact(name("a"), Rel::Gt, half.clone()), fact(name("i"), Rel::Le, Expr::bin(BinOp::Sub, name("t"), int(1)))], &["i", "t"]);
        assert!(c.proves(&fact(Expr::bin(BinOp::Mul, int(2), name("a")), Rel::Gt, int(1))));
        assert!(!c.proves(&fact(Expr::bin(BinOp::Mul, int(2), name("a")), Rel::Gt, int(2))));
        assert!(c.proves(&fact(name("i"), Rel::Lt, name("t"))));
    }
}
