//! The exact layer: statements are evaluated at random rational points of a model of the
//! file, independently of the engine.
//!
//! The model draws free scalars inside their `assume` ranges, gives every free sequence
//! element and every application of an uninterpreted function its own random rational (the
//! same one each time it is asked for: a consistent "oracle"), and computes everything a
//! `def` or `given` defines from its definition. A step holds in the model when both sides
//! evaluate to the same rational; a counterexample lists the free values the two sides used.

use std::collections::{HashMap, HashSet};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::rewrite::Affine;
use super::symbolic::Kinds;
use crate::language::ast::{BigOp, BinOp, Binder, Expr, ExprKind, Fact, Kind, Rel};

/// A `def` or `given` that defines a value: `x = …`, `v[t] = …`, `f(a, b) = …`.
#[derive(Debug, Clone)]
pub struct Definition {
    pub name: String,
    pub lhs: Expr,
    pub rhs: Expr,
    pub vars: Vec<String>,
    pub conditions: Vec<Fact>,
}

/// Everything needed to build models of a file at one point of it.
#[derive(Debug, Clone, Default)]
pub struct ModelSpec {
    pub definitions: Vec<Definition>,
    pub assumptions: Vec<Fact>,
    pub kinds: Kinds,
    /// Why no model can be built (a given the model cannot satisfy by construction).
    pub unusable: Option<String>,
}

/// Why an evaluation stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Division by zero and the like at this point: draw another point.
    Undefined,
    /// This layer cannot evaluate the expression at all (with the reason).
    NotApplicable(String),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Counterexample {
    /// The values drawn for the free quantities, in the order they were needed.
    pub values: Vec<(String, String)>,
    pub lhs: String,
    pub rhs: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExactVerdict {
    Holds { samples: usize },
    Refuted(Counterexample),
    NotApplicable(String),
}

/// How many times a point is redrawn when a side is undefined there, per sample.
const REDRAWS: usize = 20;

pub struct Model<'s> {
    spec: &'s ModelSpec,
    rng: ChaCha8Rng,
    values: HashMap<(String, Vec<BigRational>), BigRational>,
    /// Labels of the free values drawn so far (`g[2]`, `beta`).
    labels: HashMap<(String, Vec<BigRational>), String>,
    /// The free values an evaluation used, in order: what a counterexample shows.
    touched: Vec<(String, BigRational)>,
    in_progress: HashSet<(String, Vec<BigRational>)>,
    /// A definition whose value is scaled by a factor: the negative control of trajectories.
    perturbed: Option<(String, BigRational)>,
}

