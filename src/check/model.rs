//! Random models of a file, and the evaluator shared by the exact, float and Monte Carlo
//! layers. It is generic over the number type: exact rationals (`BigRational`) or `f64`.
//!
//! A model draws free scalars inside their `assume` ranges, gives every free sequence
//! element, vector and matrix random entries of its declared shape, gives every application
//! of an uninterpreted function its own random value (the same each time it is asked: a
//! consistent "oracle", applied entry by entry to vectors and matrices), and computes
//! everything a `def` or `given` defines from its definition.

use std::collections::{HashMap, HashSet};
use std::fmt::{Debug, Display};

use nalgebra::DMatrix;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::rewrite::{Affine, RewriteRule};
use super::symbolic::Kinds;
use crate::language::ast::{BigOp, BinOp, Expr, ExprKind, Fact, Kind, Rel};

/// The numbers a model computes with.
pub trait Number:
    Clone
    + PartialEq
    + PartialOrd
    + Debug
    + Display
    + Zero
    + One
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::ops::MulAssign
    + 'static
{
    fn from_rational(r: &BigRational) -> Self;
    fn from_f64(x: f64) -> Self;
    fn key(&self) -> KeyPart;
    /// `exp`, `log`, `sqrt` and non-integer powers, where the value is a number of this type.
    fn exp(&self) -> Option<Self>;
    fn ln(&self) -> Option<Self>;
    fn sqrt(&self) -> Option<Self>;
    fn pow(&self, exponent: &Self) -> Option<Self>;
    fn as_index(&self) -> Option<i64>;
    /// Equal for this number type: exactly for rationals, to a relative 1e-9 for floats.
    fn same(&self, other: &Self) -> bool;
    /// A float approximation, for plots and Monte Carlo.
    fn to_f64(&self) -> f64;
    /// Whether `exp` of a matrix entry is computed (floats) or drawn as a positive oracle
    /// value (rationals: the identities about softmax hold for every positive function).
    const EXACT: bool;
}

impl Number for BigRational {
    fn from_rational(r: &BigRational) -> Self {
        r.clone()
    }
    fn from_f64(x: f64) -> Self {
        BigRational::from_float(x).unwrap_or_default()
    }
    fn key(&self) -> KeyPart {
        KeyPart::Exact(self.clone())
    }
    fn exp(&self) -> Option<Self> {
        self.is_zero().then(BigRational::one)
    }
    fn ln(&self) -> Option<Self> {
        self.is_one().then(BigRational::zero)
    }
    fn sqrt(&self) -> Option<Self> {
        if self.is_negative() {
            return None;
        }
        let (n, d) = (self.numer().sqrt(), self.denom().sqrt());
        (&n * &n == *self.numer() && &d * &d == *self.denom()).then(|| BigRational::new(n, d))
    }
    fn pow(&self, exponent: &Self) -> Option<Self> {
        let k = exponent.as_index().filter(|k| k.abs() <= 4096)?;
        if self.is_zero() && k < 0 {
            return None;
        }
        let base = if k < 0 { self.recip() } else { self.clone() };
        Some(num_traits::pow(base, k.unsigned_abs() as usize))
    }
    fn as_index(&self) -> Option<i64> {
        if self.is_integer() { self.to_integer().to_i64() } else { None }
    }
    fn same(&self, other: &Self) -> bool {
        self == other
    }
    fn to_f64(&self) -> f64 {
        ToPrimitive::to_f64(self).unwrap_or(f64::NAN)
    }
    const EXACT: bool = true;
}

impl Number for f64 {
    fn from_rational(r: &BigRational) -> Self {
        ToPrimitive::to_f64(r).unwrap_or(f64::NAN)
    }
    fn from_f64(x: f64) -> Self {
        x
    }
    fn key(&self) -> KeyPart {
        // -0.0 and 0.0 are one argument.
        KeyPart::Bits(if *self == 0.0 { 0 } else { self.to_bits() })
    }
    fn exp(&self) -> Option<Self> {
        Some(f64::exp(*self))
    }
    fn ln(&self) -> Option<Self> {
        (*self > 0.0).then(|| f64::ln(*self))
    }
    fn sqrt(&self) -> Option<Self> {
        (*self >= 0.0).then(|| f64::sqrt(*self))
    }
    fn pow(&self, exponent: &Self) -> Option<Self> {
        let v = f64::powf(*self, *exponent);
        v.is_finite().then_some(v)
    }
    fn as_index(&self) -> Option<i64> {
        (self.fract() == 0.0 && self.abs() < 1e15).then_some(*self as i64)
    }
    fn same(&self, other: &Self) -> bool {
        (self - other).abs() <= 1e-9 * (1.0 + self.abs().max(other.abs()))
    }
    fn to_f64(&self) -> f64 {
        *self
    }
    const EXACT: bool = false;
}

