//! Evaluating expressions in a model: arithmetic, built-in functions, sums, and (when
//! sampling) expectations as one draw.

use std::collections::HashMap;

use nalgebra::DMatrix;
use num_rational::BigRational;

use rand::RngExt;

use super::number::Number;
use super::value::{Stop, Value, add, dot, entrywise_pair, inverse, is_diagonal, na, scale};
use super::{LANES, Model, Trace, Traced};
use crate::language::ast::{BigOp, BinOp, Expr, ExprKind};
use crate::language::builtins::{Func, IDENTITY, ONES};

impl<N: Number> Model<'_, N> {
    pub fn eval(&mut self, e: &Expr, env: &HashMap<String, Value<N>>) -> Result<Value<N>, Stop> {
        self.spend()?;
        match &e.kind {
            ExprKind::Num(n) => {
                // Only high-precision floats track it (a constant: no cost elsewhere).
                if N::PRECISION > 0 && super::number::rounds_alike(n) {
                    self.rounded_literal = true;
                    self.lost = true;
                }
                Ok(Value::S(N::from_rational(n)))
            }
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
            ExprKind::Builtin(Func::Grad, args) => self.gradient(&args[0], &args[1], env),
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
            // Monte Carlo: one draw of the body on this sample path.
            ExprKind::Expect { gaussian: None, body } if self.sampling => self.eval(body, env),
            // Exact and float models: the average over the outcomes of the probability space.
            ExprKind::Expect { gaussian: None, body } => {
                self.averaged = true;
                let here = self.outcome;
                let mut values = Vec::with_capacity(self.outcomes);
                for outcome in 0..self.outcomes {
                    self.outcome = outcome;
                    let v = self.eval(body, env);
                    self.outcome = here;
                    values.push(v?);
                }
                self.expectation(values)
            }
            ExprKind::Expect { gaussian: Some((x, mean, cov)), body } => self.gaussian(x, mean, cov, body, env),
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
                if matches!(op, BinOp::Add | BinOp::Sub) {
                    // Only high-precision floats track it (a constant: no cost elsewhere).
                    if N::PRECISION > 0 {
                        self.lost |= absorbs(&x, &y);
                    }
                    // A sum rounds at the scale of its terms: `(exp(600) + 1) - exp(600)` loses
                    // the 1 (high-precision floats keep the largest such scale).
                    for v in [&x, &y] {
                        let magnitude = match v {
                            Value::S(t) => t.magnitude(),
                            Value::M(m) => m.iter().filter_map(Number::magnitude).max(),
                            _ => None,
                        };
                        self.largest = self.largest.max(magnitude);
                    }
                }
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

    /// `E(x ~ N(mean, cov))[body]`: a draw when sampling; otherwise Gauss–Hermite quadrature
    /// (floats only, up to 4 dimensions), computed twice with different numbers of nodes,
    /// and a point where the two disagree is skipped.
    fn gaussian(&mut self, x: &str, mean: &Expr, cov: &Expr, body: &Expr, env: &HashMap<String, Value<N>>) -> Result<Value<N>, Stop> {
        if N::EXACT {
            return na("a Gaussian expectation is not a rational number (the float layer integrates it)");
        }
        // The Gaussian vector has the length of what it is dotted with.
        let partner =
            dot_partner(body, x).ok_or_else(|| Stop::NotApplicable(format!("cannot tell the dimension of `{x}`: use it in `dot({x}, w)`")))?;
        let d = match self.eval(&partner, env)? {
            Value::M(m) => m.len(),
            _ => return na(format!("`{x}` is dotted with a scalar")),
        };
        // A zero mean and the identity covariance add and multiply nothing (`None`).
        let mean = match self.eval(mean, env)? {
            Value::S(z) if z.is_zero() => None,
            Value::M(m) if m.len() == d => Some(DMatrix::from_iterator(d, 1, m.iter().cloned())),
            _ => return na(format!("the mean of `{x}` is not a vector of its length {d}")),
        };
        // x = mean + L z with L L^T the covariance and z standard normal.
        let root: Option<DMatrix<N>> = match self.eval(cov, env)? {
            Value::Identity => None,
            Value::M(c) if c.nrows() == d && c.ncols() == d => {
                let f = c.map(|v| v.to_f64());
                let chol =
                    nalgebra::Cholesky::new(f).ok_or_else(|| Stop::NotApplicable(format!("the covariance of `{x}` is not positive definite")))?;
                Some(chol.l().map(N::from_f64))
            }
            _ => return na(format!("the covariance of `{x}` is not a {d}×{d} matrix")),
        };
        let place = |z: DMatrix<N>| -> HashMap<String, Value<N>> {
            let z = match &root {
                Some(root) => root * z,
                None => z,
            };
            let point = match &mean {
                Some(mean) => mean + z,
                None => z,
            };
            let mut inner = env.clone();
            inner.insert(x.to_string(), Value::M(point));
            inner
        };
        if self.sampling {
            let z: Vec<N> = (0..d).map(|_| N::normal(self.standard_normal())).collect();
            return self.eval(body, &place(DMatrix::from_vec(d, 1, z)));
        }
        let at = |z: &[f64]| place(DMatrix::from_iterator(d, 1, z.iter().map(|v| N::from_f64(*v))));
        self.approximate = true;
        let standard = mean.is_none() && root.is_none();
        // Quadrature is good to about 1e-10 of the value (2^-33), whatever the precision.
        let loose = |v: N| {
            let scale = v.magnitude().map_or(f64::NEG_INFINITY, |m| f64::from(m) - 33.0);
            let bound = super::number::log2_sum(v.error_bound(), scale);
            v.with_error_bound(bound)
        };
        Ok(match self.gaussian_terms(x, body, d, &at, env, standard)? {
            Value::S(v) => Value::S(loose(v)),
            Value::M(m) => Value::M(m.map(loose)),
            other => other,
        })
    }

    /// `E[body]` over the Gaussian `x`, term by term (linearity), each term integrated by
    /// quadrature centred for it. Constant factors stay in their term, where an exponential
    /// one joins the term's exponent (`exp(-c)*exp(c + …)` neither underflows nor overflows).
    fn gaussian_terms(
        &mut self,
        x: &str,
        body: &Expr,
        d: usize,
        at: &Place<'_, N>,
        env: &HashMap<String, Value<N>>,
        standard: bool,
    ) -> Result<Value<N>, Stop> {
        if !body.mentions(x) {
            return self.eval(body, env);
        }
        match &body.kind {
            ExprKind::Bin(op @ (BinOp::Add | BinOp::Sub), a, b) => {
                let (a, b) = (self.gaussian_terms(x, a, d, at, env, standard)?, self.gaussian_terms(x, b, d, at, env, standard)?);
                if *op == BinOp::Add { add(a, b) } else { add(a, scale(&b, &-N::one())?) }
            }
            ExprKind::Neg(a) => scale(&self.gaussian_terms(x, a, d, at, env, standard)?, &-N::one()),
            _ => self.gaussian_term(x, body, d, at, Some(env).filter(|_| standard)),
        }
    }

    /// One term `p(x) * exp(l(x))`, `p` a polynomial and `l` linear in `x`, by Gauss–Hermite
    /// quadrature centred at the gradient `g` of `l`: then the integrand in the new variable is
    /// the polynomial `p(y + g)` times a constant, which the rule integrates exactly when it
    /// has enough nodes. Other integrands (a spike, a bump far from the centre) are not
    /// trusted to quadrature. Computed with two numbers of nodes, which must agree.
    fn gaussian_term(
        &mut self,
        x: &str,
        term: &Expr,
        d: usize,
        at: &Place<'_, N>,
        standard: Option<&HashMap<String, Value<N>>>,
    ) -> Result<Value<N>, Stop> {
        let mut exponents = Vec::new();
        let (degree, polynomial) = exp_polynomial(term, x, &mut exponents).ok_or_else(|| {
            Stop::NotApplicable(format!(
                "quadrature is trusted only for a polynomial times the exponential of a linear function of `{x}`; `{}` is not one",
                crate::language::text::expr(term)
            ))
        })?;
        // Once centred, the integrand is a polynomial of this degree: `coarse` nodes per
        // dimension integrate it exactly, and one more must agree.
        let coarse = degree as usize / 2 + 1;
        let fine = coarse + 1;
        if fine.checked_pow(d as u32).is_none_or(|n| n > MAX_NODES) {
            return na(format!("quadrature of a degree-{degree} polynomial in {d} dimensions needs more than {MAX_NODES} nodes"));
        }
        // The gradient of the exponent, from its values at 0 and at the unit vectors: it is
        // linear in the standard normal variable, since `x` is an affine function of it.
        let exponent = exponents.into_iter().reduce(|a, b| Expr::bin(BinOp::Add, a, b));
        let mut mu = vec![0.0; d];
        if let Some(exponent) = &exponent {
            let value_at = |model: &mut Self, z: &[f64]| -> Result<f64, Stop> {
                match model.eval(exponent, &at(z))? {
                    Value::S(v) => Ok(v.to_f64()),
                    _ => na("an exponent is not a scalar"),
                }
            };
            let zero = value_at(self, &vec![0.0; d])?;
            for (k, m) in mu.iter_mut().enumerate() {
                let mut unit = vec![0.0; d];
                unit[k] = 1.0;
                *m = value_at(self, &unit)? - zero;
            }
        }
        let mu_squared: f64 = mu.iter().map(|m| m * m).sum();
        // p(z) * exp(l(z) + tilt), the exponent computed as one number.
        let body_at = |model: &mut Self, z: &[f64], tilt: f64| -> Result<Value<N>, Stop> {
            let place = at(z);
            let exponent = match &exponent {
                Some(l) => match model.eval(l, &place)? {
                    Value::S(v) => v + N::from_f64(tilt),
                    _ => return na("an exponent is not a scalar"),
                },
                None => N::from_f64(tilt),
            };
            let p = model.eval(&polynomial, &place)?;
            let e = exponent.exp().ok_or(Stop::Undefined)?;
            model.note_exp(&e);
            scale(&p, &e)
        };
        let mut estimates = Vec::new();
        for n in [coarse, fine] {
            let (nodes, weights) = gauss_hermite(n);
            // Node `j`'s point, tilt and weight; its multi-index odometer style (the first
            // coordinate fastest).
            let node = |j: usize, z: &mut [f64]| -> (f64, f64) {
                let (mut rest, mut tilt, mut w) = (j, 0.0, 1.0);
                for k in 0..d {
                    let i = rest % n;
                    rest /= n;
                    z[k] = nodes[i] + mu[k];
                    tilt -= nodes[i] * mu[k];
                    w *= weights[i];
                }
                (tilt - mu_squared / 2.0, w)
            };
            let count = n.pow(d as u32);
            let taped = match standard {
                Some(env) if N::TRACEABLE && count >= 4 * LANES => {
                    self.quadrature_by_tape(x, exponent.as_ref(), &polynomial, d, count, &node, &body_at, env)?
                }
                _ => None,
            };
            let total = match taped {
                Some(total) => Value::S(N::from_f64(total)),
                None => {
                    let mut total: Option<Value<N>> = None;
                    let mut z = vec![0.0; d];
                    for j in 0..count {
                        let (tilt, w) = node(j, &mut z);
                        let v = scale(&body_at(self, &z, tilt)?, &N::from_f64(w))?;
                        total = Some(match total {
                            None => v,
                            Some(t) => add(t, v)?,
                        });
                    }
                    total.unwrap_or(Value::S(N::zero()))
                }
            };
            estimates.push(total);
        }
        let (a, b) = (&estimates[0], &estimates[1]);
        let agree = match (a, b) {
            (Value::S(p), Value::S(q)) => p.close(q, 1e-11),
            (Value::M(p), Value::M(q)) => p.iter().zip(q.iter()).all(|(p, q)| p.close(q, 1e-11)),
            _ => false,
        };
        if agree { Ok(estimates.pop().unwrap_or(Value::S(N::zero()))) } else { Err(Stop::Undefined) }
    }

    /// The sum over `count` nodes of a standard Gaussian's quadrature of the scalar
    /// `p(z) * exp(l(z) + tilt) * w`, computed by a tape traced once and run over the nodes
    /// `LANES` at a time, in the order and with the operations of `body_at` (a node whose
    /// tests fail is computed by `body_at` itself); `None` where it cannot be traced or the
    /// tape and `body_at` disagree at the first node.
    #[allow(clippy::too_many_arguments)]
    fn quadrature_by_tape(
        &mut self,
        x: &str,
        exponent: Option<&Expr>,
        polynomial: &Expr,
        d: usize,
        count: usize,
        node: &dyn Fn(usize, &mut [f64]) -> (f64, f64),
        body_at: &dyn Fn(&mut Self, &[f64], f64) -> Result<Value<N>, Stop>,
        env: &HashMap<String, Value<N>>,
    ) -> Result<Option<f64>, Stop> {
        let to = |v: &N| Traced::from_f64(v.to_f64());
        let trace = Trace::start();
        let mut model: Model<Traced> = Model::new(self.spec, 0);
        model.distributions_only = true;
        model.sampling = self.sampling;
        model.outcomes = self.outcomes;
        model.outcome = self.outcome;
        model.probabilities = self.probabilities.iter().map(to).collect();
        model.values = self.values.iter().map(|(k, v)| (k.clone(), v.map(to))).collect();
        model.fixed = self.fixed.iter().map(|(k, v)| (k.clone(), v.map(to))).collect();
        model.size_round = self.size_round;
        model.perturbed = self.perturbed.clone();
        let z: Vec<Traced> = (0..d).map(|_| Traced::normal(0.0)).collect();
        let (tilt, w) = (Traced::normal(0.0), Traced::normal(0.0));
        let mut inner: HashMap<String, Value<Traced>> = env.iter().map(|(k, v)| (k.clone(), v.map(to))).collect();
        inner.insert(x.to_string(), Value::M(DMatrix::from_vec(d, 1, z)));
        let traced = (|| -> Result<Traced, Stop> {
            let exponent = match exponent {
                Some(l) => match model.eval(l, &inner)? {
                    Value::S(v) => v + tilt,
                    _ => return na("an exponent is not a scalar"),
                },
                None => tilt,
            };
            let p = model.eval(polynomial, &inner)?;
            let e = exponent.exp().ok_or(Stop::Undefined)?;
            // Nodes whose `exp` underflows are left to `body_at`, which notes it.
            if e.on_trace() < f64::MIN_POSITIVE {
                return na("underflows on the traced node");
            }
            match scale(&scale(&p, &e)?, &w)? {
                Value::S(v) => Ok(v),
                _ => na("not a scalar"),
            }
        })();
        let Ok(traced) = traced else { return Ok(None) };
        trace.sides(0, traced, Traced::from_f64(0.0));
        let Ok(tape) = trace.finish() else { return Ok(None) };
        let slow = |model: &mut Self, j: usize| -> Result<f64, Stop> {
            let mut z = vec![0.0; d];
            let (tilt, w) = node(j, &mut z);
            match scale(&body_at(model, &z, tilt)?, &N::from_f64(w))? {
                Value::S(v) => Ok(v.to_f64()),
                _ => na("not a scalar"),
            }
        };
        let (mut registers, mut sides) = (Vec::new(), vec![[[0.0; LANES]; 2]]);
        let mut total: Option<f64> = None;
        for start in (0..count).step_by(LANES) {
            let lanes = LANES.min(count - start);
            // Lane by lane: the node's point, then its tilt and weight.
            let width = d + 2;
            let mut inputs = vec![0.0; width * lanes];
            for (lane, row) in inputs.chunks_mut(width).enumerate() {
                let (tilt, w) = node(start + lane, &mut row[..d]);
                (row[d], row[d + 1]) = (tilt, w);
            }
            let mut next = 0;
            let failed = tape.run(
                lanes,
                |out| {
                    for (lane, x) in out.iter_mut().enumerate() {
                        *x = inputs[lane * width + next];
                    }
                    next += 1;
                },
                &mut sides,
                &mut registers,
            );
            for lane in 0..lanes {
                let v = if failed & (1 << lane) != 0 { slow(self, start + lane)? } else { sides[0][0][lane] };
                // The model itself at the first node: a tape that computes anything else is
                // not used.
                if start + lane == 0 && slow(self, 0)?.to_bits() != v.to_bits() {
                    return Ok(None);
                }
                total = Some(match total {
                    None => v,
                    Some(t) => t + v,
                });
            }
        }
        Ok(total)
    }

    /// Notes a double-precision `exp` below the normal range (`exp(-750)`): it keeps few
    /// digits, or none.
    fn note_exp(&mut self, e: &N) {
        if N::TRACEABLE && e.to_f64().abs() < f64::MIN_POSITIVE {
            self.underflowed = true;
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
                    Some(v) => {
                        // A fractional power is exp(y ln b): of a term below the precision it
                        // is 1, as `exp` is (`2^(2^-700)`).
                        if N::PRECISION > 0 && x.as_index().is_none() && !b.is_zero() && b != N::one() {
                            self.lost |= (v.clone() - N::one()).magnitude().is_none_or(|m| m < 16 - N::PRECISION);
                        }
                        Ok(Value::S(v))
                    }
                    // A float power undefined at this point (negative base, fractional
                    // exponent): draw another point.
                    None if !N::EXACT => Err(Stop::Undefined),
                    None => na(format!("({b})^({x}) is not a rational number")),
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
        // Each multiply-add is a step of the point's budget (three 400×400 matrices in exact
        // rationals would take minutes).
        self.spend_many((a.nrows() * a.ncols() * b.ncols()) as u64)?;
        // Each entry is a sum of products, which rounds at the scale of its largest term: at
        // most the largest entry of `a` times that of `b` (high-precision floats only, as for
        // the sums of `eval`).
        if a.ncols() > 1 {
            let largest = |m: &DMatrix<N>| m.iter().filter_map(Number::magnitude).max();
            if let (Some(x), Some(y)) = (largest(a), largest(b)) {
                self.largest = self.largest.max(Some(x + y + 1));
            }
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
            (Value::M(a), Value::M(b)) => Value::M(self.matmul(&a, &b)?),
            (a, b) => return na(format!("cannot multiply {a} by {b} without knowing their sizes")),
        })
    }

    /// `grad(E, x)` by central differences in each entry of `x`, with a step of 2^-(p/3) of
    /// the entry's size in `p`-bit floats (2^-17 in double precision): truncation and
    /// rounding both about 2^-(2p/3) of the value, so that a true gradient's difference from
    /// the symbolic one shrinks with the precision and a wrong one stays. Where the symbolic
    /// gradient (`language::gradient`) agrees with the differences to 2^-(p/2), its value is
    /// taken instead: the same number however the point was reached, so that a random
    /// function applied to it draws one value (`dL(t, u)` with `u` computed two ways); where
    /// it does not, the differences stand and refute it. Rationals have no such step: the
    /// exact layer leaves gradients to the float layer.
    fn gradient(&mut self, body: &Expr, x: &Expr, env: &HashMap<String, Value<N>>) -> Result<Value<N>, Stop> {
        if !crate::language::gradient::is_variable(x) {
            return na("a gradient in an expression, not a name");
        }
        let Value::M(at) = self.eval(x, env)? else { return na("a gradient in a value that is not a vector") };
        const VARIABLE: &str = "#gradient";
        let body_at = crate::language::gradient::replacing(body, x, &Expr::name(VARIABLE, x.span));
        if N::EXACT {
            return self.interpolated_gradient(&body_at, VARIABLE, crate::language::gradient::degree(body, x), &at, env);
        }
        let precision = if N::PRECISION > 0 { N::PRECISION } else { 52 };
        let mut differences = at.clone();
        let mut inner = env.clone();
        let mut scale = 0.0f64;
        for i in 0..at.nrows() {
            let step = N::from_f64(2f64.powi(-precision / 3) * (at[(i, 0)].to_f64().abs() + 1.0));
            let mut side = |sign: f64| -> Result<N, Stop> {
                let mut nudged = at.clone();
                nudged[(i, 0)] = at[(i, 0)].clone() + step.clone() * N::from_f64(sign);
                inner.insert(VARIABLE.to_string(), Value::M(nudged));
                match self.eval(&body_at, &inner)? {
                    Value::S(v) => Ok(v),
                    Value::M(m) if m.len() == 1 => Ok(m[(0, 0)].clone()),
                    _ => na("a gradient of a value that is not a scalar"),
                }
            };
            let (plus, minus) = (side(1.0)?, side(-1.0)?);
            scale = scale.max(plus.to_f64().abs().max(minus.to_f64().abs()) / (at[(i, 0)].to_f64().abs() + 1.0));
            differences[(i, 0)] = (plus - minus) / (step.clone() * N::from_f64(2.0));
        }
        let symbolic = crate::language::gradient::gradient(body, x, &self.spec.kinds).ok().map(|g| self.eval(&g, env));
        if let Some(Ok(Value::M(exact))) = symbolic
            && exact.shape() == differences.shape()
        {
            let tolerance = 2f64.powi(-precision / 2);
            let agree =
                exact.iter().zip(differences.iter()).all(|(g, d)| (g.to_f64() - d.to_f64()).abs() <= tolerance * (1.0 + g.to_f64().abs() + scale));
            if agree {
                return Ok(Value::M(exact));
            }
        }
        // At a random point a kink is almost never met; a witness may sit on one (`abs` at 0),
        // where differences give a mean of one-sided slopes and no gradient exists.
        if self.spec.closed {
            return na("a gradient that only finite differences give is not trusted at one point: it may sit where there is none");
        }
        Ok(Value::M(differences))
    }

    /// The exact gradient of a polynomial of degree `d` in the entries of the vector `at`:
    /// along each entry the body is a polynomial of degree at most `d` in the offset, so its
    /// values at the offsets -k..k (2k ≥ d) determine its derivative at 0 exactly (the
    /// derivative of the interpolating polynomial, Lagrange's weights).
    fn interpolated_gradient(
        &mut self,
        body: &Expr,
        variable: &str,
        degree: Option<u32>,
        at: &DMatrix<N>,
        env: &HashMap<String, Value<N>>,
    ) -> Result<Value<N>, Stop> {
        let Some(degree) = degree.filter(|d| *d <= 16) else {
            return na(
                "a gradient of what is not a polynomial of low degree is taken by finite differences, in floats (the float layer checks this step)",
            );
        };
        let k = degree.div_ceil(2) as i64;
        let nodes: Vec<i64> = (-k..=k).collect();
        let number = |v: i64| N::from_rational(&BigRational::from_integer(v.into()));
        // L_j'(0) = Σ_{m≠j} 1/(s_j − s_m) Π_{l≠j,m} (0 − s_l)/(s_j − s_l).
        let weights: Vec<N> = nodes
            .iter()
            .map(|&sj| {
                let mut total = N::zero();
                for &sm in nodes.iter().filter(|&&sm| sm != sj) {
                    let mut term = N::one() / number(sj - sm);
                    for &sl in nodes.iter().filter(|&&sl| sl != sj && sl != sm) {
                        term = term * (number(-sl) / number(sj - sl));
                    }
                    total += term;
                }
                total
            })
            .collect();
        let mut out = at.clone();
        let mut inner = env.clone();
        for i in 0..at.nrows() {
            let mut derivative = N::zero();
            for (&s, w) in nodes.iter().zip(&weights) {
                let mut moved = at.clone();
                moved[(i, 0)] = at[(i, 0)].clone() + number(s);
                inner.insert(variable.to_string(), Value::M(moved));
                let value = match self.eval(body, &inner)? {
                    Value::S(v) => v,
                    Value::M(m) if m.len() == 1 => m[(0, 0)].clone(),
                    _ => return na("a gradient of a value that is not a scalar"),
                };
                derivative += value * w.clone();
            }
            out[(i, 0)] = derivative;
        }
        Ok(Value::M(out))
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
                // `exp` of a term below the precision is 1, and `log` next to 1 is what rounding
                // left of its argument.
                let below = |y: &N| y.magnitude().is_some_and(|m| m < 16 - N::PRECISION);
                self.lost |= N::PRECISION > 0
                    && match f {
                        Func::Exp => below(&x),
                        Func::Log => below(&(x.clone() - N::one())),
                        _ => false,
                    };
                if let (Func::Exp, Some(_)) = (f, &self.exp_base) {
                    return Ok(Value::S(self.exp_as_power(&x)?));
                }
                let v = match f {
                    Func::Exp => x.exp(),
                    Func::Log => x.ln(),
                    _ => x.sqrt(),
                };
                if v.is_none() && N::EXACT {
                    return na(format!("`{name}` is transcendental: its values are not rational (the float layer checks this step)"));
                }
                if let (Func::Exp, Some(e)) = (f, &v) {
                    self.note_exp(e);
                }
                Ok(Value::S(builtin(name, v)?))
            }
            Func::Dot => dot(&args[0], &args[1]),
            Func::Sign => {
                let Some(x) = scalar(&args[0]) else { return na("`sign` takes a scalar") };
                Ok(Value::S(sign(&x)))
            }
            Func::EMul | Func::EDiv => {
                let (a, b) = entrywise_pair(args.remove(0), args.remove(0))?;
                self.spend_many(a.len() as u64)?;
                let mut out = a.clone();
                for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b.iter())) {
                    *o = if f == Func::EMul {
                        x.clone() * y.clone()
                    } else if y.is_zero() {
                        return Err(Stop::Undefined);
                    } else {
                        x.clone() / y.clone()
                    };
                }
                Ok(Value::M(out))
            }
            // Taken from the unevaluated expression (`gradient`).
            Func::Grad => na("a gradient of a value"),
            Func::SqrtElem | Func::AbsElem | Func::SignElem => {
                let Value::M(a) = args.remove(0) else { return na(format!("`{}` entry by entry needs the size of its vector", f.written())) };
                self.spend_many(a.len() as u64)?;
                let mut out = a.clone();
                for (o, x) in out.iter_mut().zip(a.iter()) {
                    *o = match f {
                        Func::SqrtElem => match x.sqrt() {
                            Some(r) => r,
                            None if *x < N::zero() => return Err(Stop::Undefined),
                            None => return na("`sqrt` of an entry is not rational (the float layer checks this step)"),
                        },
                        Func::AbsElem => magnitude(x.clone()),
                        _ => sign(x),
                    };
                }
                Ok(Value::M(out))
            }
            Func::Norm => {
                let Value::S(sq) = dot(&args[0], &args[0])? else { unreachable!("dot is a scalar") };
                Ok(Value::S(builtin("norm", sq.sqrt())?))
            }
            Func::Abs => {
                let Some(x) = scalar(&args[0]) else { return na("`abs` takes a scalar") };
                Ok(Value::S(magnitude(x)))
            }
            Func::MaxAbs => match args.remove(0) {
                Value::M(v) => Ok(Value::S(v.iter().cloned().map(magnitude).fold(N::zero(), |a, b| if b > a { b } else { a }))),
                Value::Ones(_) => Ok(Value::S(N::one())),
                _ => na("`maxabs` takes a vector"),
            },
            Func::Rank => match args.remove(0) {
                Value::M(a) => self.rank(&a),
                _ => na("`rank` of this value needs its size: write the matrix"),
            },
            Func::Opnorm | Func::LambdaMax => match args.remove(0) {
                Value::M(a) => self.spectral(f, &a),
                Value::Identity => Ok(Value::S(N::one())),
                _ => na(format!("`{name}` of this value needs its size: write the matrix")),
            },
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

    /// The rank, by elimination: exact over the rationals. In floats a rank below full could
    /// be rounding's doing, and so could a pivot: only a full rank whose every pivot stands far
    /// above the rounding is given. The high-precision floats put the rounding at the scale of
    /// the largest term any sum added on the way (`R*(log(3) + log(5)) - R*log(15)` is zero,
    /// with noise for entries) and ask for half their bits above it. Double precision, which
    /// does not track that scale, asks for 20 bits above the largest entry, and every verdict
    /// it gives is taken again in the high-precision floats (see `evidence::points`).
    fn rank(&mut self, a: &DMatrix<N>) -> Result<Value<N>, Stop> {
        let (rows, cols) = (a.nrows(), a.ncols());
        self.spend_many((rows * cols * cols.min(rows)) as u64)?;
        let largest = a.iter().cloned().map(magnitude).fold(N::zero(), |x, y| if y > x { y } else { x });
        let double_floor = largest * N::from_f64(2f64.powi(-20));
        let scale = a.iter().filter_map(Number::magnitude).chain(self.largest).max();
        let floor = scale.map(|s| s - (N::PRECISION / 2).min(1000));
        let far_above = |x: &N| match (x.magnitude(), floor) {
            _ if N::PRECISION == 0 => magnitude(x.clone()) > double_floor,
            (Some(m), Some(f)) => m > f,
            _ => false,
        };
        let mut m = a.clone();
        let mut rank = 0;
        for col in 0..cols {
            let pivot = (rank..rows)
                .filter(|&i| !m[(i, col)].is_zero())
                .max_by(|&i, &j| magnitude(m[(i, col)].clone()).partial_cmp(&magnitude(m[(j, col)].clone())).unwrap_or(std::cmp::Ordering::Equal));
            let Some(p) = pivot else { continue };
            if !N::EXACT && !far_above(&m[(p, col)]) {
                continue;
            }
            m.swap_rows(rank, p);
            for i in rank + 1..rows {
                let f = m[(i, col)].clone() / m[(rank, col)].clone();
                for j in col..cols {
                    let v = m[(rank, j)].clone();
                    m[(i, j)] = m[(i, j)].clone() - f.clone() * v;
                }
            }
            rank += 1;
        }
        if !N::EXACT && rank < rows.min(cols) {
            return na("a rank below full is not decided in floats (rounding can hide or fake a dependence)");
        }
        Ok(Value::S(N::from_rational(&BigRational::from_integer((rank as i64).into()))))
    }

    /// `opnorm` (the largest singular value) and `lambda_max` (the largest eigenvalue of a
    /// symmetric matrix). Exact for a diagonal matrix, where they are entries; otherwise
    /// irrational in general, so the exact layer says n/a. Floats compute them to their own
    /// precision: double precision by nalgebra's symmetric eigensolver, and the 320- and
    /// 640-bit floats by Jacobi sweeps from its eigenvectors in that precision, so that a
    /// double-precision value never looks exact to them.
    fn spectral(&mut self, f: Func, a: &DMatrix<N>) -> Result<Value<N>, Stop> {
        let name = f.name();
        // Whether the matrix is meant symmetric, not a decision on its values: `AᵀA` and a
        // symmetric draw are so by construction, entry for entry.
        let symmetric = || super::number::without_doubt(|| (0..a.nrows()).all(|i| (0..i).all(|j| a[(i, j)].same(&a[(j, i)]))));
        if f == Func::LambdaMax && (!a.is_square() || !symmetric()) {
            return na(format!("`{name}` of a matrix that is not symmetric"));
        }
        if a.is_square() && is_diagonal(a) {
            let pick = |x: &N| if f == Func::Opnorm { magnitude(x.clone()) } else { x.clone() };
            let largest = a.diagonal().iter().map(pick).reduce(|x, y| if y > x { y } else { x });
            return Ok(Value::S(largest.unwrap_or_else(N::zero)));
        }
        if N::EXACT {
            return na(format!("`{name}` of a matrix that is not diagonal is not rational in general (the float layer checks this step)"));
        }
        self.spend_many((a.nrows() * a.ncols() * a.ncols()) as u64 * 20)?;
        let gram = if f == Func::Opnorm { a.transpose() * a } else { a.clone() };
        // The sweeps' own decisions (a rotation's sign, a zero entry skipped) are not the
        // result's: its bound comes from Weyl's inequality.
        let lambda = super::number::without_doubt(|| largest_eigenvalue(&gram)).ok_or(Stop::Undefined)?;
        if f == Func::LambdaMax {
            return Ok(Value::S(lambda));
        }
        // AᵀA is positive semidefinite: a negative value is rounding around 0. The root of the
        // value clipped at 0 is continuous, so no decision is taken: within √bound of the
        // exact one.
        let root = super::number::without_doubt(|| {
            let bound = lambda.error_bound() / 2.0;
            if lambda < N::zero() { Some(N::zero().with_error_bound(bound)) } else { lambda.sqrt() }
        });
        Ok(Value::S(root.ok_or(Stop::Undefined)?))
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

    /// `exp` of a matrix entry: computed for floats; for rationals a positive oracle value
    /// (an identity that holds for every positive function holds for `exp`). A witness is one
    /// point, where a condition can hold for the oracle and not for `exp`: there only
    /// `exp(0) = 1` is exact.
    pub(super) fn positive_exp(&mut self, x: &N) -> Result<N, Stop> {
        if !N::EXACT {
            return x.exp().ok_or(Stop::Undefined);
        }
        if self.exp_base.is_some() {
            return self.exp_as_power(x);
        }
        if self.spec.closed {
            return if x.is_zero() { Ok(N::one()) } else { na("`exp` of a nonzero rational is not rational (the float layer decides it)") };
        }
        self.used_oracle = true;
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

impl<N: Number> Model<'_, N> {
    /// From now on `exp(k)` is `base^k` for whole k, and `exp` of anything else has no value:
    /// a value computed by field operations from such powers and rationals is then a rational
    /// function of e evaluated at `base` instead (exact closed models only).
    pub fn read_exp_as_powers_of(&mut self, base: &BigRational) {
        assert!(N::EXACT && self.spec.closed, "only an exact witness model reads exp as powers");
        self.exp_base = Some(N::from_rational(base));
        self.values.clear();
    }

    fn exp_as_power(&self, x: &N) -> Result<N, Stop> {
        let base = self.exp_base.as_ref().expect("called only when reading exp as powers");
        match x.as_index() {
            Some(_) => base.pow(x).ok_or_else(|| Stop::NotApplicable("`exp` of a whole number too large to read as a power".into())),
            None => na("`exp` of a number that is not whole is not read as a power of e"),
        }
    }
}

/// -1, 0 or 1.
fn sign<N: Number>(x: &N) -> N {
    if x.is_zero() {
        N::zero()
    } else if *x < N::zero() {
        -N::one()
    } else {
        N::one()
    }
}

/// A quadrature rule: nodes and weights.
type Rule = (Vec<f64>, Vec<f64>);

/// The body of a Gaussian expectation at a point of the standard normal.
/// The most nodes one Gaussian quadrature may take.
const MAX_NODES: usize = 100_000;

/// Where the Gaussian variable is for a standard normal point `z`: the environment to
/// evaluate in.
type Place<'a, N> = dyn Fn(&[f64]) -> HashMap<String, Value<N>> + 'a;

/// `e` as a polynomial in the Gaussian vector `x` (entering through `dot(x, w)`) times
/// exponential factors `exp(l)` with `l` linear in `x` or free of it: the polynomial's degree
/// and `e` with those factors replaced by 1, their arguments collected in `exponents` (so that
/// the factors are evaluated as one exponential, without overflow or underflow); `None` when
/// `e` is not of that form.
fn exp_polynomial(e: &Expr, x: &str, exponents: &mut Vec<Expr>) -> Option<(u32, Expr)> {
    let one = || Expr::int(1, e.span);
    match &e.kind {
        ExprKind::Builtin(Func::Exp, args) if polynomial_degree(&args[0], x)? <= 1 => {
            exponents.push(args[0].clone());
            Some((0, one()))
        }
        _ if !e.mentions(x) => Some((0, e.clone())),
        ExprKind::Bin(BinOp::Mul, a, b) => {
            let ((da, a), (db, b)) = (exp_polynomial(a, x, exponents)?, exp_polynomial(b, x, exponents)?);
            Some((da + db, Expr::bin(BinOp::Mul, a, b)))
        }
        ExprKind::Bin(BinOp::Div, a, c) if !c.mentions(x) => {
            let (d, a) = exp_polynomial(a, x, exponents)?;
            Some((d, Expr::bin(BinOp::Div, a, (**c).clone())))
        }
        ExprKind::Neg(a) => {
            let (d, a) = exp_polynomial(a, x, exponents)?;
            Some((d, Expr::new(ExprKind::Neg(Box::new(a)), e.span)))
        }
        _ => Some((polynomial_degree(e, x)?, e.clone())),
    }
}

/// The degree of `e` as a polynomial in the Gaussian vector `x`, which enters only through
/// `dot(x, w)` with `w` free of `x` (or `dot(x, x)`).
fn polynomial_degree(e: &Expr, x: &str) -> Option<u32> {
    if !e.mentions(x) {
        return Some(0);
    }
    let is_x = |a: &Expr| matches!(&a.kind, ExprKind::Name(n) if n == x);
    match &e.kind {
        // A vector-valued polynomial: quadrature integrates each component.
        ExprKind::Name(_) if is_x(e) => Some(1),
        ExprKind::Builtin(Func::Dot, args) if is_x(&args[0]) && is_x(&args[1]) => Some(2),
        ExprKind::Builtin(Func::Dot, args) if (is_x(&args[0]) && !args[1].mentions(x)) || (is_x(&args[1]) && !args[0].mentions(x)) => Some(1),
        ExprKind::Bin(BinOp::Add | BinOp::Sub, a, b) => Some(polynomial_degree(a, x)?.max(polynomial_degree(b, x)?)),
        ExprKind::Bin(BinOp::Mul, a, b) => Some(polynomial_degree(a, x)? + polynomial_degree(b, x)?),
        ExprKind::Bin(BinOp::Div, a, c) if !c.mentions(x) => polynomial_degree(a, x),
        ExprKind::Bin(BinOp::Pow, a, k) => match &k.kind {
            ExprKind::Num(k) if k.is_integer() && *k >= BigRational::from_integer(0.into()) && *k <= BigRational::from_integer(64.into()) => {
                let k: u32 = k.to_integer().try_into().ok()?;
                polynomial_degree(a, x)?.checked_mul(k)
            }
            _ => None,
        },
        ExprKind::Neg(a) | ExprKind::Transpose(a) => polynomial_degree(a, x),
        _ => None,
    }
}

/// Nodes and weights of Gauss–Hermite quadrature for the standard normal with `n` nodes
/// (Golub–Welsch: the eigenvalues of the Jacobi matrix of the probabilists' Hermite
/// polynomials, weights from the first components of its eigenvectors).
fn gauss_hermite(n: usize) -> Rule {
    thread_local! {
        static CACHE: std::cell::RefCell<HashMap<usize, Rule>> = std::cell::RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        c.borrow_mut()
            .entry(n)
            .or_insert_with(|| {
                let jacobi = DMatrix::from_fn(n, n, |i, j| if i + 1 == j || j + 1 == i { (i.max(j) as f64).sqrt() } else { 0.0 });
                let eigen = nalgebra::SymmetricEigen::new(jacobi);
                let nodes: Vec<f64> = eigen.eigenvalues.iter().copied().collect();
                let weights: Vec<f64> = (0..n).map(|k| eigen.eigenvectors[(0, k)].powi(2)).collect();
                (nodes, weights)
            })
            .clone()
    })
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

/// Whether adding `x` and `y` (high-precision floats) loses one of them to rounding: their
/// binary exponents are farther apart than the precision allows, entry by entry.
fn absorbs<N: Number>(x: &Value<N>, y: &Value<N>) -> bool {
    let apart = |a: &N, b: &N| match (a.magnitude(), b.magnitude()) {
        (Some(p), Some(q)) => (p - q).abs() > N::PRECISION - 16,
        _ => false,
    };
    match (x, y) {
        (Value::S(a), Value::S(b)) => apart(a, b),
        (Value::M(a), Value::M(b)) if a.shape() == b.shape() => a.iter().zip(b.iter()).any(|(p, q)| apart(p, q)),
        _ => false,
    }
}

/// `|x|`.
pub(super) fn magnitude<N: Number>(x: N) -> N {
    if x < N::zero() { -x } else { x }
}

/// The largest eigenvalue of a symmetric float matrix, to the precision of `N`: nalgebra's
/// symmetric eigensolver in double precision, cyclic Jacobi rotations in the 320- and 640-bit
/// floats (which resolve eigenvalues closer than double precision can tell apart).
fn largest_eigenvalue<N: Number>(s: &DMatrix<N>) -> Option<N> {
    let n = s.nrows();
    let largest = |values: &mut dyn Iterator<Item = N>| values.reduce(|x, y| if y > x { y } else { x });
    let eig = DMatrix::from_iterator(n, n, s.iter().map(|x| x.to_f64())).symmetric_eigen();
    if N::RECHECKED {
        return largest(&mut eig.eigenvalues.iter().map(|x| N::from_f64(*x)));
    }
    // Warm start: double precision's eigenvectors, made orthonormal in this precision (two
    // rounds of Gram–Schmidt), turn `s` into a similar matrix that is diagonal but for
    // entries of double precision's size, from which Jacobi needs a few sweeps.
    let mut q: DMatrix<N> = DMatrix::from_iterator(n, n, eig.eigenvectors.iter().map(|x| N::from_f64(*x)));
    for _ in 0..2 {
        for j in 0..n {
            for k in 0..j {
                let proj = (0..n).fold(N::zero(), |acc, i| acc + q[(i, j)].clone() * q[(i, k)].clone());
                for i in 0..n {
                    q[(i, j)] = q[(i, j)].clone() - proj.clone() * q[(i, k)].clone();
                }
            }
            let norm = (0..n).fold(N::zero(), |acc, i| acc + q[(i, j)].clone() * q[(i, j)].clone()).sqrt()?;
            if norm.is_zero() {
                return None;
            }
            for i in 0..n {
                q[(i, j)] = q[(i, j)].clone() / norm.clone();
            }
        }
    }
    let mut a = q.transpose() * s * &q;
    let two = N::one() + N::one();
    // Quadratic convergence: once a sweep leaves every off-diagonal entry negligible next to
    // the largest diagonal one, two more square the error past the type's precision. (Next
    // to its own diagonal entries it may never be: an eigenvalue 0, as `AᵀA` of a wide `A`
    // has, sits on the diagonal as rounding.)
    let mut settled = 0;
    for _ in 0..64 {
        let scale = (0..n).map(|i| magnitude(a[(i, i)].clone())).reduce(|x, y| if y > x { y } else { x }).unwrap_or_else(N::zero);
        let negligible = (0..n).all(|p| (p + 1..n).all(|q| (scale.clone() + magnitude(a[(p, q)].clone())).same(&scale)));
        if negligible {
            settled += 1;
            if settled > 2 {
                break;
            }
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[(p, q)].is_zero() {
                    continue;
                }
                let theta = (a[(q, q)].clone() - a[(p, p)].clone()) / (two.clone() * a[(p, q)].clone());
                let root = (theta.clone() * theta.clone() + N::one()).sqrt()?;
                let t = if theta < N::zero() { -N::one() / (root - theta) } else { N::one() / (magnitude(theta) + root) };
                let c = N::one() / (t.clone() * t.clone() + N::one()).sqrt()?;
                let sn = t * c.clone();
                for k in 0..n {
                    let (kp, kq) = (a[(k, p)].clone(), a[(k, q)].clone());
                    a[(k, p)] = c.clone() * kp.clone() - sn.clone() * kq.clone();
                    a[(k, q)] = sn.clone() * kp + c.clone() * kq;
                }
                for k in 0..n {
                    let (pk, qk) = (a[(p, k)].clone(), a[(q, k)].clone());
                    a[(p, k)] = c.clone() * pk.clone() - sn.clone() * qk.clone();
                    a[(q, k)] = sn.clone() * pk + c.clone() * qk;
                }
            }
        }
    }
    // The steps' own bounds see the rotations' cancellations, not that the rotations are
    // orthogonal: by Weyl's inequality an eigenvalue moves by at most ‖E‖₂ ≤ Σ|E_ij| for a
    // change E of `s`, and Jacobi (with the warm start) is backward stable, its rounding a
    // change of about n²·2^-PRECISION of ‖s‖ ≤ n·max|s_ij| (with a margin of 2^16).
    let inputs = s.iter().fold(f64::NEG_INFINITY, |acc, x| super::number::log2_sum(acc, x.error_bound()));
    let size = f64::from(n as u32).log2();
    let backward =
        s.iter().filter_map(Number::magnitude).max().map_or(f64::NEG_INFINITY, |m| f64::from(m) + 3.0 * size + 16.0 - f64::from(N::PRECISION));
    // (Only once the sweeps settled: otherwise the diagonal is not the eigenvalues.)
    let bound = if settled > 2 { super::number::log2_sum(inputs, backward) } else { f64::INFINITY };
    largest(&mut (0..n).map(|i| a[(i, i)].clone())).map(|top| top.with_error_bound(bound))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Wide, Wider};

    /// `[[2, 1], [1, 2]]` has eigenvalues 3 and 1; `I + b·u·uᵀ` with `b = 2^-100` has
    /// `1 + 2b` and 1, equal in double precision but not in 320 or 640 bits.
    #[test]
    fn the_largest_eigenvalue_to_each_precision() {
        fn check<N: Number>(tolerance_bits: i32) {
            let q = |k: i64| N::from_rational(&BigRational::from_integer(k.into()));
            let m = DMatrix::from_row_slice(2, 2, &[q(2), q(1), q(1), q(2)]);
            assert!((largest_eigenvalue(&m).unwrap() - q(3)).to_f64().abs() < 1e-12);
            let b = N::from_rational(&BigRational::new(1.into(), num_bigint::BigInt::from(2).pow(100u32)));
            let close = DMatrix::from_row_slice(2, 2, &[q(1) + b.clone(), b.clone(), b.clone(), q(1) + b.clone()]);
            let top = largest_eigenvalue(&close).unwrap();
            let expected = q(1) + b.clone() + b;
            let error = (top - expected).to_f64().abs();
            assert!(error < 2f64.powi(-tolerance_bits), "error {error:e}");
        }
        check::<Wide>(250);
        check::<Wider>(250);
    }
}
