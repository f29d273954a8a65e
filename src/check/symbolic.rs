//! The symbolic layer: a step `A = B by R1, …` holds when rewriting A and B with the cited
//! rules (either direction, any position, a bounded number of times) reaches two expressions
//! with the same normal form. Normal forms come from the engine; products of vectors and
//! matrices are expanded here into ordered words first, since the engine's `*` commutes.

use std::collections::{HashMap, HashSet};

use num_rational::BigRational;
use num_traits::{One, ToPrimitive};

use super::engine::{Term, engine};
use super::lemmas::{self, Lemma};
use super::rewrite::{Context, Direction, RewriteRule, canonical_indices, rewrites};
use crate::language::ast::{BigOp, BinOp, Expr, ExprKind, Kind};

/// Kinds of the names visible to a step: declarations and bound variables.
#[derive(Debug, Clone, Default)]
pub struct Kinds(pub HashMap<String, Kind>);

impl Kinds {
    fn of_name(&self, n: &str) -> Kind {
        match self.0.get(n) {
            Some(Kind::Integer) | None => Kind::Scalar,
            Some(k) => k.clone(),
        }
    }

    /// Scalar, vector or matrix: what decides whether a product commutes.
    pub fn of(&self, e: &Expr) -> Kind {
        let join = |a: Kind, b: Kind| {
            if a == Kind::Scalar {
                b
            } else if b == Kind::Scalar || a == Kind::Matrix {
                a
            } else {
                b
            }
        };
        match &e.kind {
            ExprKind::Num(_) => Kind::Scalar,
            ExprKind::Name(n) if n == "ones" && !self.0.contains_key(n) => Kind::Vector,
            ExprKind::Name(n) if n == "I" && !self.0.contains_key(n) => Kind::Matrix,
            ExprKind::Name(n) => self.of_name(n),
            ExprKind::Index(n, _) => match self.of_name(n) {
                Kind::Sequence(of) => *of,
                k => k,
            },
            ExprKind::Call(f, args) => {
                if matches!(f.as_str(), "diag" | "exp_elem" | "softmax_row" | "softmax_col") {
                    Kind::Matrix
                } else if crate::language::BUILTIN_FUNCTIONS.contains(&f.as_str()) {
                    Kind::Scalar
                } else {
                    args.iter().map(|a| self.of(a)).fold(Kind::Scalar, join)
                }
            }
            ExprKind::BigOp { body, .. } | ExprKind::Expect { body, .. } => self.of(body),
            ExprKind::Neg(a) | ExprKind::Transpose(a) => self.of(a),
            ExprKind::Bin(BinOp::Pow, a, _) => self.of(a),
            ExprKind::Bin(_, a, b) => join(self.of(a), self.of(b)),
        }
    }
}

fn num(n: i64) -> Term {
    Term::Num(BigRational::from_integer(n.into()))
}

/// Our expression as an engine term. Scalars map one to one; non-scalar products become
/// ordered `mm(…)` words with their scalar coefficients pulled out.
pub fn to_term(e: &Expr, kinds: &Kinds) -> Result<Term, String> {
    Translator { kinds: kinds.clone(), bound: Vec::new() }.term(&lemmas::normalize_sums(e, kinds))
}

/// Internal function and symbol names start with `#`, which no user name can contain.
struct Translator {
    /// The names' kinds, plus the bound variables of the expression being translated.
    kinds: Kinds,
    /// Summation variables, innermost last; renamed by depth so `sum(i, …)` equals `sum(j, …)`.
    bound: Vec<String>,
}

impl Translator {
    fn term(&mut self, e: &Expr) -> Result<Term, String> {
        if self.kinds.of(e) == Kind::Scalar {
            self.scalar(e)
        } else {
            let words = self.words(e)?;
            Ok(Term::Add(words.into_iter().map(|(c, w)| Term::Mul(vec![c, word_term(w)])).collect()))
        }
    }

    fn name(&self, n: &str) -> Term {
        match self.bound.iter().rposition(|b| b == n) {
            Some(depth) => Term::Sym(format!("#bound{depth}")),
            None => Term::Sym(n.to_string()),
        }
    }