impl<'s> Model<'s> {
    pub fn new(spec: &'s ModelSpec, seed: u64) -> Model<'s> {
        Model {
            spec,
            rng: ChaCha8Rng::seed_from_u64(seed),
            values: HashMap::new(),
            labels: HashMap::new(),
            touched: Vec::new(),
            in_progress: HashSet::new(),
            perturbed: None,
        }
    }

    pub fn perturb(&mut self, definition: &str, factor: BigRational) {
        self.perturbed = Some((definition.to_string(), factor));
    }

    /// A fresh point: forget every value, keep the random stream.
    fn reset(&mut self) {
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
            let bound = |e: &Expr| constant(e);
            let (is_lhs, other, rel) = match (&f.lhs.kind, &f.rhs.kind) {
                (ExprKind::Name(n), _) if n == name => (true, &f.rhs, f.rel),
                (_, ExprKind::Name(n)) if n == name => (false, &f.lhs, f.rel),
                _ => continue,
            };
            let Some(b) = bound(other) else { continue };
            let upper = matches!((is_lhs, rel), (true, Rel::Lt | Rel::Le) | (false, Rel::Gt | Rel::Ge));
            let lower = matches!((is_lhs, rel), (true, Rel::Gt | Rel::Ge) | (false, Rel::Lt | Rel::Le));
            if rel == Rel::Eq {
                return b;
            }
            if upper {
                hi = Some(hi.map_or(b.clone(), |h| h.min(b.clone())));
            }
            if lower {
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
    fn draw_assumptions(&mut self) -> Result<(), Stop> {
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
        Err(Stop::NotApplicable("no point satisfies the `assume` facts after 200 draws".into()))
    }

    fn holds(&mut self, f: &Fact, env: &HashMap<String, BigRational>) -> Result<bool, Stop> {
        let (a, b) = (self.eval(&f.lhs, env)?, self.eval(&f.rhs, env)?);
        Ok(f.rel.holds(a.cmp(&b)))
    }

    fn touch(&mut self, key: &(String, Vec<BigRational>), value: &BigRational) {
        if let Some(label) = self.labels.get(key) {
            if !self.touched.iter().any(|(l, _)| l == label) {
                self.touched.push((label.clone(), value.clone()));
            }
        }
    }

    pub fn eval(&mut self, e: &Expr, env: &HashMap<String, BigRational>) -> Result<BigRational, Stop> {
        match &e.kind {
            ExprKind::Num(n) => Ok(n.clone()),
            ExprKind::Name(n) => {
                if let Some(v) = env.get(n) {
                    return Ok(v.clone());
                }
                self.value(n, Vec::new(), e)
            }
            ExprKind::Index(n, args) | ExprKind::Call(n, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a, env)?);
                }
                if matches!(e.kind, ExprKind::Index(..)) && !vals[0].is_integer() {
                    return Err(Stop::NotApplicable(format!("the index of `{n}` is not a whole number")));
                }
                if crate::language::BUILTIN_FUNCTIONS.contains(&n.as_str()) {
                    return builtin(n, &vals[0]);
                }
                self.value(n, vals, e)
            }
            ExprKind::BigOp { op, var, lo, hi, body } => {
                let (lo, hi) = (self.eval(lo, env)?, self.eval(hi, env)?);
                let (Some(lo), Some(hi)) = (whole(&lo), whole(&hi)) else {
                    return Err(Stop::NotApplicable("a sum bound is not a whole number".into()));
                };
                if hi - lo > 100_000 {
                    return Err(Stop::NotApplicable("a sum with more than 100000 terms".into()));
                }
                let mut acc = if *op == BigOp::Sum { BigRational::zero() } else { BigRational::one() };
                let mut inner = env.clone();
                for i in lo..=hi {
                    inner.insert(var.clone(), BigRational::from_integer(i.into()));
                    let v = self.eval(body, &inner)?;
                    acc = if *op == BigOp::Sum { acc + v } else { acc * v };
                }
                Ok(acc)
            }
            ExprKind::Neg(a) => Ok(-self.eval(a, env)?),
            ExprKind::Transpose(a) => self.eval(a, env),
            ExprKind::Bin(op, a, b) => {
                let (x, y) = (self.eval(a, env)?, self.eval(b, env)?);
                match op {
                    BinOp::Add => Ok(x + y),
                    BinOp::Sub => Ok(x - y),
                    BinOp::Mul => Ok(x * y),
                    BinOp::Div if y.is_zero() => Err(Stop::Undefined),
                    BinOp::Div => Ok(x / y),
                    BinOp::Pow => power(&x, &y),
                }
            }
        }
    }

