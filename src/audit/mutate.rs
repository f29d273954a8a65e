//! Mutation operators: the slips a student makes, as data. Each operator looks at one node
//! and proposes its replacements; [`mutants`] applies every operator at every node of an
//! expression, one site at a time.

use num_rational::BigRational;
use num_traits::{One, Zero};

use crate::language::ast::{BinOp, Expr, ExprKind};

/// One kind of slip: its name and the replacements it proposes for a node.
pub struct Operator {
    pub name: &'static str,
    pub apply: fn(&Expr) -> Vec<Expr>,
}

pub const OPERATORS: &[Operator] = &[
    Operator { name: "sign flip", apply: sign_flip },
    Operator { name: "dropped factor", apply: dropped_factor },
    Operator { name: "doubled factor", apply: doubled_factor },
    Operator { name: "shifted index", apply: shifted_index },
    Operator { name: "shifted bound", apply: shifted_bound },
    Operator { name: "swapped operands", apply: swapped_operands },
    Operator { name: "wrong exponent", apply: wrong_exponent },
    Operator { name: "dropped transpose", apply: dropped_transpose },
    Operator { name: "wrong constant", apply: wrong_constant },
];

/// Every single-site mutant of `e`: the operator's name and the mutated expression.
pub fn mutants(e: &Expr) -> Vec<(&'static str, Expr)> {
    let mut out = Vec::new();
    for op in OPERATORS {
        for m in (op.apply)(e) {
            out.push((op.name, m));
        }
    }
    for (i, child) in e.children().into_iter().enumerate() {
        for (name, m) in mutants(child) {
            let mut children: Vec<Expr> = e.children().into_iter().cloned().collect();
            children[i] = m;
            out.push((name, e.with_children(children)));
        }
    }
    out
}

fn bin(op: BinOp, a: &Expr, b: &Expr) -> Expr {
    Expr::bin(op, a.clone(), b.clone())
}

fn int(k: i64, like: &Expr) -> Expr {
    Expr::int(k, like.span)
}

/// `a + b` ↔ `a - b`, `-a` → `a`.
fn sign_flip(e: &Expr) -> Vec<Expr> {
    match &e.kind {
        ExprKind::Bin(BinOp::Add, a, b) => vec![bin(BinOp::Sub, a, b)],
        ExprKind::Bin(BinOp::Sub, a, b) => vec![bin(BinOp::Add, a, b)],
        ExprKind::Neg(a) => vec![(**a).clone()],
        _ => vec![],
    }
}

/// `a*b` → `a` and `b`; `a/b` → `a`.
fn dropped_factor(e: &Expr) -> Vec<Expr> {
    match &e.kind {
        ExprKind::Bin(BinOp::Mul, a, b) => vec![(**a).clone(), (**b).clone()],
        ExprKind::Bin(BinOp::Div, a, _) => vec![(**a).clone()],
        _ => vec![],
    }
}

/// A product or a term of a sum doubled: `a*b` → `2*(a*b)`, `a + b` → `2*a + b`.
fn doubled_factor(e: &Expr) -> Vec<Expr> {
    match &e.kind {
        ExprKind::Bin(BinOp::Mul | BinOp::Div, ..) => vec![bin(BinOp::Mul, &int(2, e), e)],
        ExprKind::Bin(op @ (BinOp::Add | BinOp::Sub), a, b) => vec![bin(*op, &bin(BinOp::Mul, &int(2, a), a), b)],
        _ => vec![],
    }
}

/// `v[t]` → `v[t+1]` and `v[t-1]`, one index at a time.
fn shifted_index(e: &Expr) -> Vec<Expr> {
    let ExprKind::Index(name, args) = &e.kind else { return vec![] };
    let mut out = Vec::new();
    for i in 0..args.len() {
        for op in [BinOp::Add, BinOp::Sub] {
            let mut shifted = args.clone();
            shifted[i] = bin(op, &args[i], &int(1, &args[i]));
            out.push(Expr::new(ExprKind::Index(name.clone(), shifted), e.span));
        }
    }
    out
}

