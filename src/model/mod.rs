//! Random models of a file, shared by the exact, float and Monte Carlo layers, generic over
//! the number type: exact rationals (`BigRational`), `f64`, or 320-bit floats (`Wide`).
//!
//! A model draws free scalars inside their `assume` ranges, gives every free sequence
//! element, vector and matrix random entries of its declared shape, gives every application
//! of an uninterpreted function its own random value (the same each time it is asked: a
//! consistent "oracle", applied entry by entry to vectors and matrices), and computes
//! everything a `def` or `given` defines from its definition.
//!
//! Randomness is a finite probability space, drawn afresh at every point: 2, 3, 5 or 7
//! outcomes with random rational probabilities, and every random quantity (a sequence
//! element, a function value, a name tied to them) has a value per outcome, so `E[…]` is an
//! exact weighted average. Spaces of several sizes and uneven weights keep an inequality
//! true only of small uniform spaces (`E[g^4] <= 4 E[g^2]^2` on 4 equally likely outcomes)
//! from passing. A `given` that fixes a mean (`E[g[i]] = mu`) shifts the outcomes of every
//! `g[i]` to that mean.
//!
//! Architecture invariant: nothing here uses the symbolic layer; index arithmetic comes from
//! `language::affine`, which both layers read.

mod draw;
mod eval;
mod number;
mod trace;
mod value;

use std::collections::{BTreeSet, HashMap, HashSet};

use num_bigint::BigInt;
use num_rational::BigRational;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use number::{DOUBT_REASON, Number, Precise, Wide, Wider, settle, take_doubt};
pub use trace::{LANES, Tape, Trace, Traced};
pub use value::{Stop, Value, compare};
use value::{na, scale};

use crate::language::Kinds;
use crate::language::affine::Affine;
use crate::language::ast::{Expr, ExprKind, Fact, Kind};

/// A `def` or `given` that defines a value: `x = …`, `v[t] = …`, `f(a, b) = …` for the
/// pattern variables `vars` where `conditions` hold.
#[derive(Debug, Clone)]
pub struct Definition {
    pub name: String,
    pub lhs: Expr,
    pub rhs: Expr,
    pub vars: Vec<(String, Kind)>,
    pub conditions: Vec<Fact>,
}

/// Everything needed to build models of a file at one point of it.
#[derive(Debug, Clone, Default)]
pub struct ModelSpec {
    /// The `def`s and `given`s that define a value: `x = …`, `v[t] = …`, `f(a, b) = …`.
    pub definitions: Vec<Definition>,
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
    /// Names that are random (see `language::elaborate`); sequences and functions always are.
    pub random: BTreeSet<String>,
    /// Functions whose values lie in `[-c, c]` (`given abs(f(z)) <= c for z`), with `c` and
    /// whether the bound is strict.
    pub bounded: HashMap<String, (Expr, bool)>,
    /// Givens `E[leaf] = value` that fix the mean of random leaves.
    pub means: Vec<Definition>,
    /// Givens the models cannot satisfy by construction, with the names they mention: a claim
    /// that depends on one of these names gets no model.
    pub unsatisfied: Vec<(String, BTreeSet<String>)>,
    /// A magnitude beyond every constant of the file: some draws go that far.
    pub scale: BigRational,
    /// Why no model can be built for the claim at hand (it depends on an unsatisfied given).
    pub unusable: Option<String>,
    /// A witness's model: every value comes from the witness or a definition, nothing is
    /// drawn, and a concrete function has no exact value.
    pub closed: bool,
    /// Every function must have a concrete meaning or a definition (a derivative check: a
    /// random function has no derivative).
    pub smooth: bool,
}

/// How many outcomes the finite probability space may have, point by point.
const SPACE_SIZES: [usize; 4] = [2, 3, 5, 7];

/// How large an exact number a point may compute (a recurrence that squares doubles the
/// size of its numbers at every step).
const MAX_BITS: u64 = 100_000;

/// How many evaluation steps one point may take.
const WORK: u64 = 1_000_000;

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

/// What a dimension's size gains, by round (see `Model::size_round`).
pub const SIZE_BUMPS: [usize; 3] = [0, 1, 3];

/// What a remembered value is stored under: a name and its arguments, compared exactly
/// (rationals as they are, floats by their bits).
type Key = (String, Vec<KeyPart>);

#[derive(Debug, Clone)]
pub enum KeyPart {
    Exact(BigRational),
    Bits(u64),
    Shape(usize, usize),
    Ones(bool),
    Identity,
    /// A number too precise for the others, by its binary parts as they are (mantissa words,
    /// significant bits, exponent, sign): one value, one form at one precision; the same value
    /// at two precisions is two keys, which only costs a recomputation.
    Float(Vec<u64>, usize, i32, bool),
    /// Infinities and NaN, by their text.
    Text(String),
    /// Which outcome of the finite probability space a random value is for.
    Outcome(usize),
}

