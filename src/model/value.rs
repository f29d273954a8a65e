//! Values of a model (scalars and matrices; vectors are one-column matrices) and the
//! arithmetic on them that does not depend on the model: sums, scaling, `dot`, inverses,
//! comparisons.

use nalgebra::DMatrix;

use super::number::Number;
use crate::language::ast::Rel;

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

impl<N: Number> Value<N> {
    /// The same value with every number converted by `f`.
    pub fn map<M: Number>(&self, f: impl Fn(&N) -> M) -> Value<M> {
        match self {
            Value::S(x) => Value::S(f(x)),
            Value::M(m) => Value::M(m.map(|x| f(&x))),
            Value::Ones(row) => Value::Ones(*row),
            Value::Identity => Value::Identity,
        }
    }

    /// The bits of its largest number.
    pub fn bits(&self) -> u64 {
        match self {
            Value::S(x) => x.bits(),
            Value::M(m) => m.iter().map(Number::bits).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// Every number in it finite (not an overflow, not NaN).
    pub fn finite(&self) -> bool {
        match self {
            Value::S(x) => x.finite(),
            Value::M(m) => m.iter().all(|x| x.finite()),
            _ => true,
        }
    }

    /// Equal to a relative `tolerance`, entry by entry (values from quadrature).
    pub fn close(&self, other: &Value<N>, tolerance: f64) -> bool {
        match (self, other) {
            (Value::S(a), Value::S(b)) => a.close(b, tolerance),
            (Value::M(a), Value::M(b)) => a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(p, q)| p.close(q, tolerance)),
            _ => false,
        }
    }
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
    /// The point is not a model of the file (two givens disagree on a value): nothing may be
    /// concluded from it.
    Invalid(String),
}

pub(super) fn na<T>(reason: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::NotApplicable(reason.into()))
}

pub(super) fn is_diagonal<N: Number>(m: &DMatrix<N>) -> bool {
    (0..m.nrows()).all(|i| (0..m.ncols()).all(|j| i == j || m[(i, j)].is_zero()))
}

pub(super) fn add<N: Number>(x: Value<N>, y: Value<N>) -> Result<Value<N>, Stop> {
    match (x, y) {
        (Value::S(a), Value::S(b)) => Ok(Value::S(a + b)),
        (Value::M(a), Value::M(b)) if a.shape() == b.shape() => Ok(Value::M(a + b)),
        (Value::M(a), Value::M(b)) => Err(Stop::Shapes(format!("a sum of a {}×{} and a {}×{} matrix", a.nrows(), a.ncols(), b.nrows(), b.ncols()))),
        // A scalar beside a vector is that multiple of `ones`.
        (Value::M(a), Value::S(c)) | (Value::S(c), Value::M(a)) if a.ncols() == 1 => Ok(Value::M(a.map(|e| e + c.clone()))),
        (Value::M(a), Value::Identity) | (Value::Identity, Value::M(a)) if a.is_square() => {
            Ok(Value::M(a.clone() + DMatrix::identity(a.nrows(), a.ncols())))
        }
        (a, b) => na(format!("cannot add {a} and {b}")),
    }
}

/// Two operands of an element-wise operation as vectors of one shape: a scalar is that
/// multiple of `ones`, and `ones` takes the other's size.
pub(super) fn entrywise_pair<N: Number>(x: Value<N>, y: Value<N>) -> Result<(DMatrix<N>, DMatrix<N>), Stop> {
    let like = |v: Value<N>, other: &DMatrix<N>| match v {
        Value::S(c) => Ok(DMatrix::from_element(other.nrows(), other.ncols(), c)),
        Value::Ones(false) if other.ncols() == 1 => Ok(DMatrix::from_element(other.nrows(), 1, N::one())),
        Value::M(m) if m.shape() == other.shape() => Ok(m),
        Value::M(m) => {
            Err(Stop::Shapes(format!("an element-wise operation on a {}×{} and a {}×{} matrix", m.nrows(), m.ncols(), other.nrows(), other.ncols())))
        }
        other => na(format!("cannot take {other} entry by entry")),
    };
    match (x, y) {
        (Value::M(a), b) => {
            let b = like(b, &a)?;
            Ok((a, b))
        }
        (a, Value::M(b)) => Ok((like(a, &b)?, b)),
        (a, b) => na(format!("an element-wise operation on {a} and {b} needs the size of a vector")),
    }
}

