//! Inequality steps in the symbolic layer, in the style of Lean's `gcongr` and `positivity`:
//! `a <= b` holds when it follows, part by part, from
//!
//! - the same expression on both sides, or an equation shown by `prove_equal` with the cited
//!   equations;
//! - the known facts (the `assume` facts, the claim's conditions, `given` inequalities without
//!   `for` variables), decided by the linear and interval procedures of `facts` and `sign`;
//! - a cited inequality (`Bound`): a `given`, `lemma` or `claim` with `<=`, `<`, `>=` or `>`,
//!   an induction's hypothesis, or `submultiplicative`, used for one side, with the rest of the
//!   way shown again (`a <= u` by the rule and `u <= b` in turn);
//! - monotone structure, when both sides have the same shape: sums and differences part by
//!   part; products when the factors kept or bounded are shown nonnegative; quotients with a
//!   positive denominator; powers of nonnegative bases with a nonnegative exponent; `sqrt`,
//!   `exp` and `log` (on positives); `sqrt(x) <= y` from `x <= y^2` and `y >= 0`.
//!
//! Each of these is a sound rule, and every condition it needs is shown, so a step is never
//! accepted because the procedure is incomplete. It is incomplete: a step whose sides have
//! different shapes must be split (`x*y <= (a*b)` with `x <= a`, `y <= b` is seen; `x*y <= c`
//! with `c = a*b` hidden is not).

use std::collections::HashMap;

use num_rational::BigRational;
use num_traits::Zero;

use super::lemmas::{Lemma, rank_bounds, submultiplicative};
use super::rewrite::{Context, Direction, Equation, Rewrite};
use super::search::{MAX_DEPTH, Outcome, prove_equal};
use crate::language::ast::{BinOp, Expr, ExprKind, Fact, Kind, Rel};
use crate::language::builtins::Func;

/// A citable inequality: upper bounds of an expression (`e <= u`, strict or not) and lower
/// bounds (`l <= e`).
pub trait Bounds {
    fn name(&self) -> &str;
    /// Every `(u, strict)` with `e <= u` (`e < u` when strict) by one use of the rule at `e`
    /// itself.
    fn above(&self, e: &Expr, ctx: &Context, blocked: &mut Vec<String>) -> Vec<(Expr, bool)>;
    /// Every `(l, strict)` with `l <= e` (`l < e` when strict).
    fn below(&self, _e: &Expr, _ctx: &Context, _blocked: &mut Vec<String>) -> Vec<(Expr, bool)> {
        Vec::new()
    }
}

/// An inequality of the file, `lhs <= rhs` or `lhs < rhs` (a `>=` rule is stored turned
/// around), with its `for` variables as pattern variables and its conditions.
#[derive(Debug, Clone)]
pub struct Bound {
    rule: Equation,
    strict: bool,
}

impl Bound {
    /// The rule `lhs REL rhs` as a bound, if `REL` is an order.
    pub fn new(name: &str, lhs: &Expr, rel: Rel, rhs: &Expr, vars: Vec<(String, Kind)>, conditions: Vec<Fact>) -> Option<Bound> {
        let (lhs, rhs, strict) = match rel {
            Rel::Le => (lhs, rhs, false),
            Rel::Lt => (lhs, rhs, true),
            Rel::Ge => (rhs, lhs, false),
            Rel::Gt => (rhs, lhs, true),
            Rel::Eq | Rel::Ne | Rel::To => return None,
        };
        Some(Bound { rule: Equation::new(name, lhs, rhs, vars, conditions), strict })
    }

    /// `maxabs(f(x)) <= c` for a vector `x`, from a rule `abs(f(z)) <= c for z` about a
    /// scalar `z` (or `abs(z) <= c`): a declared function acts entry by entry, so every entry
    /// `f(x_i)` is one of the values the rule bounds.
    fn entrywise(&self, e: &Expr) -> Option<Expr> {
        let ExprKind::Builtin(Func::MaxAbs, xs) = &e.kind else { return None };
        let ExprKind::Builtin(Func::Abs, ps) = &self.rule.lhs.kind else { return None };
        let (z, f) = match &ps[0].kind {
            ExprKind::Name(z) => (z, None),
            ExprKind::Call(f, args) if args.len() == 1 => match &args[0].kind {
                ExprKind::Name(z) => (z, Some(f)),
                _ => return None,
            },
            _ => return None,
        };
        let only_z = matches!(self.rule.vars.as_slice(), [(v, Kind::Scalar)] if v == z);
        if !only_z || !self.rule.conditions.is_empty() || self.rule.rhs.mentions(z) || self.rule.rhs.has_expectation() {
            return None;
        }
        let fits = match (f, &xs[0].kind) {
            (None, _) => true,
            (Some(f), ExprKind::Call(g, args)) => f == g && args.len() == 1,
            _ => false,
        };
        fits.then(|| self.rule.rhs.clone())
    }
}