    fn scalar(&mut self, e: &Expr) -> Result<Term, String> {
        Ok(match &e.kind {
            ExprKind::Num(n) => Term::Num(n.clone()),
            ExprKind::Name(n) => self.name(n),
            ExprKind::Call(f, args) if f == "dot" => self.dot(&args[0], &args[1])?,
            ExprKind::Call(f, args) if f == "norm" => {
                Term::Pow(Box::new(self.dot(&args[0], &args[0])?), Box::new(Term::Num(BigRational::new(1.into(), 2.into()))))
            }
            ExprKind::Call(f, args) if matches!(f.as_str(), "exp" | "log" | "sqrt") && self.kinds.of(&args[0]) != Kind::Scalar => {
                return Err(format!("`{f}` of a vector or matrix is not defined; `exp_elem` applies exp entry by entry"));
            }
            ExprKind::Index(n, args) | ExprKind::Call(n, args) => {
                let args = args.iter().map(|a| self.term(a)).collect::<Result<_, _>>()?;
                Term::Fn(n.clone(), args)
            }
            ExprKind::BigOp { .. } => self.big_op(e)?,
            ExprKind::Expect { .. } => self.expectation(e)?,
            ExprKind::Neg(a) => Term::Mul(vec![num(-1), self.scalar(a)?]),
            ExprKind::Transpose(a) => self.scalar(a)?,
            ExprKind::Bin(op, a, b) => {
                if self.kinds.of(a) != Kind::Scalar || self.kinds.of(b) != Kind::Scalar {
                    return Err("a vector or matrix where a scalar is needed (a division or power by one?)".into());
                }
                let (x, y) = (self.scalar(a)?, self.scalar(b)?);
                match op {
                    BinOp::Add => Term::Add(vec![x, y]),
                    BinOp::Sub => Term::Add(vec![x, Term::Mul(vec![num(-1), y])]),
                    BinOp::Mul => Term::Mul(vec![x, y]),
                    BinOp::Div => Term::Mul(vec![x, Term::Pow(Box::new(y), Box::new(num(-1)))]),
                    BinOp::Pow => Term::Pow(Box::new(x), Box::new(y)),
                }
            }
        })
    }

    /// `dot` is bilinear and symmetric: expanded over sums, scalars pulled out, and each
    /// pair of words written in one order.
    fn dot(&mut self, x: &Expr, y: &Expr) -> Result<Term, String> {
        let (xs, ys) = (self.words(x)?, self.words(y)?);
        let mut terms = Vec::new();
        for (c1, w1) in &xs {
            for (c2, w2) in &ys {
                let (a, b) = (word_term(w1.clone()), word_term(w2.clone()));
                let pair = if format!("{a:?}") <= format!("{b:?}") { vec![a, b] } else { vec![b, a] };
                terms.push(Term::Mul(vec![c1.clone(), c2.clone(), Term::Fn("dot".into(), pair)]));
            }
        }
        Ok(Term::Add(terms))
    }

    fn expectation(&mut self, e: &Expr) -> Result<Term, String> {
        let ExprKind::Expect { gaussian, body } = &e.kind else { unreachable!("called on expectations") };
        match gaussian {
            None => Ok(Term::Fn("#E".into(), vec![self.term(body)?])),
            Some((var, mean, cov)) => {
                let (mean, cov) = (self.term(mean)?, self.term(cov)?);
                self.bound.push(var.clone());
                let shadowed = self.kinds.0.insert(var.clone(), Kind::Vector);
                let body = self.term(body);
                match shadowed {
                    Some(k) => self.kinds.0.insert(var.clone(), k),
                    None => self.kinds.0.remove(var),
                };
                let depth = self.bound.len() - 1;
                self.bound.pop();
                Ok(Term::Fn("#E_normal".into(), vec![Term::Sym(format!("#bound{depth}")), mean, cov, body?]))
            }
        }
    }

    fn big_op(&mut self, e: &Expr) -> Result<Term, String> {
        let ExprKind::BigOp { op, var, lo, hi, body } = &e.kind else { unreachable!("called on sums") };
        let (lo, hi) = (self.term(lo)?, self.term(hi)?);
        self.bound.push(var.clone());
        let body = self.term(body);
        let depth = self.bound.len() - 1;
        self.bound.pop();
        let name = if *op == BigOp::Sum { "sum" } else { "prod" };
        Ok(Term::Fn(name.into(), vec![Term::Sym(format!("#bound{depth}")), lo, hi, body?]))
    }

