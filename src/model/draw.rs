//! Drawing the free values of a model: scalars inside their `assume` ranges, random
//! entries for vectors and matrices of their declared shapes, Gaussian draws for Monte Carlo.

use std::collections::HashMap;

use nalgebra::DMatrix;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use rand::RngExt;

use super::eval::magnitude;
use super::number::Number;
use super::value::{Stop, Value, na};
use super::{Model, collect_names, constant};
use crate::language::ast::{Expr, ExprKind, Kind, Rel};

impl<N: Number> Model<'_, N> {
    pub(super) fn small_rational(&mut self, max_den: i64, span: i64) -> BigRational {
        let q = self.rng.random_range(1..=max_den);
        let p = self.rng.random_range(-span * q..=span * q);
        BigRational::new(p.into(), q.into())
    }

    /// A number from several scales, both signs: mostly small fractions, sometimes zero or a
    /// small integer, sometimes beyond every constant of the file (a claim such as
    /// `x^2 <= 16` must meet an `x` above 4).
    pub fn any_number(&mut self) -> BigRational {
        let scale = if self.spec.scale.is_zero() { BigRational::from_integer(10.into()) } else { self.spec.scale.clone() };
        match self.rng.random_range(0..16) {
            0..=8 => self.small_rational(12, 4),
            9 | 10 => BigRational::from_integer(self.rng.random_range(-2..=2i64).into()),
            _ => {
                let q = self.rng.random_range(1..=6i64);
                let p = self.rng.random_range(-20 * q..=20 * q);
                scale * BigRational::new(p.into(), (10 * q).into())
            }
        }
    }

    /// A number at least `lo` (strictly above it when `strict`): sometimes exactly on an
    /// allowed end, sometimes just above it, sometimes far.
    fn above(&mut self, lo: &BigRational, strict: bool) -> BigRational {
        let q = self.rng.random_range(2..=12i64);
        match self.pick_end() {
            0 if !strict => lo.clone(),
            0 | 1 => lo + BigRational::new(1.into(), BigInt::from(q).pow(3)),
            2 => lo + self.any_number().abs() + BigRational::new(1.into(), q.into()),
            _ => lo + BigRational::new(self.rng.random_range(1..=4 * q).into(), q.into()),
        }
    }

    /// Which way to draw a bounded scalar, 0 to 7: 0 is the lower end and 1 the upper one. One
    /// point in five takes each end, the others choose at random.
    fn pick_end(&mut self) -> u32 {
        match self.points % 5 {
            1 => 0,
            2 => 1,
            _ => self.rng.random_range(0..8),
        }
    }

    /// Draws a scalar inside the bounds that `assume` gives it (constant bounds; the others
    /// are met by redrawing), sometimes on an allowed end; an `integer` is a whole number.
    pub(super) fn draw_scalar(&mut self, name: &str) -> BigRational {
        // Each end: the bound, and whether it is strict.
        type End = Option<(BigRational, bool)>;
        let (mut lo, mut hi): (End, End) = (None, None);
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
            let strict = matches!(rel, Rel::Lt | Rel::Gt);
            let upper = matches!((is_lhs, rel), (true, Rel::Lt | Rel::Le) | (false, Rel::Gt | Rel::Ge));
            if rel == Rel::Ne {
                continue;
            }
            if upper {
                if hi.as_ref().is_none_or(|(h, _)| b < *h) {
                    hi = Some((b, strict));
                }
            } else if lo.as_ref().is_none_or(|(l, _)| b > *l) {
                lo = Some((b, strict));
            }
        }
        let value = match (lo, hi) {
            (Some((l, ls)), Some((h, hs))) => {
                let q = self.rng.random_range(2..=12i64);
                match self.pick_end() {
                    0 if !ls => l,
                    1 if !hs => h,
                    2 => &l + (&h - &l) / BigRational::from_integer(BigInt::from(q).pow(3)),
                    3 => &h - (&h - &l) / BigRational::from_integer(BigInt::from(q).pow(3)),
                    _ => {
                        let p = self.rng.random_range(1..q);
                        &l + (h - &l) * BigRational::new(p.into(), q.into())
                    }
                }
            }
            (Some((l, strict)), None) => self.above(&l, strict),
            (None, Some((h, strict))) => -self.above(&-h, strict),
            (None, None) => self.any_number(),
        };
        if matches!(self.spec.kinds.get(name), Some(Kind::Integer)) { value.round() } else { value }
    }

    /// Draws every assumed scalar and redraws until all `assume` facts hold.
    pub fn draw_assumptions(&mut self) -> Result<(), Stop> {
        // Whether the point is a model is checked as before the rounding bounds: a value set
        // from an `assume b = 1/10^20` is within its bound of itself, which is no doubt about
        // the claim. (A point on the edge of an `assume` within rounding is not told apart.)
        super::number::without_doubt(|| self.draw_assumptions_within_rounding())
    }

    fn draw_assumptions_within_rounding(&mut self) -> Result<(), Stop> {
        // A fact about a random quantity (`assume z = g[1]`) holds outcome by outcome, which a
        // scalar drawn once per point cannot follow.
        if let Some(f) =
            self.spec.assumptions.iter().find(|f| [&f.lhs, &f.rhs].iter().any(|e| crate::language::elaborate::is_random(e, &self.spec.random)))
        {
            return na(format!("`assume {}` is about a random quantity, which the models cannot draw", crate::language::text::relation(f)));
        }
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

    /// One draw of a standard normal (Box–Muller on the model's stream).
    pub fn standard_normal(&mut self) -> f64 {
        // A replayed path: its draws as they were, then (where it branches off the path that
        // made them) fresh ones from the stream.
        if let Some(z) = self.pinned.as_mut().and_then(|p| p.pop_front()) {
            return z;
        }
        let u: f64 = self.rng.random_range(f64::EPSILON..1.0);
        let v: f64 = self.rng.random_range(0.0..1.0);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A random value of the name's kind and shape.
    pub(super) fn draw(&mut self, name: &str) -> Result<Value<N>, Stop> {
        let value = self.draw_free(name)?;
        match self.spec.bounded.get(name).cloned() {
            Some((bound, strict)) => self.within(name, value, &bound, strict),
            None => Ok(value),
        }
    }

    /// A value of the function `name` inside `[-bound, bound]` (a `given abs(f(z)) <= c for
    /// z`): `c·x/(|x| + 1)` of a free draw `x`, and now and then an end of the range (unless
    /// the bound is strict), where a wrong inequality shows first.
    fn within(&mut self, name: &str, value: Value<N>, bound: &Expr, strict: bool) -> Result<Value<N>, Stop> {
        if self.distributions_only {
            return na(format!("`{name}` is drawn within a bound, not from a stated distribution"));
        }
        let (Value::S(c), Value::S(x)) = (self.eval(bound, &HashMap::new())?, value) else {
            return na(format!("the bound on `{name}` is not a scalar"));
        };
        if c < N::zero() {
            return Err(Stop::Invalid(format!("the bound on `{name}` is negative")));
        }
        let end = if strict { 2 } else { self.rng.random_range(0..8) };
        Ok(Value::S(match end {
            0 => c,
            1 => -c,
            _ => c * x.clone() / (magnitude(x) + N::one()),
        }))
    }

    fn draw_free(&mut self, name: &str) -> Result<Value<N>, Stop> {
        if let Some((mean, sd)) = self.spec.distributions.get(name).filter(|_| !N::EXACT) {
            let (mean, sd) = (mean.clone(), sd.clone());
            let (Value::S(m), Value::S(s)) = (self.eval(&mean, &HashMap::new())?, self.eval(&sd, &HashMap::new())?) else {
                return na("a distribution's parameters are not scalars");
            };
            // Vectors and matrices get independent entries with this distribution.
            let element = match self.spec.kinds.0.get(name) {
                Some(Kind::Sequence(of)) => (**of).clone(),
                Some(kind) => kind.clone(),
                None => Kind::Scalar,
            };
            return Ok(match element {
                Kind::Vector | Kind::Matrix => {
                    Value::M(self.zeros(name, &element).map(|_| m.clone() + s.clone() * N::normal(self.standard_normal())))
                }
                _ => Value::S(m + s * N::normal(self.standard_normal())),
            });
        }
        self.draw_uniform(name)
    }

    /// The size of a dimension at this point (a number, or a name's size with this round's
    /// bump; 3 for a shape not declared).
    pub(super) fn dimension_size(&self, d: Option<&str>) -> usize {
        // Each dimension is bumped by its own turn of the round (by its rank among the
        // dimension names, the k-th changing every 3^k points), so two dimensions do not keep
        // one difference, not even where `with` gives them one size.
        let round = self.size_round;
        let bump = |k: usize| round.map_or(0, |r| super::SIZE_BUMPS[(r / 3usize.pow((k % 4) as u32) + k) % super::SIZE_BUMPS.len()]);
        match d {
            None => 3 + bump(0),
            Some(d) => d.parse().ok().unwrap_or_else(|| {
                let mut names: Vec<&String> = self.spec.sizes.keys().collect();
                names.sort();
                let k = names.iter().position(|n| *n == d).unwrap_or(0);
                self.spec.sizes.get(d).copied().unwrap_or(3) + bump(k)
            }),
        }
    }

    /// A declared integer named like a dimension of a declared shape.
    pub(super) fn is_dimension(&self, name: &str) -> bool {
        self.spec.kinds.get(name) == Some(&Kind::Integer) && self.spec.shapes.values().any(|s| s.iter().any(|d| d == name))
    }

    /// The zero vector or matrix of `name`'s declared shape (of its elements, for a sequence).
    pub(super) fn zeros(&mut self, name: &str, element: &Kind) -> DMatrix<N> {
        let dims = self.spec.shapes.get(name).cloned().unwrap_or_default();
        let declared = if *element == Kind::Vector { 1 } else { 2 };
        if dims.len() < declared {
            self.guessed_shapes = true;
        }
        // Each dimension is bumped by its own turn of the round (by its rank among the
        // dimension names, the k-th changing every 3^k points), so two dimensions do not keep
        // one difference, not even where `with` gives them one size.
        let size = |d: Option<&String>| -> usize { self.dimension_size(d.map(String::as_str)) };
        let (rows, cols) = if *element == Kind::Vector { (size(dims.first()), 1) } else { (size(dims.first()), size(dims.get(1))) };
        DMatrix::from_element(rows, cols, N::zero())
    }

    pub(super) fn draw_uniform(&mut self, name: &str) -> Result<Value<N>, Stop> {
        let kind = self.spec.kinds.0.get(name).cloned().unwrap_or(Kind::Scalar);
        // An integer named like a dimension is that dimension's size (`rank(X) <= d`).
        if self.is_dimension(name) {
            let size = self.dimension_size(Some(name)) as i64;
            return Ok(Value::S(N::from_rational(&num_rational::BigRational::from_integer(size.into()))));
        }
        if self.distributions_only {
            return na(format!("`{name}` has no stated distribution, so a sample path would make its value up"));
        }
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
            Kind::Integer => {
                let x = self.any_number().round();
                Ok(Value::S(N::from_rational(&x)))
            }
            Kind::Scalar => {
                let x = self.any_number();
                Ok(Value::S(N::from_rational(&x)))
            }
            Kind::Vector | Kind::Matrix => {
                let mut m = self.zeros(name, &element);
                let (rows, cols) = m.shape();
                // Entries mostly small, so that products stay moderate; now and then a large one.
                for i in 0..rows {
                    for j in 0..cols {
                        let x = if self.rng.random_range(0..8) == 0 { self.any_number() } else { self.small_rational(6, 3) };
                        m[(i, j)] = N::from_rational(&x);
                    }
                }
                Ok(Value::M(m))
            }
            _ => na(format!("`{name}` has no values of its own")),
        }
    }
}
