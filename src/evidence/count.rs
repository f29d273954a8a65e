//! The cost model of complexity claims: the time and storage of evaluating an expression as
//! written, from the shapes alone. One walk, generic over what a size is: whole numbers (the
//! counts at given sizes, sums unrolled) or polynomials in the sizes (sums counted once and
//! multiplied by their length).
//!
//! Time: a p×q by q×r product costs pqr multiply-adds, a product with a diagonal matrix one
//! per entry of the result, an element-wise operation, a sum or a scaling one per entry,
//! a softmax three per entry (exponential, sum, division), `diag(v)` and a diagonal inverse
//! one per entry, a dense inverse n³; transposes are views and cost nothing.
//! Space: the inputs (every declared name the expression reads, each element of a sequence
//! once) plus the peak of the intermediates alive at once, evaluating operands left to right
//! and freeing them when their result is made; diagonal matrices are stored as their diagonal.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::{Add, Mul, Sub};

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive};

use super::growth::Poly;
use crate::language::ast::{BigOp, BinOp, Expr, ExprKind, Kind};
use crate::language::builtins::Func;
use crate::language::{Kinds, text};

/// What a size is to the walk.
pub trait Size: Clone + PartialEq + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> {
    /// Whole numbers: sums are unrolled, index by index.
    const CONCRETE: bool;
    fn int(n: i64) -> Self;
    fn as_int(&self) -> Option<i64>;
}

impl Size for BigInt {
    const CONCRETE: bool = true;
    fn int(n: i64) -> BigInt {
        n.into()
    }
    fn as_int(&self) -> Option<i64> {
        self.to_i64()
    }
}

impl Size for Poly {
    const CONCRETE: bool = false;
    fn int(n: i64) -> Poly {
        Poly::int(n)
    }
    fn as_int(&self) -> Option<i64> {
        self.as_constant().filter(|c| c.is_integer()).and_then(|c| c.to_integer().to_i64())
    }
}

/// What the walk reads of a file.
pub struct Program<'a> {
    pub kinds: &'a Kinds,
    /// Declared dimensions (`matrix n x d` → `["n", "d"]`).
    pub shapes: &'a HashMap<String, Vec<String>>,
    /// Names defined by a `def` (`A = exp_elem(Q*K^T)`): computed where they are used.
    pub definitions: &'a HashMap<String, Expr>,
    /// Every name some `def` or `given` defines, with an index or conditions too: what is
    /// not in `definitions` among them cannot be counted.
    pub defined: &'a BTreeSet<String>,
    /// The dimension names (sizes), which may also appear as numbers in expressions.
    pub dims: &'a BTreeSet<String>,
}

/// Time and storage of one evaluation.
#[derive(Clone, Debug)]
pub struct Counts<C> {
    pub time: C,
    /// Storage of the inputs read.
    pub inputs: C,
    /// Storage of the intermediates alive at each moment one was made: the peak is the
    /// largest (with whole sizes); with polynomials, a list of which the peak is the maximum.
    pub peaks: Vec<C>,
    /// Whether a sum had a single term at these sizes: the polynomial form's storage, which
    /// holds a running total from the second term on, is for sums of two terms or more.
    pub short_sum: bool,
}

impl Counts<BigInt> {
    /// Inputs and the peak of the intermediates.
    pub fn space(&self) -> BigInt {
        self.inputs.clone() + self.peaks.iter().max().cloned().unwrap_or_default()
    }
}

impl Counts<Poly> {
    /// The storage at each moment that no other moment exceeds term by term: the peak is
    /// the largest of them at any sizes.
    pub fn space_candidates(&self) -> Vec<Poly> {
        let all: Vec<Poly> = std::iter::once(self.inputs.clone()).chain(self.peaks.iter().map(|p| self.inputs.clone() + p.clone())).collect();
        let exceeds = |a: &Poly, b: &Poly| a != b && (a.clone() - b.clone()).terms().all(|(_, c)| c.is_positive());
        let mut out: Vec<Poly> = Vec::new();
        for (i, p) in all.iter().enumerate() {
            let beaten = all.iter().any(|q| exceeds(q, p));
            if !beaten && !out.contains(p) && all[..i].iter().all(|q| q != p) {
                out.push(p.clone());
            }
        }
        out
    }
}

