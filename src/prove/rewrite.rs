//! Rewriting with named rules, egg-style: a rule is a value that offers every rewrite of an
//! expression at one position (`Rewrite`). Equations of the file match a side against any
//! subexpression, with the rule's `for` variables as pattern variables, and apply only
//! where their conditions follow from the context (`facts`).
//!
//! Index arithmetic is affine: `v[t]` matches `v[t-1]` with `t := t-1`, and the condition
//! `t >= 1` then becomes `t-1 >= 1`, which is decided from the facts of the context
//! (`t >= 2` in a claim `for t >= 2`, or a concrete index).

use std::collections::{BTreeSet, HashMap};

use num_bigint::BigInt;
use num_traits::{One, Zero};

use crate::language::affine::{Affine, canonical_indices};
use crate::language::ast::{BinOp, Expr, ExprKind, Fact, Kind, Rel};
use crate::language::builtins::Func;
use crate::language::{Kinds, elaborate, text};

/// What is known where a rewrite happens: facts about the variables (`t >= 2`), the kinds
/// of names (a pattern variable of a rule stands for scalars only), and which names are
/// random under `E`.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub facts: Vec<Fact>,
    pub kinds: Kinds,
    /// Names that may be random under `E` (see `language::elaborate`); other names are
    /// constants.
    pub random: BTreeSet<String>,
    /// Declared dimensions of vectors and matrices (`matrix n x d` → `["n", "d"]`), for the
    /// bounds that read a shape (`rank_product`).
    pub shapes: std::collections::HashMap<String, Vec<String>>,
}

impl Context {
    /// Whether an expression may be random (see `language::elaborate::is_random`).
    pub fn is_random(&self, e: &Expr) -> bool {
        elaborate::is_random(e, &self.random)
    }
}

/// Adds a message about a rewrite that was not taken, once.
pub fn note(blocked: &mut Vec<String>, message: String) {
    if !blocked.contains(&message) {
        blocked.push(message);
    }
}

/// Which way a rule is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// A rule the symbolic layer may rewrite with: an equation of the file or a built-in lemma.
pub trait Rewrite {
    /// The name a step cites it by.
    fn name(&self) -> &str;
    /// Every expression obtained from `e` by one use of the rule at one position where its
    /// conditions hold, with the direction it was used in. Where the rule matches but a
    /// condition does not follow from the context, it says which in `blocked`.
    fn rewrites(&self, e: &Expr, ctx: &Context, blocked: &mut Vec<String>) -> Vec<(Expr, Direction)>;
}

/// An equation usable as a rewrite, validated when it is built: indices canonical, and the
/// directions in which every pattern variable of the result is bound by the matched side.
#[derive(Debug, Clone)]
pub struct Equation {
    pub name: String,
    pub lhs: Expr,
    pub rhs: Expr,
    /// Pattern variables with their kinds: an integer variable matches only whole values.
    pub vars: Vec<(String, Kind)>,
    pub conditions: Vec<Fact>,
    directions: Vec<Direction>,
    /// Whether the equation takes an expectation: its `for` variables were constants where it
    /// was shown, so they must not match anything random (`E[w*g] = E[w]*E[g] for w` says
    /// nothing about `w = g`).
    averages: bool,
}

impl Equation {
    pub fn new(name: &str, lhs: &Expr, rhs: &Expr, vars: Vec<(String, Kind)>, conditions: Vec<Fact>) -> Equation {
        let (lhs, rhs) = (canonical_indices(lhs), canonical_indices(rhs));
        let binds_all = |from: &Expr, to: &Expr| !vars.iter().any(|(v, _)| to.mentions(v) && !from.mentions(v));
        let directions = [(Direction::Forward, binds_all(&lhs, &rhs)), (Direction::Backward, binds_all(&rhs, &lhs))]
            .into_iter()
            .filter_map(|(d, ok)| ok.then_some(d))
            .collect();
        let averages = lhs.has_expectation() || rhs.has_expectation();
        Equation { name: name.to_string(), lhs, rhs, vars, conditions, directions, averages }
    }

    fn var_names(&self) -> Vec<String> {
        self.vars.iter().map(|(v, _)| v.clone()).collect()
    }

    /// The directions this equation can be used in.
    pub fn directions(&self) -> &[Direction] {
        &self.directions
    }

