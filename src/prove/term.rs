//! Our expressions as engine terms. Scalars map one to one; products of vectors and
//! matrices become ordered words `#mm(A, B, …)` with their scalar coefficients pulled out,
//! since the engine's `*` commutes. Internal names start with `#`, which no user name can
//! contain. And back: engine text read in the language's spelling.

use std::collections::BTreeMap;

use num_rational::BigRational;
use num_traits::{One, ToPrimitive};

use super::engine::Term;
use super::normal::normalize_sums;
use crate::language::Kinds;
use crate::language::ast::{BigOp, BinOp, Expr, ExprKind, Kind};
use crate::language::builtins::{Func, IDENTITY, ONES};

fn num(n: i64) -> Term {
    Term::Num(BigRational::from_integer(n.into()))
}

/// Our expression as an engine term. Scalars map one to one; non-scalar products become
/// ordered `mm(…)` words with their scalar coefficients pulled out.
pub fn to_term(e: &Expr, kinds: &Kinds) -> Result<Term, String> {
    let e = crate::language::gradient::expand(e, kinds)?;
    Translator { kinds: kinds.clone(), bound: Vec::new() }.term(&normalize_sums(&e, kinds))
}

/// The vectors (names and sequences, not `ones`) an expression is made of.
pub fn vector_leaves(e: &Expr, kinds: &Kinds) -> Vec<String> {
    fn walk(x: &Expr, kinds: &Kinds, out: &mut Vec<String>) {
        match &x.kind {
            ExprKind::Name(n) | ExprKind::Index(n, _) if kinds.of(x) == Kind::Vector && !(n == ONES && kinds.get(n).is_none()) => out.push(n.clone()),
            _ => x.children().into_iter().for_each(|c| walk(c, kinds, out)),
        }
    }
    let mut out = Vec::new();
    walk(e, kinds, &mut out);
    out
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
            ExprKind::Builtin(Func::Dot, args) => self.dot(&args[0], &args[1])?,
            ExprKind::Builtin(Func::Norm, args) => {
                Term::Pow(Box::new(self.dot(&args[0], &args[0])?), Box::new(Term::Num(BigRational::new(1.into(), 2.into()))))
            }
            ExprKind::Builtin(f @ (Func::Exp | Func::Log | Func::Sqrt), args) if self.kinds.of(&args[0]) != Kind::Scalar => {
                return Err(format!("`{}` of a vector or matrix is not defined; `exp_elem` applies exp entry by entry", f.name()));
            }
            // Element-wise operations on vectors read as the scalar ones, coordinate by
            // coordinate: the engine's `*` is then the element-wise product (a scalar factor
            // the same multiple of every entry), which is also what it is between a scalar
            // coefficient and a word. Their operands are never matrices (an input error), so no
            // `I`, whose word is empty, meets them. A reading that normalizes to no vector at
            // all has lost its size; the search refuses those (`search::sizeless_entrywise`).
            ExprKind::Builtin(Func::EMul | Func::EDiv | Func::SqrtElem | Func::AbsElem | Func::SignElem, _) => self.entry(e)?,
            ExprKind::Builtin(f, args) => {
                let args = args.iter().map(|a| self.term(a)).collect::<Result<_, _>>()?;
                match f.info().engine {
                    Some(known) => Term::Known(known, args),
                    None => Term::Fn(f.name().to_string(), args),
                }
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

    /// A term of a sum of vectors: a scalar there is that multiple of `ones` of the sum's size
    /// (an empty word would read as `I` in a product: `A*(x + 2)` is not `A*x + 2*A`).
    fn summand(&mut self, e: &Expr, sum: &Expr) -> Result<Vec<(Term, Vec<Term>)>, String> {
        if self.kinds.of(e) == Kind::Scalar {
            return Ok(vec![(self.scalar(e)?, vec![self.size_of(sum)?])]);
        }
        self.sized_ones(e, sum)
    }

    /// The words of `e`, where a word that is `ones` alone (`ones`, `a*ones`) has the size of
    /// `partner`'s vectors (`x + ones`, `dot(a*ones, y)`), as a broadcast scalar has; without
    /// one it has no size, and the symbolic layer cannot judge it (`dot(ones, ones)` is the
    /// length, which nothing here tells).
    fn sized_ones(&mut self, e: &Expr, partner: &Expr) -> Result<Vec<(Term, Vec<Term>)>, String> {
        let lone = |w: &Vec<Term>| matches!(&w[..], [Term::Sym(s)] if s == ONES);
        let words = self.words(e)?;
        if !words.iter().any(|(_, w)| lone(w)) || self.kinds.get(ONES).is_some() {
            return Ok(words);
        }
        let size = self.size_of(partner)?;
        Ok(words.into_iter().map(|(c, w)| if lone(&w) { (c, vec![size.clone()]) } else { (c, w) }).collect())
    }

    /// `ones` of the size of the vector `e`: `#size(x)` for its first vector `x` by name.
    fn size_of(&self, e: &Expr) -> Result<Term, String> {
        self.size_of_leaves(vector_leaves(e, &self.kinds)).ok_or_else(|| {
            format!(
                "`{}` holds no vector to give it a size, which the symbolic layer needs; write `c*ones` for a constant vector",
                crate::language::text::expr(e)
            )
        })
    }

    /// `#size(x)` for the first of these vectors by name (all of one length).
    fn size_of_leaves(&self, leaves: Vec<String>) -> Option<Term> {
        leaves.into_iter().min().map(|leaf| Term::Fn("#size".into(), vec![self.name(&leaf)]))
    }

    /// An element-wise expression read entry by entry: `ones` is 1 and a scalar the same
    /// number in every entry, through sums, negations, scalar multiples and element-wise
    /// operations; other forms (a matrix product, a transpose) as they are.
    fn entry(&mut self, e: &Expr) -> Result<Term, String> {
        let vector = self.kinds.of(e) == Kind::Vector;
        Ok(match &e.kind {
            ExprKind::Name(n) if n == ONES && self.kinds.get(n).is_none() => num(1),
            ExprKind::Bin(BinOp::Add, a, b) if vector => Term::Add(vec![self.entry(a)?, self.entry(b)?]),
            ExprKind::Bin(BinOp::Sub, a, b) if vector => Term::Add(vec![self.entry(a)?, Term::Mul(vec![num(-1), self.entry(b)?])]),
            ExprKind::Neg(a) if vector => Term::Mul(vec![num(-1), self.entry(a)?]),
            ExprKind::Bin(BinOp::Mul, a, b) if vector && (self.kinds.of(a) == Kind::Scalar || self.kinds.of(b) == Kind::Scalar) => {
                Term::Mul(vec![self.entry(a)?, self.entry(b)?])
            }
            ExprKind::Bin(BinOp::Div, a, b) if vector && self.kinds.of(b) == Kind::Scalar => {
                Term::Mul(vec![self.entry(a)?, Term::Pow(Box::new(self.scalar(b)?), Box::new(num(-1)))])
            }
            ExprKind::Builtin(Func::EMul, args) => Term::Mul(vec![self.entry(&args[0])?, self.entry(&args[1])?]),
            ExprKind::Builtin(Func::EDiv, args) => {
                Term::Mul(vec![self.entry(&args[0])?, Term::Pow(Box::new(self.entry(&args[1])?), Box::new(num(-1)))])
            }
            ExprKind::Builtin(f @ (Func::SqrtElem | Func::AbsElem | Func::SignElem), args) => {
                let scalar = f.of_entries().expect("an element-wise function");
                let arg = self.entry(&args[0])?;
                match scalar.info().engine {
                    Some(known) => Term::Known(known, vec![arg]),
                    None => Term::Fn(scalar.name().to_string(), vec![arg]),
                }
            }
            _ => self.term(e)?,
        })
    }

    /// `dot` is bilinear and symmetric: expanded over sums, scalars pulled out, and each
    /// pair of words written in one order.
    fn dot(&mut self, x: &Expr, y: &Expr) -> Result<Term, String> {
        // `ones` beside a vector is `ones` of its size.
        let (xs, ys) = (self.sized_ones(x, y)?, self.sized_ones(y, x)?);
        let mut terms = Vec::new();
        for (c1, w1) in &xs {
            for (c2, w2) in &ys {
                let (a, b) = (word_term(w1.clone()), word_term(w2.clone()));
                let pair = if format!("{a:?}") <= format!("{b:?}") { vec![a, b] } else { vec![b, a] };
                terms.push(Term::Mul(vec![c1.clone(), c2.clone(), Term::Fn(Func::Dot.name().into(), pair)]));
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
                let shadowed = self.kinds.insert(var.clone(), Kind::Vector);
                let free: Vec<String> = vector_leaves(body, &self.kinds).into_iter().filter(|l| l != var).collect();
                let body = self.term(body);
                match shadowed {
                    Some(k) => self.kinds.insert(var.clone(), k),
                    None => self.kinds.0.remove(var),
                };
                let depth = self.bound.len() - 1;
                self.bound.pop();
                // The Gaussian vector has the length of the vectors it meets in the body:
                // `E‖g‖` over ℝⁿ is not over ℝᵐ, whatever cancels in the body.
                let Some(size) = self.size_of_leaves(free) else {
                    return Err("a Gaussian expectation whose body holds no other vector: the length of its variable is not known here".into());
                };
                Ok(Term::Fn("#E_normal".into(), vec![Term::Sym(format!("#bound{depth}")), mean, cov, body?, size]))
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
            ExprKind::Name(_) | ExprKind::Index(..) | ExprKind::Call(..) | ExprKind::Builtin(..) => vec![(num(1), vec![self.scalar(e)?])],
            ExprKind::BigOp { .. } => vec![(num(1), vec![self.big_op(e)?])],
            ExprKind::Expect { .. } => vec![(num(1), vec![self.expectation(e)?])],
            ExprKind::Num(_) => unreachable!("numbers are scalars"),
            ExprKind::Neg(a) => self.words(a)?.into_iter().map(|(c, w)| (Term::Mul(vec![num(-1), c]), w)).collect(),
            ExprKind::Transpose(a) => self.words(a)?.into_iter().map(|(c, w)| (c, w.into_iter().rev().map(transpose).collect())).collect(),
            ExprKind::Bin(BinOp::Add, a, b) => [self.summand(a, e)?, self.summand(b, e)?].concat(),
            ExprKind::Bin(BinOp::Sub, a, b) => {
                let neg: Vec<_> = self.summand(b, e)?.into_iter().map(|(c, w)| (Term::Mul(vec![num(-1), c]), w)).collect();
                [self.summand(a, e)?, neg].concat()
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
    let identity = Term::Sym(IDENTITY.into());
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
        // A diagonal matrix is its own transpose, and the transpose of an inverse is the
        // inverse of the transpose (both undefined together).
        Term::Fn(f, args) if f == "diag" => Term::Fn(f, args),
        Term::Fn(f, mut args) if f == "#inv" && args.len() == 1 => Term::Fn(f, vec![transpose_sum(args.pop().expect("one argument"))]),
        other => Term::Fn("#tr".into(), vec![other]),
    }
}

/// The transpose of a matrix as `term` writes it: a sum of coefficients times words, each word
/// reversed with its factors transposed.
fn transpose_sum(t: Term) -> Term {
    let word = |w: Term| match w {
        Term::Fn(f, factors) if f == "#mm" => Term::Fn(f, factors.into_iter().rev().map(transpose).collect()),
        single => transpose(single),
    };
    match t {
        Term::Add(terms) => Term::Add(
            terms
                .into_iter()
                .map(|m| match m {
                    Term::Mul(mut parts) if parts.len() == 2 => {
                        let w = parts.pop().expect("a word");
                        parts.push(word(w));
                        Term::Mul(parts)
                    }
                    other => Term::Fn("#tr".into(), vec![other]),
                })
                .collect(),
        ),
        other => Term::Fn("#tr".into(), vec![other]),
    }
}

/// Engine text in the language's spelling: sequence elements `v(t-1)` read `v[t-1]`, and the
/// internal forms read as written: `#mm(A,B)` as `(A*B)`, `#tr(A)` as `(A)^T`, `#inv(A)` as
/// `(A)^-1`, `#E(X)` as `E[X]`, `#E_normal(x,m,C,X)` as `E(x ~ N(m, C))[X]`; bound variables
/// `#boundK` read `iK`.
pub fn readable(text: &str, kinds: &Kinds) -> String {
    // What the commas directly inside a parenthesis become.
    #[derive(Clone, Copy)]
    enum Commas {
        Kept,
        Product,
        Gaussian(usize),
    }
    let mut out = String::with_capacity(text.len());
    // Per open parenthesis: what closes it, and what its commas are.
    let mut open: Vec<(&str, Commas)> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        match c {
            '(' => {
                let internal = ["#mm", "#tr", "#inv", "#E_normal", "#E"].into_iter().find(|w| out.ends_with(w));
                if let Some(w) = internal {
                    out.truncate(out.len() - w.len());
                }
                let (opener, closer, commas) = match internal {
                    Some("#mm") => ("(", ")", Commas::Product),
                    Some("#tr") => ("(", ")^T", Commas::Kept),
                    Some("#inv") => ("(", ")^-1", Commas::Kept),
                    Some("#E_normal") => ("E(", "]", Commas::Gaussian(0)),
                    Some(_) => ("E[", "]", Commas::Kept),
                    None if matches!(kinds.0.get(&word), Some(Kind::Sequence(_))) => ("[", "]", Commas::Kept),
                    None => ("(", ")", Commas::Kept),
                };
                out.push_str(opener);
                open.push((closer, commas));
            }
            ')' => out.push_str(open.pop().map_or(")", |(closer, _)| closer)),
            ',' => match open.last_mut() {
                Some((_, Commas::Product)) => out.push('*'),
                Some((_, Commas::Gaussian(k))) => {
                    out.push_str([" ~ N(", ", ", "))[", "; sized like "].get(*k).copied().unwrap_or(","));
                    *k += 1;
                }
                _ => out.push(c),
            },
            _ => out.push(c),
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            word.clear();
        }
    }
    out.replace("#bound", "i")
}

/// More terms than this in an expanded form is too much work for one step.
const MAX_TERMS: f64 = 20_000.0;

/// Why `e` is too large to normalize, if it is: its expanded form, estimated from above
/// (sums add, products multiply, `(a + b)^k` has `C(n + k - 1, k)` terms), would hold more
/// than `MAX_TERMS` terms, in the whole or in a function's argument.
pub fn too_large(e: &Expr, kinds: &Kinds) -> Option<String> {
    if let Some(bits) = largest_number(e).filter(|b| *b > MAX_BITS) {
        let about = if bits.is_finite() { format!("about {bits:.1e}") } else { "more than 10^308".into() };
        return Some(format!("too large: it holds a number of {about} bits, more than the {MAX_BITS:.0} one step may"));
    }
    let mut worst: f64 = 0.0;
    let whole = size(e, &mut worst);
    // Over a common denominator every numerator is multiplied by the other denominators.
    // (Sums of a known length are written out first: their terms' denominators differ.)
    let mut denominators = BTreeMap::new();
    collect_denominators(&normalize_sums(e, kinds), &mut denominators);
    let common: f64 = denominators.values().map(|d| size(d, &mut worst)).product();
    let largest = (whole * common).max(worst);
    (largest > MAX_TERMS).then(|| format!("too large: expanding it would give about {largest:.0} terms, more than the {MAX_TERMS:.0} one step may"))
}

/// Numbers longer than this (in bits) are too much work for one step: `7^100000000` would
/// be computed digit by digit.
const MAX_BITS: f64 = 100_000.0;

/// The size in bits of the largest number a constant power in `e` makes (`7^100000000`,
/// `2^(2^(2^5))`), where it can be told without computing it.
fn largest_number(e: &Expr) -> Option<f64> {
    let here = match &e.kind {
        ExprKind::Bin(BinOp::Pow, a, b) => constant(b).map(|k| {
            // |a^k| in bits; a base with names grows its coefficients like a number would.
            let base = constant(a).map_or(2.0, |x| x.abs().max(2.0)).log2();
            k.abs() * base
        }),
        _ => None,
    };
    e.children().into_iter().filter_map(largest_number).chain(here).reduce(f64::max)
}

/// The distinct denominators with names in `e` (outside function arguments, which are
/// normalized on their own), by their text.
fn collect_denominators(e: &Expr, out: &mut BTreeMap<String, Expr>) {
    let mut add = |d: &Expr| {
        if constant(d).is_none() {
            out.insert(crate::language::text::expr(d), d.clone());
        }
    };
    match &e.kind {
        ExprKind::Bin(BinOp::Div, _, b) => add(b),
        ExprKind::Bin(BinOp::Pow, a, b) if constant(b).is_some_and(|k| k < 0.0) => add(a),
        ExprKind::Index(..) | ExprKind::Call(..) | ExprKind::Builtin(..) | ExprKind::Expect { .. } => return,
        _ => {}
    }
    for c in e.children() {
        collect_denominators(c, out);
    }
}

/// The value of an expression without names, as a float (infinite when it is too large).
fn constant(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Num(q) => q.to_f64(),
        ExprKind::Neg(a) => constant(a).map(|x| -x),
        ExprKind::Bin(op, a, b) => {
            let (x, y) = (constant(a)?, constant(b)?);
            Some(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                BinOp::Pow => x.powf(y),
            })
        }
        _ => None,
    }
}

/// An upper estimate of the number of terms of `e` expanded; `worst` collects the estimates
/// of the parts that are normalized on their own (function arguments, expectation bodies).
fn size(e: &Expr, worst: &mut f64) -> f64 {
    let alone = |x: &Expr, worst: &mut f64| {
        let s = size(x, worst);
        *worst = worst.max(s);
        1.0
    };
    match &e.kind {
        ExprKind::Num(_) | ExprKind::Name(_) => 1.0,
        ExprKind::Index(_, args) | ExprKind::Call(_, args) | ExprKind::Builtin(_, args) => {
            for a in args {
                alone(a, worst);
            }
            1.0
        }
        ExprKind::Expect { body, .. } => alone(body, worst),
        ExprKind::Neg(a) | ExprKind::Transpose(a) => size(a, worst),
        ExprKind::Bin(BinOp::Add | BinOp::Sub, a, b) => size(a, worst) + size(b, worst),
        ExprKind::Bin(BinOp::Mul | BinOp::Div, a, b) => size(a, worst) * size(b, worst),
        ExprKind::Bin(BinOp::Pow, a, b) => {
            let base = size(a, worst);
            let k = match &b.kind {
                ExprKind::Num(k) if k.is_integer() => k.to_integer().to_i64().map(i64::unsigned_abs),
                ExprKind::Neg(inner) => match &inner.kind {
                    ExprKind::Num(k) if k.is_integer() => k.to_integer().to_i64().map(i64::unsigned_abs),
                    _ => None,
                },
                _ => None,
            };
            match k {
                // C(n + k - 1, k), the number of monomials of degree k in n terms.
                Some(k) if k > 1 => (1..=k.min(1 << 20)).fold(1.0, |acc: f64, j| acc * (base - 1.0 + j as f64) / j as f64),
                _ => {
                    alone(b, worst);
                    base
                }
            }
        }
        ExprKind::BigOp { op, lo, hi, body, .. } => {
            let length = crate::language::affine::Affine::of(hi)
                .zip(crate::language::affine::Affine::of(lo))
                .map(|(h, l)| h.plus(&l.scale(&(-1).into())))
                .filter(|n| n.terms.is_empty())
                .and_then(|n| n.constant.to_i64());
            let body_size = size(body, worst);
            match length {
                Some(n) if n < 0 => 1.0,
                Some(n) if n <= 64 && *op == BigOp::Sum => (n + 1) as f64 * body_size,
                Some(n) if n <= 64 => body_size.powi(n as i32 + 1),
                _ => body_size + alone(lo, worst) + alone(hi, worst),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_text_reads_in_the_language() {
        let kinds = Kinds::default();
        assert_eq!(readable("#E_normal(#bound0,0,I,#bound0*dot(#bound0,w))", &kinds), "E(i0 ~ N(0, I))[i0*dot(i0,w)]");
        assert_eq!(readable("#mm(A,#tr(B))+#inv(C)+#E(x)", &kinds), "(A*(B)^T)+(C)^-1+E[x]");
        assert_eq!(readable("sum(#bound0,0,t,f(#bound0))", &kinds), "sum(i0,0,t,f(i0))");
    }
}
