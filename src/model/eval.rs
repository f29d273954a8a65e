//! Evaluating expressions in a model: arithmetic, built-in functions, sums, and (when
//! sampling) expectations as one draw.

use std::collections::HashMap;

use nalgebra::DMatrix;
use num_rational::BigRational;
use num_traits::Zero;
use rand::RngExt;

use super::Model;
use super::number::Number;
use super::value::{Stop, Value, add, dot, inverse, is_diagonal, na, scale};
use crate::language::ast::{BigOp, BinOp, Expr, ExprKind};
use crate::language::builtins::{Func, IDENTITY, ONES};

impl<N: Number> Model<'_, N> {
    pub fn eval(&mut self, e: &Expr, env: &HashMap<String, Value<N>>) -> Result<Value<N>, Stop> {
        match &e.kind {
            ExprKind::Num(n) => Ok(Value::S(N::from_rational(n))),
            ExprKind::Name(n) => {
                if let Some(v) = env.get(n) {
                    return Ok(v.clone());
                }
                match n.as_str() {
                    ONES if !self.spec.kinds.0.contains_key(n) => Ok(Value::Ones(false)),
                    IDENTITY if !self.spec.kinds.0.contains_key(n) => Ok(Value::Identity),
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
            ExprKind::Builtin(f, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a, env)?);
                }
                self.builtin(*f, vals)
            }
            ExprKind::Call(f, args) => {
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
                let standard = matches!(&mean.kind, ExprKind::Num(n) if n.is_zero()) && matches!(&cov.kind, ExprKind::Name(n) if n == IDENTITY);
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
                if let (ExprKind::Builtin(Func::Norm, args), ExprKind::Num(k)) = (&base.kind, &exponent.kind)
                    && k == &BigRational::from_integer(2.into())
                {
                    let x = self.eval(&args[0], env)?;
                    return dot(&x, &x);
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

    pub(super) fn power(&mut self, b: Value<N>, x: Value<N>) -> Result<Value<N>, Stop> {
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

    pub(super) fn matmul(&mut self, a: &DMatrix<N>, b: &DMatrix<N>) -> Result<DMatrix<N>, Stop> {
        if a.ncols() != b.nrows() {
            return Err(Stop::Shapes(format!("a product of a {}×{} by a {}×{} matrix", a.nrows(), a.ncols(), b.nrows(), b.ncols())));
        }
        if let Some(count) = self.multiply_adds.as_mut() {
            *count += (a.nrows() * a.ncols() * b.ncols()) as u64;
        }
        Ok(a * b)
    }

    pub(super) fn mul(&mut self, x: Value<N>, y: Value<N>) -> Result<Value<N>, Stop> {
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

    pub(super) fn builtin(&mut self, f: Func, mut args: Vec<Value<N>>) -> Result<Value<N>, Stop> {
        let scalar = |v: &Value<N>| match v {
            Value::S(x) => Some(x.clone()),
            _ => None,
        };
        let builtin = |name: &str, v: Option<N>| {
            v.ok_or_else(|| Stop::NotApplicable(format!("`{name}` of this value is not a {} number", if N::EXACT { "rational" } else { "real" })))
        };
        let name = f.name();
        match f {
            Func::Exp | Func::Log | Func::Sqrt => {
                let Some(x) = scalar(&args[0]) else { return na(format!("`{name}` of a vector or matrix: use `exp_elem`")) };
                let v = match f {
                    Func::Exp => x.exp(),
                    Func::Log => x.ln(),
                    _ => x.sqrt(),
                };
                if v.is_none() && N::EXACT {
                    return na(format!("`{name}` is transcendental: its values are not rational (the float layer checks this step)"));
                }
                Ok(Value::S(builtin(name, v)?))
            }
            Func::Dot => dot(&args[0], &args[1]),
            Func::Norm => {
                let Value::S(sq) = dot(&args[0], &args[0])? else { unreachable!("dot is a scalar") };
                Ok(Value::S(builtin("norm", sq.sqrt())?))
            }
            Func::Diag => match args.remove(0) {
                Value::M(v) if v.ncols() == 1 => Ok(Value::M(DMatrix::from_diagonal(&v.column(0).into_owned()))),
                _ => na("`diag` takes a vector"),
            },
            Func::ExpElem | Func::SoftmaxRow | Func::SoftmaxCol => {
                let Value::M(x) = args.remove(0) else { return na(format!("`{name}` takes a matrix")) };
                let mut e = x.clone();
                for i in 0..x.nrows() {
                    for j in 0..x.ncols() {
                        e[(i, j)] = self.positive_exp(&x[(i, j)])?;
                    }
                }
                match f {
                    Func::SoftmaxRow => {
                        for i in 0..e.nrows() {
                            let total = e.row(i).iter().fold(N::zero(), |a, b| a + b.clone());
                            for j in 0..e.ncols() {
                                e[(i, j)] = e[(i, j)].clone() / total.clone();
                            }
                        }
                    }
                    Func::SoftmaxCol => {
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
        }
    }

    /// A declared function: defined, or an oracle applied entry by entry.
    pub(super) fn call(&mut self, f: &str, args: Vec<Value<N>>) -> Result<Value<N>, Stop> {
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

    /// `exp` of a matrix entry: computed for floats; for rationals a positive oracle value.
    pub(super) fn positive_exp(&mut self, x: &N) -> Result<N, Stop> {
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
}

/// The other argument of a `dot(x, ·)` in `e`.
fn dot_partner(e: &Expr, x: &str) -> Option<Expr> {
    if let ExprKind::Builtin(Func::Dot, args) = &e.kind {
        match (&args[0].kind, &args[1].kind) {
            (ExprKind::Name(n), _) if n == x && !args[1].mentions(x) => return Some(args[1].clone()),
            (_, ExprKind::Name(n)) if n == x && !args[0].mentions(x) => return Some(args[0].clone()),
            _ => {}
        }
    }
    e.children().into_iter().find_map(|c| dot_partner(c, x))
}
