//! The numbers a model computes with: exact rationals, `f64` where exact arithmetic cannot
//! apply (`exp`, `log`, most square roots), and 320-bit floats (`Wide`) to recheck a
//! double-precision disagreement before calling it a refutation.

use std::fmt::{Debug, Display};

use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use astro_float::{BigFloat, Consts, Radix, RoundingMode};

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
    /// A standard normal draw `z` of a Monte Carlo path (a traced number records it as one).
    fn normal(z: f64) -> Self {
        Self::from_f64(z)
    }
    fn key(&self) -> KeyPart;
    /// `exp`, `log`, `sqrt` and non-integer powers, where the value is a number of this type.
    fn exp(&self) -> Option<Self>;
    fn ln(&self) -> Option<Self>;
    fn sqrt(&self) -> Option<Self>;
    fn pow(&self, exponent: &Self) -> Option<Self>;
    fn as_index(&self) -> Option<i64>;
    /// Equal for this number type: exactly for rationals, to a relative 1e-10 for `f64`, to a
    /// relative 2^-250 for `Wide`.
    fn same(&self, other: &Self) -> bool;
    /// How many bits the number takes: exact rationals grow, floats do not.
    fn bits(&self) -> u64 {
        0
    }
    /// Equal to a relative `tolerance` (for values computed by quadrature).
    fn close(&self, other: &Self, tolerance: f64) -> bool {
        let (a, b) = (self.to_f64(), other.to_f64());
        (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1e-300)
    }
    /// A number at all: not an overflow to infinity, not NaN.
    fn finite(&self) -> bool {
        true
    }
    /// A float approximation, for plots and Monte Carlo.
    fn to_f64(&self) -> f64;
    /// log2 of a bound on how far rounding took this value from its exact one (high-precision
    /// floats; -∞ for other numbers, which do not track it).
    fn error_bound(&self) -> f64 {
        f64::NEG_INFINITY
    }
    /// This value with the bound `error` (log2) instead of the one its steps gave: for an
    /// algorithm whose own analysis bounds its result (an eigenvalue by Weyl's inequality).
    fn with_error_bound(self, _error: f64) -> Self {
        self
    }
    /// The binary exponent of a nonzero high-precision float (what its rounding error scales
    /// with); `None` for other numbers.
    fn magnitude(&self) -> Option<i32> {
        None
    }
    /// Whether `exp` of a matrix entry is computed (floats) or drawn as a positive oracle
    /// value (rationals: the identities about softmax hold for every positive function).
    const EXACT: bool;
    /// Whether a disagreement in this type is rechecked in 320-bit floats (double precision).
    const RECHECKED: bool = false;
    /// Whether an evaluation in this type can run as a traced tape (double precision: the
    /// tape computes in it).
    const TRACEABLE: bool = false;
    /// The bits of a high-precision float's mantissa (0 for other numbers): what a term must
    /// stay within to survive a sum.
    const PRECISION: i32 = 0;
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
    fn bits(&self) -> u64 {
        self.numer().bits() + self.denom().bits()
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
        self == other || (self - other).abs() <= 1e-10 * self.abs().max(other.abs())
    }
    fn to_f64(&self) -> f64 {
        *self
    }
    fn finite(&self) -> bool {
        self.is_finite()
    }
    const EXACT: bool = false;
    const RECHECKED: bool = true;
    const TRACEABLE: bool = true;
}

const ROUND: RoundingMode = RoundingMode::ToEven;

/// Whether the float layer's two precisions may round the exact number `r` alike, so that
/// a difference it makes would look real in both (`(2^700 + 1)/2^700` is 1 in 320 and in
/// 640 bits, and `(2^700 + 1)/2^700 - 1` is 0 in both). Not when 640 bits hold it exactly
/// (an integer over a power of two), nor when its numerator and denominator have at most 256
/// bits: then a run of zero bits in its expansion is shorter than 257 bits (at most the bits
/// of the integer part and, after it, of the denominator), so its 640-bit value has a one
/// bit that its 320-bit value lacks.
pub fn rounds_alike(r: &BigRational) -> bool {
    let (p, q) = (r.numer().magnitude(), r.denom().magnitude());
    let dyadic = q.count_ones() == 1;
    let odd_bits = |n: &num_bigint::BigUint| n.bits() - n.trailing_zeros().unwrap_or(0);
    let held = dyadic && odd_bits(p) <= 640;
    !held && (p.bits() > 256 || q.bits() > 256)
}

thread_local! {
    /// The constants cache `astro-float` needs for `exp` and `ln`.
    static CONSTS: std::cell::RefCell<Option<Consts>> = const { std::cell::RefCell::new(None) };
}