/// A rational is kept in lowest terms with a positive denominator, so its numerator and
/// denominator are one form per value: they are compared and hashed as they are
/// (num-rational's own comparison and hash reduce it again, by division, at every call).
impl PartialEq for KeyPart {
    fn eq(&self, other: &KeyPart) -> bool {
        match (self, other) {
            (KeyPart::Exact(a), KeyPart::Exact(b)) => a.numer() == b.numer() && a.denom() == b.denom(),
            (KeyPart::Bits(a), KeyPart::Bits(b)) => a == b,
            (KeyPart::Shape(a, b), KeyPart::Shape(c, d)) => (a, b) == (c, d),
            (KeyPart::Ones(a), KeyPart::Ones(b)) => a == b,
            (KeyPart::Identity, KeyPart::Identity) => true,
            (KeyPart::Float(a, b, c, d), KeyPart::Float(e, f, g, h)) => (a, b, c, d) == (e, f, g, h),
            (KeyPart::Text(a), KeyPart::Text(b)) => a == b,
            (KeyPart::Outcome(a), KeyPart::Outcome(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for KeyPart {}

impl std::hash::Hash for KeyPart {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            KeyPart::Exact(r) => {
                r.numer().hash(state);
                r.denom().hash(state);
            }
            KeyPart::Bits(b) => b.hash(state),
            KeyPart::Shape(r, c) => (r, c).hash(state),
            KeyPart::Ones(o) => o.hash(state),
            KeyPart::Identity => {}
            KeyPart::Float(words, bits, exponent, negative) => (words, bits, exponent, negative).hash(state),
            KeyPart::Text(t) => t.hash(state),
            KeyPart::Outcome(o) => o.hash(state),
        }
    }
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
    /// The free values an evaluation used, in order, as text: what a counterexample shows.
    touched: Vec<(String, String)>,
    /// For a random value shown at every outcome: its plain label and its value at the
    /// outcome evaluated, shown instead when no expectation averaged over the outcomes.
    at_outcome: HashMap<String, (String, String)>,
    /// Whether an expectation averaged over the outcomes since the values were last cleared.
    pub averaged: bool,
    in_progress: HashSet<Key, Fnv>,
    /// Per sequence (and outcome), the index up to which `warm_up` has filled the memo.
    warmed: HashMap<Key, i64, Fnv>,
    /// A definition whose value is scaled by a factor: the negative control of trajectories.
    perturbed: Option<(String, BigRational)>,
    /// Values fixed from outside (Monte Carlo draws of random sequences).
    pub fixed: HashMap<Key, Value<N>, Fnv>,
    /// Monte Carlo: `E[X]` evaluates to one draw of `X` (and `E(x ~ N(0, I))` draws `x`).
    pub sampling: bool,
    /// Monte Carlo: every draw must come from a stated distribution (a traced path, a
    /// replayed one, a simulation claim's paths): any other would make a value up, and is
    /// refused.
    pub distributions_only: bool,
    /// A replayed path's standard normal draws, in order: used before the stream.
    pub pinned: Option<std::collections::VecDeque<f64>>,
    /// Whether a vector or matrix without a declared shape was given a default size: then
    /// a size mismatch may be ours, not the derivation's.
    pub guessed_shapes: bool,
    /// Outcomes of the probability space (1 when Monte Carlo samples), and the current one.
    pub outcomes: usize,
    /// The probability of each outcome (they sum to 1).
    probabilities: Vec<N>,
    outcome: usize,
    /// Which round of sizes this point takes (random points only; the other checks keep the
    /// sizes as given): each named dimension adds one of `SIZE_BUMPS` to its size, a
    /// different one per dimension and round, so that an identity true only for 2×2
    /// matrices, or only where `m = n + 1`, does not pass.
    pub size_round: Option<usize>,
    /// Whether `exp_elem` or a softmax was evaluated with a random positive function in place
    /// of `exp` (exact models): a refutation must then be confirmed with `exp` itself.
    pub used_oracle: bool,
    /// Whether a value came from quadrature (a Gaussian expectation): compare it to a
    /// quadrature's tolerance, not to double precision.
    pub approximate: bool,
    /// Evaluation steps taken at this point.
    work: u64,
    /// Whether a high-precision float lost an input to rounding since the last reset: a term
    /// absorbed by a sum (`1 + 10^-200`), `exp` of an argument below the precision, `tanh` or
    /// `sigmoid` saturated to their limit. A verdict the floats alone give from such a value
    /// says nothing (`log(1 + x) < x/2` at x = 10^-200).
    pub lost: bool,
    /// Whether a high-precision float read a number its two precisions may round alike since
    /// the last reset (`number::rounds_alike`): the float layer cannot tell a difference it
    /// makes from rounding.
    pub rounded_literal: bool,
    /// Whether a double-precision `exp` fell below the normal range since the last reset: its
    /// value has lost most of its digits (a quadrature value is not rechecked in higher
    /// precision, so it must not refute from there).
    pub underflowed: bool,
    /// The binary exponent of the largest term a sum added since the last reset
    /// (high-precision floats only): the scale of the rounding error of what it left.
    pub largest: Option<i32>,
    /// Points started so far: every few points an assumed scalar sits on an allowed end of
    /// its range, so that endpoints are met whatever the random stream does.
    points: u64,
    /// Draw integer variables near their lower end (0 to 3 above it): to look for a small
    /// counterexample once a point refutes a step.
    pub small_integers: bool,
    /// Read `exp(k)` as `base^k` for whole k (exact witness models only): the value of an
    /// expression made of field operations and `exp` of whole numbers is then the value at
    /// `base` of a rational function in e (see `evidence::witness`).
    exp_base: Option<N>,
}

impl<'s, N: Number> Model<'s, N> {
    pub fn new(spec: &'s ModelSpec, seed: u64) -> Model<'s, N> {
        Model {
            spec,
            rng: ChaCha8Rng::seed_from_u64(seed),
            values: HashMap::default(),
            labels: HashMap::default(),
            touched: Vec::new(),
            at_outcome: HashMap::new(),
            averaged: false,
            in_progress: HashSet::default(),
            warmed: HashMap::default(),
            perturbed: None,
            fixed: HashMap::default(),
            sampling: false,
            distributions_only: false,
            pinned: None,
            guessed_shapes: false,
            outcomes: 1,
            probabilities: vec![N::one()],
            outcome: 0,
            size_round: None,
            used_oracle: false,
            approximate: false,
            work: 0,
            lost: false,
            rounded_literal: false,
            underflowed: false,
            largest: None,
            points: 0,
            small_integers: false,
            exp_base: None,
        }
    }

    pub fn perturb(&mut self, definition: &str, factor: BigRational) {
        self.perturbed = Some((definition.to_string(), factor));
    }

    /// How many points have started: draws that must come now and then, whatever the random
    /// stream does, take their turn by it.
    pub fn turn(&self) -> u64 {
        self.points
    }

    /// Beyond every constant of the file: a whole number at least 10.
    pub fn spec_scale(&self) -> i64 {
        num_traits::ToPrimitive::to_i64(&self.spec.scale.to_integer()).unwrap_or(i64::MAX / 4)
    }

    /// Draws the probability space of a point: how many outcomes, and their probabilities
    /// (whole weights from 1 to 9, normalized). Monte Carlo samples instead: one outcome.
    fn draw_space(&mut self) {
        if self.sampling || self.spec.closed {
            self.outcomes = 1;
            self.probabilities = vec![N::one()];
            return;
        }
        self.outcomes = SPACE_SIZES[self.rng.random_range(0..SPACE_SIZES.len())];
        let weights: Vec<i64> = (0..self.outcomes).map(|_| self.rng.random_range(1..=9)).collect();
        let total: i64 = weights.iter().sum();
        self.probabilities = weights.iter().map(|w| N::from_rational(&BigRational::new((*w).into(), total.into()))).collect();
    }

    /// The probability-weighted sum of one value per outcome: an expectation.
    pub(super) fn expectation(&self, values: Vec<Value<N>>) -> Result<Value<N>, Stop> {
        let mut total: Option<Value<N>> = None;
        for (v, p) in values.into_iter().zip(&self.probabilities) {
            let v = scale(&v, p)?;
            total = Some(match total {
                None => v,
                Some(t) => value::add(t, v)?,
            });
        }
        Ok(total.unwrap_or(Value::S(N::zero())))
    }

    /// A fresh point: forget every value, keep the random stream.
    pub fn reset(&mut self) {
        self.values.clear();
        self.labels.clear();
        self.clear_shown();
        self.in_progress.clear();
        self.outcome = 0;
        self.work = 0;
        self.lost = false;
        self.rounded_literal = false;
        self.underflowed = false;
        self.largest = None;
        self.points += 1;
        self.warmed.clear();
        self.draw_space();
        self.used_oracle = false;
        self.approximate = false;
    }

    /// Counts one evaluation step; a point that takes too many is given up (nested sums and
    /// long recursions are bounded by this, not by the stack).
    fn spend(&mut self) -> Result<(), Stop> {
        self.spend_many(1)
    }

    fn spend_many(&mut self, steps: u64) -> Result<(), Stop> {
        self.work = self.work.saturating_add(steps);
        if self.work > WORK { na(format!("evaluating it takes more than {WORK} steps at one point")) } else { Ok(()) }
    }

    /// Monte Carlo: the values of every quantity that is not random, drawn on the first sample
    /// path, stay for all later paths (a constant is one number for the whole check).
    /// What this point drew that no distribution gives: free names and the checker's own
    /// stand-ins for random leaves.
    pub fn drawn_without_distribution(&self) -> Vec<String> {
        let mut out: Vec<String> =
            self.labels.iter().filter(|((name, _), _)| !self.spec.distributions.contains_key(name)).map(|(_, label)| label.clone()).collect();
        out.sort();
        out
    }

    pub fn freeze_constants(&mut self) {
        let constants: Vec<(Key, Value<N>)> = self
            .values
            .iter()
            .filter(|((name, _), _)| !self.random_head(name) && !self.spec.distributions.contains_key(name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.fixed.extend(constants);
    }

    /// The values fixed here, for a model in another precision: the same numbers, under that
    /// precision's keys (a double index `1.0` is the key `1` of a 320-bit model).
    pub fn fixed_as<M: Number>(&self) -> HashMap<Key, Value<M>, Fnv> {
        let convert = |x: &N| M::from_f64(x.to_f64());
        self.fixed
            .iter()
            .map(|((name, parts), v)| {
                let parts = parts
                    .iter()
                    .map(|p| if let KeyPart::Bits(b) = p { convert(&N::from_f64(f64::from_bits(*b))).key() } else { p.clone() })
                    .collect();
                ((name.clone(), parts), v.map(convert))
            })
            .collect()
    }

    /// The name of the first definition that gives `name[args]` a value here, if any.
    pub fn defined_by(&mut self, name: &str, args: &[Value<N>]) -> Result<Option<String>, Stop> {
        for d in &self.spec.definitions {
            if let Some(env) = instance(&d.lhs, &d.vars, name, args)
                && self.conditions_hold(&d.conditions, &env)?
            {
                return Ok(Some(d.name.clone()));
            }
        }
        Ok(None)
    }

    /// Keeps every value drawn so far fixed across `reset`: the same inputs for a second
    /// evaluation (a derivative check perturbs one of them).
    pub fn keep_drawn(&mut self) {
        for key in self.labels.keys() {
            if let Some(v) = self.values.get(key) {
                self.fixed.insert(key.clone(), v.clone());
            }
        }
    }

    /// Whether the value of `name[args]` is fixed (drawn and kept, or fixed from outside).
    pub fn is_fixed(&self, name: &str, args: &[Value<N>]) -> bool {
        self.fixed.contains_key(&(name.to_string(), args.iter().flat_map(key_parts).collect()))
    }

    /// Fixes the value of a name or sequence element from outside: a witness's literal.
    pub fn fix(&mut self, name: &str, args: &[Value<N>], value: Value<N>) {
        self.fixed.insert((name.to_string(), args.iter().flat_map(key_parts).collect()), value);
    }

    /// Forgets the values shown so far: the next evaluation starts a counterexample afresh.
    pub fn clear_shown(&mut self) {
        self.touched.clear();
        self.at_outcome.clear();
        self.averaged = false;
    }

    /// The values a counterexample shows: a random value at every outcome when an
    /// expectation averaged over them, otherwise at the one outcome the sides were evaluated at.
    pub fn shown(&self) -> Vec<(String, String)> {
        self.touched
            .iter()
            .map(|(label, value)| match self.at_outcome.get(label) {
                Some(single) if !self.averaged => single.clone(),
                _ => (label.clone(), value.clone()),
            })
            .collect()
    }

    /// Whether the values of a name vary with the outcome.
    fn random_head(&self, name: &str) -> bool {
        matches!(self.spec.kinds.get(name), Some(Kind::Sequence(_) | Kind::Function)) || self.spec.random.contains(name)
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
        if let Some(label) = self.labels.get(key)
            && !self.touched.iter().any(|(l, _)| l == label)
        {
            self.touched.push((label.clone(), value.to_string()));
        }
    }

    /// The value of a name, sequence element or function application: remembered, defined,
    /// or drawn.
    pub fn value(&mut self, name: &str, args: Vec<Value<N>>) -> Result<Value<N>, Stop> {
        let random = self.random_head(name) && self.outcomes > 1;
        let mut parts: Vec<KeyPart> = args.iter().flat_map(key_parts).collect();
        if random {
            parts.push(KeyPart::Outcome(self.outcome));
        }
        let key: Key = (name.to_string(), parts);
        if let Some(v) = self.fixed.get(&key).cloned() {
            return Ok(v);
        }
        if let Some(v) = self.values.get(&key).cloned() {
            self.touch(&key, &v);
            return Ok(v);
        }
        self.warm_up(name, &args)?;
        if !self.in_progress.insert(key.clone()) {
            return na(format!("the definitions of `{name}` refer to each other in a cycle"));
        }
        let defined = self.defined(name, &args);
        self.in_progress.remove(&key);
        let value = match defined? {
            // `given p = 0` for a vector or matrix: the zero of its declared shape.
            Some(Value::S(zero)) if self.shaped(name) && zero.is_zero() => {
                let element = match self.spec.kinds.get(name) {
                    Some(Kind::Sequence(of)) => (**of).clone(),
                    Some(k) => k.clone(),
                    None => Kind::Scalar,
                };
                Value::M(self.zeros(name, &element))
            }
            Some(v) => v,
            // A size is not drawn: the witness's shapes and `with` give it.
            None if self.spec.closed && !self.is_dimension(name) => {
                return na(format!("the witness gives no value for `{}`", label_of(self.spec, name, &args)));
            }
            None if self.spec.smooth && self.spec.kinds.get(name) == Some(&Kind::Function) => {
                return na(format!("`{name}` has no concrete meaning, so no derivative (give one: `with {name} = tanh`)"));
            }
            None if random => return self.draw_outcomes(name, args),
            None => {
                let v = self.draw_for(name, &args)?;
                self.remember_drawn(&key, name, &args, &v);
                v
            }
        };
        if value.bits() > MAX_BITS {
            return na(format!("the exact numbers grow beyond {MAX_BITS} bits (at `{}`)", label_of(self.spec, name, &args)));
        }
        self.values.insert(key, value.clone());
        Ok(value)
    }

    /// A random leaf: its values at every outcome at once, shifted to the mean a `given`
    /// fixes (`E[g[i]] = mu`); the value at the current outcome.
    fn draw_outcomes(&mut self, name: &str, args: Vec<Value<N>>) -> Result<Value<N>, Stop> {
        let mut draws = Vec::with_capacity(self.outcomes);
        for _ in 0..self.outcomes {
            draws.push(self.draw_for(name, &args)?);
        }
        if let Some(mean) = self.fixed_mean(name, &args)? {
            let average = self.expectation(draws.clone())?;
            let shift = value::add(mean, scale(&average, &-N::one())?)?;
            for d in draws.iter_mut() {
                *d = value::add(d.clone(), shift.clone())?;
            }
        }
        for (outcome, v) in draws.iter().enumerate() {
            let mut parts: Vec<KeyPart> = args.iter().flat_map(key_parts).collect();
            parts.push(KeyPart::Outcome(outcome));
            self.values.insert((name.to_string(), parts), v.clone());
        }
        // A counterexample shows a random value at every outcome (a sample path shows none).
        if !self.sampling {
            let key: Key = (name.to_string(), args.iter().flat_map(key_parts).chain([KeyPart::Outcome(self.outcome)]).collect());
            let probabilities: Vec<String> = self.probabilities.iter().map(|p| p.to_string()).collect();
            let label = format!("{} over {} outcomes of probabilities {}", label_of(self.spec, name, &args), self.outcomes, probabilities.join(", "));
            if !self.touched.iter().any(|(l, _)| *l == label) {
                let shown: Vec<String> = draws.iter().map(|v| v.to_string()).collect();
                self.labels.insert(key, label.clone());
                self.at_outcome.insert(label.clone(), (label_of(self.spec, name, &args), draws[self.outcome].to_string()));
                self.touched.push((label, shown.join(" | ")));
            }
        }
        Ok(draws[self.outcome].clone())
    }

    fn remember_drawn(&mut self, key: &Key, name: &str, args: &[Value<N>], v: &Value<N>) {
        self.labels.insert(key.clone(), label_of(self.spec, name, args));
        self.touch(key, v);
    }

    /// The mean a `given E[leaf] = value` fixes for this leaf, if one applies.
    fn fixed_mean(&mut self, name: &str, args: &[Value<N>]) -> Result<Option<Value<N>>, Stop> {
        let mut fixed: Option<(String, Value<N>)> = None;
        for d in &self.spec.means {
            let ExprKind::Expect { body, .. } = &d.lhs.kind else { continue };
            let Some(env) = instance(body, &d.vars, name, args) else { continue };
            if self.conditions_hold(&d.conditions, &env)? {
                let mean = self.eval(&d.rhs, &env)?;
                // Two givens that fix this mean must agree here, or the point is no model.
                match &fixed {
                    None => fixed = Some((d.name.clone(), mean)),
                    Some((first, m)) if !value::compare(m, crate::language::ast::Rel::Eq, &mean)? => {
                        return Err(Stop::Invalid(format!("`{first}` and `{}` give `{}` different means", d.name, label_of(self.spec, name, args))));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(fixed.map(|(_, m)| m))
    }

    /// Whether the givens that fix means hold at this point: each closed one, and each one
    /// with a `for` variable at the first indices its conditions allow (where two givens
    /// overlap, they must agree). A counterexample is shown only where they do.
    pub fn means_hold(&mut self) -> Result<bool, Stop> {
        let means = self.spec.means.clone();
        for d in &means {
            let envs: Vec<HashMap<String, Value<N>>> = match d.vars.as_slice() {
                [] => vec![HashMap::new()],
                [(var, _)] => (0..=12).map(|i| HashMap::from([(var.clone(), int(i))])).collect(),
                _ => continue,
            };
            for env in envs {
                if !self.conditions_hold(&d.conditions, &env)? {
                    continue;
                }
                let (mean, stated) = match (self.eval(&d.lhs, &env), self.eval(&d.rhs, &env)) {
                    (Ok(m), Ok(s)) => (m, s),
                    (Err(Stop::Invalid(_)), _) | (_, Err(Stop::Invalid(_))) => return Ok(false),
                    (Err(e), _) | (_, Err(e)) => return Err(e),
                };
                if !value::compare(&mean, crate::language::ast::Rel::Eq, &stated)? {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    fn conditions_hold(&mut self, conditions: &[Fact], env: &HashMap<String, Value<N>>) -> Result<bool, Stop> {
        for c in conditions {
            if !self.holds(c, env)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Before a far element of a recursively defined sequence (`v[2000]`), its earlier
    /// elements in strides, so that the recursion below each stays shallow.
    fn warm_up(&mut self, name: &str, args: &[Value<N>]) -> Result<(), Stop> {
        const STRIDE: i64 = 64;
        let [Value::S(i)] = args else { return Ok(()) };
        // Most indices are small: nothing to do, and nothing to look up.
        let Some(k) = i.as_index().filter(|k| *k > 2 * STRIDE) else { return Ok(()) };
        if !matches!(self.spec.kinds.get(name), Some(Kind::Sequence(_))) {
            return Ok(());
        }
        let Some(base) = self.spec.definitions.iter().filter(|d| matches!(&d.lhs.kind, ExprKind::Index(n, _) if n == name)).map(lower_bound).min()
        else {
            return Ok(());
        };
        let key_outcome = if self.random_head(name) && self.outcomes > 1 { vec![KeyPart::Outcome(self.outcome)] } else { vec![] };
        // Where an earlier warm-up of this sequence stopped: each stride is visited once, so
        // a recurrence of length k costs O(k), not O(k²/STRIDE).
        let mark: Key = (name.to_string(), key_outcome.clone());
        let mut j = self.warmed.get(&mark).copied().unwrap_or(base) + STRIDE;
        while j < k - STRIDE {
            self.warmed.insert(mark.clone(), j);
            let key: Key = (name.to_string(), key_parts(&int::<N>(j)).into_iter().chain(key_outcome.clone()).collect());
            if !self.values.contains_key(&key) && !self.in_progress.contains(&key) {
                self.value(name, vec![int(j)])?;
            }
            j += STRIDE;
        }
        Ok(())
    }

    /// The value a definition gives, if one applies here.
    /// A free value: for a function of several arguments among which column vectors of one
    /// length, a vector of that length (its kind is its arguments', as in
    /// `dL(t, w) + 2*gamma*w`); of vectors of several lengths, none; a function of one vector
    /// applies entry by entry before this (`call`).
    fn draw_for(&mut self, name: &str, args: &[Value<N>]) -> Result<Value<N>, Stop> {
        let lengths: std::collections::BTreeSet<usize> = args
            .iter()
            .filter_map(|a| match a {
                Value::M(m) if m.ncols() == 1 => Some(m.nrows()),
                _ => None,
            })
            .collect();
        if lengths.len() > 1 && self.spec.kinds.get(name) == Some(&Kind::Function) {
            return na(format!("`{name}` of vectors of several lengths: the length of its value is not known"));
        }
        match (self.spec.kinds.get(name), lengths.into_iter().next()) {
            (Some(Kind::Function), Some(rows)) => {
                let mut out = nalgebra::DMatrix::from_element(rows, 1, N::zero());
                for i in 0..rows {
                    let Value::S(x) = self.draw(name)? else { return self.draw(name) };
                    out[(i, 0)] = x;
                }
                Ok(Value::M(out))
            }
            _ => self.draw(name),
        }
    }

    /// Whether `name` (or each element of the sequence `name`) is a vector or matrix.
    fn shaped(&self, name: &str) -> bool {
        match self.spec.kinds.get(name) {
            Some(Kind::Sequence(of)) => matches!(**of, Kind::Vector | Kind::Matrix),
            Some(k) => matches!(k, Kind::Vector | Kind::Matrix),
            None => false,
        }
    }

    fn defined(&mut self, name: &str, args: &[Value<N>]) -> Result<Option<Value<N>>, Stop> {
        if let Some(concrete) = self.spec.float_functions.get(name) {
            if N::EXACT && self.spec.closed {
                return na(format!("`{name}` = {concrete} has no exact value"));
            }
            if let (false, [Value::S(x)]) = (N::EXACT, args) {
                self.lost |= N::PRECISION > 0 && saturates(concrete, x);
                return bounded_concrete_value(concrete, x).map(|v| Some(Value::S(v)));
            }
        }
        let mut found: Option<(String, Value<N>)> = None;
        for d in &self.spec.definitions {
            let Some(env) = instance(&d.lhs, &d.vars, name, args) else { continue };
            if !self.conditions_hold(&d.conditions, &env)? {
                continue;
            }
            if self.sampling && d.rhs.has_expectation() {
                return na(format!("`{}` defines `{name}` by an expectation, which one sample path cannot compute", d.name));
            }
            let value = self.eval(&d.rhs, &env)?;
            let value = match &self.perturbed {
                Some((p, factor)) if *p == d.name => scale(&value, &N::from_rational(factor))?,
                _ => value,
            };
            // Two givens that both apply must agree here, or no model satisfies both: the point
            // is not a model of the file, and nothing may be concluded from it.
            match &found {
                None => found = Some((d.name.clone(), value)),
                Some((first, v)) if !same_value(v, &value) => {
                    return Err(Stop::Invalid(format!("`{first}` and `{}` give {} different values here", d.name, label_of(self.spec, name, args))));
                }
                Some(_) => {}
            }
        }
        Ok(found.map(|(_, v)| v))
    }
}

/// Whether a concrete function at `x` loses it to rounding: `tanh` and `sigmoid` (and their
/// derivatives) round to their limits far out, and `exp` near 0 rounds to 1.
fn saturates<N: Number>(concrete: &str, x: &N) -> bool {
    let Some(m) = x.magnitude() else { return false };
    let far = m > 0 && x.to_f64().abs() > 0.3 * N::PRECISION as f64;
    let near_zero = m < 16 - N::PRECISION;
    match concrete {
        "tanh" | "dtanh" | "sigmoid" | "dsigmoid" => far || near_zero,
        "exp" => near_zero,
        _ => false,
    }
}

/// `concrete_value` with the rounding bound its derivative gives: each of these functions
/// moves by at most its input's error times its largest slope (1 for `tanh`, `relu` and
/// `dtanh`, 1/4 for `sigmoid`, 1/10 for `dsigmoid`), plus a few roundings of a value of size 1;
/// its own steps would see only the division and the branch, and compound them along a
/// recurrence. `exp` keeps the bound of its arithmetic.
fn bounded_concrete_value<N: Number>(concrete: &str, x: &N) -> Result<N, Stop> {
    let slope: f64 = match concrete {
        "tanh" | "relu" | "dtanh" => 1.0,
        "sigmoid" => 0.25,
        "dsigmoid" => 0.1,
        _ => return concrete_value(concrete, x),
    };
    let v = number::without_doubt(|| concrete_value(concrete, x))?;
    let scale = v.magnitude().map_or(0.0, |m| f64::from(m).max(0.0));
    let rounding = scale + 8.0 - f64::from(N::PRECISION);
    let bound = number::log2_sum(x.error_bound() + slope.log2(), rounding);
    Ok(v.with_error_bound(bound))
}

/// A concrete function (`builtins::CONCRETE`) at `x`, in the number type itself, so that a
/// 320-bit recheck is 320-bit throughout.
fn concrete_value<N: Number>(concrete: &str, x: &N) -> Result<N, Stop> {
    let exp = |y: N| y.exp().ok_or(Stop::Undefined);
    let one = N::one();
    let tanh = |x: &N| -> Result<N, Stop> {
        let e = exp(x.clone() + x.clone())?;
        Ok((e.clone() - one.clone()) / (e + one.clone()))
    };
    let sigmoid = |x: &N| -> Result<N, Stop> { Ok(one.clone() / (one.clone() + exp(-x.clone())?)) };
    Ok(match concrete {
        "tanh" => tanh(x)?,
        "dtanh" => {
            let t = tanh(x)?;
            one.clone() - t.clone() * t
        }
        "sigmoid" => sigmoid(x)?,
        "dsigmoid" => {
            let s = sigmoid(x)?;
            s.clone() * (one.clone() - s)
        }
        "relu" => {
            if *x > N::zero() {
                x.clone()
            } else {
                N::zero()
            }
        }
        "exp" => exp(x.clone())?,
        other => {
            let known: Vec<&str> = crate::language::builtins::CONCRETE.iter().map(|c| c.name).collect();
            return na(format!("unknown float function `{other}` ({})", known.join(", ")));
        }
    })
}

/// How a drawn value is named in a counterexample: `g[3]`, `f(1/2, 3)`, `beta`.
fn label_of<N: Number>(spec: &ModelSpec, name: &str, args: &[Value<N>]) -> String {
    match (spec.kinds.get(name), args) {
        (Some(Kind::Sequence(_)), [i]) => format!("{name}[{i}]"),
        (Some(Kind::Function), args) => format!("{name}({})", args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")),
        _ => name.to_string(),
    }
}

fn same_value<N: Number>(a: &Value<N>, b: &Value<N>) -> bool {
    compare(a, crate::language::ast::Rel::Eq, b).unwrap_or(false)
}

/// The least index a sequence's definition applies from (0 when its conditions say nothing).
fn lower_bound(d: &Definition) -> i64 {
    let ExprKind::Index(_, pattern) = &d.lhs.kind else { return 0 };
    let Some(p) = Affine::of(&pattern[0]) else { return 0 };
    let lows = d.conditions.iter().filter_map(|c| {
        let (ExprKind::Name(v), crate::language::ast::Rel::Ge) = (&c.lhs.kind, c.rel) else { return None };
        let bound = constant(&c.rhs)?.to_integer();
        let k = p.terms.get(v)?;
        i64::try_from(bound * k + &p.constant).ok()
    });
    lows.min().unwrap_or(0)
}

/// Binds a definition's argument patterns to concrete arguments: a pattern variable takes
/// the value (an integer variable only a whole one); `k·t + c` takes `(value - c)/k` when that
/// is whole; a constant must equal the value. `None` when the definition does not apply (or
/// cannot be solved for its variables: two unknowns in one index).
/// The values of a definition's `for` variables where its left side `lhs` (a name, `v[…]` or
/// `f(…)`) is `name` at `args`, if it is.
fn instance<N: Number>(lhs: &Expr, vars: &[(String, Kind)], name: &str, args: &[Value<N>]) -> Option<HashMap<String, Value<N>>> {
    let (head, patterns): (&String, &[Expr]) = match &lhs.kind {
        ExprKind::Name(n) => (n, &[]),
        ExprKind::Index(n, ps) | ExprKind::Call(n, ps) => (n, ps.as_slice()),
        _ => return None,
    };
    if head != name || patterns.len() != args.len() {
        return None;
    }
    bind(patterns, args, vars)
}

fn bind<N: Number>(patterns: &[Expr], args: &[Value<N>], vars: &[(String, Kind)]) -> Option<HashMap<String, Value<N>>> {
    let mut env: HashMap<String, Value<N>> = HashMap::new();
    let kind = |v: &str| vars.iter().find(|(n, _)| n == v).map(|(_, k)| k.clone());
    let put = |env: &mut HashMap<String, Value<N>>, v: &str, x: Value<N>| -> Option<()> {
        if kind(v) == Some(Kind::Integer) && !matches!(&x, Value::S(n) if n.as_index().is_some()) {
            return None;
        }
        if env.get(v).is_some_and(|old| *old != x) {
            return None;
        }
        env.insert(v.to_string(), x);
        Some(())
    };
    for (p, value) in patterns.iter().zip(args) {
        if let ExprKind::Name(v) = &p.kind
            && kind(v).is_some()
        {
            put(&mut env, v, value.clone())?;
            continue;
        }
        let Value::S(value) = value else { return None };
        let affine = Affine::of(p)?;
        let free: Vec<&String> = affine.terms.keys().filter(|v| kind(v).is_some()).collect();
        let c = N::from_rational(&BigRational::from_integer(affine.constant.clone()));
        match free.as_slice() {
            [] if affine.terms.is_empty() => {
                if !c.same(value) {
                    return None;
                }
            }
            [v] if affine.terms.len() == 1 => {
                let k = N::from_rational(&BigRational::from_integer(affine.terms[*v].clone()));
                let x = (value.clone() - c) / k;
                x.as_index()?;
                put(&mut env, v, Value::S(x))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_rationals_are_one_key_however_they_were_made() {
        use std::hash::{BuildHasher, RandomState};
        let q = |n: i64, d: i64| KeyPart::Exact(BigRational::new(n.into(), d.into()));
        let hasher = RandomState::new();
        for (a, b) in [(q(2, 4), q(1, 2)), (q(1, -2), q(-1, 2)), (q(0, 5), q(0, -3)), (q(6, 3), q(2, 1))] {
            assert_eq!(a, b);
            assert_eq!(hasher.hash_one(&a), hasher.hash_one(&b));
        }
        assert_ne!(q(1, 2), q(1, 3));
        assert_ne!(q(1, 2), q(-1, 2));
        assert_ne!(q(1, 1), KeyPart::Bits(1.0f64.to_bits()));
    }
}
