//! The LaTeX form of expressions and relations: `v[t]` → `v_{t}`, `beta` → `\beta`,
//! `sum(i, 1, t, e)` → `\sum_{i=1}^{t} e`, `a/b` → `\frac{a}{b}`, `A^T` → `A^\top`.

use num_traits::Signed;

use super::Scope;
use super::ast::{BigOp, BinOp, Expr, ExprKind, Rel};
use super::builtins::{GREEK, IDENTITY, ONES};

pub fn relation(lhs: &Expr, rel: Rel, rhs: &Expr, scope: &Scope) -> String {
    format!("{} {} {}", expr(lhs, scope), rel.latex(), expr(rhs, scope))
}

pub fn expr(e: &Expr, scope: &Scope) -> String {
    render(e, scope).0
}

/// The spelling of a bare name: its `as "…"` form, a Greek letter, or the name with a
/// trailing number or `_part` as a subscript.
pub fn name(n: &str, scope: &Scope) -> String {
    if let Some(latex) = scope.decls.get(n).and_then(|d| d.latex.clone()) {
        return latex;
    }
    let (stem, sub) = match n.split_once('_') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => (a, Some(b.to_string())),
        _ => {
            let digits = n.trim_start_matches(|c: char| !c.is_ascii_digit());
            let stem = &n[..n.len() - digits.len()];
            if digits.is_empty() || stem.is_empty() { (n, None) } else { (stem, Some(digits.to_string())) }
        }
    };
    let stem = if GREEK.iter().any(|&(_, name)| name == stem && name != "omicron") {
        format!("\\{stem}")
    } else if stem.chars().count() == 1 {
        stem.to_string()
    } else {
        // `a_` or `a__b` keep their underscores as text.
        format!("\\mathit{{{}}}", stem.replace('_', "\\_"))
    };
    match sub {
        Some(s) => format!("{stem}_{{{}}}", name(&s, scope)),
        None => stem,
    }
}

const ADD: u8 = 1;
const MUL: u8 = 2;
const POW: u8 = 4;
const ATOM: u8 = 5;

fn wrap(part: (String, u8), min: u8) -> String {
    if part.1 < min { format!("\\left({}\\right)", part.0) } else { part.0 }
}

