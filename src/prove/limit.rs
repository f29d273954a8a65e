//! Limits as an integer variable grows (`X -> L as T -> inf`), for the ends of a squeeze:
//! an expression tends to `L` when it is `L` and does not depend on `T`, or is `L` plus terms
//! that vanish, a term vanishing by `power_limit` (`q^(a*T + b) -> 0` for `|q| < 1`, `a > 0`
//! whole) and by sums, differences, negations, products and quotients with factors that do not
//! depend on `T`. Every condition (`|q| < 1`, a nonzero divisor) must follow from the context.

use num_traits::Signed;

use super::rewrite::Context;
use super::search::{Outcome, prove_equal};
use crate::language::affine::Affine;
use crate::language::ast::{BinOp, Expr, ExprKind, Fact, Rel};
use crate::language::text;

/// Whether `e` tends to `limit` as `var` grows; otherwise why not.
pub fn tends_to(e: &Expr, var: &str, limit: &Expr, ctx: &Context) -> Result<(), String> {
    if limit.mentions(var) {
        return Err(format!("the limit `{}` depends on `{var}`", text::expr(limit)));
    }
    let zero = Expr::int(0, limit.span);
    if equal(limit, &zero, ctx) {
        return vanishes(e, var, ctx);
    }
    if !e.mentions(var) {
        return if equal(e, limit, ctx) {
            Ok(())
        } else {
            Err(format!("`{}` does not depend on `{var}` and is not `{}`", text::expr(e), text::expr(limit)))
        };
    }
    // `L + v` or `v + L` or `L - v` with `v` vanishing.
    match &e.kind {
        ExprKind::Bin(BinOp::Add, a, b) => tends_to(a, var, limit, ctx)
            .and_then(|_| vanishes(b, var, ctx))
            .or_else(|_| vanishes(a, var, ctx).and_then(|_| tends_to(b, var, limit, ctx))),
        ExprKind::Bin(BinOp::Sub, a, b) => tends_to(a, var, limit, ctx).and_then(|_| vanishes(b, var, ctx)),
        _ => Err(format!("`{}` is not `{}` plus terms that vanish", text::expr(e), text::expr(limit))),
    }
}

fn equal(a: &Expr, b: &Expr, ctx: &Context) -> bool {
    matches!(prove_equal(a, b, &[], ctx, 0), Ok(Outcome::Equal { .. }))
}

/// Whether `e` tends to 0 as `var` grows.
fn vanishes(e: &Expr, var: &str, ctx: &Context) -> Result<(), String> {
    let free = |x: &Expr| !x.mentions(var);
    let shown = |e: &Expr, rel: Rel, rhs: Expr| {
        let fact = Fact { lhs: e.clone(), rel, rhs };
        if ctx.proves(&fact) { Ok(()) } else { Err(format!("`{}` does not follow from what is known", text::relation(&fact))) }
    };
    match &e.kind {
        _ if free(e) => {
            if equal(e, &Expr::int(0, e.span), ctx) {
                Ok(())
            } else {
                Err(format!("`{}` does not depend on `{var}` and is not 0", text::expr(e)))
            }
        }
        ExprKind::Bin(BinOp::Add | BinOp::Sub, a, b) => vanishes(a, var, ctx).and_then(|_| vanishes(b, var, ctx)),
        ExprKind::Neg(a) => vanishes(a, var, ctx),
        ExprKind::Bin(BinOp::Mul, a, b) if free(a) => vanishes(b, var, ctx),
        ExprKind::Bin(BinOp::Mul, a, b) if free(b) => vanishes(a, var, ctx),
        ExprKind::Bin(BinOp::Div, a, b) if free(b) => {
            shown(b, Rel::Ne, Expr::int(0, b.span))?;
            vanishes(a, var, ctx)
        }
        ExprKind::Bin(BinOp::Pow, q, k) if free(q) => {
            // power_limit: q^(a*T + b) -> 0 for |q| < 1 and a whole a >= 1.
            let grows = Affine::of(k).is_some_and(|a| a.terms.get(var).is_some_and(|c| c.is_positive()));
            if !grows {
                return Err(format!("the exponent `{}` does not grow with `{var}`", text::expr(k)));
            }
            shown(q, Rel::Lt, Expr::int(1, q.span)).map_err(|why| format!("`power_limit` needs |{}| < 1: {why}", text::expr(q)))?;
            shown(q, Rel::Gt, Expr::int(-1, q.span)).map_err(|why| format!("`power_limit` needs |{}| < 1: {why}", text::expr(q)))
        }
        _ => Err(format!("`{}` is not seen to vanish (sums, constant multiples and quotients of `q^{var}` with |q| < 1)", text::expr(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::Kinds;
    use crate::language::ast::Kind;

    fn parse(code: &str, decls: &str) -> (Expr, Context) {
        let mut files = crate::diagnostic::SourceFiles::default();
        let id = files.add("t.md".into(), format!("```derivation\n{decls}\nclaim c: {code} = 0 for T >= 0\n```\n"));
        let doc = crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap();
        let mut facts = Vec::new();
        for item in &doc.items {
            let crate::language::Item::Block(b) = item else { continue };
            for s in &b.statements {
                if let crate::language::ast::Statement::Assume(f, _) = s {
                    facts.extend(f.iter().cloned());
                }
            }
        }
        let mut kinds = Kinds(doc.scope.decls.iter().map(|(n, d)| (n.clone(), d.kind.clone())).collect());
        kinds.insert("T", Kind::Integer);
        (doc.rules().last().unwrap().relation.lhs.clone(), Context { facts, kinds, ..Context::default() })
    }

    #[test]
    fn powers_of_a_ratio_below_one_vanish() {
        let zero = Expr::int(0, Default::default());
        let (e, ctx) = parse("3*q^(2*T + 1)/5", "let q: scalar\nassume 0 <= q < 1");
        assert_eq!(tends_to(&e, "T", &zero, &ctx), Ok(()));
        let (e, ctx) = parse("q^T", "let q: scalar\nassume 0 <= q <= 1");
        assert!(tends_to(&e, "T", &zero, &ctx).unwrap_err().contains("`q < 1` does not follow"));
        let (e, ctx) = parse("q^(-T)", "let q: scalar\nassume 0 < q < 1");
        assert!(tends_to(&e, "T", &zero, &ctx).is_err());
        let (e, ctx) = parse("T*q^T", "let q: scalar\nassume 0 <= q < 1");
        assert!(tends_to(&e, "T", &zero, &ctx).is_err(), "not seen, though true: T is not a constant factor");
    }

    #[test]
    fn a_constant_plus_vanishing_terms_tends_to_the_constant() {
        let three = Expr::int(3, Default::default());
        let (e, ctx) = parse("3 - q^T", "let q: scalar\nassume -1 < q < 1");
        assert_eq!(tends_to(&e, "T", &three, &ctx), Ok(()));
        let (e, ctx) = parse("2 + q^T", "let q: scalar\nassume -1 < q < 1");
        assert!(tends_to(&e, "T", &three, &ctx).is_err());
    }
}