    /// A non-scalar expression as a sum of `coefficient × ordered word of factors`.
    fn words(&mut self, e: &Expr) -> Result<Vec<(Term, Vec<Term>)>, String> {
        if self.kinds.of(e) == Kind::Scalar {
            return Ok(vec![(self.scalar(e)?, Vec::new())]);
        }
        Ok(match &e.kind {
            ExprKind::Name(_) | ExprKind::Index(..) | ExprKind::Call(..) => vec![(num(1), vec![self.scalar(e)?])],
            ExprKind::BigOp { .. } => vec![(num(1), vec![self.big_op(e)?])],
            ExprKind::Expect { .. } => vec![(num(1), vec![self.expectation(e)?])],
            ExprKind::Num(_) => unreachable!("numbers are scalars"),
            ExprKind::Neg(a) => self.words(a)?.into_iter().map(|(c, w)| (Term::Mul(vec![num(-1), c]), w)).collect(),
            ExprKind::Transpose(a) => self.words(a)?.into_iter().map(|(c, w)| (c, w.into_iter().rev().map(transpose).collect())).collect(),
            ExprKind::Bin(BinOp::Add, a, b) => [self.words(a)?, self.words(b)?].concat(),
            ExprKind::Bin(BinOp::Sub, a, b) => {
                let neg: Vec<_> = self.words(b)?.into_iter().map(|(c, w)| (Term::Mul(vec![num(-1), c]), w)).collect();
                [self.words(a)?, neg].concat()
            }
            ExprKind::Bin(BinOp::Mul, a, b) => {
                let (left, right) = (self.words(a)?, self.words(b)?);
                let mut out = Vec::new();
                for (c1, w1) in &left {
                    for (c2, w2) in &right {
                        out.push((Term::Mul(vec![c1.clone(), c2.clone()]), product(w1, w2)));
                    }
                }
                out
            }
            ExprKind::Bin(BinOp::Div, a, b) => {
                if self.kinds.of(b) != Kind::Scalar {
                    return Err("division by a vector or matrix is not defined; write the inverse, `A^-1`".into());
                }
                let inv = Term::Pow(Box::new(self.scalar(b)?), Box::new(num(-1)));
                self.words(a)?.into_iter().map(|(c, w)| (Term::Mul(vec![c, inv.clone()]), w)).collect()
            }
            ExprKind::Bin(BinOp::Pow, a, b) => {
                let power = match &b.kind {
                    ExprKind::Num(n) if n.is_integer() => n.to_integer().to_i64(),
                    ExprKind::Neg(inner) => match &inner.kind {
                        ExprKind::Num(n) if n.is_one() => Some(-1),
                        _ => None,
                    },
                    _ => None,
                };
                match power {
                    Some(-1) => vec![(num(1), vec![Term::Fn("#inv".into(), vec![self.term(a)?])])],
                    Some(k) if (1..=8).contains(&k) => {
                        let base = self.words(a)?;
                        let mut acc = base.clone();
                        for _ in 1..k {
                            let mut next = Vec::new();
                            for (c1, w1) in &acc {
                                for (c2, w2) in &base {
                                    next.push((Term::Mul(vec![c1.clone(), c2.clone()]), product(w1, w2)));
                                }
                            }
                            acc = next;
                        }
                        acc
                    }
                    _ => return Err("a matrix power needs a whole exponent from 1 to 8, or -1 for the inverse".into()),
                }
            }
        })
    }
}

/// The identity matrix `I` disappears from products with other factors.
fn product(a: &[Term], b: &[Term]) -> Vec<Term> {
    let identity = Term::Sym("I".into());
    let all: Vec<Term> = a.iter().chain(b).cloned().collect();
    let rest: Vec<Term> = all.iter().filter(|t| **t != identity).cloned().collect();
    if rest.is_empty() { vec![identity] } else { rest }
}

fn word_term(w: Vec<Term>) -> Term {
    match w.len() {
        0 => num(1),
        1 => w.into_iter().next().expect("one factor"),
        _ => Term::Fn("#mm".into(), w),
    }
}

