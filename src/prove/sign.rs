//! Interval enclosures of scalar expressions, for signs: the positivity procedure of the
//! symbolic layer. An expression's interval comes from its structure (a square is at least 0,
//! `exp` positive, norms and `abs` nonnegative, `lambda_max(XᵀX)` nonnegative, `b^n` in (0, 1) for `b` in (0, 1) and a whole `n >= 1`) and from the
//! known facts about it or its parts. Every rule here is an over-approximation: the true value
//! always lies in the interval, so a sign read off it is proved.

use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use super::rewrite::Context;
use crate::language::ast::{BinOp, Expr, ExprKind, Rel};
use crate::language::builtins::Func;

/// One end of an interval: a number (attained or not), or unbounded.
#[derive(Debug, Clone, PartialEq)]
enum End {
    Unbounded,
    At(BigRational, bool),
}

/// A set of reals `[lo, hi]` (ends open or closed, possibly unbounded), and whether 0 is known
/// to be left out even though it lies between the ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    lo: End,
    hi: End,
    nonzero: bool,
}

/// How deep facts about parts are followed (facts may refer to each other).
const DEPTH: usize = 6;

impl Interval {
    pub fn all() -> Interval {
        Interval { lo: End::Unbounded, hi: End::Unbounded, nonzero: false }
    }

    pub fn point(q: BigRational) -> Interval {
        Interval { lo: End::At(q.clone(), true), hi: End::At(q, true), nonzero: false }
    }

    pub fn at_least(q: BigRational, strict: bool) -> Interval {
        Interval { lo: End::At(q, !strict), ..Interval::all() }
    }

    pub fn at_most(q: BigRational, strict: bool) -> Interval {
        Interval { hi: End::At(q, !strict), ..Interval::all() }
    }

    fn positive() -> Interval {
        Interval::at_least(BigRational::zero(), true)
    }

    fn nonnegative() -> Interval {
        Interval::at_least(BigRational::zero(), false)
    }

    /// The intersection.
    pub fn meet(&self, other: &Interval) -> Interval {
        let lo = match (&self.lo, &other.lo) {
            (End::Unbounded, e) | (e, End::Unbounded) => e.clone(),
            (End::At(a, ca), End::At(b, cb)) => {
                if a > b {
                    End::At(a.clone(), *ca)
                } else if b > a {
                    End::At(b.clone(), *cb)
                } else {
                    End::At(a.clone(), *ca && *cb)
                }
            }
        };
        let hi = match (&self.hi, &other.hi) {
            (End::Unbounded, e) | (e, End::Unbounded) => e.clone(),
            (End::At(a, ca), End::At(b, cb)) => {
                if a < b {
                    End::At(a.clone(), *ca)
                } else if b < a {
                    End::At(b.clone(), *cb)
                } else {
                    End::At(a.clone(), *ca && *cb)
                }
            }
        };
        Interval { lo, hi, nonzero: self.nonzero || other.nonzero }
    }

    /// The interval of a whole-number quantity: ends rounded inwards.
    pub fn whole(self) -> Interval {
        let lo = match self.lo {
            End::At(q, closed) => {
                let c = q.ceil();
                End::At(if !closed && c == q { c + BigRational::one() } else { c }, true)
            }
            e => e,
        };
        let hi = match self.hi {
            End::At(q, closed) => {
                let f = q.floor();
                End::At(if !closed && f == q { f - BigRational::one() } else { f }, true)
            }
            e => e,
        };
        Interval { lo, hi, nonzero: self.nonzero }
    }

    fn above_zero(&self) -> bool {
        matches!(&self.lo, End::At(q, closed) if q.is_positive() || (q.is_zero() && !closed))
    }

    fn at_or_above_zero(&self) -> bool {
        matches!(&self.lo, End::At(q, _) if !q.is_negative())
    }

    fn below_zero(&self) -> bool {
        matches!(&self.hi, End::At(q, closed) if q.is_negative() || (q.is_zero() && !closed))
    }