    /// Every rewrite of `e` with this equation in one direction.
    pub fn rewrites_in(&self, e: &Expr, direction: Direction, ctx: &Context, blocked: &mut Vec<String>) -> Vec<Expr> {
        if !self.directions.contains(&direction) {
            return Vec::new();
        }
        let (from, to) = match direction {
            Direction::Forward => (&self.lhs, &self.rhs),
            Direction::Backward => (&self.rhs, &self.lhs),
        };
        let mut out = Vec::new();
        everywhere(e, ctx, &mut |sub, ctx| self.rewrite_root(sub, from, to, ctx, blocked).into_iter().collect(), &mut out);
        out
    }

    /// The instance of the other side where one side matches `e` itself (not its children)
    /// and the conditions hold: with `Forward`, `e` matches `lhs` and the result is `rhs`.
    pub fn at_root(&self, e: &Expr, direction: Direction, ctx: &Context, blocked: &mut Vec<String>) -> Option<Expr> {
        if !self.directions.contains(&direction) {
            return None;
        }
        let (from, to) = match direction {
            Direction::Forward => (&self.lhs, &self.rhs),
            Direction::Backward => (&self.rhs, &self.lhs),
        };
        self.rewrite_root(e, from, to, ctx, blocked)
    }

    /// The rewrite of `e` itself (not its children), if `from` matches and the conditions hold.
    fn rewrite_root(&self, e: &Expr, from: &Expr, to: &Expr, ctx: &Context, blocked: &mut Vec<String>) -> Option<Expr> {
        let mut bindings = Bindings::new();
        if !matches(from, e, &self.var_names(), &mut bindings) {
            return None;
        }
        // A variable matches only values of its kind: `for` variables are scalars (`c*A = A*c
        // for c` must not match a matrix `c`), and integer ones whole numbers (`f(t) = t^2 for
        // t >= 0` says nothing about `f(a)` for a real `a`).
        for (v, kind) in &self.vars {
            let Some(value) = bindings.get(v) else { continue };
            let fits = ctx.kinds.of(value) == Kind::Scalar && (*kind != Kind::Integer || ctx.is_whole(value));
            if !fits {
                return None;
            }
            if self.averages && ctx.is_random(value) {
                note(blocked, format!("`{}` averages, so its `{v}` must be a constant, and `{}` is random", self.name, text::expr(value)));
                return None;
            }
        }
        // Inside a gradient, a rule's variable stands for something held fixed: it may not
        // match a part that mentions the gradient's variable (`grad(c*dot(x, x), x) = 2*c*x`
        // says nothing of `c = dot(a, x)`).
        if let Some(v) = varying_in_gradient(from, &bindings).or_else(|| varying_in_gradient(to, &bindings)) {
            note(
                blocked,
                format!("`{}`: its `{v}` stands inside a gradient for something that does not vary with the gradient's variable", self.name),
            );
            return None;
        }
        for c in &self.conditions {
            let fact = Fact { lhs: c.lhs.substitute(&bindings), rel: c.rel, rhs: c.rhs.substitute(&bindings) };
            if !ctx.proves(&fact) {
                note(blocked, format!("`{}` needs `{}`, which does not follow from what is known", self.name, text::relation(&fact)));
                return None;
            }
        }
        Some(canonical_indices(&to.substitute(&bindings)))
    }
}

impl Rewrite for Equation {
    fn name(&self) -> &str {
        &self.name
    }

    fn rewrites(&self, e: &Expr, ctx: &Context, blocked: &mut Vec<String>) -> Vec<(Expr, Direction)> {
        let mut out = Vec::new();
        for d in [Direction::Forward, Direction::Backward] {
            out.extend(self.rewrites_in(e, d, ctx, blocked).into_iter().map(|x| (x, d)));
        }
        out
    }
}

type Bindings = HashMap<String, Expr>;