fn with_consts<T>(f: impl FnOnce(&mut Consts) -> T) -> Option<T> {
    CONSTS.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Consts::new().ok();
        }
        c.as_mut().map(f)
    })
}

thread_local! {
    /// Whether a high-precision float took a decision its rounding bound leaves open since
    /// the last `take_doubt`.
    static DOUBT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a 320- or 640-bit evaluation on this thread decided something its values'
/// rounding bounds leave open since the last call: an order, an equality or a zero test
/// between values within their bounds of each other, a whole number that may not be one, a
/// divisor that may be 0, a root or logarithm of a value that may be negative. The bound of a value is kept through arithmetic; a decision drops it (`sign`,
/// `relu`, a piecewise condition, a pivot, an index), so a result built on such a decision
/// refutes nothing and satisfies no strict relation. Clears the flag.
pub fn take_doubt() -> bool {
    DOUBT.with(|d| d.replace(false))
}

/// `work` with its own doubts discarded and the doubt from before kept: for an algorithm
/// whose result's bound does not depend on its decisions.
pub fn without_doubt<T>(work: impl FnOnce() -> T) -> T {
    let before = take_doubt();
    let result = work();
    DOUBT.with(|d| d.set(before));
    result
}

/// What a doubt means, for the layers' messages.
pub const DOUBT_REASON: &str =
    "a decision on the way (an order, an equality, a test for 0 or for a whole number, a divisor) lies within the values' rounding";

fn doubt() {
    DOUBT.with(|d| d.set(true));
}

/// A result of 0 where the exact one is not 0 (`exp(-2e9)`, `2^-2e9 * 2^-2e9`) fell below
/// the floats' exponent range (2^-2^31), and it does so in both precisions alike: NaN, which
/// makes the point no value at all, not a 0 that would stand as a real difference.
fn underflow_is_no_value(result: BigFloat, exact_is_nonzero: impl FnOnce() -> bool) -> BigFloat {
    if result.is_zero() && exact_is_nonzero() { BigFloat::nan(None) } else { result }
}

/// `x` in decimal, every digit.
fn decimal_text(x: &BigFloat) -> String {
    with_consts(|cc| x.format(Radix::Dec, ROUND, cc).unwrap_or_else(|_| "NaN".into())).unwrap_or_else(|| "NaN".into())
}

/// The double nearest `x`.
fn nearest_double(x: &BigFloat) -> f64 {
    // From the mantissa's top word (the lower ones only as a sticky bit, so that rounding
    // to 53 bits is rounding once) and the exponent: no decimal text on the way.
    if x.is_nan() {
        return f64::NAN;
    }
    if x.is_inf() {
        return if x.is_negative() { f64::NEG_INFINITY } else { f64::INFINITY };
    }
    if x.is_zero() {
        return 0.0;
    }
    let Some((words, _, _, exponent, _)) = x.as_raw_parts() else { return f64::NAN };
    if exponent < -1000 {
        // Near and below double precision's smallest normal numbers: by the text.
        return decimal_text(x).parse().unwrap_or(f64::NAN);
    }
    let Some((top, lower)) = words.split_last() else { return f64::NAN };
    let sticky = u64::from(lower.iter().any(|w| *w != 0));
    // The value is 0.m × 2^exponent, m the mantissa's bits from the top.
    let mut value = (*top | sticky) as f64;
    let mut shift = exponent as i64 - 64;
    while shift != 0 {
        let step = shift.clamp(-1000, 1000);
        value *= 2f64.powi(step as i32);
        shift -= step;
    }
    if x.is_negative() { -value } else { value }
}

/// e^x to `bits` bits, within an ulp: e^x = 2^k·(e^(r/2^s))^(2^s) with r = x − k·ln 2, the
/// Taylor series of e^(r/2^s) (a few terms, the argument being below 2^-s) and s squarings,
/// all in `bits` + 128 bits. `astro-float`'s own `exp` is correctly rounded and 2 to 3 times
/// slower; beyond |x| = 10^9 (an overflow or underflow) it is used as it is.
fn reduced_exp(x: &BigFloat, bits: usize, cc: &mut Consts) -> BigFloat {
    let estimate = nearest_double(x);
    if x.is_zero() || !(estimate.abs() < 1.0e9) {
        return x.exp(bits, ROUND, cc);
    }
    let work = bits + 128;
    let squarings: i32 = if bits > 400 { 24 } else { 18 };
    let k = (estimate / std::f64::consts::LN_2).round();
    let mut reduced = x.sub(&cc.ln_2(work, ROUND).mul(&BigFloat::from_f64(k, 64), work, ROUND), work, ROUND);
    if !reduced.is_zero() {
        reduced.set_exponent(reduced.exponent().unwrap_or(0) - squarings);
    }
    let mut term = BigFloat::from_word(1, work);
    let mut sum = BigFloat::from_word(1, work);
    for i in 1..200 {
        term = term.mul(&reduced, work, ROUND).div(&BigFloat::from_word(i, 64), work, ROUND);
        sum = sum.add(&term, work, ROUND);
        if term.is_zero() || term.exponent().is_none_or(|e| e < -(work as i32)) {
            break;
        }
    }
    for _ in 0..squarings {
        sum = sum.mul(&sum, work, ROUND);
    }
    sum.set_exponent(sum.exponent().unwrap_or(0) + k as i32);
    if sum.set_precision(bits, ROUND).is_err() {
        return x.exp(bits, ROUND, cc);
    }
    sum
}

/// The square root of `x` to `bits` bits, within an ulp or two: Newton's iteration for
/// 1/√x from a double's guess, doubling the precision at each round, then one correction of
/// √x = x·(1/√x) (Karp and Markstein). `astro-float`'s own square root is correctly rounded
/// but costs as much as 70 multiplications; the float layer takes rounding as it comes, and
/// this is 5 times faster.
fn newton_sqrt(x: &BigFloat, bits: usize) -> BigFloat {
    let Some((words, _, _, exponent, _)) = x.as_raw_parts() else { return x.sqrt(bits, ROUND) };
    let Some(top) = words.last().filter(|_| !x.is_zero()) else { return x.sqrt(bits, ROUND) };
    // x = f·2^(2h) with f in [1/2, 2): √x = √f·2^h.
    let h = exponent.div_euclid(2);
    let mut f = x.clone();
    f.set_exponent(exponent - 2 * h);
    let guess = (*top as f64 / 2f64.powi(64)) * 2f64.powi(exponent - 2 * h);
    let mut inverse = BigFloat::from_f64(1.0 / guess.sqrt(), bits);
    let three = BigFloat::from_f64(3.0, bits);
    let mut precision = 50;
    while precision < bits + 8 {
        precision = (2 * precision).min(bits + 64);
        // y ← y·(3 − f·y²)/2
        let square = inverse.mul(&inverse, precision, ROUND);
        let step = three.sub(&f.mul(&square, precision, ROUND), precision, ROUND);
        inverse = inverse.mul(&step, precision, ROUND);
        inverse.set_exponent(inverse.exponent().unwrap_or(0) - 1);
    }
    let root = f.mul(&inverse, bits + 64, ROUND);
    let residual = f.sub(&root.mul(&root, bits + 64, ROUND), bits + 64, ROUND);
    let mut correction = inverse.mul(&residual, bits, ROUND);
    if !correction.is_zero() {
        correction.set_exponent(correction.exponent().unwrap_or(0) - 1);
    }
    let mut result = root.add(&correction, bits, ROUND);
    result.set_exponent(result.exponent().unwrap_or(0) + h);
    result
}

/// A float with a `BITS`-bit mantissa, and a bound on how far rounding has taken it from the
/// value the same expression has in real arithmetic from the same inputs. The float layer
/// decides a point in two of them ([`Wide`] and [`Wider`]): a difference that shrinks as the
/// precision grows is rounding (`log(exp(a)) - a`); one that stays is real (`exp(-1000)` is
/// not 0) only where it also exceeds the bound, since rounding can leave the same difference
/// in both precisions (x³ − 3x² + 3x − 1 at x = 1 + 2^-250 is 2^-750, and 0 in both).
#[derive(Debug, Clone)]
pub struct Precise<const BITS: usize> {
    value: BigFloat,
    /// log2 of the bound on |value − exact|: -∞ for an exact value, +∞ for none.
    error: f64,
}

/// 320 bits.
pub type Wide = Precise<320>;
/// 640 bits.
pub type Wider = Precise<640>;

/// log2(2^a + 2^b), for bounds kept as logarithms.
pub(super) fn log2_sum(a: f64, b: f64) -> f64 {
    let (high, low) = if a >= b { (a, b) } else { (b, a) };
    if low == f64::NEG_INFINITY || high == f64::INFINITY { high } else { high + (1.0 + (low - high).exp2()).log2() }
}

/// log2(2^a · 2^b) where a factor 0 (log -∞) makes the product 0 whatever the other.
fn times(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY { f64::NEG_INFINITY } else { a + b }
}

/// Bounds on log2 |x| from its binary exponent (|x| lies in [2^(e-1), 2^e)); -∞ for 0.
fn upper(x: &BigFloat) -> f64 {
    if x.is_zero() { f64::NEG_INFINITY } else { x.exponent().map_or(f64::INFINITY, f64::from) }
}
fn lower(x: &BigFloat) -> f64 {
    upper(x) - 1.0
}

impl<const BITS: usize> Precise<BITS> {
    /// `value`, computed from inputs off by `carried` (log2), plus `ulps` of its own rounding
    /// when anything on its way was inexact.
    fn made(value: BigFloat, carried: f64, ulps: f64) -> Self {
        let rounding = if value.inexact() { upper(&value) - BITS as f64 + ulps.log2() } else { f64::NEG_INFINITY };
        Precise { error: log2_sum(carried, rounding), value }
    }

    fn exact(value: BigFloat) -> Self {
        Precise { value, error: f64::NEG_INFINITY }
    }

    fn text(&self) -> String {
        decimal_text(&self.value)
    }

    /// The binary exponent of `|self - other|` and of the larger of the two magnitudes
    /// (`None` for zero).
    pub fn gap(&self, other: &Self) -> (Option<i32>, Option<i32>) {
        let gap = self.value.sub(&other.value, BITS, ROUND);
        let scale = if self.value.abs_cmp(&other.value).is_some_and(|c| c >= 0) { &self.value } else { &other.value };
        let exponent = |x: &BigFloat| if x.is_zero() { None } else { x.exponent() };
        (exponent(&gap), exponent(scale))
    }

    /// Whether `self - other` is surely not 0: larger than both values' rounding bounds
    /// together, with the subtraction's own rounding.
    pub fn surely_apart(&self, other: &Self) -> bool {
        let (gap, _) = self.gap(other);
        gap.is_some_and(|g| f64::from(g) - 1.0 > log2_sum(self.error, other.error) + 1.0)
    }

    /// The sign of `self - other`: -1, 0 or 1.
    pub fn sign_of_difference(&self, other: &Self) -> i64 {
        self.value.cmp(&other.value).map_or(0, |c| c.signum() as i64)
    }
}

impl<const BITS: usize> PartialEq for Precise<BITS> {
    fn eq(&self, other: &Self) -> bool {
        self.value.cmp(&other.value) == Some(0)
    }
}

impl<const BITS: usize> PartialOrd for Precise<BITS> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        let order = self.value.cmp(&other.value).map(|c| c.cmp(&0));
        if (self.error > f64::NEG_INFINITY || other.error > f64::NEG_INFINITY) && !self.surely_apart(other) {
            doubt();
        }
        order
    }
}