    fn at_or_below_zero(&self) -> bool {
        matches!(&self.hi, End::At(q, _) if !q.is_positive())
    }

    pub fn excludes_zero(&self) -> bool {
        self.nonzero || self.above_zero() || self.below_zero()
    }

    /// Whether every value `x` of the interval satisfies `x REL 0`.
    pub fn satisfies(&self, rel: Rel) -> bool {
        match rel {
            Rel::Gt => self.above_zero(),
            Rel::Ge => self.at_or_above_zero(),
            Rel::Lt => self.below_zero(),
            Rel::Le => self.at_or_below_zero(),
            Rel::Ne => self.excludes_zero(),
            Rel::To => false,
            Rel::Eq => self.lo == End::At(BigRational::zero(), true) && self.hi == End::At(BigRational::zero(), true),
        }
    }

    fn neg(&self) -> Interval {
        let flip = |e: &End| match e {
            End::At(q, c) => End::At(-q, *c),
            End::Unbounded => End::Unbounded,
        };
        Interval { lo: flip(&self.hi), hi: flip(&self.lo), nonzero: self.nonzero }
    }

    fn add(&self, other: &Interval) -> Interval {
        let sum = |a: &End, b: &End| match (a, b) {
            (End::At(p, cp), End::At(q, cq)) => End::At(p + q, *cp && *cq),
            _ => End::Unbounded,
        };
        Interval { lo: sum(&self.lo, &other.lo), hi: sum(&self.hi, &other.hi), nonzero: false }.with_sign()
    }

    /// Sets `nonzero` where the ends already exclude zero (so products keep it).
    fn with_sign(mut self) -> Interval {
        self.nonzero = self.nonzero || self.above_zero() || self.below_zero();
        self
    }

    fn mul(&self, other: &Interval) -> Interval {
        let nonzero = self.excludes_zero() && other.excludes_zero();
        // Bounded intervals: the least and greatest of the four corner products.
        let corners = || -> Option<Interval> {
            let (End::At(a, ca), End::At(b, cb), End::At(c, cc), End::At(d, cd)) = (&self.lo, &self.hi, &other.lo, &other.hi) else { return None };
            let closed = |x: &BigRational, cx: bool, y: &BigRational, cy: bool| (cx && (cy || x.is_zero())) || (y.is_zero() && cy);
            let products =
                [(a * c, closed(a, *ca, c, *cc)), (a * d, closed(a, *ca, d, *cd)), (b * c, closed(b, *cb, c, *cc)), (b * d, closed(b, *cb, d, *cd))];
            let min = products.iter().map(|p| p.0.clone()).min()?;
            let max = products.iter().map(|p| p.0.clone()).max()?;
            let lo_closed = products.iter().any(|p| p.0 == min && p.1);
            let hi_closed = products.iter().any(|p| p.0 == max && p.1);
            Some(Interval { lo: End::At(min, lo_closed), hi: End::At(max, hi_closed), nonzero: false })
        };
        let out = corners().unwrap_or_else(|| {
            // Unbounded: signs only.
            let (p, q) = (self, other);
            let positive = (p.above_zero() && q.above_zero()) || (p.below_zero() && q.below_zero());
            let negative = (p.above_zero() && q.below_zero()) || (p.below_zero() && q.above_zero());
            let nonneg = (p.at_or_above_zero() && q.at_or_above_zero()) || (p.at_or_below_zero() && q.at_or_below_zero());
            let nonpos = (p.at_or_above_zero() && q.at_or_below_zero()) || (p.at_or_below_zero() && q.at_or_above_zero());
            if positive {
                Interval::positive()
            } else if negative {
                Interval::positive().neg()
            } else if nonneg {
                Interval::nonnegative()
            } else if nonpos {
                Interval::nonnegative().neg()
            } else {
                Interval::all()
            }
        });
        Interval { nonzero: nonzero || out.nonzero, ..out }.with_sign()
    }

