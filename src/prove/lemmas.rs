//! The built-in lemmas as rewrites: sums, geometric series, linearity of expectation, the
//! Gaussian moment-generating function, softmax, transposes. Their statements and their own
//! evidence live in `library.md`, a literate file checked like a user's whenever a file
//! cites one of them.

use std::collections::HashMap;

use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use super::normal::sum_parts;
use super::rewrite::{Context, Direction, Rewrite, everywhere, note};
use crate::diagnostic::Span;
use crate::language::affine::{Affine, canonical_index, canonical_indices};
use crate::language::ast::{BigOp, BinOp, Expr, ExprKind, Fact, Rel};
use crate::language::builtins::{Func, IDENTITY, ONES};
use crate::language::text;

/// A built-in lemma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lemma {
    Sum,
    Geometric,
    Linearity,
    GaussianMgf,
    Softmax,
    /// `diag(v)^-1*v = ones` and `diag(v)^-1*diag(v) = I`, where every entry of `v` is shown
    /// positive (so none is zero).
    DiagInverse,
    Transpose,
    /// `opnorm(A*B) <= opnorm(A)*opnorm(B)`: an inequality, used by `inequality`.
    Submultiplicative,
    OpnormEig,
    OpnormDiag,
    /// `rank(A*B)` is at most the inner dimension, `rank(A)` and `rank(B)`; `rank(X)` at most
    /// its number of rows and of columns: an inequality, used by `inequality`.
    RankProduct,
}

pub const ALL: &[Lemma] = &[
    Lemma::Sum,
    Lemma::Geometric,
    Lemma::Linearity,
    Lemma::GaussianMgf,
    Lemma::Softmax,
    Lemma::DiagInverse,
    Lemma::Transpose,
    Lemma::Submultiplicative,
    Lemma::OpnormEig,
    Lemma::OpnormDiag,
    Lemma::RankProduct,
];

impl Lemma {
    pub fn name(self) -> &'static str {
        match self {
            Lemma::Sum => "sum",
            Lemma::Geometric => "geometric",
            Lemma::Linearity => "linearity",
            Lemma::GaussianMgf => "gaussian_mgf",
            Lemma::Softmax => "softmax",
            Lemma::DiagInverse => "diag_inverse",
            Lemma::Transpose => "transpose",
            Lemma::Submultiplicative => "submultiplicative",
            Lemma::OpnormEig => "opnorm_eig",
            Lemma::OpnormDiag => "opnorm_diag",
            Lemma::RankProduct => "rank_product",
        }
    }
}

impl Rewrite for Lemma {
    fn name(&self) -> &str {
        Lemma::name(*self)
    }

    /// Lemmas rewrite in the direction their statement is written (`gaussian_mgf` offers
    /// both forms of its identity).
    fn rewrites(&self, e: &Expr, ctx: &Context, blocked: &mut Vec<String>) -> Vec<(Expr, Direction)> {
        let mut out = Vec::new();
        everywhere(
            e,
            ctx,
            &mut |sub, ctx| match self {
                Lemma::Sum => split_sum(sub, ctx, blocked),
                Lemma::Geometric => geometric(sub, ctx, blocked).into_iter().collect(),
                Lemma::Linearity => linearity(sub, ctx).into_iter().collect(),
                Lemma::GaussianMgf => gaussian_mgf(sub).into_iter().collect(),
                Lemma::Softmax => softmax(sub).into_iter().collect(),
                Lemma::DiagInverse => diag_inverse(sub, ctx, blocked),
                Lemma::OpnormEig => opnorm_eig(sub, &ctx.kinds),
                Lemma::OpnormDiag => opnorm_diag(sub),
                // Transposes are normalized by the symbolic layer; the lemma only names it.
                // `submultiplicative` is an inequality: it bounds, it does not rewrite.
                Lemma::Transpose | Lemma::Submultiplicative | Lemma::RankProduct => Vec::new(),
            },
            &mut out,
        );
        out.into_iter().map(|x| (x, Direction::Forward)).collect()
    }
}

fn int(k: i64, span: Span) -> Expr {
    Expr::int(k, span)
}

fn sub1(e: &Expr, k: i64) -> Expr {
    canonical_index(&Expr::bin(BinOp::Add, e.clone(), int(k, e.span)))
}