    /// The value of a name, sequence element or function application: remembered, defined,
    /// or drawn.
    fn value(&mut self, name: &str, args: Vec<BigRational>, e: &Expr) -> Result<BigRational, Stop> {
        let key = (name.to_string(), args);
        if let Some(v) = self.values.get(&key).cloned() {
            self.touch(&key, &v);
            return Ok(v);
        }
        let kind = self.spec.kinds.0.get(name).cloned().unwrap_or(Kind::Scalar);
        let element = match &kind {
            Kind::Sequence(of) => (**of).clone(),
            Kind::Function => Kind::Scalar,
            k => k.clone(),
        };
        if matches!(element, Kind::Vector | Kind::Matrix) || self.spec.kinds.of(e) != Kind::Scalar {
            return Err(Stop::NotApplicable("vectors and matrices are not instantiated by this layer yet".into()));
        }
        if !self.in_progress.insert(key.clone()) {
            return Err(Stop::NotApplicable(format!("the definitions of `{name}` refer to each other in a cycle")));
        }
        let defined = self.defined(&key);
        self.in_progress.remove(&key);
        let value = match defined? {
            Some(v) => v,
            None => {
                let v = match kind {
                    Kind::Scalar | Kind::Integer => self.draw_scalar(name),
                    _ => self.small_rational(9, 9),
                };
                let label = match (&kind, key.1.as_slice()) {
                    (Kind::Sequence(_), [i]) => format!("{name}[{i}]"),
                    (Kind::Function, args) => {
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

    /// The value a definition gives, if one applies here.
    fn defined(&mut self, key: &(String, Vec<BigRational>)) -> Result<Option<BigRational>, Stop> {
        let (name, args) = key;
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
                Some((p, factor)) if *p == d.name => value * factor,
                _ => value,
            }));
        }
        Ok(None)
    }
}

/// Binds a definition's argument patterns to concrete arguments: a pattern variable takes
/// the value; `t + c` takes `value - c`; a constant must equal the value.
fn bind(patterns: &[Expr], args: &[BigRational], vars: &[String]) -> Option<HashMap<String, BigRational>> {
    let mut env = HashMap::new();
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
        let affine = Affine::of(p)?;
        let free: Vec<&String> = affine.terms.keys().filter(|v| vars.contains(v)).collect();
        match free.as_slice() {
            [] if affine.terms.is_empty() => {
                if BigRational::from_integer(affine.constant.clone()) != *value {
                    return None;
                }
            }
            [v] if affine.terms.len() == 1 && affine.terms[*v].is_one() => {
                let x = value - BigRational::from_integer(affine.constant.clone());
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

fn builtin(f: &str, x: &BigRational) -> Result<BigRational, Stop> {
    match f {
        "exp" if x.is_zero() => Ok(BigRational::one()),
        "log" if x.is_one() => Ok(BigRational::zero()),
        "sqrt" => {
            let (n, d) = (x.numer().sqrt(), x.denom().sqrt());
            if !x.is_negative() && &n * &n == *x.numer() && &d * &d == *x.denom() {
                Ok(BigRational::new(n, d))
            } else {
                Err(Stop::NotApplicable(format!("sqrt({x}) is not rational")))
            }
        }
        _ => Err(Stop::NotApplicable(format!("`{f}` is transcendental: its values are not rational"))),
    }
}

fn power(x: &BigRational, y: &BigRational) -> Result<BigRational, Stop> {
    let Some(k) = whole(y).filter(|k| k.abs() <= 4096) else {
        return Err(Stop::NotApplicable(format!("the power {x}^{y} is not a rational with a small whole exponent")));
    };
    if x.is_zero() && k < 0 {
        return Err(Stop::Undefined);
    }
    let base = if k < 0 { x.recip() } else { x.clone() };
    Ok(num_traits::pow(base, k.unsigned_abs() as usize))
}

fn whole(x: &BigRational) -> Option<i64> {
    if x.is_integer() { x.to_integer().to_i64() } else { None }
}

/// The value of an expression without names, if it has one.
fn constant(e: &Expr) -> Option<BigRational> {
    let spec = ModelSpec::default();
    let mut m = Model::new(&spec, 0);
    let mut names = Vec::new();
    collect_names(e, &mut names);
    if !names.is_empty() {
        return None;
    }
    m.eval(e, &HashMap::new()).ok()
}

fn collect_names(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Name(n) if !out.contains(n) => out.push(n.clone()),
        ExprKind::BigOp { lo, hi, .. } => {
            collect_names(lo, out);
            collect_names(hi, out);
        }
        _ => e.children().into_iter().for_each(|c| collect_names(c, out)),
    }
}

/// Draws values of the claim's variables: integers from their lower bound up (a few steps),
/// scalars like free scalars, redrawing until every condition holds.
fn draw_binders(m: &mut Model, binders: &[Binder], conditions: &[Fact], env: &mut HashMap<String, BigRational>) -> Result<bool, Stop> {
    for _ in 0..200 {
        for b in binders {
            if env.contains_key(&b.var) && b.kind == Kind::Integer && fixed(conditions, &b.var) {
                continue;
            }
            let v = if b.kind == Kind::Integer {
                let lower = conditions
                    .iter()
                    .filter_map(|f| match (&f.lhs.kind, &f.rhs.kind, f.rel) {
                        (ExprKind::Name(n), _, Rel::Ge) if *n == b.var => constant(&f.rhs).and_then(|c| whole(&c.ceil())),
                        (ExprKind::Name(n), _, Rel::Gt) if *n == b.var => constant(&f.rhs).and_then(|c| whole(&c.floor())).map(|c| c + 1),
                        (_, ExprKind::Name(n), Rel::Le) if *n == b.var => constant(&f.lhs).and_then(|c| whole(&c.ceil())),
                        (_, ExprKind::Name(n), Rel::Lt) if *n == b.var => constant(&f.lhs).and_then(|c| whole(&c.floor())).map(|c| c + 1),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(0);
                BigRational::from_integer(BigInt::from(lower + m.rng.random_range(0..=5i64)))
            } else {
                m.small_rational(12, 4)
            };
            env.insert(b.var.clone(), v);
        }
        let mut ok = true;
        for c in conditions {
            if !m.holds(c, env)? {
                ok = false;
                break;
            }
        }
        if ok {
            return Ok(true);
        }
    }
    Ok(false)
}

fn fixed(conditions: &[Fact], var: &str) -> bool {
    conditions.iter().any(|f| f.rel == Rel::Eq && matches!(&f.lhs.kind, ExprKind::Name(n) if n == var))
}

/// Checks `lhs REL rhs` at `samples` random points, the claim's variables drawn under its
/// conditions (`given_values` fixes some of them, e.g. the base case of an induction).
#[allow(clippy::too_many_arguments)]
pub fn check(
    spec: &ModelSpec,
    lhs: &Expr,
    rel: Rel,
    rhs: &Expr,
    binders: &[Binder],
    conditions: &[Fact],
    given_values: &HashMap<String, BigRational>,
    samples: usize,
    seed: u64,
) -> ExactVerdict {
    if let Some(reason) = &spec.unusable {
        return ExactVerdict::NotApplicable(reason.clone());
    }
    let mut m = Model::new(spec, seed);
    let mut done = 0;
    let mut attempts = 0;
    while done < samples {
        attempts += 1;
        if attempts > samples * REDRAWS {
            return ExactVerdict::NotApplicable(format!("both sides are defined at only {done} of {attempts} random points"));
        }
        let outcome = (|| -> Result<Option<Counterexample>, Stop> {
            m.draw_assumptions()?;
            let mut env = given_values.clone();
            if !draw_binders(&mut m, binders, conditions, &mut env)? {
                return Err(Stop::NotApplicable("no values of the variables satisfy the `for` conditions".into()));
            }
            m.touched.clear();
            let (a, b) = (m.eval(lhs, &env)?, m.eval(rhs, &env)?);
            if rel.holds(a.cmp(&b)) {
                return Ok(None);
            }
            let mut values: Vec<(String, String)> =
                binders.iter().filter_map(|b| env.get(&b.var).map(|v| (b.var.clone(), v.to_string()))).collect();
            values.extend(m.touched.iter().map(|(k, v)| (k.clone(), v.to_string())));
            Ok(Some(Counterexample { values, lhs: a.to_string(), rhs: b.to_string() }))
        })();
        match outcome {
            Ok(None) => done += 1,
            Ok(Some(cx)) => return ExactVerdict::Refuted(cx),
            Err(Stop::Undefined) => continue,
            Err(Stop::NotApplicable(reason)) => return ExactVerdict::NotApplicable(reason),
        }
    }
    ExactVerdict::Holds { samples: done }
}

/// Two sequences run side by side for steps `from..=to`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Trajectory {
    pub runs: usize,
    pub steps: usize,
    /// First step where they differ: (run, step, lhs, rhs).
    pub mismatch: Option<(usize, i64, String, String)>,
    /// The values of the first run, step by step, for the report.
    pub first_run: Vec<(i64, String, String)>,
}

/// Evaluates `lhs` and `rhs` at every step of the range, in `runs` independent models.
#[allow(clippy::too_many_arguments)]
pub fn trajectory(
    spec: &ModelSpec,
    lhs: &Expr,
    rhs: &Expr,
    var: &str,
    from: i64,
    to: i64,
    runs: usize,
    perturb: Option<(&str, BigRational)>,
    seed: u64,
) -> Result<Trajectory, String> {
    if let Some(reason) = &spec.unusable {
        return Err(reason.clone());
    }
    let mut m = Model::new(spec, seed);
    if let Some((name, factor)) = perturb {
        m.perturb(name, factor);
    }
    let mut out = Trajectory { runs, steps: (to - from + 1) as usize, mismatch: None, first_run: Vec::new() };
    for run in 0..runs {
        m.draw_assumptions().map_err(stop_text)?;
        for t in from..=to {
            let env = HashMap::from([(var.to_string(), BigRational::from_integer(t.into()))]);
            let a = m.eval(lhs, &env).map_err(stop_text)?;
            let b = m.eval(rhs, &env).map_err(stop_text)?;
            if run == 0 {
                out.first_run.push((t, a.to_string(), b.to_string()));
            }
            if a != b && out.mismatch.is_none() {
                out.mismatch = Some((run, t, a.to_string(), b.to_string()));
            }
        }
    }
    Ok(out)
}

fn stop_text(s: Stop) -> String {
    match s {
        Stop::Undefined => "a value is undefined (division by zero) on this trajectory".into(),
        Stop::NotApplicable(r) => r,
    }
}