fn transpose(t: Term) -> Term {
    match t {
        Term::Fn(f, mut args) if f == "#tr" && args.len() == 1 => args.pop().expect("one argument"),
        other => Term::Fn("#tr".into(), vec![other]),
    }
}

/// What a step may be rewritten with: an equation of the file, or a built-in lemma.
#[derive(Debug, Clone)]
pub enum Rule {
    Equation(RewriteRule),
    Lemma(Lemma),
}

impl Rule {
    pub fn name(&self) -> &str {
        match self {
            Rule::Equation(r) => &r.name,
            Rule::Lemma(l) => l.name(),
        }
    }

    fn rewrites(&self, e: &Expr, ctx: &Context) -> Vec<(Expr, bool)> {
        match self {
            Rule::Equation(r) => [Direction::Forward, Direction::Backward]
                .into_iter()
                .flat_map(|d| rewrites(e, r, d, ctx).into_iter().map(move |x| (x, d == Direction::Forward)))
                .collect(),
            Rule::Lemma(l) => l.rewrites(e, ctx, &|x: &Expr| random(x, &ctx.random)).into_iter().map(|x| (x, true)).collect(),
        }
    }
}

/// Whether an expression may be random: it mentions a sequence element, an application of a
/// declared function, or a name the file defines or a Monte Carlo check draws. Other scalar
/// names and numbers are constants for `linearity`.
fn random(e: &Expr, random_names: &[String]) -> bool {
    match &e.kind {
        ExprKind::Index(..) => true,
        ExprKind::Call(f, _) if !crate::language::BUILTIN_FUNCTIONS.contains(&f.as_str()) => true,
        ExprKind::Name(n) => random_names.contains(n),
        _ => e.children().iter().any(|c| random(c, random_names)),
    }
}

/// How a symbolic check ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Equal after rewriting with these rules (in the order found, without repeats).
    Equal { used: Vec<String> },
    /// No rewriting within the bound made them equal; the normalized difference of the most
    /// rewritten forms.
    Different { residual: String },
}

/// How many rewrites each side may take, and how many forms each side may collect.
const MAX_DEPTH: usize = 4;
const MAX_FORMS: usize = 300;

struct Form {
    expr: Expr,
    used: Vec<String>,
    forward_only: bool,
}

/// Searches for rewrites of `lhs` and `rhs` with `rules` that meet in one normal form.
pub fn prove_equal(lhs: &Expr, rhs: &Expr, rules: &[Rule], ctx: &Context, kinds: &Kinds, depth: usize) -> Result<Outcome, String> {
    #[cfg(test)]
    if tests::WEAKENED.get() {
        // A deliberately broken normalizer: "equal" when both sides mention the same names.
        let names = |e: &Expr| {
            let mut v = Vec::new();
            super::model::collect_names(e, &mut v);
            v.sort();
            v
        };
        return Ok(if names(lhs) == names(rhs) { Outcome::Equal { used: vec![] } } else { Outcome::Different { residual: "?".into() } });
    }
    let engine = engine().map_err(|e| e.to_string())?;
    let depth = depth.min(MAX_DEPTH);
    let mut sides: [Vec<Form>; 2] = [
        vec![Form { expr: canonical_indices(lhs), used: vec![], forward_only: true }],
        vec![Form { expr: canonical_indices(rhs), used: vec![], forward_only: true }],
    ];
    let mut seen: [HashSet<Expr>; 2] = [HashSet::from([sides[0][0].expr.clone()]), HashSet::from([sides[1][0].expr.clone()])];
    let mut canon: [HashMap<String, usize>; 2] = [HashMap::new(), HashMap::new()];
    let mut frontier = [0usize, 0usize];
    for level in 0..=depth {
        // Normal forms of the forms added since the last level, then look for a meeting.
        for side in 0..2 {
            let new = &sides[side][frontier[side]..];
            let terms = new.iter().map(|f| to_term(&f.expr, kinds)).collect::<Result<Vec<_>, _>>()?;
            let forms = engine.canonical(terms).map_err(|e| e.to_string())?;
            for (i, text) in forms.into_iter().enumerate() {
                let index = frontier[side] + i;
                canon[side].entry(text.clone()).or_insert(index);
                if let Some(&other) = canon[1 - side].get(&text) {
                    let (l, r) = if side == 0 { (index, other) } else { (other, index) };
                    let mut used = sides[0][l].used.clone();
                    for u in &sides[1][r].used {
                        if !used.contains(u) {
                            used.push(u.clone());
                        }
                    }
                    return Ok(Outcome::Equal { used });
                }
            }
        }
        if level == depth {
            break;
        }
        for side in 0..2 {
            let start = frontier[side];
            frontier[side] = sides[side].len();
            for i in start..frontier[side] {
                for rule in rules {
                    for (expr, forward) in rule.rewrites(&sides[side][i].expr, ctx) {
                        if sides[side].len() >= MAX_FORMS || !seen[side].insert(expr.clone()) {
                            continue;
                        }
                        let mut used = sides[side][i].used.clone();
                        if !used.iter().any(|u| u == rule.name()) {
                            used.push(rule.name().to_string());
                        }
                        let forward_only = sides[side][i].forward_only && forward;
                        sides[side].push(Form { expr, used, forward_only });
                    }
                }
            }
        }
    }
    // The most rewritten forward forms show what is left to explain.
    let pick = |side: &Vec<Form>| side.iter().rev().find(|f| f.forward_only).map_or(side[0].expr.clone(), |f| f.expr.clone());
    let (a, b) = (pick(&sides[0]), pick(&sides[1]));
    let (zero, residual) = engine.difference(to_term(&a, kinds)?, to_term(&b, kinds)?).map_err(|e| e.to_string())?;
    if zero {
        // Canonical text can differ for equal rational functions; the difference decides.
        let mut used = sides[0].iter().rev().find(|f| f.forward_only).map_or(vec![], |f| f.used.clone());
        for u in sides[1].iter().rev().find(|f| f.forward_only).map_or(vec![], |f| f.used.clone()) {
            if !used.contains(&u) {
                used.push(u);
            }
        }
        return Ok(Outcome::Equal { used });
    }
    Ok(Outcome::Different { residual: readable(&residual, kinds) })
}