/// Says that a lemma matched where one of its side conditions does not follow.
fn needs(lemma: &str, fact: &Fact, blocked: &mut Vec<String>) {
    note(blocked, format!("`{lemma}` needs `{}`, which does not follow from what is known", text::relation(fact)));
}

/// `sum(i, a, b, f)` → `sum(i, a, b-1, f) + f(b)` and `f(a) + sum(i, a+1, b, f)`, where
/// `b >= a` is known: splitting an empty sum would invent a term.
fn split_sum(e: &Expr, ctx: &Context, blocked: &mut Vec<String>) -> Vec<Expr> {
    let ExprKind::BigOp { op: BigOp::Sum, var, lo, hi, body } = &e.kind else { return Vec::new() };
    if let Some(bound) = [lo, hi].into_iter().find(|b| !ctx.is_whole(b)) {
        note(blocked, format!("`sum` needs whole bounds, and `{}` is not known to be a whole number", text::expr(bound)));
        return Vec::new();
    }
    let nonempty = Fact { lhs: (**hi).clone(), rel: Rel::Ge, rhs: (**lo).clone() };
    if !ctx.proves(&nonempty) {
        needs("sum", &nonempty, blocked);
        return Vec::new();
    }
    let at = |k: &Expr| canonical_indices(&body.substitute(&HashMap::from([(var.clone(), k.clone())])));
    let sum = |a: Expr, b: Expr| {
        Expr::new(ExprKind::BigOp { op: BigOp::Sum, var: var.clone(), lo: Box::new(a), hi: Box::new(b), body: body.clone() }, e.span)
    };
    vec![Expr::bin(BinOp::Add, sum((**lo).clone(), sub1(hi, -1)), at(hi)), Expr::bin(BinOp::Add, at(lo), sum(sub1(lo, 1), (**hi).clone()))]
}

/// `c · sum(j, 0, n, x^(±j))` → `c · (1 - x^(±(n+1))) / (1 - x^(±1))`, where `n >= -1` (a sum
/// empty by two terms or more is 0, but the formula is not) and `x != 1` are known.
fn geometric(e: &Expr, ctx: &Context, blocked: &mut Vec<String>) -> Option<Expr> {
    let (outside, sum) = sum_parts(e, &ctx.kinds)?;
    let ExprKind::BigOp { var, hi, body, .. } = &sum.kind else { return None };
    let ExprKind::Bin(BinOp::Pow, base, exponent) = &body.kind else { return None };
    let a = Affine::of(exponent)?;
    if base.mentions(var) || a.terms.len() != 1 || !a.constant.is_zero() {
        return None;
    }
    let k = a.terms.get(var.as_str())?.clone();
    if !k.abs().is_one() {
        return None;
    }
    let span = e.span;
    for fact in [Fact { lhs: (**hi).clone(), rel: Rel::Ge, rhs: int(-1, span) }, Fact { lhs: (**base).clone(), rel: Rel::Ne, rhs: int(1, span) }] {
        if !ctx.proves(&fact) {
            needs("geometric", &fact, blocked);
            return None;
        }
    }
    let ratio = Expr::bin(BinOp::Pow, (**base).clone(), Expr::num(BigRational::from_integer(k.clone()), span));
    let n_plus_1 = Expr::bin(BinOp::Add, (**hi).clone(), int(1, span));
    let top = Expr::bin(
        BinOp::Sub,
        int(1, span),
        Expr::bin(BinOp::Pow, (**base).clone(), Expr::bin(BinOp::Mul, Expr::num(BigRational::from_integer(k), span), n_plus_1)),
    );
    let closed = Expr::bin(BinOp::Div, top, Expr::bin(BinOp::Sub, int(1, span), ratio));
    Some(outside.into_iter().fold(closed, |acc, f| Expr::bin(BinOp::Mul, f, acc)))
}