/// A variable of `pattern` bound inside one of its gradients to something that mentions that
/// gradient's variable, if any.
fn varying_in_gradient(pattern: &Expr, bindings: &Bindings) -> Option<String> {
    if let ExprKind::Builtin(Func::Grad, args) = &pattern.kind {
        let variable = args[1].substitute(bindings);
        fn contains(e: &Expr, target: &Expr) -> bool {
            e == target || e.children().into_iter().any(|c| contains(c, target))
        }
        fn names(e: &Expr, out: &mut BTreeSet<String>) {
            if let ExprKind::Name(n) = &e.kind {
                out.insert(n.clone());
            }
            e.children().into_iter().for_each(|c| names(c, out));
        }
        let mut inside = BTreeSet::new();
        names(&args[0], &mut inside);
        if let Some(v) = inside.into_iter().find(|v| bindings.get(v).is_some_and(|b| contains(b, &variable))) {
            return Some(v);
        }
    }
    pattern.children().into_iter().find_map(|c| varying_in_gradient(c, bindings))
}

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
        (ExprKind::Builtin(f, ps), ExprKind::Builtin(g, ts)) => {
            f == g && ps.len() == ts.len() && ps.iter().zip(ts).all(|(p, t)| matches(p, t, vars, bindings))
        }
        (ExprKind::Bin(o1, a1, b1), ExprKind::Bin(o2, a2, b2)) => o1 == o2 && matches(a1, a2, vars, bindings) && matches(b1, b2, vars, bindings),
        (ExprKind::Neg(a), ExprKind::Neg(b)) | (ExprKind::Transpose(a), ExprKind::Transpose(b)) => matches(a, b, vars, bindings),
        (ExprKind::Expect { gaussian: None, body: p }, ExprKind::Expect { gaussian: None, body: t }) => matches(p, t, vars, bindings),
        (ExprKind::Expect { gaussian: Some((x, pm, pc)), body: p }, ExprKind::Expect { gaussian: Some((y, tm, tc)), body: t }) => {
            // The target's variable is renamed to the pattern's; nothing bound may mention it.
            if vars.contains(x) || (x != y && t.mentions(x)) || !matches(pm, tm, vars, bindings) || !matches(pc, tc, vars, bindings) {
                return false;
            }
            let renamed = if x == y { (**t).clone() } else { t.substitute(&HashMap::from([(y.clone(), Expr::name(x, t.span))])) };
            matches(p, &renamed, vars, bindings) && !bindings.values().any(|b| b.mentions(x))
        }
        (ExprKind::BigOp { .. }, ExprKind::BigOp { .. }) => {
            // Bound variables make general matching subtle; match only identical sums.
            pattern.children().iter().all(|c| vars.iter().all(|v| !c.mentions(v))) && pattern == target
        }
        _ => pattern == target,
    }
}

/// The affine form of `p` with the bound pattern variables replaced by their values.
fn instantiate(p: &Affine, bindings: &Bindings) -> Option<Affine> {
    p.terms.iter().try_fold(Affine::constant(p.constant.clone()), |acc, (v, k)| {
        let value = match bindings.get(v) {
            Some(b) => Affine::of(b)?,
            None => Affine::var(v),
        };
        Some(acc.plus(&value.scale(k)))
    })
}