    /// `1/x`, where `x` excludes zero.
    fn recip(&self) -> Interval {
        if !self.excludes_zero() {
            return Interval::all();
        }
        let inv = |e: &End| match e {
            End::At(q, c) if !q.is_zero() => Some(End::At(q.recip(), *c)),
            _ => None,
        };

        if self.above_zero() {
            // (0 or a, b] → [1/b, 1/a or ∞)
            Interval { lo: inv(&self.hi).unwrap_or(End::At(BigRational::zero(), false)), hi: inv(&self.lo).unwrap_or(End::Unbounded), nonzero: true }
        } else if self.below_zero() {
            Interval { lo: inv(&self.hi).unwrap_or(End::Unbounded), hi: inv(&self.lo).unwrap_or(End::At(BigRational::zero(), false)), nonzero: true }
        } else {
            Interval { nonzero: true, ..Interval::all() }
        }
    }

    /// `x^k` for a whole constant `k`.
    fn powi(&self, k: i64) -> Interval {
        if k == 0 {
            return Interval::point(BigRational::one());
        }
        if k < 0 {
            return self.powi(-k).recip();
        }
        let mut out = self.clone();
        for _ in 1..k {
            out = out.mul(self);
        }
        // An even power is never negative, even where the corner products say so.
        if k % 2 == 0 { out.meet(&Interval::nonnegative()) } else { out }
    }
}

impl Context {
    /// Whether every entry of the vector or matrix `e` is positive (`strict`) or nonnegative,
    /// from its structure (a scalar: itself, as the multiple of `ones` it stands for beside
    /// vectors): `ones`, `exp_elem` and the softmaxes are positive; `I`, `diag(v)`
    /// of a nonnegative `v` and `diag(v)^-1` of a positive `v` are nonnegative; transposes,
    /// sums and products of such (the inner dimension of a product is at least 1), and
    /// positive (nonnegative) multiples keep the sign.
    pub fn entrywise(&self, e: &Expr, strict: bool) -> bool {
        use crate::language::ast::Kind;
        use crate::language::builtins::{IDENTITY, ONES};
        let scalar = |x: &Expr| self.kinds.of(x) == Kind::Scalar;
        let signed = |x: &Expr| self.interval(x).satisfies(if strict { Rel::Gt } else { Rel::Ge });
        // A scalar beside vectors stands for that multiple of `ones`.
        if scalar(e) {
            return signed(e);
        }
        // A fact of the context about this very vector (a cited sign, an assumption).
        let zero = |x: &Expr| x.rational().is_some_and(|q| q.is_zero());
        let known = self.facts.iter().any(|f| {
            let (rel, other) = if f.lhs == *e {
                (f.rel, &f.rhs)
            } else if f.rhs == *e {
                (f.rel.flipped(), &f.lhs)
            } else {
                return false;
            };
            zero(other) && (rel == Rel::Gt || (rel == Rel::Ge && !strict))
        });
        if known {
            return true;
        }
        let positive = match &e.kind {
            ExprKind::Name(n) => n == ONES,
            ExprKind::Builtin(Func::ExpElem | Func::SoftmaxRow | Func::SoftmaxCol, _) => true,
            _ => false,
        };
        positive
            || match &e.kind {
                ExprKind::Name(n) => !strict && n == IDENTITY,
                ExprKind::Builtin(Func::Diag, v) => !strict && self.entrywise(&v[0], false),
                ExprKind::Bin(BinOp::Pow, d, k) if !strict && k.rational() == Some(-BigRational::one()) => {
                    matches!(&d.kind, ExprKind::Builtin(Func::Diag, v) if self.entrywise(&v[0], true))
                }
                ExprKind::Transpose(a) => self.entrywise(a, strict),
                ExprKind::Bin(BinOp::Mul, a, b) => match (scalar(a), scalar(b)) {
                    (true, false) => signed(a) && self.entrywise(b, strict),
                    (false, true) => signed(b) && self.entrywise(a, strict),
                    // A diagonal with positive entries scales rows (or columns): it keeps
                    // every entry's sign.
                    (false, false) => {
                        (self.entrywise(a, strict) || self.positive_diagonal(a))
                            && (self.entrywise(b, strict) || self.positive_diagonal(b))
                            && !(self.positive_diagonal(a) && self.positive_diagonal(b) && strict)
                    }
                    (true, true) => false,
                },
                // Nonnegative plus positive is positive.
                ExprKind::Bin(BinOp::Add, a, b) => {
                    (self.entrywise(a, strict) && self.entrywise(b, false)) || (self.entrywise(a, false) && self.entrywise(b, strict))
                }
                // Element-wise operations, where they are defined (their own side conditions
                // are separate): a square root is nonnegative, positive where its argument is.
                ExprKind::Builtin(Func::SqrtElem, x) => !strict || self.entrywise(&x[0], true),
                ExprKind::Builtin(Func::AbsElem, _) => !strict,
                ExprKind::Builtin(Func::EMul, ab) => {
                    (!strict && ab[0] == ab[1]) || (self.entrywise(&ab[0], strict) && self.entrywise(&ab[1], strict))
                }
                ExprKind::Builtin(Func::EDiv, ab) => self.entrywise(&ab[0], strict) && self.entrywise(&ab[1], true),
                ExprKind::Bin(BinOp::Div, a, b) => scalar(b) && self.interval(b).satisfies(Rel::Gt) && self.entrywise(a, strict),
                _ => false,
            }
    }