/// One step of pushing `E` inward: over sums and differences, past non-random factors,
/// into `sum(…)`, and `E[c] = c`.
fn linearity(e: &Expr, ctx: &Context) -> Option<Expr> {
    let ExprKind::Expect { gaussian, body } = &e.kind else { return None };
    let wrap = |b: Expr| Expr::new(ExprKind::Expect { gaussian: gaussian.clone(), body: Box::new(b) }, e.span);
    let bound = gaussian.as_ref().map(|(v, ..)| v.as_str());
    let is_random = |x: &Expr| ctx.is_random(x) || bound.is_some_and(|v| x.mentions(v));
    if !is_random(body) {
        return Some((**body).clone());
    }
    Some(match &body.kind {
        ExprKind::Bin(op @ (BinOp::Add | BinOp::Sub), a, b) => Expr::bin(*op, wrap((**a).clone()), wrap((**b).clone())),
        ExprKind::Neg(a) => Expr::new(ExprKind::Neg(Box::new(wrap((**a).clone()))), e.span),
        ExprKind::Bin(BinOp::Mul, a, b) if !is_random(a) => Expr::bin(BinOp::Mul, (**a).clone(), wrap((**b).clone())),
        ExprKind::Bin(BinOp::Mul, a, b) if !is_random(b) => Expr::bin(BinOp::Mul, wrap((**a).clone()), (**b).clone()),
        ExprKind::Bin(BinOp::Div, a, b) if !is_random(b) => Expr::bin(BinOp::Div, wrap((**a).clone()), (**b).clone()),
        ExprKind::BigOp { op: BigOp::Sum, var, lo, hi, body: inner } if !is_random(lo) && !is_random(hi) => Expr::new(
            ExprKind::BigOp { op: BigOp::Sum, var: var.clone(), lo: lo.clone(), hi: hi.clone(), body: Box::new(wrap((**inner).clone())) },
            e.span,
        ),
        _ => return None,
    })
}

/// `E(x ~ N(0, I))[exp(dot(x, w))] = exp(norm(w)^2/2)` with `w` free of `x`, either way.
fn gaussian_mgf(e: &Expr) -> Option<Expr> {
    let span = e.span;
    let standard =
        |mean: &Expr, cov: &Expr| matches!(&mean.kind, ExprKind::Num(n) if n.is_zero()) && matches!(&cov.kind, ExprKind::Name(n) if n == IDENTITY);
    if let ExprKind::Expect { gaussian: Some((x, mean, cov)), body } = &e.kind {
        if !standard(mean, cov) {
            return None;
        }
        let ExprKind::Builtin(Func::Exp, args) = &body.kind else { return None };
        let ExprKind::Builtin(Func::Dot, pair) = &args.first()?.kind else { return None };
        let w = match (&pair[0].kind, &pair[1].kind) {
            (ExprKind::Name(n), _) if n == x => &pair[1],
            (_, ExprKind::Name(n)) if n == x => &pair[0],
            _ => return None,
        };
        if w.mentions(x) {
            return None;
        }
        let norm2 = Expr::bin(BinOp::Pow, Expr::new(ExprKind::Builtin(Func::Norm, vec![w.clone()]), span), int(2, span));
        return Some(Expr::new(ExprKind::Builtin(Func::Exp, vec![Expr::bin(BinOp::Div, norm2, int(2, span))]), span));
    }
    // Backward: exp(norm(w)^2/2) → E(x ~ N(0, I))[exp(dot(x, w))].
    let ExprKind::Builtin(Func::Exp, args) = &e.kind else { return None };
    let ExprKind::Bin(BinOp::Div, top, two) = &args.first()?.kind else { return None };
    let ExprKind::Bin(BinOp::Pow, norm, power) = &top.kind else { return None };
    let ExprKind::Builtin(Func::Norm, w) = &norm.kind else { return None };
    let is_two = |x: &Expr| matches!(&x.kind, ExprKind::Num(k) if *k == BigRational::from_integer(2.into()));
    if !is_two(two) || !is_two(power) {
        return None;
    }
    let x = fresh("x", &w[0]);
    let dot = Expr::new(ExprKind::Builtin(Func::Dot, vec![Expr::name(&x, span), w[0].clone()]), span);
    let body = Expr::new(ExprKind::Builtin(Func::Exp, vec![dot]), span);
    Some(Expr::new(
        ExprKind::Expect { gaussian: Some((x, Box::new(int(0, span)), Box::new(Expr::name(IDENTITY, span)))), body: Box::new(body) },
        span,
    ))
}

/// A variable name not occurring in `e`.
fn fresh(base: &str, e: &Expr) -> String {
    (0..).map(|k| if k == 0 { base.to_string() } else { format!("{base}{k}") }).find(|n| !e.mentions(n)).unwrap_or_default()
}