/// An index pattern `v + c` matches any integer expression `e`, binding `v := e - c`.
fn matches_index(pattern: &Expr, target: &Expr, vars: &[String], bindings: &mut Bindings) -> bool {
    if let (Some(p), Some(t)) = (Affine::of(pattern), Affine::of(target)) {
        let free: Vec<&String> = p.terms.keys().filter(|v| vars.contains(v) && !bindings.contains_key(*v)).collect();
        match free.as_slice() {
            [] => return instantiate(&p, bindings).is_some_and(|b| b == t),
            [v] if p.terms[*v].is_one() => {
                let mut rest = p.clone();
                rest.terms.remove(*v);
                let Some(rest) = instantiate(&rest, bindings) else { return false };
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

/// The context inside the binder `e` (a sum or `E(x ~ …)`), for its last child: facts about
/// an outer variable of the same name no longer apply, a sum's index lies between its
/// bounds and is an integer, a Gaussian variable is a vector.
pub fn inside(e: &Expr, ctx: &Context) -> Context {
    let Some(var) = e.binds() else { return ctx.clone() };
    let mut facts: Vec<Fact> = ctx.facts.iter().filter(|f| !f.lhs.mentions(var) && !f.rhs.mentions(var)).cloned().collect();
    if let ExprKind::BigOp { lo, hi, .. } = &e.kind {
        let v = Expr::name(var, e.span);
        facts.push(Fact { lhs: v.clone(), rel: Rel::Ge, rhs: (**lo).clone() });
        facts.push(Fact { lhs: v, rel: Rel::Le, rhs: (**hi).clone() });
    }
    let mut kinds = ctx.kinds.clone();
    let mut random = ctx.random.clone();
    if matches!(e.kind, ExprKind::Expect { .. }) {
        // The variable of `E(x ~ N(…))` is a random vector.
        kinds.insert(var, Kind::Vector);
        random.insert(var.to_string());
    } else {
        kinds.insert(var, Kind::Integer);
    }
    Context { facts, kinds, random, shapes: ctx.shapes.clone() }
}

/// Applies `f` at every position of `e`; results are whole expressions. Below the root, a
/// replacement of another kind than what it replaces is dropped: a vector rewritten to the
/// scalar 0 (by `given p = 0`) would lose its size inside `dot(p + 1, ones)`, so there it
/// becomes `0*p`; a whole side that is the zero vector is 0.
pub fn everywhere(e: &Expr, ctx: &Context, f: &mut dyn FnMut(&Expr, &Context) -> Vec<Expr>, out: &mut Vec<Expr>) {
    out.extend(f(e, ctx));
    below_root(e, ctx, f, out);
}

fn below_root(e: &Expr, ctx: &Context, f: &mut dyn FnMut(&Expr, &Context) -> Vec<Expr>, out: &mut Vec<Expr>) {
    // A gradient is not a function of its body's value: `grad(norm(p)^2, p)` is not
    // `grad(norm(q)^2, p)` where `p = q`. Nothing inside one is rewritten.
    if let ExprKind::Builtin(Func::Grad, _) = e.kind {
        return;
    }
    let children = e.children();
    for (i, child) in children.iter().enumerate() {
        let inner_ctx;
        let ctx = match e.binds() {
            Some(_) if i == children.len() - 1 => {
                inner_ctx = inside(e, ctx);
                &inner_ctx
            }
            _ => ctx,
        };
        let mut inner = Vec::new();
        let scalar = ctx.kinds.of(child) == Kind::Scalar;
        inner.extend(f(child, ctx).into_iter().filter_map(|r| {
            if (ctx.kinds.of(&r) == Kind::Scalar) == scalar {
                Some(r)
            } else if !scalar && r.rational().is_some_and(|c| c.is_zero()) {
                // The zero vector of the child's own shape: `0*p` keeps the size of `p`.
                Some(Expr::bin(BinOp::Mul, r, (*child).clone()))
            } else {
                None
            }
        }));
        below_root(child, ctx, f, &mut inner);
        for replacement in inner {
            let mut new: Vec<Expr> = children.iter().map(|c| (*c).clone()).collect();
            new[i] = replacement;
            out.push(e.with_children(new));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::{Document, Item, ast::BinOp, ast::Statement};

    /// Parses a tiny file and returns its rules as equations plus the last claim's left side.
    fn setup(code: &str) -> (Vec<Equation>, Expr, Context) {
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
                    let vars = r.binders.iter().map(|b| (b.var.clone(), b.kind.clone())).collect();
                    rules.push(Equation::new(&r.name, &r.relation.lhs, &r.relation.rhs, vars, r.conditions.clone()));
                    last = Some(r.clone());
                }
            }
        }
        let last = last.unwrap();
        assert!(last.binders.iter().all(|b| b.kind == Kind::Integer));
        let kinds = Kinds(last.binders.iter().map(|b| (b.var.clone(), b.kind.clone())).collect());
        (rules, last.relation.lhs.clone(), Context { facts: last.conditions, kinds, ..Context::default() })
    }

    #[test]
    fn shifted_index_needs_its_condition() {
        let code = "let v, g: sequence\ndef d: v[t] = 2*v[t-1] + g[t] for t >= 1\nclaim c: v[t-1] = v[t-1] for t >= 2\n";
        let (rules, lhs, ctx) = setup(code);
        let out = rules[0].rewrites_in(&lhs, Direction::Forward, &ctx, &mut vec![]);
        assert_eq!(out.len(), 1);
        assert_eq!(format!("{:?}", out[0]).matches("Index").count(), 2);
        // With only t >= 1 known, v[t-1] is outside the definition's range.
        let weak = Context { facts: vec![Fact { lhs: ctx.facts[0].lhs.clone(), rel: Rel::Ge, rhs: Expr::int(1, lhs.span) }], ..ctx.clone() };
        let mut blocked = vec![];
        assert!(rules[0].rewrites_in(&lhs, Direction::Forward, &weak, &mut blocked).is_empty());
        assert_eq!(blocked, ["`d` needs `t - 1 >= 1`, which does not follow from what is known"]);
    }

    #[test]
    fn a_direction_that_would_invent_a_variable_is_not_offered() {
        let code = "let f: function\nlet c: scalar\ndef k: c = f(x) for x\nclaim z: c = c\n";
        let (rules, _, _) = setup(code);
        assert_eq!(rules[0].directions(), &[Direction::Backward]);
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
