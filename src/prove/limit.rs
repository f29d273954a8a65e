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