fn builtin(f: Func, args: Vec<Expr>, span: Span) -> Expr {
    Expr::new(ExprKind::Builtin(f, args), span)
}

/// `opnorm(A)` ↔ `sqrt(lambda_max(A^T*A))`, both ways.
fn opnorm_eig(e: &Expr, kinds: &crate::language::Kinds) -> Vec<Expr> {
    let span = e.span;
    match &e.kind {
        ExprKind::Builtin(Func::Opnorm, a) if kinds.of(&a[0]) != crate::language::ast::Kind::Scalar => {
            let gram = Expr::bin(BinOp::Mul, Expr::new(ExprKind::Transpose(Box::new(a[0].clone())), span), a[0].clone());
            vec![builtin(Func::Sqrt, vec![builtin(Func::LambdaMax, vec![gram], span)], span)]
        }
        ExprKind::Builtin(Func::Sqrt, s) => match &s[0].kind {
            ExprKind::Builtin(Func::LambdaMax, g) => match &g[0].kind {
                ExprKind::Bin(BinOp::Mul, t, a) if matches!(&t.kind, ExprKind::Transpose(x) if **x == **a) => {
                    vec![builtin(Func::Opnorm, vec![(**a).clone()], span)]
                }
                _ => vec![],
            },
            _ => vec![],
        },
        _ => vec![],
    }
}

/// `opnorm(diag(v))` ↔ `maxabs(v)`, both ways.
fn opnorm_diag(e: &Expr) -> Vec<Expr> {
    let span = e.span;
    match &e.kind {
        ExprKind::Builtin(Func::Opnorm, d) => match &d[0].kind {
            ExprKind::Builtin(Func::Diag, v) => vec![builtin(Func::MaxAbs, v.clone(), span)],
            _ => vec![],
        },
        ExprKind::Builtin(Func::MaxAbs, v) => vec![builtin(Func::Opnorm, vec![builtin(Func::Diag, v.clone(), span)], span)],
        _ => vec![],
    }
}

/// `opnorm(A*B)` is at most `opnorm(A)*opnorm(B)`, for every way of splitting a product of
/// vectors and matrices in two (`submultiplicative`).
pub(super) fn submultiplicative(e: &Expr, kinds: &crate::language::Kinds) -> Vec<Expr> {
    let ExprKind::Builtin(Func::Opnorm, p) = &e.kind else { return vec![] };
    let mut factors = Vec::new();
    flatten_product(&p[0], &mut factors);
    if factors.len() < 2 || factors.iter().any(|f| kinds.of(f) == crate::language::ast::Kind::Scalar) {
        return vec![];
    }
    let span = e.span;
    let product = |fs: &[&Expr]| fs[1..].iter().fold(fs[0].clone(), |acc, f| Expr::bin(BinOp::Mul, acc, (*f).clone()));
    (1..factors.len())
        .map(|k| {
            let norm = |fs: &[&Expr]| builtin(Func::Opnorm, vec![product(fs)], span);
            Expr::bin(BinOp::Mul, norm(&factors[..k]), norm(&factors[k..]))
        })
        .collect()
}

/// What `rank(X)` is at most: for a product, the inner dimension at every cut and the ranks of
/// the two parts; for any matrix of known shape, its numbers of rows and of columns.
pub(super) fn rank_bounds(e: &Expr, ctx: &Context) -> Vec<Expr> {
    let ExprKind::Builtin(Func::Rank, x) = &e.kind else { return vec![] };
    let span = e.span;
    let dim = |d: &str| match d.parse::<i64>() {
        Ok(k) => int(k, span),
        Err(_) => Expr::name(d, span),
    };
    let mut out = Vec::new();
    if let Some((rows, cols)) = shape(&x[0], ctx) {
        out.push(dim(&rows));
        out.push(dim(&cols));
    }
    let mut factors = Vec::new();
    flatten_product(&x[0], &mut factors);
    if factors.len() >= 2 && factors.iter().all(|f| ctx.kinds.of(f) != crate::language::ast::Kind::Scalar) {
        let product = |fs: &[&Expr]| fs[1..].iter().fold(fs[0].clone(), |acc, f| Expr::bin(BinOp::Mul, acc, (*f).clone()));
        for k in 1..factors.len() {
            if let Some((_, inner)) = shape(factors[k - 1], ctx) {
                out.push(dim(&inner));
            }
            out.push(builtin(Func::Rank, vec![product(&factors[..k])], span));
            out.push(builtin(Func::Rank, vec![product(&factors[k..])], span));
        }
    }
    out.dedup();
    out
}

