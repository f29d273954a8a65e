//! Expressions written back in the language's own ASCII syntax, with the parentheses that
//! precedence needs: what messages quote, and what `derivcheck audit` writes for mutants.
//! Parsing the text again gives the same expression.

use num_traits::Signed;

use super::ast::{BigOp, BinOp, Expr, ExprKind, Relation};
use super::builtins::Func;

const ADD: u8 = 1;
const MUL: u8 = 2;
const NEG: u8 = 3;
const POW: u8 = 4;
const ATOM: u8 = 5;

pub fn expr(e: &Expr) -> String {
    render(e).0
}

pub fn relation(r: &Relation) -> String {
    format!("{} {} {}", expr(&r.lhs), r.rel.symbol(), expr(&r.rhs))
}

fn wrap(part: (String, u8), min: u8) -> String {
    if part.1 < min { format!("({})", part.0) } else { part.0 }
}

fn list(args: &[Expr]) -> String {
    args.iter().map(expr).collect::<Vec<_>>().join(", ")
}

fn render(e: &Expr) -> (String, u8) {
    match &e.kind {
        ExprKind::Num(n) => {
            let text = n.to_string();
            let prec = if n.is_negative() {
                NEG
            } else if n.is_integer() {
                ATOM
            } else {
                MUL
            };
            (text, prec)
        }
        ExprKind::Name(n) => (n.clone(), ATOM),
        ExprKind::Index(n, args) => (format!("{n}[{}]", list(args)), ATOM),
        ExprKind::Call(f, args) => (format!("{f}({})", list(args)), ATOM),
        ExprKind::Builtin(Func::EMul, args) => (format!("{} .* {}", wrap(render(&args[0]), MUL), wrap(render(&args[1]), NEG)), MUL),
        ExprKind::Builtin(Func::EDiv, args) => (format!("{} ./ {}", wrap(render(&args[0]), MUL), wrap(render(&args[1]), POW)), MUL),
        ExprKind::Builtin(f, args) => (format!("{}({})", f.written(), list(args)), ATOM),
        ExprKind::BigOp { op, var, lo, hi, body } => {
            let name = if *op == BigOp::Sum { "sum" } else { "prod" };
            (format!("{name}({var}, {}, {}, {})", expr(lo), expr(hi), expr(body)), ATOM)
        }
        ExprKind::Expect { gaussian: None, body } => (format!("E[{}]", expr(body)), ATOM),
        ExprKind::Expect { gaussian: Some((x, m, c)), body } => (format!("E({x} ~ N({}, {}))[{}]", expr(m), expr(c), expr(body)), ATOM),
        ExprKind::Neg(a) => (format!("-{}", wrap(render(a), POW)), NEG),
        ExprKind::Transpose(a) => (format!("{}^T", wrap(render(a), ATOM)), POW),
        ExprKind::Bin(op, a, b) => match op {
            BinOp::Add => (format!("{} + {}", render(a).0, wrap(render(b), MUL)), ADD),
            BinOp::Sub => (format!("{} - {}", render(a).0, wrap(render(b), MUL)), ADD),
            BinOp::Mul => (format!("{}*{}", wrap(render(a), MUL), wrap(render(b), NEG)), MUL),
            BinOp::Div => (format!("{}/{}", wrap(render(a), MUL), wrap(render(b), POW)), MUL),
            // `^` groups to the right and binds tighter than a minus sign.
            BinOp::Pow => (format!("{}^{}", wrap(render(a), ATOM), wrap(render(b), POW)), POW),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parsing the printed text gives the expression back.
    #[test]
    fn printing_round_trips_through_the_parser() {
        let decls = "let a, b, x: scalar\nlet v, g: sequence\nlet f: function\nlet W: matrix n x n\nlet y: vector n";
        for code in [
            "-a^2 + (a - b)*(a + b)/(2*x)",
            "a - (b - x) - (-a)^3 + a^-1 + 2^-x",
            "sum(i, 1, t, beta^(t-i)*g[i]) / (1 - beta^t)",
            "E[v[t-1]*g[t]] + E(z ~ N(0, I))[exp(dot(z, y))]",
            "dot(W*y, W^T*y) + f(a, b)^2 - 3/4*x",
            "sqrt(y .* y) ./ (abs(y) + a) - (y - ones) .* (2*y ./ y)",
            "(W*y)^T*W^T + y^T",
            "a*-b + a/(b*x) + a/b*x",
        ] {
            let decls = if code.contains("beta") { format!("{decls}\nlet beta: scalar") } else { decls.to_string() };
            let once = parse(code, &decls);
            let printed = expr(&once);
            assert_eq!(parse(&printed, &decls), once, "{code} printed as {printed}");
        }
    }

    fn parse(code: &str, decls: &str) -> Expr {
        let mut files = crate::diagnostic::SourceFiles::default();
        let id = files.add("t.md".into(), format!("```derivation\n{decls}\nclaim c: {code} = 0   for t >= 1\n```\n"));
        let doc = crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap_or_else(|e| panic!("{code}: {e:?}"));
        doc.rules().last().unwrap().relation.lhs.clone()
    }
}