impl<const BITS: usize> Display for Precise<BITS> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_f64())
    }
}

impl<const BITS: usize> Zero for Precise<BITS> {
    fn zero() -> Self {
        Precise::exact(BigFloat::from_word(0, BITS))
    }
    fn is_zero(&self) -> bool {
        // 0 that may not be, or a value that may be 0.
        if self.error > f64::NEG_INFINITY && (self.value.is_zero() || self.error >= lower(&self.value) - 1.0) {
            doubt();
        }
        self.value.is_zero()
    }
}

impl<const BITS: usize> One for Precise<BITS> {
    fn one() -> Self {
        Precise::exact(BigFloat::from_word(1, BITS))
    }
}

impl<const BITS: usize> std::ops::Add for Precise<BITS> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        let sum = self.value.add(&o.value, BITS, ROUND);
        let sum = underflow_is_no_value(sum, || self.value.cmp(&o.value.neg()) != Some(0));
        Precise::made(sum, log2_sum(self.error, o.error), 1.0)
    }
}

impl<const BITS: usize> std::ops::Sub for Precise<BITS> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        self + (-o)
    }
}

impl<const BITS: usize> std::ops::Mul for Precise<BITS> {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        let product = self.value.mul(&o.value, BITS, ROUND);
        let product = underflow_is_no_value(product, || !self.value.is_zero() && !o.value.is_zero());
        // |a'b' − ab| ≤ |a|·δb + |b|·δa + δa·δb
        let carried = log2_sum(log2_sum(times(upper(&self.value), o.error), times(upper(&o.value), self.error)), times(self.error, o.error));
        Precise::made(product, carried, 1.0)
    }
}