impl Bounds for Bound {
    fn name(&self) -> &str {
        &self.rule.name
    }

    fn above(&self, e: &Expr, ctx: &Context, blocked: &mut Vec<String>) -> Vec<(Expr, bool)> {
        let direct = self.rule.at_root(e, Direction::Forward, ctx, blocked);
        direct.into_iter().chain(self.entrywise(e)).map(|u| (u, self.strict)).collect()
    }

    fn below(&self, e: &Expr, ctx: &Context, blocked: &mut Vec<String>) -> Vec<(Expr, bool)> {
        self.rule.at_root(e, Direction::Backward, ctx, blocked).into_iter().map(|l| (l, self.strict)).collect()
    }
}

impl Bounds for Lemma {
    fn name(&self) -> &str {
        Lemma::name(*self)
    }

    fn above(&self, e: &Expr, ctx: &Context, _blocked: &mut Vec<String>) -> Vec<(Expr, bool)> {
        match self {
            Lemma::Submultiplicative => submultiplicative(e, &ctx.kinds).into_iter().map(|u| (u, false)).collect(),
            Lemma::RankProduct => rank_bounds(e, ctx).into_iter().map(|u| (u, false)).collect(),
            _ => Vec::new(),
        }
    }
}

/// What the symbolic layer says of `a <= b` (or `a < b`).
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// Shown, with the rules it used.
    Shown { used: Vec<String> },
    /// Not shown; with the rules whose conditions did not follow.
    NotShown { blocked: Vec<String> },
    /// A side is not defined where the step is.
    Undefined { reason: String },
}

/// How many cited inequalities may be chained for one part of a step.
const CHAIN: usize = 3;

/// Whether `a <= b` (`a < b` when `strict`) follows from the cited equations and bounds and
/// the context.
pub fn prove_le(a: &Expr, b: &Expr, strict: bool, equations: &[&dyn Rewrite], bounds: &[&dyn Bounds], ctx: &Context) -> Result<Comparison, String> {
    // `X >= 0` (`X > 0`) for a vector or matrix: entry by entry, from the structure of `X`.
    let is_zero = |e: &Expr| e.rational().is_some_and(|q| q.is_zero());
    if is_zero(a) && ctx.kinds.of(b) != Kind::Scalar {
        let sign = if strict { "positive" } else { "nonnegative" };
        return Ok(if ctx.entrywise(b, strict) {
            Comparison::Shown { used: Vec::new() }
        } else {
            Comparison::NotShown {
                blocked: vec![format!(
                    "every entry of `{}` is not shown {sign} (entries are shown {sign} from `ones`, `I`, `exp_elem`, softmaxes, `diag` of such vectors and inverses of those, and their sums, products and positive multiples)",
                    crate::language::text::expr(b)
                )],
            }
        });
    }
    for (side, e) in [("left", a), ("right", b)] {
        if ctx.kinds.of(e) != Kind::Scalar {
            return Err(format!("the {side} side of an inequality must be a scalar, or the inequality `X >= 0` (`X > 0`) entry by entry"));
        }
        if let Some(reason) = ctx.undefined(e) {
            return Ok(Comparison::Undefined { reason: format!("the {side} side: {reason}") });
        }
    }
    let mut prover = Prover { equations, bounds, ctx, memo: HashMap::new(), blocked: Vec::new(), error: None };
    let shown = prover.le(a, b, strict, CHAIN);
    if let Some(e) = prover.error {
        return Err(e);
    }
    Ok(match shown {
        Some(mut used) => {
            used.dedup();
            Comparison::Shown { used }
        }
        None => Comparison::NotShown { blocked: prover.blocked },
    })
}

type Used = Option<Vec<String>>;

struct Prover<'a> {
    equations: &'a [&'a dyn Rewrite],
    bounds: &'a [&'a dyn Bounds],
    ctx: &'a Context,
    memo: HashMap<(Expr, Expr, bool, usize), Used>,
    blocked: Vec<String>,
    error: Option<String>,
}