/// Returns the LaTeX and the precedence of its outermost operator.
fn render(e: &Expr, scope: &Scope) -> (String, u8) {
    match &e.kind {
        ExprKind::Num(n) => {
            if n.is_integer() {
                (n.to_string(), if n.is_negative() { ADD } else { ATOM })
            } else {
                let sign = if n.is_negative() { "-" } else { "" };
                (format!("{sign}\\frac{{{}}}{{{}}}", n.numer().abs(), n.denom()), if n.is_negative() { ADD } else { ATOM })
            }
        }
        ExprKind::Name(n) if n == ONES && !scope.decls.contains_key(n) => ("\\mathbf{1}".into(), ATOM),
        ExprKind::Name(n) if n == IDENTITY && !scope.decls.contains_key(n) => ("I".into(), ATOM),
        ExprKind::Name(n) => (name(n, scope), ATOM),
        ExprKind::Expect { gaussian, body } => {
            let under = gaussian
                .as_ref()
                .map_or(String::new(), |(x, m, c)| format!("_{{{} \\sim \\mathcal{{N}}({}, {})}}", name(x, scope), expr(m, scope), expr(c, scope)));
            (format!("\\mathbb{{E}}{under}\\left[{}\\right]", expr(body, scope)), ATOM)
        }
        ExprKind::Index(n, args) => {
            let idx: Vec<String> = args.iter().map(|a| expr(a, scope)).collect();
            (format!("{{{}}}_{{{}}}", name(n, scope), idx.join(",")), ATOM)
        }
        ExprKind::Builtin(f, args) => {
            let info = f.info();
            // `dot(x, y)` reads `x^T y`: a product, with atoms on both sides.
            let product = info.latex.starts_with("$0");
            let args: Vec<String> = args.iter().map(|a| if product { wrap(render(a, scope), ATOM) } else { expr(a, scope) }).collect();
            (fill(info.latex, &args), if product { MUL } else { ATOM })
        }
        ExprKind::Call(f, args) => {
            let inner: Vec<String> = args.iter().map(|a| expr(a, scope)).collect();
            (format!("{}\\left({}\\right)", name(f, scope), inner.join(", ")), ATOM)
        }
        ExprKind::BigOp { op, var, lo, hi, body } => {
            let sym = if *op == BigOp::Sum { "\\sum" } else { "\\prod" };
            let body = wrap(render(body, scope), MUL);
            (format!("{sym}_{{{}={}}}^{{{}}} {body}", name(var, scope), expr(lo, scope), expr(hi, scope)), MUL)
        }
        ExprKind::Neg(a) => (format!("-{}", wrap(render(a, scope), MUL)), ADD),
        ExprKind::Transpose(a) => (format!("{}^\\top", wrap(render(a, scope), ATOM)), POW),
        ExprKind::Bin(op, a, b) => match op {
            BinOp::Add => {
                let right = render(b, scope);
                if right.0.starts_with('-') {
                    (format!("{} {}", render(a, scope).0, right.0), ADD)
                } else {
                    (format!("{} + {}", render(a, scope).0, right.0), ADD)
                }
            }
            BinOp::Sub => (format!("{} - {}", render(a, scope).0, wrap(render(b, scope), MUL)), ADD),
            BinOp::Mul => {
                // A leading minus reads naturally without parentheses: `-x y`.
                let left = if matches!(a.kind, ExprKind::Neg(_)) { render(a, scope).0 } else { wrap(render(a, scope), MUL) };
                let right = wrap(render(b, scope), MUL + 1);
                let numeric_right = right.starts_with(|c: char| c.is_ascii_digit() || c == '-') || right.starts_with("\\frac");
                let sep = if numeric_right { " \\cdot " } else { " " };
                (format!("{left}{sep}{right}"), MUL)
            }
            BinOp::Div => (format!("\\frac{{{}}}{{{}}}", expr(a, scope), expr(b, scope)), ATOM),
            BinOp::Pow => {
                let base = wrap(render(a, scope), ATOM);
                (format!("{base}^{{{}}}", expr(b, scope)), POW)
            }
        },
    }
}

/// A template with `$0`, `$1` replaced by the arguments, in one pass (an argument's own text
/// is never read as a placeholder).
fn fill(template: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digit = rest[at + 1..].chars().next().and_then(|c| c.to_digit(10));
        match digit.and_then(|d| args.get(d as usize)) {
            Some(arg) => {
                out.push_str(arg);
                rest = &rest[at + 2..];
            }
            None => {
                out.push('$');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::ast::Decl;
    use crate::language::ast::Kind;

    fn latex_of(code: &str) -> String {
        let mut scope = Scope::default();
        for n in ["beta", "alpha", "x", "dtheta"] {
            scope.decls.insert(n.into(), Decl { name: n.into(), kind: Kind::Scalar, shape: vec![], latex: None, span: Default::default() });
        }
        for n in ["v", "g"] {
            scope.decls.insert(
                n.into(),
                Decl { name: n.into(), kind: Kind::Sequence(Box::new(Kind::Scalar)), shape: vec![], latex: None, span: Default::default() },
            );
        }
        scope.decls.get_mut("dtheta").unwrap().latex = Some("\\Delta\\theta".into());
        let text = format!("claim c: {code} = 0 for t >= 1\n");
        let tokens = crate::language::lexer::lex(&text, 0, 0).unwrap();
        let statements = crate::language::parser::Parser::new(tokens, &mut scope.clone()).block().unwrap();
        let crate::language::ast::Statement::Rule(r) = &statements[0] else { panic!() };
        expr(&r.relation.lhs, &scope)
    }

    #[test]
    fn renders_like_a_textbook() {
        assert_eq!(latex_of("beta*v[t-1] + (1-beta)*g[t]"), "\\beta {v}_{t - 1} + \\left(1 - \\beta\\right) {g}_{t}");
        assert_eq!(latex_of("-dtheta*x/2"), "\\frac{-\\Delta\\theta x}{2}");
        assert_eq!(latex_of("sum(i, 1, t, beta^(t-i)*g[i])"), "\\sum_{i=1}^{t} \\beta^{t - i} {g}_{i}");
        assert_eq!(latex_of("2*0.5"), "2 \\cdot \\frac{1}{2}");
    }
}