/// A scalar, or a matrix (vectors are one-column matrices); `ones` and `I` take their size
/// from the product they appear in.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<N: Number> {
    S(N),
    M(DMatrix<N>),
    /// The all-ones vector; `true` when transposed (a row).
    Ones(bool),
    Identity,
}

impl<N: Number> std::fmt::Display for Value<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::S(n) => write!(f, "{n}"),
            Value::M(m) => {
                let rows: Vec<String> =
                    (0..m.nrows()).map(|i| format!("[{}]", (0..m.ncols()).map(|j| m[(i, j)].to_string()).collect::<Vec<_>>().join(", "))).collect();
                write!(f, "[{}]", rows.join(", "))
            }
            Value::Ones(_) => write!(f, "ones"),
            Value::Identity => write!(f, "I"),
        }
    }
}

/// Why an evaluation stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Division by zero and the like at this point: draw another point.
    Undefined,
    /// This layer cannot evaluate the expression at all (with the reason).
    NotApplicable(String),
    /// Vectors or matrices whose sizes do not fit (a product, sum or `dot`).
    Shapes(String),
}

fn na<T>(reason: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::NotApplicable(reason.into()))
}

/// Everything needed to build models of a file at one point of it.
#[derive(Debug, Clone, Default)]
pub struct ModelSpec {
    /// The `def`s and `given`s that define a value: `x = …`, `v[t] = …`, `f(a, b) = …`.
    pub definitions: Vec<RewriteRule>,
    pub assumptions: Vec<Fact>,
    pub kinds: Kinds,
    /// Declared dimensions of vectors and matrices (`matrix n x d` → `["n", "d"]`).
    pub shapes: HashMap<String, Vec<String>>,
    /// Sizes of dimension names (`check exact 20 with n = 5`), with defaults for the rest.
    pub sizes: HashMap<String, usize>,
    /// Functions given a concrete meaning in float models (`sigma = tanh`).
    pub float_functions: HashMap<String, String>,
    /// Monte Carlo: names drawn from `Normal(mean, sd)` instead of uniformly (floats only).
    pub distributions: HashMap<String, (Expr, Expr)>,
    /// Why no model can be built (a given the model cannot satisfy by construction).
    pub unusable: Option<String>,
}

/// FNV-1a: the memo tables are hashed millions of times in Monte Carlo runs, and need no
/// protection against adversarial keys.
#[derive(Default, Clone, Copy)]
pub struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf29ce484222325 } else { self.0 };
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        self.0 = h;
    }
}

type Fnv = std::hash::BuildHasherDefault<FnvHasher>;

/// What a remembered value is stored under: a name and its arguments, compared exactly
/// (rationals as they are, floats by their bits).
type Key = (String, Vec<KeyPart>);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyPart {
    Exact(BigRational),
    Bits(u64),
    Shape(usize, usize),
    Ones(bool),
    Identity,
}

fn key_parts<N: Number>(v: &Value<N>) -> Vec<KeyPart> {
    match v {
        Value::S(x) => vec![x.key()],
        Value::M(m) => std::iter::once(KeyPart::Shape(m.nrows(), m.ncols())).chain(m.iter().map(|x| x.key())).collect(),
        Value::Ones(t) => vec![KeyPart::Ones(*t)],
        Value::Identity => vec![KeyPart::Identity],
    }
}

pub struct Model<'s, N: Number> {
    spec: &'s ModelSpec,
    pub rng: ChaCha8Rng,
    values: HashMap<Key, Value<N>, Fnv>,
    /// Labels of the free values drawn so far (`g[2]`, `beta`).
    labels: HashMap<Key, String, Fnv>,
    /// The free values an evaluation used, in order: what a counterexample shows.
    pub touched: Vec<(String, Value<N>)>,
    in_progress: HashSet<Key, Fnv>,
    /// A definition whose value is scaled by a factor: the negative control of trajectories.
    perturbed: Option<(String, BigRational)>,
    /// Values fixed from outside (Monte Carlo draws of random sequences).
    pub fixed: HashMap<Key, Value<N>, Fnv>,
    /// Counts multiply-adds of matrix products when set.
    pub multiply_adds: Option<u64>,
    /// Monte Carlo: `E[X]` evaluates to one draw of `X` (and `E(x ~ N(0, I))` draws `x`).
    pub sampling: bool,
    /// Whether a vector or matrix without a declared shape was given a default size: then
    /// a size mismatch may be ours, not the derivation's.
    pub guessed_shapes: bool,
}