    /// `I`, `diag(v)` or `diag(v)^-1` with every entry of `v` positive.
    fn positive_diagonal(&self, e: &Expr) -> bool {
        let diag = |d: &Expr| matches!(&d.kind, ExprKind::Builtin(Func::Diag, v) if self.entrywise(&v[0], true));
        match &e.kind {
            ExprKind::Name(n) => n == crate::language::builtins::IDENTITY,
            ExprKind::Bin(BinOp::Pow, d, k) => k.rational() == Some(-BigRational::one()) && diag(d),
            _ => diag(e),
        }
    }

    /// An interval holding every value `e` can take here.
    pub fn interval(&self, e: &Expr) -> Interval {
        self.interval_at(e, DEPTH)
    }

    fn interval_at(&self, e: &Expr, depth: usize) -> Interval {
        if depth == 0 {
            return Interval::all();
        }
        let i = |x: &Expr| self.interval_at(x, depth - 1);
        let structural = match &e.kind {
            ExprKind::Num(q) => Interval::point(q.clone()),
            ExprKind::Name(n) => interval_of_name(self, n),
            ExprKind::Neg(a) => i(a).neg(),
            ExprKind::Bin(BinOp::Add, a, b) => i(a).add(&i(b)),
            ExprKind::Bin(BinOp::Sub, a, b) => i(a).add(&i(b).neg()),
            ExprKind::Bin(BinOp::Mul, a, b) if a == b => i(a).powi(2),
            ExprKind::Bin(BinOp::Mul, a, b) => i(a).mul(&i(b)),
            ExprKind::Bin(BinOp::Div, a, b) => i(a).mul(&i(b).recip()),
            ExprKind::Bin(BinOp::Pow, base, exponent) => self.power(&i(base), exponent, depth),
            ExprKind::Builtin(Func::Exp, _) => Interval::positive(),
            ExprKind::Builtin(Func::Opnorm, args) if matches!(&args[0].kind, ExprKind::Name(n) if n == crate::language::builtins::IDENTITY && self.kinds.get(n).is_none()) => {
                Interval::point(BigRational::one())
            }
            ExprKind::Builtin(Func::Norm | Func::Abs | Func::Opnorm | Func::MaxAbs, _) => Interval::nonnegative(),
            // `XᵀX` is positive semidefinite.
            ExprKind::Builtin(Func::LambdaMax, args) if gram(&args[0]) => Interval::nonnegative(),
            ExprKind::Builtin(Func::Sqrt, _) => Interval::nonnegative(),
            ExprKind::Builtin(Func::Dot, args) if args[0] == args[1] => Interval::nonnegative(),
            ExprKind::Builtin(Func::Log, args) => {
                let x = i(&args[0]);
                let one = Interval::point(BigRational::one());
                let shifted = x.add(&one.neg());
                if x.above_zero() && shifted.at_or_above_zero() {
                    Interval::nonnegative().meet(&Interval { nonzero: shifted.above_zero(), ..Interval::all() })
                } else if x.above_zero() && shifted.at_or_below_zero() {
                    Interval::nonnegative().neg().meet(&Interval { nonzero: shifted.below_zero(), ..Interval::all() })
                } else {
                    Interval::all()
                }
            }
            _ => Interval::all(),
        };
        // What the facts say about this very expression.
        let mut out = structural;
        for f in &self.facts {
            let (other, rel) = if f.lhs == *e {
                (&f.rhs, f.rel)
            } else if f.rhs == *e {
                (&f.lhs, f.rel.flipped())
            } else {
                continue;
            };
            let bound = i(other);
            let known = match (rel, &bound.lo, &bound.hi) {
                (Rel::Ge, End::At(q, _), _) => Interval::at_least(q.clone(), false),
                (Rel::Gt, End::At(q, c), _) => Interval::at_least(q.clone(), *c),
                (Rel::Le, _, End::At(q, _)) => Interval::at_most(q.clone(), false),
                (Rel::Lt, _, End::At(q, c)) => Interval::at_most(q.clone(), *c),
                (Rel::Eq, _, _) => bound.clone(),
                (Rel::Ne, _, _) if bound == Interval::point(BigRational::zero()) => Interval { nonzero: true, ..Interval::all() },
                _ => Interval::all(),
            };
            out = out.meet(&known);
        }
        out
    }

