//! Rewriting expressions with named equations: matching a rule's side against any
//! subexpression, with the rule's `for` variables as pattern variables, and using it only
//! where its conditions are known to hold.
//!
//! Index arithmetic is affine: `v[t]` matches `v[t-1]` with `t := t-1`, and the condition
//! `t >= 1` then becomes `t-1 >= 1`, which is decided from the facts of the context
//! (`t >= 2` in a claim `for t >= 2`, or a concrete index).

use std::collections::{BTreeMap, HashMap};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use crate::language::ast::{BinOp, Expr, ExprKind, Fact, Rel};

/// An equation usable as a rewrite, in either direction.
#[derive(Debug, Clone)]
pub struct RewriteRule {
    pub name: String,
    pub lhs: Expr,
    pub rhs: Expr,
    /// Pattern variables.
    pub vars: Vec<String>,
    pub conditions: Vec<Fact>,
}

/// What is known where a rewrite happens: facts about the variables (`t >= 2`) and the
/// kinds of names (a pattern variable of a rule stands for scalars only).
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub facts: Vec<Fact>,
    pub kinds: super::symbolic::Kinds,
    /// Scalar names that may be random under `E` (defined from other quantities, or drawn
    /// by a Monte Carlo check); other scalar names are constants.
    pub random: Vec<String>,
}

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

    pub fn of(e: &Expr) -> Option<Affine> {
        match &e.kind {
            ExprKind::Num(n) if n.is_integer() => Some(Affine::constant(n.to_integer())),
            ExprKind::Name(v) => Some(Affine { constant: BigInt::zero(), terms: BTreeMap::from([(v.clone(), BigInt::one())]) }),
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

impl Context {
    /// Whether `fact` follows from the context: affine facts only, by bounding the difference
    /// with constant bounds of its variables or with one context fact. Unknown is `false`.
    pub fn proves(&self, fact: &Fact) -> bool {
        let (Some(l), Some(r)) = (Affine::of(&fact.lhs), Affine::of(&fact.rhs)) else { return false };
        let d = l.plus(&r.scale(&-BigInt::one()));
        let minus = d.scale(&-BigInt::one());
        match fact.rel {
            Rel::Ge => self.nonnegative(&d),
            Rel::Gt => self.nonnegative(&d.plus(&Affine::constant(-BigInt::one()))),
            Rel::Le => self.nonnegative(&minus),
            Rel::Lt => self.nonnegative(&minus.plus(&Affine::constant(-BigInt::one()))),
            Rel::Eq => self.nonnegative(&d) && self.nonnegative(&minus),
        }
    }

    /// Context facts as `f >= 0`.
    fn normalized(&self) -> Vec<Affine> {
        let mut out = Vec::new();
        for f in &self.facts {
            let (Some(l), Some(r)) = (Affine::of(&f.lhs), Affine::of(&f.rhs)) else { continue };
            let d = l.plus(&r.scale(&-BigInt::one()));
            let one = Affine::constant(BigInt::one());
            match f.rel {
                Rel::Ge => out.push(d),
                Rel::Gt => out.push(d.plus(&one.scale(&-BigInt::one()))),
                Rel::Le => out.push(d.scale(&-BigInt::one())),
                Rel::Lt => out.push(d.scale(&-BigInt::one()).plus(&one.scale(&-BigInt::one()))),
                Rel::Eq => {
                    out.push(d.clone());
                    out.push(d.scale(&-BigInt::one()));
                }
            }
        }
        out
    }

    fn nonnegative(&self, d: &Affine) -> bool {
        if d.terms.is_empty() {
            return !d.constant.is_negative();
        }
        let facts = self.normalized();
        // Lower and upper constant bounds of single variables.
        let bound = |var: &str, lower: bool| -> Option<BigInt> {
            facts
                .iter()
                .filter(|f| f.terms.len() == 1)
                .filter_map(|f| {
                    let k = f.terms.get(var)?;
                    // k·v + c >= 0
                    if lower && k.is_one() {
                        Some(-f.constant.clone())
                    } else if !lower && (-k).is_one() {
                        Some(f.constant.clone())
                    } else {
                        None
                    }
                })
                .reduce(|a, b| if lower { a.max(b) } else { a.min(b) })
        };
        let by_bounds = || -> Option<bool> {
            let mut min = d.constant.clone();
            for (v, k) in &d.terms {
                let b = bound(v, k.is_positive())?;
                min += k * b;
            }
            Some(!min.is_negative())
        };
        if by_bounds() == Some(true) {
            return true;
        }
        // d = f + (a non-negative remainder) for one fact f.
        facts.iter().any(|f| {
            let rest = d.plus(&f.scale(&-BigInt::one()));
            Context::default().nonnegative_with(&rest, &facts)
        })
    }

    fn nonnegative_with(&self, d: &Affine, facts: &[Affine]) -> bool {
        if d.terms.is_empty() {
            return !d.constant.is_negative();
        }
        let mut min = d.constant.clone();
        for (v, k) in &d.terms {
            let b = facts.iter().filter(|f| f.terms.len() == 1).find_map(|f| {
                let c = f.terms.get(v)?;
                if k.is_positive() && c.is_one() {
                    Some(-f.constant.clone())
                } else if k.is_negative() && (-c).is_one() {
                    Some(f.constant.clone())
                } else {
                    None
                }
            });
            match b {
                Some(b) => min += k * b,
                None => return false,
            }
        }
        !min.is_negative()
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

type Bindings = HashMap<String, Expr>;

/// Matches `pattern` against `target`, extending `bindings`.
fn matches(pattern: &Expr, target: &Expr, vars: &[String], bindings: &mut Bindings) -> bool {
    match (&pattern.kind, &target.kind) {
        (ExprKind::Name(v), _) if vars.contains(v) => match bindings.get(v) {
            Some(bound) => same(bound, target),
            None => {
                bindings.insert(v.clone(), target.clone());
                true
            }
        },
        (ExprKind::Index(f, ps), ExprKind::Index(g, ts)) => {
            f == g && ps.len() == ts.len() && ps.iter().zip(ts).all(|(p, t)| matches_index(p, t, vars, bindings))
        }
        (ExprKind::Call(f, ps), ExprKind::Call(g, ts)) => {
            f == g && ps.len() == ts.len() && ps.iter().zip(ts).all(|(p, t)| matches(p, t, vars, bindings))
        }
        (ExprKind::Bin(o1, a1, b1), ExprKind::Bin(o2, a2, b2)) => o1 == o2 && matches(a1, a2, vars, bindings) && matches(b1, b2, vars, bindings),
        (ExprKind::Neg(a), ExprKind::Neg(b)) | (ExprKind::Transpose(a), ExprKind::Transpose(b)) => matches(a, b, vars, bindings),
        (ExprKind::BigOp { .. }, ExprKind::BigOp { .. }) => {
            // Bound variables make general matching subtle; match only identical sums.
            pattern.children().iter().all(|c| vars.iter().all(|v| !c.mentions(v))) && pattern == target
        }
        _ => pattern == target,
    }
}

/// An index pattern `v + c` matches any integer expression `e`, binding `v := e - c`.
fn matches_index(pattern: &Expr, target: &Expr, vars: &[String], bindings: &mut Bindings) -> bool {
    if let (Some(p), Some(t)) = (Affine::of(pattern), Affine::of(target)) {
        let free: Vec<&String> = p.terms.keys().filter(|v| vars.contains(v) && !bindings.contains_key(*v)).collect();
        match free.as_slice() {
            [] => {
                let bound = p.terms.iter().fold(Some(Affine::constant(p.constant.clone())), |acc, (v, k)| {
                    let value = match bindings.get(v) {
                        Some(b) => Affine::of(b)?,
                        None => Affine { constant: BigInt::zero(), terms: BTreeMap::from([(v.clone(), BigInt::one())]) },
                    };
                    Some(acc?.plus(&value.scale(k)))
                });
                return bound.is_some_and(|b| b == t);
            }
            [v] if p.terms[*v].is_one() => {
                let rest = Affine {
                    constant: p.constant.clone(),
                    terms: p.terms.iter().filter(|(w, _)| w != v).map(|(w, k)| (w.clone(), k.clone())).collect(),
                };
                let Some(rest) = rest.terms.iter().fold(Some(Affine::constant(rest.constant.clone())), |acc, (w, k)| {
                    let value = match bindings.get(w) {
                        Some(b) => Affine::of(b)?,
                        None => Affine { constant: BigInt::zero(), terms: BTreeMap::from([(w.clone(), BigInt::one())]) },
                    };
                    Some(acc?.plus(&value.scale(k)))
                }) else {
                    return false;
                };
                let value = t.plus(&rest.scale(&-BigInt::one()));
                bindings.insert((*v).clone(), value.to_expr(target.span));
                return true;
            }
            _ => {}
        }
    }
    matches(pattern, target, vars, bindings)
}

fn same(a: &Expr, b: &Expr) -> bool {
    a == b || matches!((Affine::of(a), Affine::of(b)), (Some(x), Some(y)) if x == y)
}

/// One rewrite: `rule` used in `direction` at one position of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// Every expression obtained from `e` by one use of `rule` (in `direction`) at one position
/// where its conditions are proved by `ctx`.
pub fn rewrites(e: &Expr, rule: &RewriteRule, direction: Direction, ctx: &Context) -> Vec<Expr> {
    let (from, to) = match direction {
        Direction::Forward => (&rule.lhs, &rule.rhs),
        Direction::Backward => (&rule.rhs, &rule.lhs),
    };
    // Every pattern variable of the result must be bound by the matched side.
    if rule.vars.iter().any(|v| to.mentions(v) && !from.mentions(v)) {
        return Vec::new();
    }
    let mut out = Vec::new();
    super::lemmas::everywhere(e, ctx, &mut |sub, ctx| rewrite_root(sub, from, to, rule, ctx).into_iter().collect(), &mut out);
    out
}

/// The rewrite of `e` itself (not its children), if `from` matches and the conditions hold.
fn rewrite_root(e: &Expr, from: &Expr, to: &Expr, rule: &RewriteRule, ctx: &Context) -> Option<Expr> {
    let mut bindings = Bindings::new();
    if !matches(from, e, &rule.vars, &mut bindings) {
        return None;
    }
    // `for` variables are scalars: `c*A = A*c for c` must not match a matrix `c`.
    if bindings.values().any(|b| ctx.kinds.of(b) != crate::language::ast::Kind::Scalar) {
        return None;
    }
    let conditions_hold = rule.conditions.iter().all(|c| {
        let fact = Fact { lhs: c.lhs.substitute(&bindings), rel: c.rel, rhs: c.rhs.substitute(&bindings) };
        ctx.proves(&fact)
    });
    conditions_hold.then(|| canonical_indices(&to.substitute(&bindings)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::ast::Kind;
    use crate::language::{Document, Item, ast::Statement};

    /// Parses a tiny file and returns its rules as rewrite rules plus the last claim's relation.
    fn setup(code: &str) -> (Vec<RewriteRule>, Expr, Context) {
        let mut files = crate::diagnostic::SourceFiles::default();
        let id = files.add("t.md".into(), format!("```derivation\n{code}```\n"));
        let lit = crate::source::split(id, &files).unwrap();
        let doc: Document = crate::language::parse(&lit).unwrap();
        let mut rules = Vec::new();
        let mut last = None;
        for item in &doc.items {
            let Item::Block(b) = item else { continue };
            for s in &b.statements {
                if let Statement::Rule(r) = s {
                    rules.push(RewriteRule {
                        name: r.name.clone(),
                        lhs: r.relation.lhs.clone(),
                        rhs: r.relation.rhs.clone(),
                        vars: r.binders.iter().map(|b| b.var.clone()).collect(),
                        conditions: r.conditions.clone(),
                    });
                    last = Some(r.clone());
                }
            }
        }
        let last = last.unwrap();
        assert!(last.binders.iter().all(|b| b.kind == Kind::Integer));
        (rules, last.relation.lhs.clone(), Context { facts: last.conditions, ..Context::default() })
    }

    #[test]
    fn shifted_index_needs_its_condition() {
        let code = "let v, g: sequence\ndef d: v[t] = 2*v[t-1] + g[t] for t >= 1\nclaim c: v[t-1] = v[t-1] for t >= 2\n";
        let (rules, lhs, ctx) = setup(code);
        let out = rewrites(&lhs, &rules[0], Direction::Forward, &ctx);
        assert_eq!(out.len(), 1);
        assert_eq!(format!("{:?}", out[0]).matches("Index").count(), 2);
        // With only t >= 1 known, v[t-1] is outside the definition's range.
        let weak = Context { facts: vec![Fact { lhs: ctx.facts[0].lhs.clone(), rel: Rel::Ge, rhs: Expr::int(1, lhs.span) }], ..Context::default() };
        assert!(rewrites(&lhs, &rules[0], Direction::Forward, &weak).is_empty());
    }

    #[test]
    fn affine_facts_are_decided_from_bounds_and_facts() {
        let span = Default::default();
        let t = Expr::name("t", span);
        let i = Expr::name("i", span);
        let ctx = Context {
            facts: vec![
                Fact { lhs: t.clone(), rel: Rel::Ge, rhs: Expr::int(2, span) },
                Fact { lhs: i.clone(), rel: Rel::Le, rhs: Expr::bin(BinOp::Sub, t.clone(), Expr::int(1, span)) },
            ],
            ..Context::default()
        };
        assert!(ctx.proves(&Fact { lhs: Expr::bin(BinOp::Sub, t.clone(), Expr::int(1, span)), rel: Rel::Ge, rhs: Expr::int(1, span) }));
        assert!(!ctx.proves(&Fact { lhs: Expr::bin(BinOp::Sub, t.clone(), Expr::int(2, span)), rel: Rel::Ge, rhs: Expr::int(1, span) }));
        assert!(ctx.proves(&Fact { lhs: i, rel: Rel::Lt, rhs: t }));
    }
}
