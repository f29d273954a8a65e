//! The declared shape of an expression, where the declarations decide it: `(rows, columns)`
//! as dimension names or numbers, a vector being one column. Input errors use it to refuse
//! sums, products and equations of values of two sizes; the checker uses it where a chain
//! passes through a bare 0, which has no size of its own.

use std::collections::HashMap;

use super::Kinds;
use super::ast::{BinOp, Expr, ExprKind, Kind};
use super::builtins::Func;

pub type Shape = (String, String);

/// Declared shapes by name: `vector n` is `[n]`, `matrix n x d` is `[n, d]` (a sequence's,
/// of its elements).
pub type Declared = HashMap<String, Vec<String>>;

/// Whether two dimensions are known to differ: two names, or two numbers, that are not the
/// same (every dimension name has its own size; a number may be any name's size).
fn differ(a: &str, b: &str) -> bool {
    let number = |d: &str| d.parse::<u64>().is_ok();
    // A vector's single column against a dimension name: a row and a column (`x^T + a`).
    a != b && (number(a) == number(b) || a == "1" || b == "1")
}

pub fn shapes_differ(a: &Shape, b: &Shape) -> bool {
    differ(&a.0, &b.0) || differ(&a.1, &b.1)
}

/// The shape of `e` where the declarations give it; a mismatch inside (`x + y` of two
/// lengths, `A*B` with inner sizes that differ) is reported to `mismatch` with the part.
pub fn shape<'e>(e: &'e Expr, kinds: &Kinds, declared: &Declared, mismatch: &mut dyn FnMut(&'e Expr, String)) -> Option<Shape> {
    let scalar = |x: &Expr| kinds.of(x) == Kind::Scalar;
    let of = |x: &'e Expr, mismatch: &mut dyn FnMut(&'e Expr, String)| shape(x, kinds, declared, mismatch);
    let same = |a: &'e Expr, b: &'e Expr, what: &str, mismatch: &mut dyn FnMut(&'e Expr, String)| {
        let (sa, sb) = (shape(a, kinds, declared, mismatch), shape(b, kinds, declared, mismatch));
        if let (Some(x), Some(y)) = (&sa, &sb)
            && shapes_differ(x, y)
        {
            mismatch(e, format!("{what} values of two sizes ({} and {})", text(x), text(y)));
            // One error per mismatch, not one more for each product or sum around it.
            return None;
        }
        sa.or(sb)
    };
    match &e.kind {
        ExprKind::Name(n) | ExprKind::Index(n, _) if !scalar(e) => {
            let dims = declared.get(n)?;
            match (kinds.of(e), dims.as_slice()) {
                (Kind::Vector, [rows]) => Some((rows.clone(), "1".into())),
                (Kind::Matrix, [rows, cols]) => Some((rows.clone(), cols.clone())),
                _ => None,
            }
        }
        ExprKind::Transpose(a) => of(a, mismatch).map(|(r, c)| (c, r)),
        ExprKind::Neg(a) => of(a, mismatch),
        ExprKind::Bin(BinOp::Add | BinOp::Sub, a, b) if !scalar(a) && !scalar(b) => {
            // `I` fits only beside a square matrix.
            for (identity, other) in [(a, b), (b, a)] {
                if is_identity(identity)
                    && let Some(square) = of(other, mismatch)
                {
                    if differ(&square.0, &square.1) {
                        mismatch(e, format!("adds the identity to a {}", text(&square)));
                        return None;
                    }
                    return Some(square);
                }
            }
            same(a, b, "adds", mismatch)
        }
        ExprKind::Bin(BinOp::Mul, a, b) if scalar(a) => of(b, mismatch),
        ExprKind::Bin(BinOp::Mul, a, b) if scalar(b) => of(a, mismatch),
        // `I` takes the shape of what it multiplies.
        ExprKind::Bin(BinOp::Mul, a, b) if is_identity(a) => of(b, mismatch),
        ExprKind::Bin(BinOp::Mul, a, b) if is_identity(b) => of(a, mismatch),
        ExprKind::Bin(BinOp::Mul, a, b) => {
            let (sa, sb) = (of(a, mismatch), of(b, mismatch));
            // A matrix times a vector of unknown length (`A*ones`) is a column of its height.
            if let (Some(x), None) = (&sa, &sb)
                && kinds.of(b) == Kind::Vector
            {
                return Some((x.0.clone(), "1".into()));
            }
            if let (Some(x), Some(y)) = (&sa, &sb)
                && differ(&x.1, &y.0)
            {
                mismatch(e, format!("multiplies a {} by a {}", text(x), text(y)));
                return None;
            }
            Some((sa?.0, sb?.1))
        }
        ExprKind::Bin(BinOp::Div, a, _) => of(a, mismatch),
        ExprKind::Bin(BinOp::Pow, a, _) if !scalar(a) => of(a, mismatch),
        ExprKind::Builtin(Func::EMul | Func::EDiv, args) if !scalar(&args[0]) && !scalar(&args[1]) => same(&args[0], &args[1], "combines", mismatch),
        ExprKind::Builtin(Func::EMul | Func::EDiv, args) => {
            let vector = if scalar(&args[0]) { &args[1] } else { &args[0] };
            of(vector, mismatch)
        }
        ExprKind::Builtin(Func::Dot, args) => {
            same(&args[0], &args[1], "takes the inner product of", mismatch);
            None
        }
        ExprKind::Builtin(Func::Grad, args) => of(&args[1], mismatch),
        ExprKind::Builtin(Func::SqrtElem | Func::AbsElem | Func::SignElem | Func::ExpElem | Func::SoftmaxRow | Func::SoftmaxCol, args) => {
            of(&args[0], mismatch)
        }
        ExprKind::Builtin(Func::Diag, args) => of(&args[0], mismatch).map(|(n, _)| (n.clone(), n)),
        ExprKind::BigOp { op: crate::language::ast::BigOp::Sum, body, .. } if !scalar(e) => of(body, mismatch),
        ExprKind::Call(_, args) if args.len() == 1 && !scalar(e) => of(&args[0], mismatch),
        _ => {
            for c in e.children() {
                of(c, mismatch);
            }
            None
        }
    }
}

fn is_identity(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Name(n) if n == super::builtins::IDENTITY)
}

fn text(s: &Shape) -> String {
    if s.1 == "1" { format!("vector of length {}", s.0) } else { format!("{} × {} matrix", s.0, s.1) }
}
