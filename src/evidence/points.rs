//! The exact layer: a relation evaluated at random rational points of a model of the file
//! (see `model`), independently of the engine; where exact arithmetic cannot apply, the
//! float layer evaluates the same points in double precision.

use std::collections::HashMap;

use num_rational::BigRational;

use crate::language::ast::{Binder, Expr, ExprKind, Fact, Kind, Rel};
use crate::model::{Model, ModelSpec, Number, Stop, Value, Wide, Wider, compare, constant, int, settle};
use crate::verdict::{Counterexample, Layer, LayerResult, Verdict};

/// What the points say.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// With whether double precision disagreed by rounding at a point that 320-bit floats
    /// then confirmed.
    Holds {
        samples: usize,
        rounding: bool,
    },
    /// With whether a random positive function stood in for `exp` at that point (then `exp`
    /// itself must confirm it).
    Refuted {
        cx: Counterexample,
        oracle: bool,
    },
    NotApplicable(String),
    /// Undefined at every point drawn.
    Undefined(String),
    /// Double precision disagrees at a point that 320-bit floats cannot evaluate.
    Unconfirmed {
        cx: Counterexample,
        why: String,
    },
}

#[cfg(test)]
thread_local! {
    pub(crate) static WEAKENED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// How many times a point is redrawn when a side is undefined there, per sample.
const REDRAWS: usize = 20;

/// Draws values of the claim's variables: integers from their lower bound up, scalars like
/// free scalars, redrawing until every condition holds.
fn draw_binders<N: Number>(m: &mut Model<N>, binders: &[Binder], conditions: &[Fact], env: &mut HashMap<String, Value<N>>) -> Result<bool, Stop> {
    for _ in 0..200 {
        for b in binders {
            let v = if b.kind == Kind::Integer {
                let (lower, upper) = integer_bounds(m, &b.var, conditions, env);
                int(draw_integer(m, lower, upper))
            } else {
                Value::S(N::from_rational(&m.any_number()))
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

/// The bounds the conditions put on an integer binder: from constants, or from variables
/// drawn before it (`for t >= 0, s >= t + 6`).
fn integer_bounds<N: Number>(m: &mut Model<N>, var: &str, conditions: &[Fact], env: &HashMap<String, Value<N>>) -> (Option<i64>, Option<i64>) {
    let mut value = |e: &Expr| match m.eval(e, env) {
        Ok(Value::S(v)) => Some(v.to_f64()),
        _ => constant(e).map(|c| c.to_f64()),
    };
    let (mut lower, mut upper): (Option<f64>, Option<f64>) = (None, None);
    for f in conditions {
        let (bound, is_lower) = match (&f.lhs.kind, &f.rhs.kind, f.rel) {
            (ExprKind::Name(n), _, Rel::Ge) if n == var => (value(&f.rhs).map(f64::ceil), true),
            (ExprKind::Name(n), _, Rel::Gt) if n == var => (value(&f.rhs).map(|c| c.floor() + 1.0), true),
            (_, ExprKind::Name(n), Rel::Le) if n == var => (value(&f.lhs).map(f64::ceil), true),
            (_, ExprKind::Name(n), Rel::Lt) if n == var => (value(&f.lhs).map(|c| c.floor() + 1.0), true),
            (ExprKind::Name(n), _, Rel::Le) if n == var => (value(&f.rhs).map(f64::floor), false),
            (ExprKind::Name(n), _, Rel::Lt) if n == var => (value(&f.rhs).map(|c| c.ceil() - 1.0), false),
            (_, ExprKind::Name(n), Rel::Ge) if n == var => (value(&f.lhs).map(f64::floor), false),
            (_, ExprKind::Name(n), Rel::Gt) if n == var => (value(&f.lhs).map(|c| c.ceil() - 1.0), false),
            _ => continue,
        };
        let Some(bound) = bound.filter(|c| c.is_finite() && c.abs() < 1e12) else { continue };
        if is_lower {
            lower = Some(lower.map_or(bound, |l| l.max(bound)));
        } else {
            upper = Some(upper.map_or(bound, |u| u.min(bound)));
        }
    }
    (lower.map(|l| l as i64), upper.map(|u| u as i64))
}

/// An integer within the bounds: often on an end, where off-by-one mistakes show, otherwise
/// near it, farther, or (now and then) beyond every constant of the file, so that a
/// definition that changes at `t = 100` is seen.
fn draw_integer<N: Number>(m: &mut Model<N>, lower: Option<i64>, upper: Option<i64>) -> i64 {
    use rand::RngExt;
    if m.small_integers {
        let near = m.rng.random_range(0..=3i64);
        return match (lower, upper) {
            (Some(l), Some(u)) => (l + near).min(u.max(l)),
            (Some(l), None) => l + near,
            (None, Some(u)) => u - near,
            (None, None) => near,
        };
    }
    let largest = (m.spec_scale() / 10).clamp(10, 5_000);
    // One point in five goes beyond the file's largest constant (up to twice it), whatever
    // the random stream does: a definition that changes at `t = 70*70` must be met.
    let beyond = m.turn() % 5 == 3;
    let offset = |m: &mut Model<N>| match m.rng.random_range(0..20) {
        _ if beyond => m.rng.random_range(largest..=2 * largest),
        0..=4 => 0,
        5..=11 => m.rng.random_range(1..=5i64),
        12..=15 => m.rng.random_range(6..=30i64),
        16..=17 => m.rng.random_range(31..=60i64),
        _ => m.rng.random_range(61..=2 * largest.max(50)),
    };
    match (lower, upper) {
        (Some(l), Some(u)) if u <= l => l,
        (Some(l), Some(u)) => match m.rng.random_range(0..4) {
            0 => l,
            1 => u,
            _ => m.rng.random_range(l..=u),
        },
        (Some(l), None) => l + offset(m),
        (None, Some(u)) => u - offset(m),
        (None, None) => {
            let magnitude = offset(m);
            if m.rng.random_bool(0.5) { magnitude } else { -magnitude }
        }
    }
}

/// What the points are asked: `lhs REL rhs` for the claim's variables drawn under its
/// conditions, some of them fixed (the base case of an induction), at `samples` points.
pub struct Question<'a> {
    pub lhs: &'a Expr,
    pub rel: Rel,
    pub rhs: &'a Expr,
    pub binders: &'a [Binder],
    pub conditions: &'a [Fact],
    pub fixed: &'a HashMap<String, BigRational>,
    pub samples: usize,
    pub seed: u64,
}

/// Checks the question at random points of models of `spec`.
pub fn check<N: Number>(spec: &ModelSpec, q: &Question) -> Outcome {
    let (samples, seed) = (q.samples, q.seed);
    if let Some(reason) = &spec.unusable {
        return Outcome::NotApplicable(reason.clone());
    }
    #[cfg(test)]
    if WEAKENED.get() {
        // A deliberately broken exact layer, to show the symbolic layer alone.
        return Outcome::Holds { samples, rounding: false };
    }
    let mut m: Model<N> = Model::new(spec, seed);
    let (mut done, mut attempts, mut undecided) = (0, 0, 0);
    let mut invalid: Option<String> = None;
    let mut rounding = false;
    while done < samples {
        attempts += 1;
        if attempts > samples * REDRAWS {
            // A statement undefined wherever we look says nothing: that is not shown, not n/a.
            return match (done, invalid) {
                _ if undecided > done => Outcome::NotApplicable(format!(
                    "at {undecided} of the points drawn the sides differ by about their rounding error even in 640-bit floats, so the layer cannot tell"
                )),
                (0, Some(why)) => Outcome::NotApplicable(format!("no point drawn is a model of the file: {why}")),
                (_, Some(why)) => Outcome::NotApplicable(format!("only {done} of the {attempts} points drawn are models of the file ({why})")),
                (0, None) => Outcome::Undefined(format!("a side is undefined at every one of the {attempts} random points drawn")),
                _ => Outcome::NotApplicable(format!("both sides are defined at only {done} of {attempts} random points")),
            };
        }
        // Every named dimension takes several sizes, point by point: an identity true only for
        // small matrices (2×2, or 3 vectors in 3 dimensions) does not pass.
        m.size_round = Some(attempts);
        let start = m.rng.clone();
        let decision = match point(&mut m, q) {
            // Floats decide in two precisions at the very same point; quadrature values
            // (already approximate) to the quadrature's tolerance.
            Ok(sides) if N::RECHECKED && !m.approximate => {
                let precise = precise(spec, q, start, attempts);
                if let (Ok(Decision::Holds), Ok(false)) = (&precise, compare(&sides.a, q.rel, &sides.b)) {
                    rounding = true;
                }
                precise
            }
            // A quadrature value beside a double `exp` that underflowed decides nothing (both
            // sides 0 is no agreement, a 0.2% gap no difference).
            Ok(_) if m.approximate && m.underflowed => Ok(Decision::Undecided),
            Ok(sides) if m.approximate => Ok(approximate(&sides, q.rel)),
            Ok(sides) => {
                compare(&sides.a, q.rel, &sides.b).map(|holds| if holds { Decision::Holds } else { Decision::Fails(sides.counterexample()) })
            }
            Err(e) => Err(e),
        };
        match decision {
            Ok(Decision::Holds) => done += 1,
            // Only a point where every given holds is a counterexample.
            Ok(Decision::Fails(_)) if !m.means_hold().unwrap_or(false) => {
                invalid = Some("the givens that fix means disagree there".into());
                continue;
            }
            Ok(Decision::Fails(cx)) if N::RECHECKED || m.approximate || m.used_oracle => return Outcome::Refuted { cx, oracle: m.used_oracle },
            Ok(Decision::Fails(cx)) => return Outcome::Refuted { cx: smaller(&mut m, q, cx), oracle: false },
            Ok(Decision::Undecided) => undecided += 1,
            Err(Stop::Undefined) => continue,
            Err(Stop::Invalid(why)) => {
                invalid = Some(why);
                continue;
            }
            Err(Stop::NotApplicable(reason)) => return Outcome::NotApplicable(reason),
            // With every shape declared, sizes that do not fit are an error of the derivation.
            Err(Stop::Shapes(what)) if !m.guessed_shapes => {
                let values = m.shown();
                return Outcome::Refuted { cx: Counterexample { values, lhs: format!("undefined: {what}"), rhs: "—".into() }, oracle: false };
            }
            Err(Stop::Shapes(what)) => {
                return Outcome::NotApplicable(format!("{what}, with sizes guessed for names declared without a shape"));
            }
        }
    }
    Outcome::Holds { samples: done, rounding }
}

/// Exact points tried for a smaller counterexample once one is found.
const SHRINK_TRIES: usize = 40;

/// A counterexample as small as a few more exact points, with the integer variables near
/// their lower ends, can find: `t = 2` with two values of `g` reads better than `t = 38`
/// with thirty-eight. Each is a refuting point where every given holds, like the first.
fn smaller<N: Number>(m: &mut Model<N>, q: &Question, found: Counterexample) -> Counterexample {
    let size = |cx: &Counterexample| {
        (cx.values.len(), cx.values.iter().chain([&(cx.lhs.clone(), cx.rhs.clone())]).map(|(n, v)| n.len() + v.len()).sum::<usize>())
    };
    let mut best = found;
    m.small_integers = true;
    for _ in 0..SHRINK_TRIES {
        let Ok(sides) = point(m, q) else { continue };
        if !m.used_oracle && matches!(compare(&sides.a, q.rel, &sides.b), Ok(false)) && m.means_hold().unwrap_or(false) {
            let cx = sides.counterexample();
            if size(&cx) < size(&best) {
                best = cx;
            }
        }
    }
    m.small_integers = false;
    best
}

/// What one point says.
enum Decision {
    Holds,
    Fails(Counterexample),
    /// The sides differ by about their rounding error: the point cannot tell.
    Undecided,
}

/// Both sides at one point, with the values a counterexample there shows.
struct Sides<N: Number> {
    a: Value<N>,
    b: Value<N>,
    values: Vec<(String, String)>,
}

impl<N: Number> Sides<N> {
    fn counterexample(&self) -> Counterexample {
        Counterexample { values: self.values.clone(), lhs: self.a.to_string(), rhs: self.b.to_string() }
    }
}

/// One point, drawn from the model's stream: both sides evaluated there.
fn point<N: Number>(m: &mut Model<N>, q: &Question) -> Result<Sides<N>, Stop> {
    let Question { lhs, rhs, binders, conditions, fixed: given, .. } = *q;
    m.draw_assumptions()?;
    let mut env: HashMap<String, Value<N>> = given.iter().map(|(k, v)| (k.clone(), Value::S(N::from_rational(v)))).collect();
    let free: Vec<Binder> = binders.iter().filter(|b| !given.contains_key(&b.var)).cloned().collect();
    // What the conditions read (`y` in `for t > y`) belongs to a counterexample too.
    m.clear_shown();
    if !draw_binders(m, &free, conditions, &mut env)? {
        // The file's own values drawn at this point may leave no room (`for t > y` with
        // `y = 5` and `t <= 3`): another point may.
        return Err(Stop::Invalid("no values of the variables satisfy the `for` conditions there".into()));
    }
    let (a, b) = (m.eval(lhs, &env)?, m.eval(rhs, &env)?);
    // An overflow to infinity or a NaN is no value at all, not a counterexample.
    if !a.finite() || !b.finite() {
        return Err(Stop::Undefined);
    }
    let mut values: Vec<(String, String)> = binders.iter().filter_map(|b| env.get(&b.var).map(|v| (b.var.clone(), v.to_string()))).collect();
    values.extend(m.shown());
    Ok(Sides { a, b, values })
}

/// The float layer's decision at the point the stream `start` draws: the same point in 320-
/// and in 640-bit floats. A difference that shrinks by hundreds of bits between the two is
/// rounding (the sides are equal there); one that stays is real and has the sign it shows;
/// anything else cannot be told.
fn precise(spec: &ModelSpec, q: &Question, start: rand_chacha::ChaCha8Rng, round: usize) -> Result<Decision, Stop> {
    crate::model::take_doubt();
    let mut low_model: Model<Wide> = Model::new(spec, 0);
    low_model.rng = start.clone();
    low_model.size_round = Some(round);
    let low = point(&mut low_model, q)?;
    let largest = low_model.largest;
    let mut high_model: Model<Wider> = Model::new(spec, 0);
    high_model.rng = start;
    high_model.size_round = Some(round);
    let high = point(&mut high_model, q)?;
    // A number both precisions round alike makes a difference that stays as the precision
    // grows, rounding or not; so does a decision taken within rounding.
    if crate::model::take_doubt() || low_model.rounded_literal || high_model.rounded_literal {
        return Ok(Decision::Undecided);
    }
    let signs: Vec<Option<i64>> = match ((&low.a, &low.b), (&high.a, &high.b)) {
        ((Value::S(la), Value::S(lb)), (Value::S(ha), Value::S(hb))) => vec![settle(la, lb, ha, hb, largest)],
        ((Value::M(la), Value::M(lb)), (Value::M(ha), Value::M(hb))) => {
            if la.shape() != lb.shape() {
                return Ok(Decision::Fails(high.counterexample()));
            }
            (0..la.len()).map(|i| settle(&la[i], &lb[i], &ha[i], &hb[i], largest)).collect()
        }
        _ => return compare(&high.a, q.rel, &high.b).map(|holds| if holds { Decision::Holds } else { Decision::Fails(high.counterexample()) }),
    };
    let holds = match q.rel {
        Rel::Eq if signs.iter().any(|s| s.is_some_and(|s| s != 0)) => Some(false),
        Rel::Eq if signs.iter().all(|s| *s == Some(0)) => Some(true),
        Rel::Eq => None,
        // Entry by entry (a vector's order holds in every entry, `!=` in one). Equal to 640
        // bits is not unequal: a strict relation there cannot be told (a real difference may
        // lie below the precision, `1 < 1 + exp(-1000)`).
        rel => {
            let entries: Vec<Option<bool>> = signs
                .iter()
                .map(|s| {
                    s.filter(|s| *s != 0 || matches!(rel, Rel::Le | Rel::Ge)).map(|s| match rel {
                        Rel::Le => s <= 0,
                        Rel::Lt => s < 0,
                        Rel::Ge => s >= 0,
                        Rel::Gt => s > 0,
                        _ => s != 0,
                    })
                })
                .collect();
            if rel == Rel::Ne {
                entries.contains(&Some(true)).then_some(true)
            } else if entries.contains(&Some(false)) {
                Some(false)
            } else {
                entries.iter().all(|e| *e == Some(true)).then_some(true)
            }
        }
    };
    Ok(match holds {
        Some(true) => Decision::Holds,
        Some(false) => Decision::Fails(high.counterexample()),
        None => Decision::Undecided,
    })
}

/// A point where a side came from quadrature: equal within the quadrature's tolerance, and
/// a strict relation only where the sides are apart by more.
fn approximate<N: Number>(s: &Sides<N>, rel: Rel) -> Decision {
    let fails = || Decision::Fails(s.counterexample());
    let (Value::S(a), Value::S(b)) = (&s.a, &s.b) else {
        return if rel == Rel::Eq && s.a.close(&s.b, QUADRATURE) { Decision::Holds } else { fails() };
    };
    let (a, b) = (a.to_f64(), b.to_f64());
    let (d, t) = (a - b, QUADRATURE * a.abs().max(b.abs()));
    let holds = match rel {
        Rel::Eq => Some(d.abs() <= t),
        Rel::Le => Some(d <= t),
        Rel::Ge => Some(d >= -t),
        Rel::Lt if d < -t => Some(true),
        Rel::Gt if d > t => Some(true),
        Rel::Ne if d.abs() > t => Some(true),
        Rel::Lt if d > t => Some(false),
        Rel::Gt if d < -t => Some(false),
        _ => None,
    };
    match holds {
        Some(true) => Decision::Holds,
        Some(false) => fails(),
        None => Decision::Undecided,
    }
}

/// How closely two values from quadrature must agree.
const QUADRATURE: f64 = 1e-10;

/// The exact layer's verdict on the question; where it cannot apply (transcendental
/// functions), the float layer checks the same statement in double precision instead. A
/// refutation is only reported where it is one: an exact refutation that rests on the random
/// positive function standing in for `exp` is confirmed with `exp` itself, and a
/// double-precision one is rechecked in 320-bit floats, so rounding is never a refutation.
pub fn layer(spec: &ModelSpec, q: &Question) -> LayerResult {
    let binders: Vec<Binder> = q.binders.iter().filter(|b| !q.fixed.contains_key(&b.var)).cloned().collect();
    let q = Question { binders: &binders, ..*q };
    let seed = q.seed;
    let refuted = |layer, detail: String, cx| LayerResult { counterexample: Some(cx), ..LayerResult::new(layer, Verdict::Refuted, detail) };
    match check::<BigRational>(spec, &q) {
        Outcome::Holds { samples, .. } => {
            LayerResult::new(Layer::Exact, Verdict::Holds, format!("at {samples} random rational points (seed {seed})"))
        }
        Outcome::Refuted { cx, oracle: false } => refuted(Layer::Exact, format!("fails at a random rational point (seed {seed})"), cx),
        Outcome::Refuted { oracle: true, .. } => {
            float(spec, &q, "the exact models fail it with a random positive function in place of `exp`, so `exp` itself decides".into())
        }
        Outcome::NotApplicable(reason) => float(spec, &q, reason),
        Outcome::Undefined(why) => LayerResult::new(Layer::Exact, Verdict::NotShown, why),
        Outcome::Unconfirmed { why, .. } => LayerResult::new(Layer::Exact, Verdict::NotApplicable, why),
    }
}

/// The float layer, where exact arithmetic does not apply (`reason`).
fn float(spec: &ModelSpec, q: &Question, reason: String) -> LayerResult {
    let seed = q.seed;
    match check::<f64>(spec, q) {
        Outcome::Holds { samples, rounding } => {
            let recheck = if rounding { "; where double precision disagreed, the difference vanishes with the precision" } else { "" };
            LayerResult::new(
                Layer::Float,
                Verdict::Holds,
                format!(
                    "exact does not apply ({reason}); both sides agree at {samples} random points, in 320- and 640-bit floats or to the quadrature's tolerance{recheck} (seed {seed})"
                ),
            )
        }
        Outcome::Refuted { cx, .. } => LayerResult {
            counterexample: Some(cx),
            ..LayerResult::new(
                Layer::Float,
                Verdict::Refuted,
                format!(
                    "exact does not apply ({reason}); the sides differ at a random point, by a difference that stays the same in 320- and 640-bit floats (seed {seed})"
                ),
            )
        },
        // The precise recheck cannot evaluate it: the mismatch stands unconfirmed.
        Outcome::Unconfirmed { cx, why } => LayerResult {
            counterexample: Some(cx),
            ..LayerResult::new(
                Layer::Float,
                Verdict::NotShown,
                format!(
                    "exact does not apply ({reason}); the sides differ in double precision, but the 320-bit recheck could not evaluate them ({why})"
                ),
            )
        },
        Outcome::NotApplicable(why) => {
            LayerResult::new(Layer::Exact, Verdict::NotApplicable, format!("{reason}; the float layer cannot either: {why}"))
        }
        Outcome::Undefined(why) => LayerResult::new(Layer::Float, Verdict::NotShown, why),
    }
}