pub(super) fn scale<N: Number>(x: &Value<N>, k: &N) -> Result<Value<N>, Stop> {
    match x {
        Value::S(a) => Ok(Value::S(a.clone() * k.clone())),
        Value::M(m) => Ok(Value::M(m.map(|e| e * k.clone()))),
        other => na(format!("cannot scale {other} without knowing its size")),
    }
}

pub(super) fn dot<N: Number>(x: &Value<N>, y: &Value<N>) -> Result<Value<N>, Stop> {
    match (x, y) {
        (Value::M(a), Value::M(b)) if a.len() == b.len() && (a.ncols() == 1 || a.nrows() == 1) => {
            Ok(Value::S(a.iter().zip(b.iter()).fold(N::zero(), |acc, (p, q)| acc + p.clone() * q.clone())))
        }
        (Value::M(a), Value::M(b)) => Err(Stop::Shapes(format!("`dot` of a {}×{} and a {}×{} matrix", a.nrows(), a.ncols(), b.nrows(), b.ncols()))),
        // `ones` takes the other vector's size: the sum of its entries.
        (Value::Ones(_), Value::M(v)) | (Value::M(v), Value::Ones(_)) if v.ncols() == 1 || v.nrows() == 1 => {
            Ok(Value::S(v.iter().fold(N::zero(), |acc, p| acc + p.clone())))
        }
        _ => na("`dot` takes two vectors"),
    }
}

/// Gauss–Jordan elimination in the number type itself (exact for rationals).
pub(super) fn inverse<N: Number>(m: &DMatrix<N>) -> Result<DMatrix<N>, Stop> {
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

fn entrywise<'a, N: Number + 'a>(mut pairs: impl Iterator<Item = (&'a N, &'a N)>, rel: Rel) -> Result<bool, Stop> {
    pairs.try_fold(true, |all, (p, q)| Ok(all && rel.holds(p.partial_cmp(q).ok_or(Stop::Undefined)?)))
}

/// Whether `a REL b` holds: any relation for scalars; for matrices equality, and orders entry
/// by entry (with a scalar, or a matrix of the same shape).
pub fn compare<N: Number>(a: &Value<N>, rel: Rel, b: &Value<N>) -> Result<bool, Stop> {
    match (a, b) {
        (Value::S(x), Value::S(y)) => Ok(if rel == Rel::Eq { x.same(y) } else { rel.holds(x.partial_cmp(y).ok_or(Stop::Undefined)?) }),
        (Value::M(x), Value::M(y)) if rel == Rel::Eq => Ok(x.shape() == y.shape() && x.iter().zip(y.iter()).all(|(p, q)| p.same(q))),
        // Orders between a matrix and a scalar, or two matrices of one shape: entry by entry.
        (Value::M(x), Value::S(y)) if rel.is_order() => entrywise(x.iter().map(|p| (p, y)), rel),
        (Value::S(y), Value::M(x)) if rel.is_order() => entrywise(x.iter().map(|p| (y, p)), rel),
        (Value::M(x), Value::M(y)) if rel.is_order() && x.shape() == y.shape() => entrywise(x.iter().zip(y.iter()), rel),
        (Value::M(_), Value::M(_)) => na("inequalities between matrices of different shapes, or `!=`"),
        // A side written `0` is the zero of the other side's shape (the kinds allow no other
        // scalar beside a vector or matrix).
        (Value::M(x), Value::S(z)) | (Value::S(z), Value::M(x)) if rel == Rel::Eq && z.is_zero() => Ok(x.iter().all(|p| p.is_zero())),
        // `ones` and `I` take the shape of what they are compared with.
        (Value::M(x), Value::Ones(row)) | (Value::Ones(row), Value::M(x)) if rel == Rel::Eq => {
            let shaped = if *row { x.nrows() == 1 } else { x.ncols() == 1 };
            Ok(shaped && x.iter().all(|p| p.same(&N::one())))
        }
        (Value::M(x), Value::Identity) | (Value::Identity, Value::M(x)) if rel == Rel::Eq => {
            Ok(x.is_square() && x.iter().enumerate().all(|(k, p)| p.same(&if k % x.nrows() == k / x.nrows() { N::one() } else { N::zero() })))
        }
        _ => na(format!("cannot compare {a} with {b}")),
    }
}