/// The declared shape of a vector or matrix expression, as dimension names (or numbers).
fn shape(e: &Expr, ctx: &Context) -> Option<(String, String)> {
    use crate::language::ast::Kind;
    let scalar = |x: &Expr| ctx.kinds.of(x) == Kind::Scalar;
    match &e.kind {
        ExprKind::Name(n) | ExprKind::Index(n, _) => {
            let dims = ctx.shapes.get(n)?;
            let element = match ctx.kinds.get(n)? {
                Kind::Sequence(of) => (**of).clone(),
                k => k.clone(),
            };
            match element {
                Kind::Vector => Some((dims.first()?.clone(), "1".into())),
                Kind::Matrix => Some((dims.first()?.clone(), dims.get(1)?.clone())),
                _ => None,
            }
        }
        ExprKind::Transpose(a) => shape(a, ctx).map(|(r, c)| (c, r)),
        ExprKind::Neg(a) => shape(a, ctx),
        ExprKind::Bin(BinOp::Add | BinOp::Sub | BinOp::Div | BinOp::Pow, a, _) => shape(a, ctx),
        ExprKind::Bin(BinOp::Mul, a, b) => match (scalar(a), scalar(b)) {
            (true, _) => shape(b, ctx),
            (_, true) => shape(a, ctx),
            _ => Some((shape(a, ctx)?.0, shape(b, ctx)?.1)),
        },
        ExprKind::Builtin(Func::ExpElem | Func::SoftmaxRow | Func::SoftmaxCol, a) => shape(&a[0], ctx),
        ExprKind::Builtin(Func::Diag, v) => {
            let n = shape(&v[0], ctx)?.0;
            Some((n.clone(), n))
        }
        _ => None,
    }
}

fn flatten_product<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Bin(BinOp::Mul, a, b) => {
            flatten_product(a, out);
            flatten_product(b, out);
        }
        _ => out.push(e),
    }
}

/// `softmax_row(X)` → `diag(exp_elem(X)*ones)^-1 * exp_elem(X)`; columns likewise.
fn softmax(e: &Expr) -> Option<Expr> {
    let ExprKind::Builtin(f @ (Func::SoftmaxRow | Func::SoftmaxCol), args) = &e.kind else { return None };
    let span = e.span;
    let exp = Expr::new(ExprKind::Builtin(Func::ExpElem, vec![args.first()?.clone()]), span);
    let inv = |m: Expr| Expr::bin(BinOp::Pow, m, Expr::new(ExprKind::Neg(Box::new(int(1, span))), span));
    let diag = |v: Expr| Expr::new(ExprKind::Builtin(Func::Diag, vec![v]), span);
    let ones = Expr::name(ONES, span);
    if *f == Func::SoftmaxRow {
        return Some(Expr::bin(BinOp::Mul, inv(diag(Expr::bin(BinOp::Mul, exp.clone(), ones))), exp));
    }
    let col_sums =
        Expr::new(ExprKind::Transpose(Box::new(Expr::bin(BinOp::Mul, Expr::new(ExprKind::Transpose(Box::new(ones)), span), exp.clone()))), span);
    Some(Expr::bin(BinOp::Mul, exp, inv(diag(col_sums))))
}