    /// `b^n`: a whole constant `n`; a whole `n` with known bounds; or any exponent of a
    /// positive base.
    fn power(&self, base: &Interval, exponent: &Expr, depth: usize) -> Interval {
        if let ExprKind::Num(k) = &exponent.kind
            && let Some(k) = k.is_integer().then(|| k.to_integer()).and_then(|k| i64::try_from(k).ok()).filter(|k| k.abs() <= 64)
        {
            return base.powi(k);
        }
        let n = self.interval_at(exponent, depth - 1);
        let whole = self.is_whole(exponent);
        let one = BigRational::one();
        let unit = |x: &Interval| matches!(&x.hi, End::At(q, _) if *q <= one) && x.above_zero();
        if whole && n.at_or_above_zero() {
            let n_lo = match &n.lo {
                End::At(q, _) => q.clone(),
                End::Unbounded => BigRational::zero(),
            };
            if unit(base) && n_lo >= one {
                // 0 < b <= h <= 1 and n >= 1: 0 < b^n <= h, and < 1 when b < 1.
                let hi = base.hi.clone();
                return Interval { lo: End::At(BigRational::zero(), false), hi, nonzero: true };
            }
            if unit(base) {
                return Interval { lo: End::At(BigRational::zero(), false), hi: End::At(one, true), nonzero: true };
            }
            if matches!(&base.lo, End::At(q, _) if *q >= one) {
                return Interval::at_least(one, false);
            }
            if base.above_zero() {
                return Interval::positive();
            }
            if base.at_or_above_zero() {
                return Interval::nonnegative();
            }
            if base.excludes_zero() {
                return Interval { nonzero: true, ..Interval::all() };
            }
        }
        if base.above_zero() {
            Interval::positive()
        } else if base.at_or_above_zero() && n.above_zero() {
            Interval::nonnegative()
        } else {
            Interval::all()
        }
    }

    /// Whether an expression takes only whole values: built from whole numbers and integer
    /// names by `+`, `-` and `*`.
    pub(super) fn is_whole(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Num(q) => q.is_integer(),
            ExprKind::Name(n) => self.is_integer_name(n),
            ExprKind::Neg(a) => self.is_whole(a),
            ExprKind::Bin(BinOp::Add | BinOp::Sub | BinOp::Mul, a, b) => self.is_whole(a) && self.is_whole(b),
            _ => false,
        }
    }
}

