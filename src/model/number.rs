//! The numbers a model computes with: exact rationals, or `f64` where exact arithmetic
//! cannot apply (`exp`, `log`, most square roots).

use std::fmt::{Debug, Display};

use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::KeyPart;

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