/// How many operations one count may visit (unrolled sums included).
const BUDGET: u64 = 200_000;

pub fn count<C: Size>(program: &Program, e: &Expr, size: &dyn Fn(&str) -> C) -> Result<Counts<C>, String> {
    let mut walk = Walk {
        program,
        size,
        time: C::int(0),
        live: C::int(0),
        peaks: Vec::new(),
        inputs: BTreeMap::new(),
        patterns: HashMap::new(),
        bound: HashMap::new(),
        depth: 0,
        visited: 0,
        short_sum: false,
    };
    walk.eval(e)?;
    let inputs = walk.inputs.into_values().fold(C::int(0), |a, b| a + b);
    Ok(Counts { time: walk.time, inputs, peaks: walk.peaks, short_sum: walk.short_sum })
}

#[derive(Clone)]
enum Shape<C> {
    Scalar,
    Dense(C, C),
    Diagonal(C),
    /// `ones`, or `ones^T` (a row): its length comes from the product it is in.
    Ones(bool),
    Identity,
}

/// A value: its shape and the storage it holds that its consumer frees (nothing for inputs
/// and views of them).
struct Val<C> {
    shape: Shape<C>,
    held: C,
}

/// A summation variable: at one index (whole sizes) or over a range of this many indices.
#[derive(Clone)]
enum Bound<C> {
    At(i64),
    Over(C),
}

struct Walk<'a, C> {
    program: &'a Program<'a>,
    size: &'a dyn Fn(&str) -> C,
    time: C,
    live: C,
    peaks: Vec<C>,
    inputs: BTreeMap<String, C>,
    /// Polynomials: the index pattern each sequence is read with (two patterns may overlap,
    /// which the multiplicities would count twice).
    patterns: HashMap<String, String>,
    bound: HashMap<String, Bound<C>>,
    depth: usize,
    visited: u64,
    short_sum: bool,
}

fn entries<C: Size>(s: &Shape<C>) -> Result<C, String> {
    match s {
        Shape::Scalar => Ok(C::int(1)),
        Shape::Dense(r, c) => Ok(r.clone() * c.clone()),
        Shape::Diagonal(n) => Ok(n.clone()),
        Shape::Ones(_) | Shape::Identity => Err("`ones` and `I` take their size from a product: write them in one".into()),
    }
}

