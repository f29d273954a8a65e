//! How a `def` or `given` joins the models of the numeric layers. A model satisfies it by
//! construction, or says which claims it cannot serve:
//! - `x = …`, `v[t] = …`, `f(a, b) = …` define a value (so does `… = x`);
//! - `E[g[i]] = mu` fixes the mean of the random `g[i]` (the probability space is shaped to it);
//! - a linear equation in one free scalar (`a + b = 1`) is solved for it (`b = 1 - a`);
//! - an inequality without `for` variables restricts the points drawn, like an `assume`;
//! - anything else cannot be satisfied by random models: the claims that depend on the names
//!   it mentions lose the numeric layers (n/a, with the reason), the others keep them.

use std::collections::BTreeSet;

use num_rational::BigRational;
use num_traits::{One, Zero};

use crate::language::Kinds;
use crate::language::affine::Affine;
use crate::language::ast::{BinOp, Expr, ExprKind, Kind, Rel, Rule};
use crate::model::{Definition, ModelSpec};

pub(super) fn add(model: &mut ModelSpec, rule: &Rule, kinds: &Kinds) {
    let vars: Vec<(String, Kind)> = rule.binders.iter().map(|b| (b.var.clone(), b.kind.clone())).collect();
    let is_var = |n: &str| vars.iter().any(|(v, _)| v == n);
    let definition = |lhs: &Expr, rhs: &Expr| Definition {
        name: rule.name.clone(),
        lhs: lhs.clone(),
        rhs: rhs.clone(),
        vars: vars.clone(),
        conditions: rule.conditions.clone(),
    };
    let (lhs, rhs) = (&rule.relation.lhs, &rule.relation.rhs);
    // A name's value cannot depend on `for` variables: `a = E[g[i]] for i` defines nothing.
    let defines = |e: &Expr| match &e.kind {
        ExprKind::Name(n) => !is_var(n) && kinds.get(n).is_some() && vars.is_empty(),
        ExprKind::Index(..) => true,
        ExprKind::Call(_, args) => args.iter().all(|a| matches!(&a.kind, ExprKind::Name(v) if is_var(v)) || Affine::of(a).is_some()),
        _ => false,
    };
    if rule.relation.rel != Rel::Eq {
        if rule.binders.is_empty() {
            model.assumptions.push(rule.relation.clone());
        } else if let Some((f, bound)) = function_bound(rule, kinds) {
            let strict = matches!(rule.relation.rel, Rel::Lt | Rel::Gt);
            // A function has values, so the bound itself is nonnegative (positive if strict):
            // a point with a negative bound is no model of the file.
            let zero = Expr::int(0, bound.span);
            model.assumptions.push(crate::language::ast::Fact { lhs: bound.clone(), rel: if strict { Rel::Gt } else { Rel::Ge }, rhs: zero });
            model.bounded.insert(f, (bound, strict));
        } else {
            unsatisfied(model, rule);
        }
        return;
    }
    if defines(lhs) {
        model.definitions.push(definition(lhs, rhs));
    } else if mean_of_a_leaf(lhs) {
        model.means.push(definition(lhs, rhs));
    } else if matches!(rhs.kind, ExprKind::Name(_)) && defines(rhs) {
        model.definitions.push(definition(rhs, lhs));
    } else if let Some((name, value)) = solve(rule, model, kinds) {
        model.definitions.push(definition(&Expr::name(&name, lhs.span), &value));
    } else {
        unsatisfied(model, rule);
    }
}