/// Engine text in the language's spelling: sequence elements `v(t-1)` read `v[t-1]`, and the
/// internal forms read as written: `#mm(A,B)` as `(A*B)`, `#tr(A)` as `(A)^T`, `#inv(A)` as
/// `(A)^-1`, `#E(X)` as `E[X]`.
fn readable(text: &str, kinds: &Kinds) -> String {
    let mut out = String::with_capacity(text.len());
    // Per open parenthesis: what closes it, and whether its commas are products.
    let mut open: Vec<(&str, bool)> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        match c {
            '(' => {
                let internal = ["#mm", "#tr", "#inv", "#E"].into_iter().find(|w| out.ends_with(w));
                if let Some(w) = internal {
                    out.truncate(out.len() - w.len());
                }
                let (opener, closer, product) = match internal {
                    Some("#mm") => ("(", ")", true),
                    Some("#tr") => ("(", ")^T", false),
                    Some("#inv") => ("(", ")^-1", false),
                    Some(_) => ("E[", "]", false),
                    None if matches!(kinds.0.get(&word), Some(Kind::Sequence(_))) => ("[", "]", false),
                    None => ("(", ")", false),
                };
                out.push_str(opener);
                open.push((closer, product));
            }
            ')' => out.push_str(open.pop().map_or(")", |(closer, _)| closer)),
            ',' if open.last().is_some_and(|(_, product)| *product) => out.push('*'),
            _ => out.push(c),
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            word.clear();
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diagnostic::Span;

    thread_local! {
        /// Replaces the symbolic layer by a broken one, to show the exact layer alone.
        pub(crate) static WEAKENED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    fn kinds(pairs: &[(&str, Kind)]) -> Kinds {
        Kinds(pairs.iter().map(|(n, k)| (n.to_string(), k.clone())).collect())
    }

    fn name(n: &str) -> Expr {
        Expr::name(n, Span::default())
    }

    #[test]
    fn matrix_products_keep_their_order_and_scalars_commute() {
        let k = kinds(&[("W", Kind::Matrix), ("U", Kind::Matrix), ("a", Kind::Scalar)]);
        let wu = Expr::bin(BinOp::Mul, name("W"), name("U"));
        let uw = Expr::bin(BinOp::Mul, name("U"), name("W"));
        let ctx = Context::default();
        assert!(matches!(prove_equal(&wu, &uw, &[], &ctx, &k, 0).unwrap(), Outcome::Different { .. }));
        let a_wu = Expr::bin(BinOp::Mul, name("a"), wu.clone());
        let w_a_u = Expr::bin(BinOp::Mul, Expr::bin(BinOp::Mul, name("W"), name("a")), name("U"));
        assert!(matches!(prove_equal(&a_wu, &w_a_u, &[], &ctx, &k, 0).unwrap(), Outcome::Equal { .. }));
    }

    #[test]
    fn distribution_over_sums_is_ordered() {
        let k = kinds(&[("W", Kind::Matrix), ("x", Kind::Vector), ("y", Kind::Vector)]);
        let lhs = Expr::bin(BinOp::Mul, name("W"), Expr::bin(BinOp::Add, name("x"), name("y")));
        let rhs = Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, name("W"), name("x")), Expr::bin(BinOp::Mul, name("W"), name("y")));
        assert!(matches!(prove_equal(&lhs, &rhs, &[], &Context::default(), &k, 0).unwrap(), Outcome::Equal { .. }));
        let wrong = Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, name("x"), name("W")), Expr::bin(BinOp::Mul, name("W"), name("y")));
        assert!(matches!(prove_equal(&lhs, &wrong, &[], &Context::default(), &k, 0).unwrap(), Outcome::Different { .. }));
    }

    #[test]
    fn transpose_reverses_products() {
        let k = kinds(&[("A", Kind::Matrix), ("B", Kind::Matrix)]);
        let ab_t = Expr::new(ExprKind::Transpose(Box::new(Expr::bin(BinOp::Mul, name("A"), name("B")))), Span::default());
        let bt_at = Expr::bin(
            BinOp::Mul,
            Expr::new(ExprKind::Transpose(Box::new(name("B"))), Span::default()),
            Expr::new(ExprKind::Transpose(Box::new(name("A"))), Span::default()),
        );
        assert!(matches!(prove_equal(&ab_t, &bt_at, &[], &Context::default(), &k, 0).unwrap(), Outcome::Equal { .. }));
    }
}