/// A `sum`'s or `prod`'s lower bound one up, its upper bound one up or down.
fn shifted_bound(e: &Expr) -> Vec<Expr> {
    let ExprKind::BigOp { op, var, lo, hi, body } = &e.kind else { return vec![] };
    let one = int(1, e);
    let with =
        |lo: Expr, hi: Expr| Expr::new(ExprKind::BigOp { op: *op, var: var.clone(), lo: Box::new(lo), hi: Box::new(hi), body: body.clone() }, e.span);
    vec![
        with(bin(BinOp::Add, lo, &one), (**hi).clone()),
        with((**lo).clone(), bin(BinOp::Add, hi, &one)),
        with((**lo).clone(), bin(BinOp::Sub, hi, &one)),
    ]
}

/// `a - b` → `b - a`, `a/b` → `b/a`, `A*B` → `B*A`, `a^b` → `b^a`.
fn swapped_operands(e: &Expr) -> Vec<Expr> {
    match &e.kind {
        ExprKind::Bin(op @ (BinOp::Sub | BinOp::Div | BinOp::Mul | BinOp::Pow), a, b) => vec![bin(*op, b, a)],
        _ => vec![],
    }
}

/// `x^n` → `x^(n+1)` and `x^(n-1)`.
fn wrong_exponent(e: &Expr) -> Vec<Expr> {
    let ExprKind::Bin(BinOp::Pow, a, n) = &e.kind else { return vec![] };
    let one = int(1, n);
    vec![bin(BinOp::Pow, a, &bin(BinOp::Add, n, &one)), bin(BinOp::Pow, a, &bin(BinOp::Sub, n, &one))]
}

/// `A^T` → `A`.
fn dropped_transpose(e: &Expr) -> Vec<Expr> {
    match &e.kind {
        ExprKind::Transpose(a) => vec![(**a).clone()],
        _ => vec![],
    }
}

/// A number off by one, or doubled: `1/2` → `3/2`, `1`.
fn wrong_constant(e: &Expr) -> Vec<Expr> {
    let ExprKind::Num(q) = &e.kind else { return vec![] };
    let mut out = vec![Expr::num(q + BigRational::one(), e.span)];
    if !q.is_zero() {
        out.push(Expr::num(q * BigRational::from_integer(2.into()), e.span));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::text;

    fn parse(code: &str) -> Expr {
        let mut files = crate::diagnostic::SourceFiles::default();
        let source = format!("```derivation\nlet a, b, x: scalar\nlet v: sequence\nclaim c: {code} = 0   for t >= 1\n```\n");
        let id = files.add("t.md".into(), source);
        let doc = crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap();
        doc.rules().last().unwrap().relation.lhs.clone()
    }

    #[test]
    fn every_site_gets_every_operator_that_fits() {
        let shown: Vec<(&str, String)> = mutants(&parse("a*v[t] - b")).into_iter().map(|(op, e)| (op, text::expr(&e))).collect();
        for expected in [
            ("sign flip", "a*v[t] + b"),
            ("swapped operands", "b - a*v[t]"),
            ("dropped factor", "v[t] - b"),
            ("dropped factor", "a - b"),
            ("doubled factor", "2*(a*v[t]) - b"),
            ("shifted index", "a*v[t + 1] - b"),
            ("shifted index", "a*v[t - 1] - b"),
            ("swapped operands", "v[t]*a - b"),
        ] {
            assert!(shown.iter().any(|(op, e)| *op == expected.0 && e == expected.1), "{expected:?} missing from {shown:?}");
        }
    }

    #[test]
    fn bounds_exponents_and_constants_are_mutated() {
        let shown: Vec<String> = mutants(&parse("sum(i, 1, t, x^i)/2")).into_iter().map(|(_, e)| text::expr(&e)).collect();
        for expected in ["sum(i, 1 + 1, t, x^i)/2", "sum(i, 1, t - 1, x^i)/2", "sum(i, 1, t, x^(i + 1))/2", "sum(i, 1, t, x^i)/3"] {
            assert!(shown.iter().any(|e| e == expected), "{expected} missing from {shown:?}");
        }
    }
}
