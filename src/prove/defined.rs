//! Where an expression is defined: its side conditions. A denominator must be nonzero, a
//! `log` argument positive, a `sqrt` argument or the base of a fractional power nonnegative,
//! the base of a negative or unknown whole power nonzero. The engine silently cancels `x/x`
//! to 1 and turns `0/0` into one indeterminate that equals itself, so the symbolic layer
//! accepts a form only where every side condition of it follows from the context (the
//! claim's own side conditions are part of that context: where they fail the claim says
//! nothing).

use num_rational::BigRational;
use num_traits::{Signed, Zero};

use super::rewrite::{Context, inside};
use crate::language::ast::{BinOp, Expr, ExprKind, Fact, Kind, Rel};
use crate::language::builtins::Func;
use crate::language::text;

fn zero(e: &Expr) -> Expr {
    Expr::num(BigRational::zero(), e.span)
}

/// The side conditions of `e` itself and of its parts, as facts about the parts; `visit`
/// gets each with the context where it arises (inside a sum, its index is bounded), whether
/// that is inside a binder, and whether the condition is *necessary*: false where the form
/// may be defined without it (`x^k` for a whole `k` of unknown sign at `x = 0`, `x^(k/2)`
/// at a negative `x` where `k` is even), which the symbolic layer still demands before using a
/// form, but which a claim's statement does not imply.
fn conditions(e: &Expr, ctx: &Context, bound: bool, visit: &mut dyn FnMut(Fact, &Context, bool, bool)) {
    match &e.kind {
        ExprKind::Bin(BinOp::Div, _, b) if ctx.kinds.of(b) == Kind::Scalar => {
            visit(Fact { lhs: (**b).clone(), rel: Rel::Ne, rhs: zero(b) }, ctx, bound, true)
        }
        ExprKind::Bin(BinOp::Pow, base, exponent) if ctx.kinds.of(base) == Kind::Scalar => {
            // A constant exponent is read as the number it is (`1/2` as well as `0.5`).
            let (rel, necessary) = match exponent.rational() {
                Some(k) if k.is_integer() => ((k.is_negative()).then_some(Rel::Ne), true),
                Some(k) => (Some(if k.is_positive() { Rel::Ge } else { Rel::Gt }), true),
                _ if ctx.is_whole(exponent) => {
                    ((!ctx.proves(&Fact { lhs: (**exponent).clone(), rel: Rel::Ge, rhs: zero(exponent) })).then_some(Rel::Ne), false)
                }
                _ => (Some(Rel::Gt), false),
            };
            if let Some(rel) = rel {
                visit(Fact { lhs: (**base).clone(), rel, rhs: zero(base) }, ctx, bound, necessary);
            }
        }
        ExprKind::Builtin(Func::Log, args) => visit(Fact { lhs: args[0].clone(), rel: Rel::Gt, rhs: zero(&args[0]) }, ctx, bound, true),
        ExprKind::Builtin(Func::Sqrt | Func::SqrtElem, args) => {
            visit(Fact { lhs: args[0].clone(), rel: Rel::Ge, rhs: zero(&args[0]) }, ctx, bound, true)
        }
        // Entry by entry: a fact about a vector is a fact about each entry (see `Context::proves`).
        ExprKind::Builtin(Func::EDiv, args) => visit(Fact { lhs: args[1].clone(), rel: Rel::Ne, rhs: zero(&args[1]) }, ctx, bound, true),
        _ => {}
    }
    let children = e.children();
    for (i, child) in children.iter().enumerate() {
        match e.binds() {
            Some(_) if i == children.len() - 1 => conditions(child, &inside(e, ctx), true, visit),
            _ => conditions(child, ctx, bound, visit),
        }
    }
}

impl Context {
    /// The first side condition of `e` that does not follow from the context, as a message.
    pub fn undefined(&self, e: &Expr) -> Option<String> {
        let mut failed = None;
        conditions(e, self, false, &mut |fact, ctx, _, _| {
            if failed.is_none() && !ctx.proves(&fact) {
                failed = Some(format!("`{} {} 0`", text::expr(&fact.lhs), fact.rel.symbol()));
            }
        });
        failed.map(|f| format!("{f} is needed for it to be defined, and does not follow from what is known"))
    }
}

/// The necessary side conditions of a claim's statement outside any binder: where one
/// fails, the claim says nothing, so its proof may assume them.
pub fn side_conditions(e: &Expr, ctx: &Context) -> Vec<Fact> {
    let mut out = Vec::new();
    conditions(e, ctx, false, &mut |fact, _, bound, necessary| {
        // Facts about a bound variable mean nothing outside its binder.
        if !bound && necessary {
            out.push(fact);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;

    fn parse_expr(code: &str, decls: &str) -> Expr {
        let mut files = crate::diagnostic::SourceFiles::default();
        let id = files.add("t.md".into(), format!("```derivation\n{decls}\nclaim c: {code} = 0\n```\n"));
        let doc = crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap();
        doc.rules().last().unwrap().relation.lhs.clone()
    }

    #[test]
    fn denominators_logs_and_roots_need_their_conditions() {
        let ctx = Context::default();
        assert!(ctx.undefined(&parse_expr("x/y", "let x, y: scalar")).is_some());
        assert!(ctx.undefined(&parse_expr("x/2 + log(exp(x))", "let x: scalar")).is_none());
        assert!(ctx.undefined(&parse_expr("log(x)", "let x: scalar")).is_some());
        assert!(ctx.undefined(&parse_expr("sqrt(x^2)", "let x: scalar")).is_none());
        assert!(ctx.undefined(&parse_expr("x^(1/2)", "let x: scalar")).is_some());
        assert!(ctx.undefined(&parse_expr("0/0", "")).is_some());
        let positive = Context {
            facts: vec![Fact { lhs: Expr::name("y", Span::default()), rel: Rel::Gt, rhs: Expr::int(0, Span::default()) }],
            ..Context::default()
        };
        assert!(positive.undefined(&parse_expr("x/y + log(y) + y^(1/2)", "let x, y: scalar")).is_none());
    }

    #[test]
    fn a_sum_index_is_bounded_inside_its_sum() {
        let ctx = Context::default();
        assert!(ctx.undefined(&parse_expr("sum(i, 1, 5, 1/i)", "")).is_none());
        assert!(ctx.undefined(&parse_expr("sum(i, 0, 5, 1/i)", "")).is_some());
    }
}
