//! What a whole file says about its names, beyond their declarations, read once after
//! parsing and used by every layer: which names may be random (for `linearity`, the models
//! and Monte Carlo), the declared shapes and the default size of every dimension name.

use std::collections::{BTreeMap, BTreeSet};

use num_rational::BigRational;
use num_traits::Signed;

use super::ast::{Check, Expr, ExprKind, Fact, Kind, Rel, RuleKind, Statement};
use super::{Document, Item};

/// The file's names as every layer reads them.
#[derive(Debug, Clone, Default)]
pub struct Elaboration {
    /// Names that may be random: drawn by a Monte Carlo check, or tied to something random by
    /// a `def` or `given` (see [`random_names`]).
    pub random: BTreeSet<String>,
    /// Declared dimensions of vectors and matrices (`matrix n x d` → `["n", "d"]`).
    pub shapes: BTreeMap<String, Vec<String>>,
    /// A default size for every dimension name: 2 for the first declared, 3 for the next, …,
    /// so that a product of mismatched shapes cannot pass by coincidence.
    pub sizes: BTreeMap<String, usize>,
    /// Ten times the largest number the file writes (at least 10): how far some random draws
    /// go, so that a claim true only below a constant of the file is caught.
    pub scale: BigRational,
}

pub fn elaborate(doc: &Document) -> Elaboration {
    let mut out = Elaboration { random: random_names(doc), scale: BigRational::from_integer(10.into()), ..Elaboration::default() };
    for rule in doc.rules() {
        let mut exprs = vec![&rule.relation.lhs, &rule.relation.rhs];
        exprs.extend(rule.conditions.iter().flat_map(|c| [&c.lhs, &c.rhs]));
        for e in exprs {
            largest_number(e, &mut out.scale);
        }
    }
    let mut decls: Vec<_> = doc.scope.decls.values().collect();
    decls.sort_by_key(|d| d.span.start);
    for d in decls {
        if !d.shape.is_empty() {
            out.shapes.insert(d.name.clone(), d.shape.clone());
        }
        for dim in &d.shape {
            if dim.parse::<usize>().is_err() && !out.sizes.contains_key(dim) {
                let size = 2 + out.sizes.len();
                out.sizes.insert(dim.clone(), size);
            }
        }
    }
    out
}

/// Ten times the largest constant of `e`, written as a number or computed from numbers
/// (`70*70` is 4900: a definition that changes there must be reached).
fn largest_number(e: &Expr, scale: &mut BigRational) {
    if let Some(q) = e.rational() {
        let ten = q.abs() * BigRational::from_integer(10.into());
        if ten > *scale {
            *scale = ten;
        }
    }
    e.children().into_iter().for_each(|c| largest_number(c, scale));
}

/// Whether an expression may be random: it mentions, outside any expectation, a sequence
/// element, an application of a declared function, or a name of `random`. An expectation
/// `E[…]` is a number (the Gaussian variable of an enclosing `E(x ~ …)` is the caller's
/// business).
pub fn is_random(e: &Expr, random: &BTreeSet<String>) -> bool {
    match &e.kind {
        ExprKind::Index(..) | ExprKind::Call(..) => true,
        ExprKind::Name(n) => random.contains(n),
        ExprKind::Expect { .. } => false,
        _ => e.children().iter().any(|c| is_random(c, random)),
    }
}

/// The names that may be random, as the least fixpoint of:
/// - a name a Monte Carlo check draws is random;
/// - `n = X` or `X = n` (a `def` or `given`) with `X` random makes the name `n` random;
/// - any other equation with a random side, except one that defines a sequence element or a
///   function value (`m[t] = beta*m[t-1] + …` leaves `beta` a constant), makes every name on
///   both sides random: `given g[1] + z = g[2]` ties `z` to the gradients.
pub fn random_names(doc: &Document) -> BTreeSet<String> {
    let mut random: BTreeSet<String> = BTreeSet::new();
    for rule in doc.rules() {
        for check in &rule.checks {
            if let Check::MonteCarlo { setup, .. } = check {
                random.extend(setup.draws.iter().map(|(n, ..)| n.clone()));
            }
        }
    }
    let equations: Vec<_> = doc.rules().filter(|r| matches!(r.kind, RuleKind::Def | RuleKind::Given) && r.relation.rel == Rel::Eq).collect();
    let declared = |n: &str| doc.scope.decls.get(n).is_some_and(|d| matches!(d.kind, Kind::Scalar | Kind::Integer | Kind::Vector | Kind::Matrix));
    let assumed: Vec<&Fact> = doc
        .items
        .iter()
        .filter_map(|i| if let Item::Block(b) = i { Some(&b.statements) } else { None })
        .flatten()
        .filter_map(|s| if let Statement::Assume(facts, _) = s { Some(facts) } else { None })
        .flatten()
        .collect();
    loop {
        let before = random.len();
        // `assume z = g[1]` (or `z >= g[1]`) ties `z` to a random quantity.
        for f in &assumed {
            if is_random(&f.lhs, &random) || is_random(&f.rhs, &random) {
                for side in [&f.lhs, &f.rhs] {
                    let mut names = Vec::new();
                    names_outside_expectations(side, &mut names);
                    random.extend(names.into_iter().filter(|n| declared(n)));
                }
            }
        }
        for rule in &equations {
            let is_binder = |n: &str| rule.binders.iter().any(|b| b.var == n);
            let (lhs, rhs) = (&rule.relation.lhs, &rule.relation.rhs);
            let bare = |e: &Expr| match &e.kind {
                ExprKind::Name(n) if declared(n) && !is_binder(n) => Some(n.clone()),
                _ => None,
            };
            if matches!(lhs.kind, ExprKind::Index(..) | ExprKind::Call(..)) {
                continue;
            }
            match (bare(lhs), bare(rhs)) {
                (Some(n), _) if is_random(rhs, &random) => {
                    random.insert(n);
                }
                (_, Some(n)) if is_random(lhs, &random) => {
                    random.insert(n);
                }
                (None, None) if is_random(lhs, &random) || is_random(rhs, &random) => {
                    for side in [lhs, rhs] {
                        let mut names = Vec::new();
                        names_outside_expectations(side, &mut names);
                        random.extend(names.into_iter().filter(|n| declared(n) && !is_binder(n)));
                    }
                }
                _ => {}
            }
        }
        if random.len() == before {
            return random;
        }
    }
}

fn names_outside_expectations(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Name(n) => out.push(n.clone()),
        ExprKind::Expect { .. } => {}
        _ => e.children().into_iter().for_each(|c| names_outside_expectations(c, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_of(code: &str) -> BTreeSet<String> {
        let mut files = crate::diagnostic::SourceFiles::default();
        let id = files.add("t.md".into(), format!("```derivation\n{code}\n```\n"));
        random_names(&crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap())
    }

    #[test]
    fn randomness_follows_equations_whichever_side() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(random_of("let g: sequence\nlet z, c: scalar\ngiven h: g[1]/2 = z"), names(&["z"]));
        assert_eq!(random_of("let g: sequence\nlet z, c: scalar\ngiven h: z = g[1]/2\ngiven k: c = 3*z"), names(&["c", "z"]));
        assert_eq!(random_of("let g: sequence\nlet z: scalar\ngiven h: g[1] + z = g[2]"), names(&["z"]));
        // A recursion's coefficients and a mean stay constants.
        assert_eq!(
            random_of("let g, m: sequence\nlet beta, mu: scalar\ndef a: m[t] = beta*m[t-1] + g[t] for t >= 1\ngiven s: E[g[i]] = mu for i >= 1"),
            names(&[])
        );
    }
}