impl<'s, N: Number> Model<'s, N> {
    pub fn new(spec: &'s ModelSpec, seed: u64) -> Model<'s, N> {
        Model {
            spec,
            rng: ChaCha8Rng::seed_from_u64(seed),
            values: HashMap::default(),
            labels: HashMap::default(),
            touched: Vec::new(),
            in_progress: HashSet::default(),
            perturbed: None,
            fixed: HashMap::default(),
            multiply_adds: None,
            sampling: false,
            guessed_shapes: false,
        }
    }

    pub fn perturb(&mut self, definition: &str, factor: BigRational) {
        self.perturbed = Some((definition.to_string(), factor));
    }

    /// A fresh point: forget every value, keep the random stream.
    pub fn reset(&mut self) {
        self.values.clear();
        self.labels.clear();
        self.touched.clear();
        self.in_progress.clear();
    }

    fn small_rational(&mut self, max_den: i64, span: i64) -> BigRational {
        let q = self.rng.random_range(1..=max_den);
        let p = self.rng.random_range(-span * q..=span * q);
        BigRational::new(p.into(), q.into())
    }

    /// Draws a scalar inside the bounds that `assume` gives it; strictly inside, so a
    /// strict bound is never hit.
    fn draw_scalar(&mut self, name: &str) -> BigRational {
        let (mut lo, mut hi): (Option<BigRational>, Option<BigRational>) = (None, None);
        for f in &self.spec.assumptions {
            let (is_lhs, other, rel) = match (&f.lhs.kind, &f.rhs.kind) {
                (ExprKind::Name(n), _) if n == name => (true, &f.rhs, f.rel),
                (_, ExprKind::Name(n)) if n == name => (false, &f.lhs, f.rel),
                _ => continue,
            };
            let Some(b) = constant(other) else { continue };
            if rel == Rel::Eq {
                return b;
            }
            let upper = matches!((is_lhs, rel), (true, Rel::Lt | Rel::Le) | (false, Rel::Gt | Rel::Ge));
            if upper {
                hi = Some(hi.map_or(b.clone(), |h| h.min(b.clone())));
            } else {
                lo = Some(lo.map_or(b.clone(), |l| l.max(b.clone())));
            }
        }
        let q = self.rng.random_range(2..=12i64);
        match (lo, hi) {
            (Some(l), Some(h)) => {
                let p = self.rng.random_range(1..q);
                &l + (h - &l) * BigRational::new(p.into(), q.into())
            }
            (Some(l), None) => l + BigRational::new(self.rng.random_range(1..=4 * q).into(), q.into()),
            (None, Some(h)) => h - BigRational::new(self.rng.random_range(1..=4 * q).into(), q.into()),
            (None, None) => loop {
                let r = self.small_rational(12, 4);
                if !r.is_zero() {
                    break r;
                }
            },
        }
    }

    /// Draws every assumed scalar and redraws until all `assume` facts hold.
    pub fn draw_assumptions(&mut self) -> Result<(), Stop> {
        let mut names: Vec<String> = Vec::new();
        for f in &self.spec.assumptions {
            for e in [&f.lhs, &f.rhs] {
                collect_names(e, &mut names);
            }
        }
        for _ in 0..200 {
            self.reset();
            let mut ok = true;
            for n in &names {
                self.eval(&Expr::name(n, Default::default()), &HashMap::new())?;
            }
            for f in &self.spec.assumptions {
                if !self.holds(f, &HashMap::new())? {
                    ok = false;
                    break;
                }
            }
            if ok {
                return Ok(());
            }
        }
        na("no point satisfies the `assume` facts after 200 draws")
    }

    pub fn holds(&mut self, f: &Fact, env: &HashMap<String, Value<N>>) -> Result<bool, Stop> {
        let (a, b) = (self.eval(&f.lhs, env)?, self.eval(&f.rhs, env)?);
        compare(&a, f.rel, &b)
    }

    fn touch(&mut self, key: &Key, value: &Value<N>) {
        // Monte Carlo never shows counterexamples: skip the bookkeeping on its hot path.
        if self.sampling {
            return;
        }
        if let Some(label) = self.labels.get(key) {
            if !self.touched.iter().any(|(l, _)| l == label) {
                self.touched.push((label.clone(), value.clone()));
            }
        }
    }

    pub fn eval(&mut self, e: &Expr, env: &HashMap<String, Value<N>>) -> Result<Value<N>, Stop> {
        match &e.kind {
            ExprKind::Num(n) => Ok(Value::S(N::from_rational(n))),
            ExprKind::Name(n) => {
                if let Some(v) = env.get(n) {
                    return Ok(v.clone());
                }
                match n.as_str() {
                    "ones" if !self.spec.kinds.0.contains_key(n) => Ok(Value::Ones(false)),
                    "I" if !self.spec.kinds.0.contains_key(n) => Ok(Value::Identity),
                    _ => self.value(n, Vec::new()),
                }
            }
            ExprKind::Index(n, args) => {
                let i = self.eval(&args[0], env)?;
                match i {
                    Value::S(i) if i.as_index().is_some() => self.value(n, vec![Value::S(i)]),
                    _ => na(format!("the index of `{n}` is not a whole number")),
                }
            }
            ExprKind::Call(f, args) => {
                // norm(x)^2 is dot(x, x) without a square root: handled at the power.
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a, env)?);
                }
                self.call(f, vals)
            }
            ExprKind::BigOp { op, var, lo, hi, body } => {
                let (Value::S(lo), Value::S(hi)) = (self.eval(lo, env)?, self.eval(hi, env)?) else {
                    return na("a sum bound is not a number");
                };
                let (Some(lo), Some(hi)) = (lo.as_index(), hi.as_index()) else {
                    return na("a sum bound is not a whole number");
                };
                if hi.checked_sub(lo).is_none_or(|n| n > 10_000) {
                    return na("a sum with more than 10000 terms");
                }
                let mut acc: Option<Value<N>> = None;
                let mut inner = env.clone();
                for i in lo..=hi {
                    inner.insert(var.clone(), Value::S(N::from_rational(&BigRational::from_integer(i.into()))));
                    let v = self.eval(body, &inner)?;
                    acc = Some(match acc {
                        None => v,
                        Some(a) if *op == BigOp::Sum => add(a, v)?,
                        Some(a) => self.mul(a, v)?,
                    });
                }
                Ok(acc.unwrap_or(Value::S(if *op == BigOp::Sum { N::zero() } else { N::one() })))
            }
            ExprKind::Neg(a) => scale(&self.eval(a, env)?, &-N::one()),
            ExprKind::Transpose(a) => Ok(match self.eval(a, env)? {
                Value::M(m) => Value::M(m.transpose()),
                Value::Ones(t) => Value::Ones(!t),
                other => other,
            }),
            ExprKind::Expect { .. } if !self.sampling => na("expectations are checked by Monte Carlo, not at single points"),
            ExprKind::Expect { gaussian: None, body } => self.eval(body, env),
            ExprKind::Expect { gaussian: Some((x, mean, cov)), body } => {
                let standard = matches!(&mean.kind, ExprKind::Num(n) if n.is_zero()) && matches!(&cov.kind, ExprKind::Name(n) if n == "I");
                if !standard {
                    return na(format!("only the standard Gaussian `{x} ~ N(0, I)` is sampled"));
                }
                // The Gaussian vector has the length of what it is dotted with.
                let partner = dot_partner(body, x)
                    .ok_or_else(|| Stop::NotApplicable(format!("cannot tell the dimension of `{x}`: use it in `dot({x}, w)`")))?;
                let length = match self.eval(&partner, env)? {
                    Value::M(m) => m.len(),
                    _ => return na(format!("`{x}` is dotted with a scalar")),
                };
                let mut draw = DMatrix::from_element(length, 1, N::zero());
                for entry in draw.iter_mut() {
                    *entry = N::from_f64(self.standard_normal());
                }
                let mut inner = env.clone();
                inner.insert(x.clone(), Value::M(draw));
                self.eval(body, &inner)
            }
            ExprKind::Bin(BinOp::Pow, base, exponent) => {
                if let (ExprKind::Call(f, args), ExprKind::Num(k)) = (&base.kind, &exponent.kind) {
                    if f == "norm" && k == &BigRational::from_integer(2.into()) {
                        let x = self.eval(&args[0], env)?;
                        return dot(&x, &x);
                    }
                }
                let (b, x) = (self.eval(base, env)?, self.eval(exponent, env)?);
                self.power(b, x)
            }
            ExprKind::Bin(op, a, b) => {
                let (x, y) = (self.eval(a, env)?, self.eval(b, env)?);
                match op {
                    BinOp::Add => add(x, y),
                    BinOp::Sub => add(x, scale(&y, &-N::one())?),
                    BinOp::Mul => self.mul(x, y),
                    BinOp::Div => match y {
                        Value::S(d) if d.is_zero() => Err(Stop::Undefined),
                        Value::S(d) => scale(&x, &(N::one() / d)),
                        _ => na("division by a vector or matrix"),
                    },
                    BinOp::Pow => unreachable!("handled above"),
                }
            }
        }
    }

    fn power(&mut self, b: Value<N>, x: Value<N>) -> Result<Value<N>, Stop> {
        let Value::S(x) = x else { return na("an exponent is not a scalar") };
        match b {
            Value::S(b) => {
                if b.is_zero() && x < N::zero() {
                    return Err(Stop::Undefined);
                }
                match b.pow(&x) {
                    Some(v) => Ok(Value::S(v)),
                    // A float power undefined at this point (negative base, fractional
                    // exponent): draw another point.
                    None if !N::EXACT => Err(Stop::Undefined),
                    None => na(format!("{b}^{x} is not a rational number")),
                }
            }
            Value::M(m) => match x.as_index() {
                Some(-1) => inverse(&m).map(Value::M),
                Some(k) if (1..=16).contains(&k) && m.is_square() => {
                    let mut acc = m.clone();
                    for _ in 1..k {
                        acc = self.matmul(&acc, &m)?;
                    }
                    Ok(Value::M(acc))
                }
                _ => na("a matrix power needs a whole exponent from 1 to 16, or -1"),
            },
            _ => na("a power of `ones` or `I`"),
        }
    }

    fn matmul(&mut self, a: &DMatrix<N>, b: &DMatrix<N>) -> Result<DMatrix<N>, Stop> {
        if a.ncols() != b.nrows() {
            return Err(Stop::Shapes(format!("a product of a {}×{} by a {}×{} matrix", a.nrows(), a.ncols(), b.nrows(), b.ncols())));
        }
        if let Some(count) = self.multiply_adds.as_mut() {
            *count += (a.nrows() * a.ncols() * b.ncols()) as u64;
        }
        Ok(a * b)
    }

    fn mul(&mut self, x: Value<N>, y: Value<N>) -> Result<Value<N>, Stop> {
        Ok(match (x, y) {
            (Value::S(a), other) | (other, Value::S(a)) if !matches!(other, Value::Ones(_) | Value::Identity) => scale(&other, &a)?,
            (Value::Identity, other) | (other, Value::Identity) => other,
            (Value::M(a), Value::Ones(false)) => {
                let ones = DMatrix::from_element(a.ncols(), 1, N::one());
                Value::M(self.matmul(&a, &ones)?)
            }
            (Value::Ones(true), Value::M(b)) => {
                let ones = DMatrix::from_element(1, b.nrows(), N::one());
                Value::M(self.matmul(&ones, &b)?)
            }
            (Value::M(a), Value::M(b)) => {
                // A diagonal matrix times a matrix costs one multiply per entry, as the
                // assignment counts it; a full product its p·q·r.
                if a.is_square() && is_diagonal(&a) && self.multiply_adds.is_some() && a.ncols() == b.nrows() {
                    if let Some(c) = self.multiply_adds.as_mut() {
                        *c += (b.nrows() * b.ncols()) as u64;
                    }
                    let mut out = b.clone();
                    for i in 0..b.nrows() {
                        for j in 0..b.ncols() {
                            out[(i, j)] = a[(i, i)].clone() * b[(i, j)].clone();
                        }
                    }
                    Value::M(out)
                } else {
                    Value::M(self.matmul(&a, &b)?)
                }
            }
            (a, b) => return na(format!("cannot multiply {a} by {b} without knowing their sizes")),
        })
    }

    fn call(&mut self, f: &str, mut args: Vec<Value<N>>) -> Result<Value<N>, Stop> {
        let scalar = |v: &Value<N>| match v {
            Value::S(x) => Some(x.clone()),
            _ => None,
        };
        let builtin = |name: &str, v: Option<N>| {
            v.ok_or_else(|| Stop::NotApplicable(format!("`{name}` of this value is not a {} number", if N::EXACT { "rational" } else { "real" })))
        };
        match f {
            "exp" | "log" | "sqrt" if !self.spec.kinds.0.contains_key(f) => {
                let Some(x) = scalar(&args[0]) else { return na(format!("`{f}` of a vector or matrix: use `exp_elem`")) };
                let v = match f {
                    "exp" => x.exp(),
                    "log" => x.ln(),
                    _ => x.sqrt(),
                };
                if v.is_none() && N::EXACT {
                    return na(format!("`{f}` is transcendental: its values are not rational (the float layer checks this step)"));
                }
                Ok(Value::S(builtin(f, v)?))
            }
            "dot" => dot(&args[0], &args[1]),
            "norm" => {
                let Value::S(sq) = dot(&args[0], &args[0])? else { unreachable!("dot is a scalar") };
                Ok(Value::S(builtin("norm", sq.sqrt())?))
            }
            "diag" => match args.remove(0) {
                Value::M(v) if v.ncols() == 1 => Ok(Value::M(DMatrix::from_diagonal(&v.column(0).into_owned()))),
                _ => na("`diag` takes a vector"),
            },
            "exp_elem" | "softmax_row" | "softmax_col" => {
                let Value::M(x) = args.remove(0) else { return na(format!("`{f}` takes a matrix")) };
                let mut e = x.clone();
                for i in 0..x.nrows() {
                    for j in 0..x.ncols() {
                        e[(i, j)] = self.positive_exp(&x[(i, j)])?;
                    }
                }
                match f {
                    "softmax_row" => {
                        for i in 0..e.nrows() {
                            let total = e.row(i).iter().fold(N::zero(), |a, b| a + b.clone());
                            for j in 0..e.ncols() {
                                e[(i, j)] = e[(i, j)].clone() / total.clone();
                            }
                        }
                    }
                    "softmax_col" => {
                        for j in 0..e.ncols() {
                            let total = e.column(j).iter().fold(N::zero(), |a, b| a + b.clone());
                            for i in 0..e.nrows() {
                                e[(i, j)] = e[(i, j)].clone() / total.clone();
                            }
                        }
                    }
                    _ => {}
                }
                Ok(Value::M(e))
            }
            _ => {
                // A declared function: defined, or an oracle applied entry by entry.
                if let [Value::M(m)] = args.as_slice() {
                    let m = m.clone();
                    let mut out = m.clone();
                    for i in 0..m.nrows() {
                        for j in 0..m.ncols() {
                            let Value::S(v) = self.value(f, vec![Value::S(m[(i, j)].clone())])? else {
                                return na(format!("`{f}` of a matrix entry is not a scalar"));
                            };
                            out[(i, j)] = v;
                        }
                    }
                    return Ok(Value::M(out));
                }
                self.value(f, args)
            }
        }
    }

    /// `exp` of a matrix entry: computed for floats; for rationals a positive oracle value.
    fn positive_exp(&mut self, x: &N) -> Result<N, Stop> {
        if !N::EXACT {
            return x.exp().ok_or(Stop::Undefined);
        }
        let key = ("exp_elem".to_string(), vec![x.key()]);
        if let Some(Value::S(v)) = self.values.get(&key) {
            return Ok(v.clone());
        }
        let q = self.rng.random_range(1..=6i64);
        let v = N::from_rational(&BigRational::new(self.rng.random_range(1..=6 * q).into(), q.into()));
        self.values.insert(key, Value::S(v.clone()));
        Ok(v)
    }

    /// The value of a name, sequence element or function application: remembered, defined,
    /// or drawn.
    pub fn value(&mut self, name: &str, args: Vec<Value<N>>) -> Result<Value<N>, Stop> {
        let key: Key = (name.to_string(), args.iter().flat_map(key_parts).collect());
        if let Some(v) = self.fixed.get(&key).cloned() {
            return Ok(v);
        }
        if let Some(v) = self.values.get(&key).cloned() {
            self.touch(&key, &v);
            return Ok(v);
        }
        if !self.in_progress.insert(key.clone()) {
            return na(format!("the definitions of `{name}` refer to each other in a cycle"));
        }
        let defined = self.defined(name, &args);
        self.in_progress.remove(&key);
        let value = match defined? {
            Some(v) => v,
            None => {
                let v = self.draw(name)?;
                let label = match (self.spec.kinds.0.get(name), args.as_slice()) {
                    (Some(Kind::Sequence(_)), [i]) => format!("{name}[{i}]"),
                    (Some(Kind::Function), args) => {
                        format!("{name}({})", args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "))
                    }
                    _ => name.to_string(),
                };
                self.labels.insert(key.clone(), label);
                self.touch(&key, &v);
                v
            }
        };
        self.values.insert(key, value.clone());
        Ok(value)
    }

    /// One draw of a standard normal (Box–Muller on the model's stream).
    pub fn standard_normal(&mut self) -> f64 {
        let u: f64 = self.rng.random_range(f64::EPSILON..1.0);
        let v: f64 = self.rng.random_range(0.0..1.0);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A random value of the name's kind and shape.
    fn draw(&mut self, name: &str) -> Result<Value<N>, Stop> {
        if let Some((mean, sd)) = self.spec.distributions.get(name).filter(|_| !N::EXACT) {
            let (mean, sd) = (mean.clone(), sd.clone());
            let (Value::S(m), Value::S(s)) = (self.eval(&mean, &HashMap::new())?, self.eval(&sd, &HashMap::new())?) else {
                return na("a distribution's parameters are not scalars");
            };
            // Vectors and matrices get independent entries with this distribution.
            return Ok(match self.draw_uniform(name)? {
                Value::M(shape) => Value::M(shape.map(|_| m.clone() + s.clone() * N::from_f64(self.standard_normal()))),
                _ => Value::S(m + s * N::from_f64(self.standard_normal())),
            });
        }
        self.draw_uniform(name)
    }

    fn draw_uniform(&mut self, name: &str) -> Result<Value<N>, Stop> {
        let kind = self.spec.kinds.0.get(name).cloned().unwrap_or(Kind::Scalar);
        let element = match &kind {
            Kind::Sequence(of) => (**of).clone(),
            Kind::Function => {
                if let Some(concrete) = self.spec.float_functions.get(name).filter(|_| !N::EXACT) {
                    return na(format!("`{name}` = {concrete} is applied where it is called"));
                }
                Kind::Scalar
            }
            k => k.clone(),
        };
        match element {
            Kind::Scalar | Kind::Integer if kind == element => Ok(Value::S(N::from_rational(&self.draw_scalar(name)))),
            Kind::Scalar | Kind::Integer => Ok(Value::S(N::from_rational(&self.small_rational(9, 9)))),
            Kind::Vector | Kind::Matrix => {
                let dims = self.spec.shapes.get(name).cloned().unwrap_or_default();
                let declared = if element == Kind::Vector { 1 } else { 2 };
                if dims.len() < declared {
                    self.guessed_shapes = true;
                }
                let size = |d: Option<&String>| -> usize { d.map_or(3, |d| d.parse().ok().or_else(|| self.spec.sizes.get(d).copied()).unwrap_or(3)) };
                let (rows, cols) = if element == Kind::Vector { (size(dims.first()), 1) } else { (size(dims.first()), size(dims.get(1))) };
                let mut m = DMatrix::from_element(rows, cols, N::zero());
                for i in 0..rows {
                    for j in 0..cols {
                        m[(i, j)] = N::from_rational(&self.small_rational(6, 3));
                    }
                }
                Ok(Value::M(m))
            }
            _ => na(format!("`{name}` has no values of its own")),
        }
    }

    /// The value a definition gives, if one applies here.
    fn defined(&mut self, name: &str, args: &[Value<N>]) -> Result<Option<Value<N>>, Stop> {
        if let (Some(concrete), [Value::S(x)]) = (self.spec.float_functions.get(name).filter(|_| !N::EXACT), args) {
            let x = x.to_f64();
            let v = match concrete.as_str() {
                "tanh" => x.tanh(),
                "sigmoid" => 1.0 / (1.0 + (-x).exp()),
                "relu" => x.max(0.0),
                "exp" => x.exp(),
                other => return na(format!("unknown float function `{other}` (tanh, sigmoid, relu, exp)")),
            };
            return Ok(Some(Value::S(N::from_f64(v))));
        }
        for d in &self.spec.definitions {
            let (head, patterns): (&String, &[Expr]) = match &d.lhs.kind {
                ExprKind::Name(n) => (n, &[]),
                ExprKind::Index(n, ps) | ExprKind::Call(n, ps) => (n, ps.as_slice()),
                _ => continue,
            };
            if head != name || patterns.len() != args.len() {
                continue;
            }
            let Some(env) = bind(patterns, args, &d.vars) else { continue };
            let mut applies = true;
            for c in &d.conditions {
                if !self.holds(c, &env)? {
                    applies = false;
                    break;
                }
            }
            if !applies {
                continue;
            }
            let value = self.eval(&d.rhs, &env)?;
            return Ok(Some(match &self.perturbed {
                Some((p, factor)) if *p == d.name => scale(&value, &N::from_rational(factor))?,
                _ => value,
            }));
        }
        Ok(None)
    }
}

/// The other argument of a `dot(x, ·)` in `e`.
fn dot_partner(e: &Expr, x: &str) -> Option<Expr> {
    if let ExprKind::Call(f, args) = &e.kind {
        if f == "dot" {
            match (&args[0].kind, &args[1].kind) {
                (ExprKind::Name(n), _) if n == x && !args[1].mentions(x) => return Some(args[1].clone()),
                (_, ExprKind::Name(n)) if n == x && !args[0].mentions(x) => return Some(args[0].clone()),
                _ => {}
            }
        }
    }
    e.children().into_iter().find_map(|c| dot_partner(c, x))
}

fn is_diagonal<N: Number>(m: &DMatrix<N>) -> bool {
    (0..m.nrows()).all(|i| (0..m.ncols()).all(|j| i == j || m[(i, j)].is_zero()))
}

fn add<N: Number>(x: Value<N>, y: Value<N>) -> Result<Value<N>, Stop> {
    match (x, y) {
        (Value::S(a), Value::S(b)) => Ok(Value::S(a + b)),
        (Value::M(a), Value::M(b)) if a.shape() == b.shape() => Ok(Value::M(a + b)),
        (Value::M(a), Value::M(b)) => Err(Stop::Shapes(format!("a sum of a {}×{} and a {}×{} matrix", a.nrows(), a.ncols(), b.nrows(), b.ncols()))),
        (Value::M(a), Value::Identity) | (Value::Identity, Value::M(a)) if a.is_square() => {
            Ok(Value::M(a.clone() + DMatrix::identity(a.nrows(), a.ncols())))
        }
        (a, b) => na(format!("cannot add {a} and {b}")),
    }
}

fn scale<N: Number>(x: &Value<N>, k: &N) -> Result<Value<N>, Stop> {
    match x {
        Value::S(a) => Ok(Value::S(a.clone() * k.clone())),
        Value::M(m) => Ok(Value::M(m.map(|e| e * k.clone()))),
        other => na(format!("cannot scale {other} without knowing its size")),
    }
}

fn dot<N: Number>(x: &Value<N>, y: &Value<N>) -> Result<Value<N>, Stop> {
    match (x, y) {
        (Value::M(a), Value::M(b)) if a.len() == b.len() && (a.ncols() == 1 || a.nrows() == 1) => {
            Ok(Value::S(a.iter().zip(b.iter()).fold(N::zero(), |acc, (p, q)| acc + p.clone() * q.clone())))
        }
        (Value::M(a), Value::M(b)) => Err(Stop::Shapes(format!("`dot` of a {}×{} and a {}×{} matrix", a.nrows(), a.ncols(), b.nrows(), b.ncols()))),
        _ => na("`dot` takes two vectors"),
    }
}

/// Gauss–Jordan elimination in the number type itself (exact for rationals).
fn inverse<N: Number>(m: &DMatrix<N>) -> Result<DMatrix<N>, Stop> {
    if !m.is_square() {
        return na("only square matrices have inverses");
    }
    let n = m.nrows();
    let mut a = m.clone();
    let mut inv = DMatrix::from_fn(n, n, |i, j| if i == j { N::one() } else { N::zero() });
    for col in 0..n {
        let pivot = (col..n).find(|&r| !a[(r, col)].is_zero()).ok_or(Stop::Undefined)?;
        a.swap_rows(col, pivot);
        inv.swap_rows(col, pivot);
        let p = a[(col, col)].clone();
        for j in 0..n {
            a[(col, j)] = a[(col, j)].clone() / p.clone();
            inv[(col, j)] = inv[(col, j)].clone() / p.clone();
        }
        for r in 0..n {
            if r != col && !a[(r, col)].is_zero() {
                let f = a[(r, col)].clone();
                for j in 0..n {
                    a[(r, j)] = a[(r, j)].clone() - f.clone() * a[(col, j)].clone();
                    inv[(r, j)] = inv[(r, j)].clone() - f.clone() * inv[(col, j)].clone();
                }
            }
        }
    }
    Ok(inv)
}

/// Whether `a REL b` holds: any relation for scalars, equality for matrices.
pub fn compare<N: Number>(a: &Value<N>, rel: Rel, b: &Value<N>) -> Result<bool, Stop> {
    match (a, b) {
        (Value::S(x), Value::S(y)) => Ok(if rel == Rel::Eq { x.same(y) } else { rel.holds(x.partial_cmp(y).ok_or(Stop::Undefined)?) }),
        (Value::M(x), Value::M(y)) if rel == Rel::Eq => Ok(x.shape() == y.shape() && x.iter().zip(y.iter()).all(|(p, q)| p.same(q))),
        (Value::M(_), Value::M(_)) => na("inequalities between matrices"),
        _ => na(format!("cannot compare {a} with {b}")),
    }
}

/// Binds a definition's argument patterns to concrete arguments: a pattern variable takes
/// the value; `t + c` takes `value - c`; a constant must equal the value.
fn bind<N: Number>(patterns: &[Expr], args: &[Value<N>], vars: &[String]) -> Option<HashMap<String, Value<N>>> {
    let mut env: HashMap<String, Value<N>> = HashMap::new();
    for (p, value) in patterns.iter().zip(args) {
        if let ExprKind::Name(v) = &p.kind {
            if vars.contains(v) {
                if env.get(v).is_some_and(|old| old != value) {
                    return None;
                }
                env.insert(v.clone(), value.clone());
                continue;
            }
        }
        let Value::S(value) = value else { return None };
        let affine = Affine::of(p)?;
        let free: Vec<&String> = affine.terms.keys().filter(|v| vars.contains(v)).collect();
        let c = N::from_rational(&BigRational::from_integer(affine.constant.clone()));
        match free.as_slice() {
            [] if affine.terms.is_empty() => {
                if !c.same(value) {
                    return None;
                }
            }
            [v] if affine.terms.len() == 1 && affine.terms[*v].is_one() => {
                let x = Value::S(value.clone() - c);
                if env.get(*v).is_some_and(|old| *old != x) {
                    return None;
                }
                env.insert((*v).clone(), x);
            }
            _ => return None,
        }
    }
    Some(env)
}

/// The value of an expression without names, if it has one.
pub fn constant(e: &Expr) -> Option<BigRational> {
    let mut names = Vec::new();
    collect_names(e, &mut names);
    if !names.is_empty() {
        return None;
    }
    let spec = ModelSpec::default();
    match Model::<BigRational>::new(&spec, 0).eval(e, &HashMap::new()).ok()? {
        Value::S(v) => Some(v),
        _ => None,
    }
}

pub fn collect_names(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Name(n) if !out.contains(n) => out.push(n.clone()),
        ExprKind::BigOp { lo, hi, .. } => {
            collect_names(lo, out);
            collect_names(hi, out);
        }
        _ => e.children().into_iter().for_each(|c| collect_names(c, out)),
    }
}

/// A whole number as a model value.
pub fn int<N: Number>(k: i64) -> Value<N> {
    Value::S(N::from_rational(&BigRational::from_integer(BigInt::from(k))))
}