impl<const BITS: usize> std::ops::Div for Precise<BITS> {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        let quotient = self.value.div(&o.value, BITS, ROUND);
        let quotient = underflow_is_no_value(quotient, || !self.value.is_zero());
        // a'/b' − a/b = (δa − q·δb)/b', and |b'| ≥ |b|/2 while δb ≤ |b|/2.
        let carried = if o.error >= lower(&o.value) - 1.0 {
            // The divisor may be 0.
            doubt();
            f64::INFINITY
        } else {
            1.0 + log2_sum(self.error, times(upper(&quotient) + 1.0, o.error)) - lower(&o.value)
        };
        Precise::made(quotient, carried, 1.0)
    }
}

impl<const BITS: usize> std::ops::Neg for Precise<BITS> {
    type Output = Self;
    fn neg(self) -> Self {
        Precise { value: self.value.neg(), error: self.error }
    }
}

impl<const BITS: usize> std::ops::AddAssign for Precise<BITS> {
    fn add_assign(&mut self, o: Self) {
        let a = std::mem::replace(self, Self::zero());
        *self = a + o;
    }
}

impl<const BITS: usize> std::ops::MulAssign for Precise<BITS> {
    fn mul_assign(&mut self, o: Self) {
        let a = std::mem::replace(self, Self::zero());
        *self = a * o;
    }
}