fn join(a: Vec<String>, b: Vec<String>) -> Vec<String> {
    let mut out = a;
    for n in b {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

impl Prover<'_> {
    fn le(&mut self, a: &Expr, b: &Expr, strict: bool, fuel: usize) -> Used {
        let key = (a.clone(), b.clone(), strict, fuel);
        if let Some(known) = self.memo.get(&key) {
            return known.clone();
        }
        // A goal met again inside its own proof is not shown there.
        self.memo.insert(key.clone(), None);
        let out = self.le_new(a, b, strict, fuel);
        self.memo.insert(key, out.clone());
        out
    }

    fn le_new(&mut self, a: &Expr, b: &Expr, strict: bool, fuel: usize) -> Used {
        if !strict && a == b {
            return Some(vec![]);
        }
        // Cited rules first, so that the step says which it used.
        if fuel > 0 {
            for rule in self.bounds {
                let mut blocked = Vec::new();
                let above = rule.above(a, self.ctx, &mut blocked);
                let below = rule.below(b, self.ctx, &mut blocked);
                blocked.into_iter().for_each(|m| super::rewrite::note(&mut self.blocked, m));
                for (u, s) in above {
                    if let Some(used) = self.le(&u, b, strict && !s, fuel - 1) {
                        return Some(join(vec![rule.name().to_string()], used));
                    }
                }
                for (l, s) in below {
                    if let Some(used) = self.le(a, &l, strict && !s, fuel - 1) {
                        return Some(join(vec![rule.name().to_string()], used));
                    }
                }
            }
        }
        if self.ctx.proves(&Fact { lhs: a.clone(), rel: if strict { Rel::Lt } else { Rel::Le }, rhs: b.clone() }) {
            return Some(vec![]);
        }
        if let Some(used) = self.congruence(a, b, strict, fuel) {
            return Some(used);
        }
        if !strict {
            match prove_equal(a, b, self.equations, self.ctx, MAX_DEPTH) {
                Ok(Outcome::Equal { used }) => return Some(used),
                Ok(Outcome::Different { blocked, .. } | Outcome::GaveUp { blocked, .. }) => {
                    blocked.into_iter().for_each(|m| super::rewrite::note(&mut self.blocked, m))
                }
                Ok(Outcome::Undefined { .. }) => {}
                Err(e) => self.error = Some(e),
            }
        }
        None
    }

    fn nonneg(&mut self, x: &Expr, fuel: usize) -> Used {
        self.le(&zero(x), x, false, fuel)
    }

    fn positive(&mut self, x: &Expr, fuel: usize) -> Used {
        self.le(&zero(x), x, true, fuel)
    }

    /// Both `p.0 <= p.1` and `q.0 <= q.1`; for a strict goal, one of them strict.
    fn both(&mut self, p: (&Expr, &Expr), q: (&Expr, &Expr), strict: bool, fuel: usize) -> Used {
        let mut try_with = |sp: bool, sq: bool| -> Used {
            let u = self.le(p.0, p.1, sp, fuel)?;
            Some(join(u, self.le(q.0, q.1, sq, fuel)?))
        };
        if strict { try_with(true, false).or_else(|| try_with(false, true)) } else { try_with(false, false) }
    }

    /// Both sides of the same shape, compared part by part where the operation is monotone.
    fn congruence(&mut self, a: &Expr, b: &Expr, strict: bool, fuel: usize) -> Used {
        use ExprKind::{Bin, Builtin, Neg};
        match (&a.kind, &b.kind) {
            (Bin(BinOp::Add, a1, a2), Bin(BinOp::Add, b1, b2)) => self.both((a1, b1), (a2, b2), strict, fuel),
            (Bin(BinOp::Sub, a1, a2), Bin(BinOp::Sub, b1, b2)) => self.both((a1, b1), (b2, a2), strict, fuel),
            (Neg(x), Neg(y)) => self.le(y, x, strict, fuel),
            (Bin(BinOp::Mul, a1, a2), Bin(BinOp::Mul, b1, b2)) if !strict => self.product((a1, a2), (b1, b2), fuel),
            (Bin(BinOp::Div, a1, a2), Bin(BinOp::Div, b1, b2)) if !strict => {
                if a2 == b2 {
                    // a1/c <= b1/c for c > 0.
                    let u = self.positive(a2, fuel)?;
                    return Some(join(u, self.le(a1, b1, false, fuel)?));
                }
                // a1/a2 <= b1/a2 <= b1/b2: 0 < b2 <= a2 and b1 >= 0.
                let u = self.le(a1, b1, false, fuel)?;
                let u = join(u, self.le(b2, a2, false, fuel)?);
                let u = join(u, self.positive(b2, fuel)?);
                Some(join(u, self.nonneg(b1, fuel)?))
            }
            (Bin(BinOp::Pow, x, k), Bin(BinOp::Pow, y, j)) if !strict && k == j => {
                // x^k <= y^k for 0 <= x <= y and k >= 0.
                if !self.ctx.interval(k).satisfies(Rel::Ge) {
                    return None;
                }
                let u = self.nonneg(x, fuel)?;
                Some(join(u, self.le(x, y, false, fuel)?))
            }
            (Bin(BinOp::Pow, x, m), Bin(BinOp::Pow, y, n)) if !strict && x == y => {
                // For 0 <= x <= 1 a larger exponent gives less (exponents >= 0); for x >= 1, more.
                let one = Expr::int(1, x.span);
                let fact = |lhs: &Expr, rel, rhs: &Expr| Fact { lhs: lhs.clone(), rel, rhs: rhs.clone() };
                let exponents_nonneg = self.ctx.interval(m).satisfies(Rel::Ge) && self.ctx.interval(n).satisfies(Rel::Ge);
                if exponents_nonneg && self.ctx.proves(&fact(m, Rel::Ge, n)) {
                    let u = self.nonneg(x, fuel)?;
                    return Some(join(u, self.le(x, &one, false, fuel)?));
                }
                if self.ctx.proves(&fact(m, Rel::Le, n)) {
                    return self.le(&one, x, false, fuel);
                }
                None
            }
            (Builtin(f, xs), Builtin(g, ys)) if f == g => match f {
                Func::Exp => self.le(&xs[0], &ys[0], strict, fuel),
                Func::Sqrt => {
                    let u = self.nonneg(&xs[0], fuel)?;
                    Some(join(u, self.le(&xs[0], &ys[0], strict, fuel)?))
                }
                Func::Log => {
                    let u = self.positive(&xs[0], fuel)?;
                    Some(join(u, self.le(&xs[0], &ys[0], strict, fuel)?))
                }
                _ => None,
            },
            (Builtin(Func::Sqrt, xs), _) if !strict => {
                // sqrt(x) <= y for y >= 0 and x <= y^2.
                let u = self.nonneg(b, fuel)?;
                let square = Expr::bin(BinOp::Pow, b.clone(), Expr::int(2, b.span));
                Some(join(u, self.le(&xs[0], &square, false, fuel)?))
            }
            _ => None,
        }
    }

    /// `a1*a2 <= b1*b2`: as `a1*a2 <= b1*a2 <= b1*b2` (needs `a2 >= 0`, `b1 >= 0`) or
    /// `a1*a2 <= a1*b2 <= b1*b2` (needs `a1 >= 0`, `b2 >= 0`); a factor kept on both sides
    /// needs only itself nonnegative.
    fn product(&mut self, (a1, a2): (&Expr, &Expr), (b1, b2): (&Expr, &Expr), fuel: usize) -> Used {
        if self.ctx.kinds.of(a1) != Kind::Scalar || self.ctx.kinds.of(a2) != Kind::Scalar {
            return None;
        }
        if a1 == b1 {
            let u = self.nonneg(a1, fuel)?;
            return Some(join(u, self.le(a2, b2, false, fuel)?));
        }
        if a2 == b2 {
            let u = self.nonneg(a2, fuel)?;
            return Some(join(u, self.le(a1, b1, false, fuel)?));
        }
        let u = self.le(a1, b1, false, fuel)?;
        let u = join(u, self.le(a2, b2, false, fuel)?);
        if let Some(v) = self.nonneg(a2, fuel).and_then(|v| Some(join(v, self.nonneg(b1, fuel)?))) {
            return Some(join(u, v));
        }
        let v = self.nonneg(a1, fuel)?;
        Some(join(u, join(v, self.nonneg(b2, fuel)?)))
    }
}

fn zero(e: &Expr) -> Expr {
    Expr::num(BigRational::zero(), e.span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::{Document, Kinds, ast::Statement};

    /// The facts, the rules and the last claim of a tiny file, with a context for the claim.
    fn setup(code: &str) -> (Vec<Bound>, Expr, Rel, Expr, Context) {
        let mut files = crate::diagnostic::SourceFiles::default();
        let id = files.add("t.md".into(), format!("```derivation\n{code}\n```\n"));
        let doc: Document = crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap();
        let mut kinds = Kinds(doc.scope.decls.iter().map(|(n, d)| (n.clone(), d.kind.clone())).collect());
        let mut facts = Vec::new();
        for item in &doc.items {
            let crate::language::Item::Block(b) = item else { continue };
            for s in &b.statements {
                if let Statement::Assume(f, _) = s {
                    facts.extend(f.iter().cloned());
                }
            }
        }
        let rules: Vec<_> = doc.rules().collect();
        let (last, earlier) = rules.split_last().unwrap();
        let bounds = earlier
            .iter()
            .filter_map(|r| {
                let vars = r.binders.iter().map(|b| (b.var.clone(), b.kind.clone())).collect();
                Bound::new(&r.name, &r.relation.lhs, r.relation.rel, &r.relation.rhs, vars, r.conditions.clone())
            })
            .collect();
        for b in &last.binders {
            kinds.insert(b.var.clone(), b.kind.clone());
        }
        facts.extend(last.conditions.iter().cloned());
        let ctx = Context { facts, kinds, ..Context::default() };
        (bounds, last.relation.lhs.clone(), last.relation.rel, last.relation.rhs.clone(), ctx)
    }

    fn shown(code: &str) -> bool {
        let (bounds, a, rel, b, ctx) = setup(code);
        let cited: Vec<&dyn Bounds> = bounds.iter().map(|b| b as &dyn Bounds).chain([&Lemma::Submultiplicative as &dyn Bounds]).collect();
        let (a, b, strict) = match rel {
            Rel::Le => (a, b, false),
            Rel::Lt => (a, b, true),
            Rel::Ge => (b, a, false),
            _ => (b, a, true),
        };
        matches!(prove_le(&a, &b, strict, &[], &cited, &ctx).unwrap(), Comparison::Shown { .. })
    }

    #[test]
    fn a_factor_must_be_shown_nonnegative() {
        assert!(!shown("let a, b, c: scalar\nassume a <= b\nclaim x: c*a <= c*b"));
        assert!(shown("let a, b, c: scalar\nassume a <= b, c >= 0\nclaim x: c*a <= c*b"));
        assert!(shown("let a, b, c: scalar\nassume a <= b\nclaim x: c^2*a <= c^2*b"));
        // Both factors bounded: 0 <= a <= b and 0 <= c <= d.
        assert!(shown("let a, b, c, d: scalar\nassume 0 <= a <= b, 0 <= c <= d\nclaim x: a*c <= b*d"));
        assert!(!shown("let a, b, c, d: scalar\nassume a <= b, c <= d\nclaim x: a*c <= b*d"));
    }

    #[test]
    fn monotone_functions_and_strictness() {
        assert!(shown("let x, y: scalar\nassume 0 <= x <= y\nclaim s: sqrt(x) <= sqrt(y)"));
        assert!(!shown("let x, y: scalar\nassume x <= y\nclaim s: log(x) <= log(y)"));
        assert!(shown("let a, b: scalar\nassume a <= b\nclaim s: a + 1 < b + 2"));
        assert!(!shown("let a, b: scalar\nassume a <= b\nclaim s: a + 1 < b + 1"));
        assert!(shown("let a, b: scalar\nassume a <= b\nclaim s: exp(b) >= exp(a)"));
    }

    #[test]
    fn a_cited_bound_applies_only_where_its_conditions_hold() {
        let rule = "let f: function\ngiven b: f(t) <= 1 for t >= 1\n";
        assert!(shown(&format!("{rule}claim x: f(2) <= 1")));
        assert!(!shown(&format!("{rule}claim x: f(0) <= 1")));
        assert!(shown(&format!("{rule}claim x: f(2) + f(3) <= 1 + 1")));
        // Different shapes are not searched for: `2` is not split into `1 + 1`.
        assert!(!shown(&format!("{rule}claim x: f(2) + f(3) <= 2")));
    }

    #[test]
    fn submultiplicative_bounds_norms_of_products() {
        assert!(shown("let A, B: matrix n x n\nclaim x: opnorm(A*B) <= opnorm(A)*opnorm(B)"));
        assert!(!shown("let A, B: matrix n x n\nclaim x: opnorm(A)*opnorm(B) <= opnorm(A*B)"));
        let entrywise = "let f: function\nlet v: vector n\nlet c: scalar\ngiven b: abs(f(z)) <= c for z\n";
        assert!(shown(&format!("{entrywise}claim x: maxabs(f(v)) <= c")));
        assert!(!shown(&format!("{entrywise}claim x: maxabs(v) <= c")));
    }
}