/// In a product, `diag(v)^-1` followed by the factors of `v` → `ones`, and by `diag(v)` →
/// `I`, where every entry of `v` is shown positive: a zero entry has no inverse.
fn diag_inverse(e: &Expr, ctx: &Context, blocked: &mut Vec<String>) -> Vec<Expr> {
    let ExprKind::Bin(BinOp::Mul, ..) = &e.kind else { return Vec::new() };
    let mut factors = Vec::new();
    flatten_product(e, &mut factors);
    let span = e.span;
    let mut out = Vec::new();
    for (i, f) in factors.iter().enumerate() {
        let ExprKind::Bin(BinOp::Pow, d, k) = &f.kind else { continue };
        if k.rational() != Some(-BigRational::one()) {
            continue;
        }
        let ExprKind::Builtin(Func::Diag, v) = &d.kind else { continue };
        let mut v_factors = Vec::new();
        flatten_product(&v[0], &mut v_factors);
        let rest = &factors[i + 1..];
        let (replacement, used) = if rest.first().is_some_and(|g| **g == **d) {
            (Expr::name(IDENTITY, span), 1)
        } else if rest.len() >= v_factors.len() && rest.iter().zip(&v_factors).all(|(a, b)| a == b) {
            (Expr::name(ONES, span), v_factors.len())
        } else {
            continue;
        };
        if !ctx.entrywise(&v[0], true) {
            note(
                blocked,
                format!(
                    "`diag_inverse` needs every entry of `{}` to be nonzero, which is not shown (it is when they are positive: `ones`, `exp_elem`, softmaxes, and their sums and products)",
                    text::expr(&v[0])
                ),
            );
            continue;
        }
        let mut new: Vec<Expr> = factors[..i].iter().map(|x| (*x).clone()).collect();
        new.push(replacement);
        new.extend(rest[used..].iter().map(|x| (*x).clone()));
        // `I` times the rest is the rest.
        if new.len() > 1 {
            new.retain(|x| !matches!(&x.kind, ExprKind::Name(n) if n == IDENTITY));
        }
        out.push(new[1..].iter().fold(new[0].clone(), |acc, x| Expr::bin(BinOp::Mul, acc, x.clone())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::builtins::LEMMAS;
    use crate::prove::{MAX_DEPTH, Outcome, prove_equal};

    /// Each built-in lemma, alone, shows every statement `library.md` gives for it: the rewrite
    /// and the statement the library checks numerically are the same identity.
    #[test]
    fn each_lemma_shows_its_statements_in_the_library() {
        let mut files = crate::diagnostic::SourceFiles::default();
        let id = files.add("library.md".into(), crate::LIBRARY.into());
        let doc = crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap();
        let kinds = crate::language::Kinds(doc.scope.decls.iter().map(|(n, d)| (n.clone(), d.kind.clone())).collect());
        let assumptions: Vec<Fact> = doc
            .items
            .iter()
            .filter_map(|i| if let crate::language::Item::Block(b) = i { Some(b) } else { None })
            .flat_map(|b| &b.statements)
            .filter_map(|s| if let crate::language::ast::Statement::Assume(facts, _) = s { Some(facts.clone()) } else { None })
            .flatten()
            .collect();
        for info in LEMMAS {
            let lemma = ALL.iter().find(|l| l.name() == info.name).unwrap_or_else(|| panic!("no rewrite for `{}`", info.name));
            for statement in info.statements {
                let rule = doc.rules().find(|r| r.name == *statement).unwrap_or_else(|| panic!("no `{statement}` in library.md"));
                let mut kinds = kinds.clone();
                for b in &rule.binders {
                    kinds.insert(b.var.clone(), b.kind.clone());
                }
                let facts = rule.conditions.iter().chain(&assumptions).cloned().collect();
                let shapes = doc.scope.decls.iter().map(|(n, d)| (n.clone(), d.shape.clone())).collect();
                let ctx = Context { facts, kinds: kinds.clone(), random: Default::default(), shapes };
                let (lhs, rhs) = (&rule.relation.lhs, &rule.relation.rhs);
                let shown = if rule.relation.rel == Rel::Eq {
                    matches!(prove_equal(lhs, rhs, &[lemma as &dyn Rewrite], &ctx, MAX_DEPTH).unwrap(), Outcome::Equal { .. })
                } else {
                    let le = crate::prove::prove_le(lhs, rhs, rule.relation.rel == Rel::Lt, &[], &[lemma as &dyn crate::prove::Bounds], &ctx);
                    matches!(le.unwrap(), crate::prove::Comparison::Shown { .. })
                };
                assert!(shown, "`{}` does not show `{statement}`", info.name);
            }
        }
    }

    #[test]
    fn the_rewrites_are_the_table_of_built_in_lemmas() {
        let names: Vec<&str> = ALL.iter().map(|l| l.name()).collect();
        let table: Vec<&str> = LEMMAS.iter().map(|l| l.name).collect();
        assert_eq!(names, table);
    }
}