impl<const BITS: usize> Number for Precise<BITS> {
    fn from_rational(r: &BigRational) -> Self {
        // Exactly: an integer of up to 127 bits directly, a larger one from its digits.
        let part = |n: &num_bigint::BigInt| match n.to_i128() {
            Some(i) => BigFloat::from_i128(i, BITS),
            None => with_consts(|cc| BigFloat::parse(&n.to_string(), Radix::Dec, BITS, ROUND, cc)).unwrap_or(BigFloat::nan(None)),
        };
        Precise::made(part(r.numer()).div(&part(r.denom()), BITS, ROUND), f64::NEG_INFINITY, 4.0)
    }
    fn from_f64(x: f64) -> Self {
        Precise::exact(BigFloat::from_f64(x, BITS))
    }
    fn key(&self) -> KeyPart {
        // Whole numbers (indices, sizes) as a double's key, which is what a double model's
        // fixed values convert to; others by their exact binary form.
        if self.value.is_zero() {
            return KeyPart::Bits(0);
        }
        let x = self.to_f64();
        if self.value.is_int() && x.abs() < 9.0e15 {
            return KeyPart::Bits(x.to_bits());
        }
        match self.value.as_raw_parts() {
            Some((words, bits, sign, exponent, _)) => KeyPart::Float(words.to_vec(), bits, exponent, sign.is_negative()),
            None => KeyPart::Text(self.text()),
        }
    }
    fn exp(&self) -> Option<Self> {
        let v = with_consts(|cc| reduced_exp(&self.value, BITS, cc))?;
        if v.is_zero() {
            return Some(Precise::exact(BigFloat::nan(None)));
        }
        // |e^(x+δ) − e^x| ≤ e^x·(e^|δ| − 1) ≤ 2·e^x·|δ| for |δ| ≤ 1.
        let carried = if self.error >= -1.0 { f64::INFINITY } else { upper(&v) + 2.0 + self.error };
        Some(Precise::made(v, carried, 4.0)).filter(|w| w.finite())
    }
    fn ln(&self) -> Option<Self> {
        if !self.value.is_positive() || self.value.is_zero() {
            return None;
        }
        let v = with_consts(|cc| self.value.ln(BITS, ROUND, cc))?;
        // |ln(x+δ) − ln x| ≤ 2|δ|/x for |δ| ≤ x/2; beyond, x may be 0 or less.
        let carried = if self.error >= lower(&self.value) - 1.0 {
            doubt();
            f64::INFINITY
        } else {
            1.0 + self.error - lower(&self.value)
        };
        Some(Precise::made(v, carried, 4.0))
    }
    fn sqrt(&self) -> Option<Self> {
        if self.value.is_negative() && !self.value.is_zero() {
            return None;
        }
        // x may be below 0.
        if self.error > f64::NEG_INFINITY && (self.value.is_zero() || self.error >= lower(&self.value)) {
            doubt();
        }
        // |√(x+δ) − √x| ≤ min(|δ|/√x, √|δ|).
        let carried = if self.value.is_zero() { self.error / 2.0 } else { (self.error - lower(&self.value) / 2.0).min(self.error / 2.0) };
        Some(Precise::made(newton_sqrt(&self.value, BITS), carried, 4.0))
    }
    fn pow(&self, exponent: &Self) -> Option<Self> {
        if let Some(k) = exponent.as_index().filter(|k| k.unsigned_abs() <= 1 << 20) {
            let n = k.unsigned_abs() as f64;
            let v = underflow_is_no_value(self.value.powi(k.unsigned_abs() as usize, BITS, ROUND), || !self.value.is_zero());
            // (1 + r)^n − 1 ≤ 2·n·r for n·r ≤ 1/4, r the base's relative error; the power
            // rounds at each of its 2·log2(n) + 1 products.
            let carried = if k == 0 || self.error == f64::NEG_INFINITY {
                f64::NEG_INFINITY
            } else if self.value.is_zero() {
                self.error * n
            } else {
                let relative = self.error - lower(&self.value);
                if relative + n.log2() >= -2.0 { f64::INFINITY } else { upper(&v) + 2.0 + n.log2() + relative }
            };
            let p = Precise::made(v, carried, 4.0 * (2.0 * n.max(1.0).log2() + 2.0));
            return if k < 0 { (!self.value.is_zero()).then(|| Self::one() / p) } else { Some(p) };
        }
        // A fractional power is defined for a base of 0 or more only.
        if self.error > f64::NEG_INFINITY && (self.value.is_zero() || self.error >= lower(&self.value)) {
            doubt();
        }
        if self.value.is_negative() {
            return None;
        }
        if self.value.is_zero() {
            return (exponent.value.is_positive()).then(Self::zero);
        }
        // As exp(y ln x), at this precision once: the library's own power refines its
        // precision until the result rounds correctly, which never ends where the result is
        // exact (`4^(1/2)`).
        (self.ln()? * exponent.clone()).exp()
    }
    fn as_index(&self) -> Option<i64> {
        if !self.value.is_int() {
            return None;
        }
        // A whole number only up to rounding may be none.
        if self.error > f64::NEG_INFINITY {
            doubt();
        }
        let x = self.to_f64();
        (x.abs() < 1e15).then_some(x as i64)
    }
    fn same(&self, other: &Self) -> bool {
        // A decision like an order's: values within their bounds of each other may differ.
        if (self.error > f64::NEG_INFINITY || other.error > f64::NEG_INFINITY) && !self.surely_apart(other) {
            doubt();
        }
        // Within the last 70 bits: what a rounding in BITS bits leaves after a long evaluation.
        match self.gap(other) {
            (None, _) => true,
            (Some(gap), Some(scale)) => gap < scale - (BITS as i32 - 70),
            (Some(_), None) => false,
        }
    }
    fn to_f64(&self) -> f64 {
        nearest_double(&self.value)
    }
    fn finite(&self) -> bool {
        !self.value.is_nan() && !self.value.is_inf()
    }
    fn magnitude(&self) -> Option<i32> {
        if self.value.is_zero() { None } else { self.value.exponent() }
    }
    fn error_bound(&self) -> f64 {
        self.error
    }
    fn with_error_bound(self, error: f64) -> Self {
        Precise { error, ..self }
    }
    const PRECISION: i32 = BITS as i32;
    const EXACT: bool = false;
}