impl<C: Size> Walk<'_, C> {
    fn dim(&self, d: &str) -> C {
        match d.parse::<i64>() {
            Ok(n) => C::int(n),
            Err(_) => (self.size)(d),
        }
    }

    /// A result of `out` made from `operands` at `cost`: it is stored, then they are freed.
    fn make(&mut self, out: Shape<C>, cost: C, operands: Vec<Val<C>>) -> Result<Val<C>, String> {
        let held = entries(&out)?;
        self.time = self.time.clone() + cost;
        self.live = self.live.clone() + held.clone();
        self.peaks.push(self.live.clone());
        for o in operands {
            self.live = self.live.clone() - o.held;
        }
        Ok(Val { shape: out, held })
    }

    fn eval(&mut self, e: &Expr) -> Result<Val<C>, String> {
        self.depth += 1;
        self.visited += 1;
        if self.depth > 200 {
            return Err("the expression nests definitions too deeply to count".into());
        }
        if self.visited > BUDGET {
            return Err(format!("more than {BUDGET} operations to visit at these sizes (nested sums unrolled)"));
        }
        let out = self.eval_inner(e);
        self.depth -= 1;
        out
    }

    fn eval_inner(&mut self, e: &Expr) -> Result<Val<C>, String> {
        let zero = || C::int(0);
        match &e.kind {
            ExprKind::Num(_) => Ok(Val { shape: Shape::Scalar, held: zero() }),
            ExprKind::Name(n) if n == "ones" => Ok(Val { shape: Shape::Ones(false), held: zero() }),
            ExprKind::Name(n) if n == "I" => Ok(Val { shape: Shape::Identity, held: zero() }),
            ExprKind::Name(n) if self.bound.contains_key(n) || self.program.dims.contains(n) => Ok(Val { shape: Shape::Scalar, held: zero() }),
            ExprKind::Name(n) if self.program.definitions.contains_key(n) => {
                let def = self.program.definitions[n].clone();
                self.eval(&def)
            }
            ExprKind::Name(n) | ExprKind::Index(n, _) | ExprKind::Call(n, _) if self.program.defined.contains(n) => {
                Err(format!("`{n}` is defined with an index, arguments or conditions: its cost is not counted (write the expression it stands for)"))
            }
            ExprKind::Name(n) => self.input(n, &[]),
            ExprKind::Index(n, args) => self.input(n, args),
            ExprKind::Neg(a) => {
                let a = self.eval(a)?;
                let shape = a.shape.clone();
                let cost = entries(&shape)?;
                self.make(shape, cost, vec![a])
            }
            ExprKind::Transpose(a) => {
                let a = self.eval(a)?;
                let shape = match a.shape {
                    Shape::Dense(r, c) => Shape::Dense(c, r),
                    Shape::Ones(row) => Shape::Ones(!row),
                    other => other,
                };
                Ok(Val { shape, held: a.held })
            }
            // A power's exponent is a number of the program, not work done.
            ExprKind::Bin(BinOp::Pow, a, b) => {
                let x = self.eval(a)?;
                self.pow(x, b)
            }
            ExprKind::Bin(op, a, b) => {
                let (x, y) = (self.eval(a)?, self.eval(b)?);
                match op {
                    BinOp::Add | BinOp::Sub => self.add(x, y),
                    BinOp::Mul => self.mul(x, y),
                    BinOp::Div => match (&x.shape, &y.shape) {
                        (s, Shape::Scalar) => {
                            let (s, cost) = (s.clone(), entries(s)?);
                            self.make(s, cost, vec![x, y])
                        }
                        _ => Err(format!("`{}`: only division by a scalar is counted", text::expr(e))),
                    },
                    BinOp::Pow => unreachable!("powers are counted above"),
                }
            }
            ExprKind::Builtin(f, args) => {
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.eval(a)?);
                }
                self.builtin(*f, vals)
            }
            ExprKind::BigOp { op: BigOp::Sum, var, lo, hi, body } => self.sum(var, lo, hi, body),
            _ => Err(format!("the cost of `{}` is not counted (matrix products, sums, softmax, diag, element-wise operations are)", text::expr(e))),
        }
    }

    /// A declared name (or a sequence's element) the expression reads: stored once.
    fn input(&mut self, name: &str, args: &[Expr]) -> Result<Val<C>, String> {
        let kind = self.program.kinds.get(name).cloned();
        let inner = match &kind {
            Some(Kind::Sequence(of)) => (**of).clone(),
            Some(k) => k.clone(),
            None => return Err(format!("`{name}` is not declared")),
        };
        if let Some(Kind::Sequence(_)) = &kind
            && self.program.definitions.contains_key(name)
        {
            return Err(format!("`{name}` is a sequence defined by a recurrence: its cost is not counted"));
        }
        let dims = self.program.shapes.get(name).cloned().unwrap_or_default();
        let shape = match inner {
            Kind::Scalar | Kind::Integer => Shape::Scalar,
            Kind::Vector | Kind::Matrix if dims.is_empty() => return Err(format!("`{name}` needs a declared shape (`matrix n x d`) to be counted")),
            Kind::Vector => Shape::Dense(self.dim(&dims[0]), C::int(1)),
            Kind::Matrix => Shape::Dense(self.dim(&dims[0]), self.dim(&dims[1])),
            _ => return Err(format!("the cost of the function `{name}` is not known")),
        };
        let storage = entries(&shape)?;
        let (key, copies) = self.input_key(name, args)?;
        self.inputs.insert(key, storage * copies);
        Ok(Val { shape, held: C::int(0) })
    }

    /// The input's name at its indices, and how many inputs it stands for: one with whole
    /// sizes (indices evaluated), the length of every range it runs over with polynomials.
    fn input_key(&mut self, name: &str, args: &[Expr]) -> Result<(String, C), String> {
        if args.is_empty() {
            return Ok((name.to_string(), C::int(1)));
        }
        let mut copies = C::int(1);
        let mut parts = Vec::new();
        for a in args {
            let a = &crate::language::affine::canonical_index(a);
            let ranges = self.bound.iter().filter(|(v, b)| matches!(b, Bound::Over(_)) && a.mentions(v)).count();
            if ranges > 1 {
                return Err(format!("`{name}[{}]` runs over two sums at once: which elements repeat is not counted", text::expr(a)));
            }
            match self.index(a) {
                Some(i) => parts.push(i.to_string()),
                None => {
                    parts.push(text::expr(a));
                    for (v, b) in &self.bound {
                        if let Bound::Over(n) = b
                            && a.mentions(v)
                        {
                            copies = copies * n.clone();
                        }
                    }
                }
            }
        }
        let key = format!("{name}[{}]", parts.join(", "));
        // With polynomials, `Qi[i]` stands for every element its sum reads; another pattern of
        // the same sequence (`Qi[i+1]`, `Qi[1]`) may read some of them again.
        if !C::CONCRETE {
            let ranged = args.iter().any(|a| self.bound.iter().any(|(v, b)| matches!(b, Bound::Over(_)) && a.mentions(v)));
            let prefix = format!("{name}[");
            let clash = match self.patterns.get(name) {
                Some(other) => other != &key,
                None => ranged && self.inputs.keys().any(|k| k.starts_with(&prefix) && k != &key),
            };
            if clash {
                let other =
                    self.patterns.get(name).cloned().or_else(|| self.inputs.keys().find(|k| k.starts_with(&prefix)).cloned()).unwrap_or_default();
                return Err(format!("`{name}` is read as `{other}` and as `{key}`: which elements these share is not counted"));
            }
            if ranged {
                self.patterns.insert(name.to_string(), key.clone());
            }
        }
        Ok((key, copies))
    }

    /// An index or bound as a whole number, where it is one.
    fn index(&self, e: &Expr) -> Option<i64> {
        match &e.kind {
            ExprKind::Num(q) if q.is_integer() => q.to_integer().to_i64(),
            ExprKind::Name(n) => match self.bound.get(n) {
                Some(Bound::At(i)) => Some(*i),
                Some(Bound::Over(_)) => None,
                None => self.dim(n).as_int(),
            },
            ExprKind::Neg(a) => self.index(a).map(|x| -x),
            ExprKind::Bin(op, a, b) => {
                let (x, y) = (self.index(a)?, self.index(b)?);
                match op {
                    BinOp::Add => x.checked_add(y),
                    BinOp::Sub => x.checked_sub(y),
                    BinOp::Mul => x.checked_mul(y),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A sum's bound as a size.
    fn extent(&self, e: &Expr) -> Result<C, String> {
        match &e.kind {
            ExprKind::Num(q) if q.is_integer() => Ok(C::int(q.to_integer().to_i64().ok_or("a bound too large")?)),
            ExprKind::Name(n) if self.program.dims.contains(n) => Ok(self.dim(n)),
            ExprKind::Bin(op @ (BinOp::Add | BinOp::Sub | BinOp::Mul), a, b) => {
                let (x, y) = (self.extent(a)?, self.extent(b)?);
                Ok(match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    _ => x * y,
                })
            }
            _ => Err(format!("a sum's bound `{}` is not a size", text::expr(e))),
        }
    }

    /// `sum(i, lo, hi, body)`: the terms one after another, each added into the first.
    fn sum(&mut self, var: &str, lo: &Expr, hi: &Expr, body: &Expr) -> Result<Val<C>, String> {
        let length = self.extent(hi)? - self.extent(lo)? + C::int(1);
        let saved = self.bound.remove(var);
        let out = if C::CONCRETE {
            let (Some(lo), Some(n)) = (self.extent(lo)?.as_int(), length.as_int()) else { return Err("a sum's bounds are not whole numbers".into()) };
            if n < 1 {
                return Err("an empty sum".into());
            }
            self.short_sum |= n < 2;
            let mut acc: Option<Val<C>> = None;
            for i in lo..lo + n {
                self.bound.insert(var.to_string(), Bound::At(i));
                let term = self.eval(body)?;
                acc = Some(match acc {
                    None => self.running_total(term)?,
                    Some(acc) => {
                        // Added into the running total in place.
                        self.time = self.time.clone() + entries(&term.shape)?;
                        self.live = self.live.clone() - term.held;
                        acc
                    }
                });
            }
            acc.expect("a nonempty sum")
        } else {
            if length.as_int().is_some_and(|n| n < 2) {
                return Err("a sum of fewer than two terms: write the term".into());
            }
            self.bound.insert(var.to_string(), Bound::Over(length.clone()));
            let (time, first_peak) = (self.time.clone(), self.peaks.len());
            let term = self.eval(body)?;
            let body_end = self.peaks.len();
            let term = self.running_total(term)?;
            let each = self.time.clone() - time;
            let add = entries(&term.shape)?;
            self.time = self.time.clone() + (length.clone() - C::int(1)) * (each + add);
            // Every later term is made while the running total is held.
            let later: Vec<C> = self.peaks[first_peak..body_end].iter().map(|p| p.clone() + term.held.clone()).collect();
            self.peaks.extend(later);
            term
        };
        self.bound.remove(var);
        if let Some(b) = saved {
            self.bound.insert(var.to_string(), b);
        }
        Ok(out)
    }

    /// A sum's running total starts as its first term; a term that is an input (or a view of
    /// one) is copied into new storage first.
    fn running_total(&mut self, term: Val<C>) -> Result<Val<C>, String> {
        if term.held != C::int(0) {
            return Ok(term);
        }
        let held = entries(&term.shape)?;
        self.live = self.live.clone() + held.clone();
        self.peaks.push(self.live.clone());
        Ok(Val { shape: term.shape, held })
    }

    fn same(&self, a: &C, b: &C, what: impl FnOnce() -> String) -> Result<(), String> {
        if a == b { Ok(()) } else { Err(what()) }
    }

    fn add(&mut self, x: Val<C>, y: Val<C>) -> Result<Val<C>, String> {
        let out = match (&x.shape, &y.shape) {
            (Shape::Scalar, Shape::Scalar) => Shape::Scalar,
            (Shape::Diagonal(n), Shape::Diagonal(m)) => {
                self.same(n, m, || "a sum of diagonal matrices of different sizes".into())?;
                Shape::Diagonal(n.clone())
            }
            (Shape::Dense(r, c), Shape::Dense(p, q)) => {
                self.same(r, p, || "a sum of matrices of different shapes".into())?;
                self.same(c, q, || "a sum of matrices of different shapes".into())?;
                Shape::Dense(r.clone(), c.clone())
            }
            (Shape::Dense(r, c), Shape::Diagonal(n)) | (Shape::Diagonal(n), Shape::Dense(r, c)) => {
                self.same(r, n, || "a sum of matrices of different shapes".into())?;
                self.same(c, n, || "a sum of matrices of different shapes".into())?;
                Shape::Dense(r.clone(), c.clone())
            }
            // A scalar added to every entry of a vector.
            (Shape::Dense(r, c), Shape::Scalar) | (Shape::Scalar, Shape::Dense(r, c)) if c.as_int() == Some(1) => Shape::Dense(r.clone(), c.clone()),
            _ => return Err("this sum is not counted (a scalar plus a matrix, or `ones`/`I` without a size)".into()),
        };
        let cost = entries(&out)?;
        self.make(out, cost, vec![x, y])
    }

    fn mul(&mut self, x: Val<C>, y: Val<C>) -> Result<Val<C>, String> {
        let fits = "a product of matrices whose shapes do not fit";
        let (out, cost) = match (&x.shape, &y.shape) {
            (Shape::Identity, _) => return Ok(y),
            (_, Shape::Identity) => return Ok(x),
            (Shape::Scalar, s) | (s, Shape::Scalar) => (s.clone(), entries(s)?),
            (Shape::Dense(p, q), Shape::Dense(r, s)) => {
                self.same(q, r, || fits.into())?;
                (Shape::Dense(p.clone(), s.clone()), p.clone() * q.clone() * s.clone())
            }
            (Shape::Dense(p, q), Shape::Ones(false)) => (Shape::Dense(p.clone(), C::int(1)), p.clone() * q.clone()),
            (Shape::Ones(true), Shape::Dense(p, q)) => (Shape::Dense(C::int(1), q.clone()), p.clone() * q.clone()),
            (Shape::Diagonal(n), Shape::Dense(r, c)) => {
                self.same(n, r, || fits.into())?;
                (Shape::Dense(r.clone(), c.clone()), r.clone() * c.clone())
            }
            (Shape::Dense(r, c), Shape::Diagonal(n)) => {
                self.same(c, n, || fits.into())?;
                (Shape::Dense(r.clone(), c.clone()), r.clone() * c.clone())
            }
            (Shape::Diagonal(n), Shape::Diagonal(m)) => {
                self.same(n, m, || fits.into())?;
                (Shape::Diagonal(n.clone()), n.clone())
            }
            (Shape::Diagonal(n), Shape::Ones(false)) => (Shape::Dense(n.clone(), C::int(1)), n.clone()),
            _ => return Err("this product is not counted (`ones` or `I` without a size)".into()),
        };
        self.make(out, cost, vec![x, y])
    }

    fn pow(&mut self, x: Val<C>, exponent: &Expr) -> Result<Val<C>, String> {
        let k = exponent.rational().filter(|k| k.is_integer()).and_then(|k| k.to_integer().to_i64());
        let (out, cost) = match (&x.shape, k) {
            (Shape::Scalar, _) => (Shape::Scalar, C::int(1)),
            (Shape::Diagonal(n), Some(k)) if k == -1 || (2..=16).contains(&k) => {
                (Shape::Diagonal(n.clone()), C::int(if k == -1 { 1 } else { k - 1 }) * n.clone())
            }
            (Shape::Dense(r, c), Some(k)) if k == -1 || (2..=16).contains(&k) => {
                self.same(r, c, || "a power of a matrix that is not square".into())?;
                let cube = r.clone() * r.clone() * r.clone();
                (Shape::Dense(r.clone(), c.clone()), if k == -1 { cube } else { C::int(k - 1) * cube })
            }
            _ => return Err("a matrix power is counted for whole exponents from 2 to 16, or -1".into()),
        };
        self.make(out, cost, vec![x])
    }

    fn builtin(&mut self, f: Func, mut args: Vec<Val<C>>) -> Result<Val<C>, String> {
        let name = f.name();
        let (out, cost) = match (f, &args[0].shape) {
            (Func::ExpElem, s @ Shape::Dense(..)) => (s.clone(), entries(s)?),
            (Func::SoftmaxRow | Func::SoftmaxCol, s @ Shape::Dense(..)) => (s.clone(), C::int(3) * entries(s)?),
            (Func::Diag, Shape::Dense(n, one)) if one.as_int() == Some(1) => (Shape::Diagonal(n.clone()), n.clone()),
            (Func::Dot | Func::Norm, Shape::Dense(n, one)) if one.as_int() == Some(1) => (Shape::Scalar, n.clone()),
            (Func::Exp | Func::Log | Func::Sqrt | Func::Abs | Func::Sign, Shape::Scalar) => (Shape::Scalar, C::int(1)),
            (Func::SqrtElem | Func::AbsElem | Func::SignElem, s @ Shape::Dense(..)) => (s.clone(), entries(s)?),
            // One per entry of the vector (a scalar operand is broadcast).
            (Func::EMul | Func::EDiv, _) => match args.iter().map(|a| &a.shape).find(|s| matches!(s, Shape::Dense(..))) {
                Some(s) => (s.clone(), entries(s)?),
                None => return Err(format!("the cost of `{name}` of this value is not counted")),
            },
            _ => return Err(format!("the cost of `{name}` of this value is not counted")),
        };
        if f == Func::Dot
            && let (Shape::Dense(n, _), Shape::Dense(m, _)) = (&args[0].shape, &args[1].shape)
        {
            self.same(n, m, || "`dot` of vectors of different lengths".into())?;
        }
        let operands = std::mem::take(&mut args);
        self.make(out, cost, operands)
    }
}