/// `abs(f(z)) <= c for z` (or `<`, or `c >= abs(f(z))`) with `f` a declared function, `z`
/// its scalar variable and `c` free of both: the models draw `f` inside `[-c, c]`.
pub(super) fn function_bound(rule: &Rule, kinds: &Kinds) -> Option<(String, Expr)> {
    let r = &rule.relation;
    let (small, large) = match r.rel {
        Rel::Le | Rel::Lt => (&r.lhs, &r.rhs),
        Rel::Ge | Rel::Gt => (&r.rhs, &r.lhs),
        _ => return None,
    };
    let [binder] = rule.binders.as_slice() else { return None };
    let ExprKind::Builtin(crate::language::builtins::Func::Abs, inner) = &small.kind else { return None };
    let ExprKind::Call(f, args) = &inner[0].kind else { return None };
    let simple = matches!(args.as_slice(), [a] if matches!(&a.kind, ExprKind::Name(z) if *z == binder.var));
    let fits = simple && binder.kind == Kind::Scalar && rule.conditions.is_empty() && kinds.get(f) == Some(&Kind::Function);
    let mut names = BTreeSet::new();
    mentioned(large, &mut names);
    (fits && !names.contains(f) && !names.contains(&binder.var) && !large.has_expectation()).then(|| (f.clone(), large.clone()))
}

fn unsatisfied(model: &mut ModelSpec, rule: &Rule) {
    let mut names = BTreeSet::new();
    for side in [&rule.relation.lhs, &rule.relation.rhs] {
        mentioned(side, &mut names);
    }
    names.retain(|n| !rule.binders.iter().any(|b| b.var == *n));
    model.unsatisfied.push((rule.name.clone(), names));
}

/// The means the models can shape: a mean given on a quantity that a definition computes
/// (`x[t] = 2*g[t]` with `E[x[t]] = 1`) or with a random right side (`E[g[i]] = g[0]`)
/// cannot be satisfied by shifting a leaf's outcomes, so it is unsatisfied instead.
pub(super) fn settle_means(model: &mut ModelSpec, random: &BTreeSet<String>) {
    let means = std::mem::take(&mut model.means);
    for d in means {
        let head = match &d.lhs.kind {
            ExprKind::Expect { body, .. } => match &body.kind {
                ExprKind::Index(n, _) | ExprKind::Call(n, _) => Some(n.clone()),
                _ => None,
            },
            _ => None,
        };
        let defined = model.definitions.iter().any(|def| match &def.lhs.kind {
            ExprKind::Name(n) | ExprKind::Index(n, _) | ExprKind::Call(n, _) => Some(n) == head.as_ref(),
            _ => false,
        });
        if defined || crate::language::elaborate::is_random(&d.rhs, random) {
            let mut names = BTreeSet::new();
            mentioned(&d.lhs, &mut names);
            mentioned(&d.rhs, &mut names);
            names.retain(|n| !d.vars.iter().any(|(v, _)| v == n));
            model.unsatisfied.push((d.name.clone(), names));
        } else {
            model.means.push(d);
        }
    }
}

/// Every declared name, sequence and function an expression mentions.
pub(super) fn mentioned(e: &Expr, out: &mut BTreeSet<String>) {
    if let ExprKind::Name(n) | ExprKind::Index(n, _) | ExprKind::Call(n, _) = &e.kind {
        out.insert(n.clone());
    }
    e.children().into_iter().for_each(|c| mentioned(c, out));
}

/// `E[leaf]` with a leaf a sequence element or function value (no Gaussian variable).
fn mean_of_a_leaf(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Expect { gaussian: None, body } if matches!(body.kind, ExprKind::Index(..) | ExprKind::Call(..)))
}

/// A linear equation without `for` variables in one free scalar with a constant coefficient,
/// solved for the last such scalar it mentions.
fn solve(rule: &Rule, model: &ModelSpec, kinds: &Kinds) -> Option<(String, Expr)> {
    if !rule.binders.is_empty() {
        return None;
    }
    let difference = Expr::bin(BinOp::Sub, rule.relation.lhs.clone(), rule.relation.rhs.clone());
    let mut names = Vec::new();
    in_order(&difference, &mut names);
    let defined = |n: &str| model.definitions.iter().any(|d| matches!(&d.lhs.kind, ExprKind::Name(m) if m == n));
    names.into_iter().rev().filter(|n| matches!(kinds.get(n), Some(Kind::Scalar)) && !defined(n)).find_map(|n| {
        let (coefficient, rest) = linear_in(&difference, &n)?;
        if coefficient.is_zero() {
            return None;
        }
        let span = difference.span;
        // c·n + rest = 0  ⇒  n = -rest / c
        Some((n, Expr::bin(BinOp::Div, Expr::new(ExprKind::Neg(Box::new(rest)), span), Expr::num(coefficient, span))))
    })
}