/// `XᵀX`, written so.
fn gram(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Bin(BinOp::Mul, a, b) if matches!(&a.kind, ExprKind::Transpose(x) if **x == **b))
}

/// The interval a linear bound gives its single variable, for `sign`.
fn interval_of_name(ctx: &Context, name: &str) -> Interval {
    let mut out = Interval::all();
    let integer = ctx.is_integer_name(name);
    for b in ctx.bounds() {
        if b.l.terms.len() != 1 {
            continue;
        }
        let Some(c) = b.l.terms.get(name) else { continue };
        let value = -&b.l.constant / c;
        out = out.meet(&if c.is_positive() { Interval::at_least(value, b.strict) } else { Interval::at_most(value, b.strict) });
    }
    if integer { out.whole() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;
    use crate::language::Kinds;
    use crate::language::ast::{Fact, Kind};

    fn name(n: &str) -> Expr {
        Expr::name(n, Span::default())
    }

    fn int(k: i64) -> Expr {
        Expr::int(k, Span::default())
    }

    fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        Expr::bin(op, a, b)
    }

    fn context() -> Context {
        let facts = vec![
            Fact { lhs: int(0), rel: Rel::Lt, rhs: name("beta") },
            Fact { lhs: name("beta"), rel: Rel::Lt, rhs: int(1) },
            Fact { lhs: name("t"), rel: Rel::Ge, rhs: int(1) },
        ];
        Context { facts, kinds: Kinds([("t".to_string(), Kind::Integer)].into_iter().collect()), ..Context::default() }
    }

    #[test]
    fn one_minus_a_power_of_a_fraction_is_positive() {
        let c = context();
        let e = bin(BinOp::Sub, int(1), bin(BinOp::Pow, name("beta"), name("t")));
        assert!(c.interval(&e).satisfies(Rel::Gt), "{:?}", c.interval(&e));
        assert!(c.interval(&bin(BinOp::Sub, int(1), name("beta"))).satisfies(Rel::Ne));
        // 1 - beta^0 is 0: nothing about t = 0 is known here, and nothing is claimed.
        assert!(!c.interval(&bin(BinOp::Sub, int(1), bin(BinOp::Pow, name("beta"), name("x")))).satisfies(Rel::Ne));
    }

    #[test]
    fn squares_exps_and_products_have_signs() {
        let c = Context::default();
        let x = name("x");
        assert!(c.interval(&bin(BinOp::Mul, x.clone(), x.clone())).satisfies(Rel::Ge));
        assert!(!c.interval(&bin(BinOp::Mul, x.clone(), x.clone())).satisfies(Rel::Gt));
        assert!(c.interval(&bin(BinOp::Pow, x.clone(), int(2))).satisfies(Rel::Ge));
        assert!(!c.interval(&x).satisfies(Rel::Ne));
        let e = Expr::new(ExprKind::Builtin(Func::Exp, vec![x.clone()]), Span::default());
        assert!(c.interval(&bin(BinOp::Mul, int(3), e.clone())).satisfies(Rel::Gt));
        assert!(!c.interval(&bin(BinOp::Sub, e, int(1))).satisfies(Rel::Gt));
    }

    #[test]
    fn a_nonzero_fact_carries_through_products_but_not_sums() {
        let c = Context { facts: vec![Fact { lhs: name("d"), rel: Rel::Ne, rhs: int(0) }], ..Context::default() };
        assert!(c.interval(&bin(BinOp::Mul, int(2), name("d"))).satisfies(Rel::Ne));
        assert!(!c.interval(&bin(BinOp::Add, int(2), name("d"))).satisfies(Rel::Ne));
    }

    #[test]
    fn whole_ends_round_inwards() {
        let i = Interval::at_least(BigRational::from_integer(1.into()), true).whole();
        assert!(i.satisfies(Rel::Gt));
        assert_eq!(i.lo, End::At(BigRational::from_integer(2.into()), true));
    }
}