/// The sign of `a - b` from the same values in 320 bits (`la`, `lb`) and 640 bits;
/// `largest` is the binary exponent of the largest term a sum added in the 320-bit evaluation:
/// a difference below its rounding there may be what rounding left in both precisions
/// (`(exp(600) + 1) - exp(600)` is 0 in both).
pub fn settle(la: &Wide, lb: &Wide, ha: &Wider, hb: &Wider, largest: Option<i32>) -> Option<i64> {
    let (low, _) = la.gap(lb);
    let (high, scale) = ha.gap(hb);
    match (low, high) {
        (_, None) => Some(0),
        // Rounding: 320 more bits took hundreds of bits off the difference.
        (Some(low), Some(high)) if high < low - 200 => Some(0),
        // Exactly equal in 320 bits, a difference far below the values in 640.
        (None, Some(high)) if scale.is_some_and(|s| high < s - 560) => Some(0),
        // Real: the same difference in both precisions, beyond the 640-bit values' rounding
        // bounds; unless a sum on the way added a term
        // beyond 2^300 and the difference is below that term's rounding in 320 bits, where
        // rounding may have left the same difference in both (the 1 of
        // `(exp(600) + 1) - exp(600)` is lost twice alike). Smaller terms leave no such
        // trace (their rounding is far below any difference that stays).
        (Some(low), Some(high)) if (high - low).abs() <= 2 && largest.is_none_or(|m| m < 300 || low > m - 300) && ha.surely_apart(hb) => {
            Some(ha.sign_of_difference(hb))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random sums, differences, products and quotients of numbers near each other (so that
    /// they cancel, down to nothing), computed in 320 bits and exactly: the exact value is
    /// always within the bound the 320-bit value carries; and `exp`, `log`, `sqrt` of them
    /// against 640 bits within both bounds. A bound that the arithmetic does not keep fails.
    #[test]
    fn rounding_bounds_hold_through_cancellation() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let within = |wide: &Wide, exact: &BigRational, what: &str| {
            let exact = Wider::from_rational(exact);
            let gap = (Wider { value: wide.value.clone(), error: f64::NEG_INFINITY } - exact).value.abs();
            let bound = wide.error;
            let g = upper(&gap);
            assert!(g <= bound || gap.is_zero(), "{what}: off by 2^{g} beyond its bound 2^{bound}");
        };
        let mut cancelled = 0;
        for case in 0..300 {
            // Terms 1 + k·2^-e, which cancel to about 2^-(2e) or 2^-(3e) in products.
            let e: u32 = rng.random_range(20..300);
            let term = |k: i64| BigRational::from_integer(1.into()) + BigRational::new(k.into(), num_bigint::BigInt::from(2).pow(e));
            let third = BigRational::new(1.into(), 3.into());
            let (a, b) = (term(rng.random_range(1..9)) * &third, term(rng.random_range(1..9)) * &third);
            let (wa, wb) = (Wide::from_rational(&a), Wide::from_rational(&b));
            let cubic = |x: &BigRational| {
                x * x * x - BigRational::from_integer(3.into()) * x * x + BigRational::from_integer(3.into()) * x
                    - BigRational::from_integer(1.into())
            };
            let wcubic = |x: &Wide| {
                x.clone() * x.clone() * x.clone() - Wide::from_f64(3.0) * x.clone() * x.clone() + Wide::from_f64(3.0) * x.clone() - Wide::one()
            };
            let three = BigRational::from_integer(3.into());
            let (ta, tb) = (&a * &three, &b * &three);
            let (wta, wtb) = (wa.clone() * Wide::from_f64(3.0), wb.clone() * Wide::from_f64(3.0));
            within(&(wa.clone() - wb.clone()), &(&a - &b), &format!("case {case}: a - b"));
            within(&(wa.clone() * wb.clone() - wb.clone() * wa.clone()), &BigRational::from_integer(0.into()), &format!("case {case}: ab - ba"));
            within(&wcubic(&wta), &cubic(&ta), &format!("case {case}: cubic"));
            let difference = wcubic(&wta) - wcubic(&wtb);
            within(&difference, &(cubic(&ta) - cubic(&tb)), &format!("case {case}: cubic difference"));
            within(&((wa.clone() - wb.clone()) / (wa.clone() + wb.clone())), &((&a - &b) / (&a + &b)), &format!("case {case}: quotient"));
            if difference.value.is_zero() || difference.error > -300.0 {
                cancelled += 1;
            }
            // Functions: against 640 bits, each within its own bound.
            for (x, name) in [(wta.clone() - wtb.clone() + Wide::one(), "shifted"), (wa.clone(), "a")] {
                let high = Wider::from_rational(&(&ta - &tb + BigRational::from_integer(1.into())));
                let high = if name == "a" { Wider::from_rational(&a) } else { high };
                for (low, high, f) in [(x.exp(), high.exp(), "exp"), (x.ln(), high.ln(), "log"), (x.sqrt(), high.sqrt(), "sqrt")] {
                    let (low, high) = (low.unwrap(), high.unwrap());
                    let gap = (Wider { value: low.value.clone(), error: f64::NEG_INFINITY }
                        - Wider { value: high.value.clone(), error: f64::NEG_INFINITY })
                    .value
                    .abs();
                    let g = upper(&gap);
                    assert!(
                        gap.is_zero() || g <= log2_sum(low.error, high.error),
                        "case {case}: {f} of {name} off by 2^{g}, bounds 2^{} and 2^{}",
                        low.error,
                        high.error
                    );
                }
            }
        }
        assert!(cancelled > 50, "the cases must cancel below the precision ({cancelled} did)");
    }

    /// The reduced `exp` against the correctly rounded one, over arguments from 10^-6 to
    /// 5·10^6 of both signs: within 2 ulps (or both overflow or underflow alike).
    #[test]
    fn exponentials_are_within_two_ulps() {
        fn check<const BITS: usize>() {
            let third = Precise::<BITS>::from_f64(1.0) / Precise::from_f64(3.0);
            for i in 0..400 {
                let f = ((i as f64) * 0.739).sin() * 10f64.powi(i % 13 - 6) * if i % 2 == 0 { 1.0 } else { 50.0 };
                let x = (Precise::<BITS>::from_f64(f) * third.clone()).value;
                let (ours, exact) = with_consts(|cc| (reduced_exp(&x, BITS, cc), x.exp(BITS, ROUND, cc))).unwrap();
                let (gap, scale) = Precise::<BITS>::exact(ours).gap(&Precise::exact(exact));
                if let (Some(gap), Some(scale)) = (gap, scale) {
                    assert!(gap <= scale - BITS as i32 + 2, "{BITS} bits, exp({f}/3): off by 2^{gap} at 2^{scale}");
                }
            }
        }
        check::<320>();
        check::<640>();
    }

    /// Newton's square root against the correctly rounded one, over magnitudes from 2^-3000
    /// to 2^3000: within 2 ulps, and exact where the root is a short dyadic number.
    #[test]
    fn square_roots_are_within_two_ulps_and_exact_for_squares() {
        fn check<const BITS: usize>() {
            let mut x = Precise::<BITS>::from_rational(&BigRational::new(2.into(), 3.into()));
            let step = Precise::<BITS>::from_rational(&BigRational::new(1_000_003.into(), 7.into()));
            for i in 0..400 {
                let exact = x.value.sqrt(BITS, ROUND);
                let ours = newton_sqrt(&x.value, BITS);
                let (gap, scale) = Precise::<BITS>::exact(ours).gap(&Precise::exact(exact));
                if let (Some(gap), Some(scale)) = (gap, scale) {
                    assert!(gap <= scale - BITS as i32 + 2, "{BITS} bits, case {i}: off by 2^{gap} at 2^{scale}");
                }
                x = if i < 200 { x * step.clone() } else { x / (step.clone() * step.clone()) };
            }
            for (square, root) in [(4.0, 2.0), (2.25, 1.5), (1.0, 1.0), (0.0, 0.0), (2f64.powi(-1000), 2f64.powi(-500)), (1e10, 1e5)] {
                assert_eq!(Precise::<BITS>::from_f64(square).sqrt().unwrap().gap(&Precise::from_f64(root)).0, None, "√{square}");
            }
            assert!(Precise::<BITS>::from_f64(-1.0).sqrt().is_none());
        }
        check::<320>();
        check::<640>();
    }

    #[test]
    fn a_wide_float_converts_to_the_nearest_double_without_decimal_text() {
        let third = Wide::one() / Wide::from_f64(3.0);
        assert_eq!(third.to_f64(), 1.0 / 3.0);
        for x in [1.0, -2.5, 1e-300, 3.0e300, 123456789.0, f64::MIN_POSITIVE, 0.1] {
            assert_eq!(Wide::from_f64(x).to_f64(), x, "{x}");
            assert_eq!(Wider::from_f64(x).to_f64(), x, "{x}");
        }
        let tiny = Wide::from_f64(-700.0).exp().unwrap();
        assert_eq!(tiny.to_f64(), tiny.text().parse::<f64>().unwrap());
        assert_eq!((Wide::from_f64(1e300) * Wide::from_f64(1e300)).to_f64(), f64::INFINITY);
        assert_eq!(Wide::zero().to_f64(), 0.0);
    }

    /// Small numerators and denominators are converted directly, large ones from their
    /// digits; both are exact, so they agree with the quotient computed in the float.
    #[test]
    fn rationals_convert_exactly_whatever_their_size() {
        let r = |n: &str, d: &str| BigRational::new(n.parse().unwrap(), d.parse().unwrap());
        let big = "-170141183460469231731687303715884105729"; // -(2^127 + 1): past i128
        for (n, d) in [("9", "10"), ("-3", "7"), ("12345678901234567890123", "-1000")] {
            let quotient = Wide::from_f64(n.parse().unwrap()) / Wide::from_f64(d.parse().unwrap());
            let direct = Wide::from_rational(&r(n, d));
            assert_eq!(direct.to_f64(), n.parse::<f64>().unwrap() / d.parse::<f64>().unwrap(), "{n}/{d}");
            if n.len() < 16 {
                assert!(direct.same(&quotient), "{n}/{d}: {} against {}", direct.text(), quotient.text());
            }
        }
        // Every digit of an integer past 127 bits survives.
        let digits: String = Wide::from_rational(&r(big, "1")).text().chars().filter(|c| c.is_ascii_digit()).collect();
        assert!(digits.starts_with(&big[1..]), "{digits}");
        assert!(Wide::from_rational(&r(big, "1")).to_f64() < -1.7e38);
    }

    #[test]
    fn numbers_both_precisions_round_alike_are_known() {
        let r = |n: num_bigint::BigInt, d: num_bigint::BigInt| BigRational::new(n, d);
        let two = num_bigint::BigInt::from(2);
        let big = |bits: u32| two.pow(bits);
        // (2^700 + 1)/2^700: 1 in both precisions.
        assert!(rounds_alike(&r(big(700) + 1, big(700))));
        // Held exactly in 640 bits, or small enough that 640 bits see more than 320.
        assert!(!rounds_alike(&r(big(400) + 1, big(400))));
        assert!(!rounds_alike(&r(big(255) + 1, big(200) * 3)));
        assert!(!rounds_alike(&r(9.into(), 10.into())));
        assert!(!rounds_alike(&r(big(1000), 1.into())));
        // (10^216 + 1)/10^216, a long decimal: not held, and too long to tell.
        let ten = num_bigint::BigInt::from(10).pow(216);
        assert!(rounds_alike(&r(ten.clone() + 1, ten)));
    }

    #[test]
    fn whole_numbers_key_alike_in_every_float_precision() {
        assert_eq!(Wide::from_f64(7.0).key(), 7.0f64.key());
        assert_eq!(Wider::from_f64(-3.0).key(), (-3.0f64).key());
        assert_eq!((-Wide::zero()).key(), 0.0f64.key());
        assert_ne!((Wide::one() / Wide::from_f64(3.0)).key(), (1.0f64 / 3.0).key());
    }
}