fn in_order(e: &Expr, out: &mut Vec<String>) {
    if let ExprKind::Name(n) = &e.kind
        && !out.contains(n)
    {
        out.push(n.clone());
    }
    e.children().into_iter().for_each(|c| in_order(c, out));
}

/// `e` as `c·v + rest` with a constant `c` and `rest` free of `v`, if it is one.
fn linear_in(e: &Expr, v: &str) -> Option<(BigRational, Expr)> {
    if !e.mentions(v) {
        return Some((BigRational::zero(), e.clone()));
    }
    let zero = || Expr::int(0, e.span);
    match &e.kind {
        ExprKind::Name(n) if n == v => Some((BigRational::one(), zero())),
        ExprKind::Neg(a) => {
            let (c, r) = linear_in(a, v)?;
            Some((-c, Expr::new(ExprKind::Neg(Box::new(r)), e.span)))
        }
        ExprKind::Bin(op @ (BinOp::Add | BinOp::Sub), a, b) => {
            let ((ca, ra), (cb, rb)) = (linear_in(a, v)?, linear_in(b, v)?);
            let c = if *op == BinOp::Add { ca + cb } else { ca - cb };
            Some((c, Expr::bin(*op, ra, rb)))
        }
        ExprKind::Bin(BinOp::Mul, a, b) => {
            let (k, x) = match (&a.kind, &b.kind) {
                (ExprKind::Num(k), _) => (k, b),
                (_, ExprKind::Num(k)) => (k, a),
                _ => return None,
            };
            let (c, r) = linear_in(x, v)?;
            Some((c * k, Expr::bin(BinOp::Mul, Expr::num(k.clone(), e.span), r)))
        }
        ExprKind::Bin(BinOp::Div, a, b) => {
            let ExprKind::Num(k) = &b.kind else { return None };
            if k.is_zero() {
                return None;
            }
            let (c, r) = linear_in(a, v)?;
            Some((c / k, Expr::bin(BinOp::Div, r, (**b).clone())))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_of(code: &str) -> ModelSpec {
        let mut files = crate::diagnostic::SourceFiles::default();
        let id = files.add("t.md".into(), format!("```derivation\n{code}\n```\n"));
        let doc = crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap();
        let kinds = Kinds(doc.scope.decls.iter().map(|(n, d)| (n.clone(), d.kind.clone())).collect());
        let mut model = ModelSpec::default();
        for rule in doc.rules() {
            add(&mut model, rule, &kinds);
        }
        model
    }

    #[test]
    fn givens_join_the_models_as_what_they_say() {
        let m = model_of("let a, b, mu: scalar\nlet g: sequence\ngiven s: a + 2*b = 1\ngiven m: E[g[i]] = mu for i >= 1\ngiven h: g[1]/2 = mu");
        assert_eq!(m.definitions.len(), 2, "{:?}", m.definitions);
        assert!(matches!(&m.definitions[0].lhs.kind, ExprKind::Name(n) if n == "b"));
        assert_eq!(m.means.len(), 1);
        assert!(m.unsatisfied.is_empty());
        let m = model_of("let a, b: scalar\nlet g: sequence\ngiven v: E[g[i]^2] = a for i >= 1\ngiven w: a*b = 1");
        assert_eq!(m.unsatisfied.len(), 2);
        assert!(m.unsatisfied[0].1.contains("g") && m.unsatisfied[1].1.contains("b"));
    }
}