/// Expands `e` with the definitions until no defined element is left: `v[3]` becomes
/// `beta*(beta*(beta*v[0] + …) …)` down to the base case. Used at concrete indices only.
pub fn expand_definitions(e: &Expr, definitions: &[RewriteRule]) -> Result<Expr, String> {
    fn go(e: &Expr, defs: &[RewriteRule], budget: &mut usize) -> Result<Expr, String> {
        let e = canonical_indices(&e.with_children(e.children().into_iter().map(|c| go(c, defs, budget)).collect::<Result<_, _>>()?));
        for rule in defs {
            if let Some(next) = rewrites(&e, rule, Direction::Forward, &Context::default()).into_iter().find(|_| true) {
                // Only a rewrite at the root: children were expanded already.
                if matches!(e.kind, ExprKind::Index(..) | ExprKind::Name(_) | ExprKind::Call(..)) && top_level_match(&e, rule) {
                    *budget = budget.checked_sub(1).ok_or("the expansion does not terminate within 100000 rewrites")?;
                    return go(&next, defs, budget);
                }
            }
        }
        Ok(e)
    }
    let mut budget = 100_000;
    go(e, definitions, &mut budget)
}

fn top_level_match(e: &Expr, rule: &RewriteRule) -> bool {
    match (&e.kind, &rule.lhs.kind) {
        (ExprKind::Index(a, _), ExprKind::Index(b, _)) | (ExprKind::Call(a, _), ExprKind::Call(b, _)) => a == b,
        (ExprKind::Name(a), ExprKind::Name(b)) => a == b,
        _ => false,
    }
}

/// Whether two concrete expressions are equal after expansion, with the difference.
pub fn equal_after_expansion(lhs: &Expr, rhs: &Expr, definitions: &[RewriteRule], kinds: &Kinds) -> Result<(bool, String), String> {
    let (a, b) = (expand_definitions(lhs, definitions)?, expand_definitions(rhs, definitions)?);
    let (zero, residual) = engine().map_err(|e| e.to_string())?.difference(to_term(&a, kinds)?, to_term(&b, kinds)?).map_err(|e| e.to_string())?;
    Ok((zero, readable(&residual, kinds)))
}
