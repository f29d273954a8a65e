//! Witnesses of existence claims: the claim's conditions (and the givens the witness must
//! satisfy) evaluated at the witness's values, exactly where the values are rational and in
//! 320- and 640-bit floats always. A limit is watched numerically along its sequence: that is
//! evidence, not a proof, and the layer says so.

use std::collections::HashMap;

use num_rational::BigRational;

use super::stop_text;
use crate::language::ast::{BinOp, Expr, ExprKind, Rel, Relation};
use crate::language::builtins::Func;
use crate::model::{Model, ModelSpec, Number, Stop, Value, Wide, Wider, compare, int, settle};
use crate::verdict::{Counterexample, Curve, Layer, LayerResult, Plot, Table, Verdict};

/// What is evaluated at the witness.
#[derive(Debug, Clone)]
pub enum Condition {
    Relation(Relation),
    /// `X -> L as var -> inf`.
    Limit {
        relation: Relation,
        var: String,
    },
    /// The value of an integer name (at every index from 0 to `LIMIT_STEPS`, for a sequence)
    /// is a whole number; decided exactly only.
    Integer(String, bool),
    /// `abs(f(z)) <= bound for z` with `f` a concrete function whose supremum of `|f|` is `sup`
    /// (reached at some argument when `attained`).
    FunctionBound {
        sup: BigRational,
        attained: bool,
        bound: Expr,
        strict: bool,
    },
    /// A definition of the file has a value wherever it applies at the witness, for the
    /// sequence index `var` from 0 to `DEFINED_STEPS`: not undefined (`1/x` at 0), not two
    /// definitions that disagree (`def y = 2*x` and `given y = 3`).
    Defined {
        lhs: Expr,
        var: Option<String>,
    },
    /// A witnessed vector or matrix has its declared shape (`I` only where it is square).
    Shape {
        value: Expr,
        rows: usize,
        cols: usize,
    },
    /// Something that cannot be decided at a point, with the reason.
    Undecidable(String),
}

/// A condition with how the report names it (`condition 2`, `given spectrum`).
#[derive(Debug, Clone)]
pub struct Labeled {
    pub label: String,
    pub text: String,
    pub condition: Condition,
}

/// A value of the witness that is a literal: `name[args] = rows`, or `name[t] = rows` at every
/// index from 0 to `LIMIT_STEPS` (`args` is `None`).
#[derive(Debug, Clone)]
pub struct Literal {
    pub name: String,
    pub args: Option<Vec<i64>>,
    pub rows: Vec<Vec<Expr>>,
}

/// How far a sequence's definitions are evaluated at a witness.
pub const DEFINED_STEPS: i64 = 100;

/// How far a limit is followed.
pub const LIMIT_STEPS: i64 = 1000;
/// How close to its limit a sequence must end (absolutely).
const LIMIT_CLOSE: f64 = 1e-30;
/// By how much it must still fall over each of the last two quarters.
const LIMIT_FALL: f64 = 1e-3;

/// What one layer found about one condition.
#[derive(Debug, Clone, PartialEq)]
enum Found {
    Holds(String, String),
    Fails(String, String),
    Cannot(String),
}

/// How a condition was decided at the witness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Exactly (a proof at a rational point), and by the floats unless they cannot tell.
    Exact,
    /// By the floats alone: evidence, not a proof.
    FloatOnly,
    /// A layer finds it false at the witness.
    Fails,
    Undecided,
}

/// The exact layer and the float layer at the witness, each with a row per condition (the
/// float layer also plots every limit's sequence), and how each condition was decided.
pub fn layers(
    spec: &ModelSpec,
    literals: &[Literal],
    conditions: &[Labeled],
    shown: &[(String, String)],
) -> (LayerResult, LayerResult, Vec<Decision>) {
    let exact: Vec<Found> = match model::<BigRational>(spec, literals) {
        Ok(mut m) => conditions.iter().map(|c| exact_condition(&mut m, &c.condition, spec, literals)).collect(),
        Err(reason) => conditions.iter().map(|_| Found::Cannot(reason.clone())).collect(),
    };
    let mut plot = None;
    let float: Vec<Found> = match (model::<Wide>(spec, literals), model::<Wider>(spec, literals)) {
        (Ok(mut low), Ok(mut high)) => conditions
            .iter()
            .map(|c| {
                let (found, curve) = float_condition(&mut low, &mut high, &c.condition);
                if let Some(points) = curve {
                    plot = Some(limit_plot(c.text.trim_matches('`'), points, plot.take()));
                }
                found
            })
            .collect(),
        (Err(reason), _) | (_, Err(reason)) => conditions.iter().map(|_| Found::Cannot(reason.clone())).collect(),
    };
    let decisions = exact
        .iter()
        .zip(&float)
        .map(|pair| match pair {
            (Found::Fails(..), _) | (_, Found::Fails(..)) => Decision::Fails,
            (Found::Holds(..), _) => Decision::Exact,
            (Found::Cannot(_), Found::Holds(..)) => Decision::FloatOnly,
            (Found::Cannot(_), Found::Cannot(_)) => Decision::Undecided,
        })
        .collect();
    let exact = layer(Layer::Exact, "exactly", conditions, &exact, shown);
    let float = LayerResult { plot, ..layer(Layer::Float, "in 320- and 640-bit floats", conditions, &float, shown) };
    (exact, float, decisions)
}

/// A model of the witness: nothing drawn, the literals fixed.
fn model<'s, N: Number>(spec: &'s ModelSpec, literals: &[Literal]) -> Result<Model<'s, N>, String> {
    let mut m: Model<N> = Model::new(spec, 0);
    m.reset();
    crate::model::take_doubt();
    for l in literals {
        let mut entries = Vec::new();
        for e in l.rows.iter().flatten() {
            match m.eval(e, &HashMap::new()).map_err(stop_text)? {
                Value::S(x) => entries.push(x),
                other => return Err(format!("an entry of `{}`'s literal is {other}, not a number", l.name)),
            }
        }
        if m.rounded_literal {
            return Err(format!("an entry of `{}`'s literal is a number 320- and 640-bit floats may round alike, so they cannot tell", l.name));
        }
        // A literal built on a decision within rounding (`sign` of a rounding remainder).
        if crate::model::take_doubt() {
            return Err(format!("an entry of `{}`'s literal: {}, so the floats cannot tell", l.name, crate::model::DOUBT_REASON));
        }
        let matrix = nalgebra::DMatrix::from_row_slice(l.rows.len(), l.rows[0].len(), &entries);
        match &l.args {
            Some(args) => m.fix(&l.name, &args.iter().map(|a| int(*a)).collect::<Vec<_>>(), Value::M(matrix)),
            None => (0..=LIMIT_STEPS).for_each(|t| m.fix(&l.name, &[int(t)], Value::M(matrix.clone()))),
        }
    }
    Ok(m)
}

fn exact_condition(m: &mut Model<BigRational>, c: &Condition, spec: &ModelSpec, literals: &[Literal]) -> Found {
    let env = HashMap::new();
    match c {
        Condition::Relation(r) => match both(m, r, &env) {
            Err(stop) => rank_lower_bound(m, r, spec, literals).unwrap_or_else(|| Found::Cannot(stop_text(stop))),
            Ok((a, b)) => match holds(&a, r.rel, &b) {
                Ok(true) => Found::Holds(a.to_string(), b.to_string()),
                Ok(false) => Found::Fails(a.to_string(), b.to_string()),
                Err(stop) => Found::Cannot(stop_text(stop)),
            },
        },
        Condition::Limit { .. } => Found::Cannot("a limit is not a value at a point".into()),
        Condition::Defined { lhs, var } => match defined(m, lhs, var.as_deref()) {
            Found::Cannot(reason) if var.is_none() => defined_in_e(spec, literals, lhs).unwrap_or(Found::Cannot(reason)),
            found => found,
        },
        Condition::Shape { value, rows, cols } => shaped(m, value, *rows, *cols),
        Condition::Integer(name, sequence) => {
            let indices: Vec<Vec<Value<BigRational>>> = if *sequence { (0..=LIMIT_STEPS).map(|t| vec![int(t)]).collect() } else { vec![vec![]] };
            let mut seen = 0;
            for args in indices {
                match m.value(name, args.clone()) {
                    Ok(Value::S(x)) if !x.is_integer() => {
                        let at = if *sequence { format!("{name}[{}]", args[0]) } else { name.clone() };
                        return Found::Fails(format!("{at} = {x}"), "a whole number".into());
                    }
                    Ok(Value::S(_)) => seen += 1,
                    _ => {}
                }
            }
            if seen == 0 {
                Found::Cannot(format!("`{name}` has no exact value here"))
            } else {
                Found::Holds(format!("{name} is whole"), String::new())
            }
        }
        Condition::FunctionBound { sup, attained, bound, strict, .. } => match m.eval(bound, &env) {
            Err(stop) => Found::Cannot(stop_text(stop)),
            Ok(c) => {
                // A supremum nothing reaches keeps a strict bound equal to it.
                let rel = if *strict && *attained { Rel::Lt } else { Rel::Le };
                let sup = Value::S(sup.clone());
                match compare(&sup, rel, &c) {
                    Ok(true) => Found::Holds(format!("sup |f| = {sup}"), c.to_string()),
                    Ok(false) => Found::Fails(format!("sup |f| = {sup}"), c.to_string()),
                    Err(stop) => Found::Cannot(stop_text(stop)),
                }
            }
        },
        Condition::Undecidable(reason) => Found::Cannot(reason.clone()),
    }
}

/// Where to read e: any rational at which the denominators do not vanish would do.
const E_STAND_INS: [(i64, i64); 3] = [(3, 1), (7, 2), (11, 4)];

/// `rank(X) > c` or `rank(X) >= c` where `X` is made of field operations, matrix products,
/// transposes, inverses, `diag` and `exp` (or `exp_elem`, softmaxes) of exp-free arguments,
/// from the witness's rational values: every entry is then f(e) for a rational function f
/// with rational coefficients, and every intermediate value too. Evaluating with e read as a
/// rational t computes the same rational functions at t (a division that would need a
/// denominator vanishing at t stops it). A minor nonzero at t is a nonzero rational function,
/// and e, being transcendental, is no root of its numerator: the rank at e is at least the
/// rank at t. So the bound proves `>` and `>=`, never `<`, `<=` or `=`. `None` when the
/// relation is not of that form.
fn rank_lower_bound(m: &mut Model<BigRational>, r: &Relation, spec: &ModelSpec, literals: &[Literal]) -> Option<Found> {
    let ExprKind::Builtin(Func::Rank, args) = &r.lhs.kind else { return None };
    if !matches!(r.rel, Rel::Gt | Rel::Ge) || !rational_in_e(&args[0], spec, false) {
        return None;
    }
    let Ok(Value::S(c)) = m.eval(&r.rhs, &HashMap::new()) else { return None };
    let mut best = None;
    let found = with_e_read_as_rationals(spec, literals, |at_t, t| {
        let Ok(Value::S(rank)) = at_t.eval(&r.lhs, &HashMap::new()) else { return None };
        let holds = if r.rel == Rel::Gt { rank > c } else { rank >= c };
        best = best.clone().max(Some(rank.clone()));
        holds.then(|| Found::Holds(format!("≥ {rank} (e read as {t})"), c.to_string()))
    });
    let seen = best.map(|r| format!(" (at least {r})")).unwrap_or_default();
    Some(
        found.unwrap_or_else(|| {
            Found::Cannot(format!("the rank at a rational stand-in for e{seen} is only a lower bound, and it does not decide this"))
        }),
    )
}

/// A definition rational in e (see `rational_in_e`) that has a value with e read as some
/// rational has one at e: a denominator nonzero at the stand-in is a nonzero rational
/// function, which e does not make vanish.
fn defined_in_e(spec: &ModelSpec, literals: &[Literal], lhs: &Expr) -> Option<Found> {
    if !rational_in_e(lhs, spec, false) {
        return None;
    }
    with_e_read_as_rationals(spec, literals, |at_t, t| {
        at_t.eval(lhs, &HashMap::new()).ok().map(|_| Found::Holds(format!("defined (e read as {t})"), String::new()))
    })
}

/// The first answer of `f` in a witness model that reads e as one rational stand-in after
/// another.
fn with_e_read_as_rationals(
    spec: &ModelSpec,
    literals: &[Literal],
    mut f: impl FnMut(&mut Model<BigRational>, &BigRational) -> Option<Found>,
) -> Option<Found> {
    E_STAND_INS.iter().find_map(|&(p, q)| {
        let t = BigRational::new(p.into(), q.into());
        let mut at_t = model::<BigRational>(spec, literals).ok()?;
        at_t.read_exp_as_powers_of(&t);
        f(&mut at_t, &t)
    })
}

/// Whether `e` is a rational function of e over the witness's rationals, as
/// `rank_lower_bound` needs: only field operations, whole powers, transposes, `diag`, `dot`,
/// and exponentials whose arguments hold no exponential; names stand for the witness's values
/// or for their one plain definition, read through (two definitions that agree at a stand-in
/// need not agree at e). `inside_exp`: `e` is such an argument.
fn rational_in_e(e: &Expr, spec: &ModelSpec, inside_exp: bool) -> bool {
    match &e.kind {
        ExprKind::Num(_) => true,
        ExprKind::Name(n) => match spec.definitions.iter().filter(|d| d.lhs.head() == Some(n)).collect::<Vec<_>>()[..] {
            [] => true,
            [d] => d.vars.is_empty() && d.conditions.is_empty() && matches!(d.lhs.kind, ExprKind::Name(_)) && rational_in_e(&d.rhs, spec, inside_exp),
            _ => false,
        },
        ExprKind::Neg(a) | ExprKind::Transpose(a) => rational_in_e(a, spec, inside_exp),
        ExprKind::Bin(BinOp::Pow, a, k) => matches!(&k.kind, ExprKind::Num(k) if k.is_integer()) && rational_in_e(a, spec, inside_exp),
        ExprKind::Bin(_, a, b) => rational_in_e(a, spec, inside_exp) && rational_in_e(b, spec, inside_exp),
        ExprKind::Builtin(Func::Exp | Func::ExpElem | Func::SoftmaxRow | Func::SoftmaxCol, args) => {
            !inside_exp && rational_in_e(&args[0], spec, true)
        }
        ExprKind::Builtin(Func::Diag | Func::Dot, args) => args.iter().all(|a| rational_in_e(a, spec, inside_exp)),
        _ => false,
    }
}

/// Whether `lhs` has a value wherever it is defined: undefined or disagreeing definitions fail;
/// a value that needs what the witness does not give is no concern of the witness.
fn defined<N: Number>(m: &mut Model<N>, lhs: &Expr, var: Option<&str>) -> Found {
    let at: Vec<HashMap<String, Value<N>>> = match var {
        Some(v) => (0..=DEFINED_STEPS).map(|t| HashMap::from([(v.to_string(), int::<N>(t))])).collect(),
        None => vec![HashMap::new()],
    };
    let mut evaluated = 0;
    for env in at {
        match m.eval(lhs, &env) {
            Ok(_) => evaluated += 1,
            Err(stop @ (Stop::Undefined | Stop::Invalid(_))) => {
                let place = env.values().next().map(|t| format!(" at {} = {t}", var.unwrap_or_default())).unwrap_or_default();
                return Found::Fails(format!("no value{place}"), stop_text(stop));
            }
            Err(_) => {}
        }
    }
    if evaluated == 0 { Found::Cannot("it needs values the witness does not give".into()) } else { Found::Holds("defined".into(), String::new()) }
}

/// Whether `value` is a `rows` × `cols` matrix (a vector: one column).
fn shaped<N: Number>(m: &mut Model<N>, value: &Expr, rows: usize, cols: usize) -> Found {
    let shape = match m.eval(value, &HashMap::new()) {
        Ok(Value::M(v)) => Some((v.nrows(), v.ncols())),
        Ok(Value::Identity) => (rows == cols).then_some((rows, cols)),
        Ok(Value::Ones(false)) => (cols == 1).then_some((rows, 1)),
        Ok(_) => None,
        Err(stop) => return Found::Cannot(stop_text(stop)),
    };
    match shape {
        Some(s) if s == (rows, cols) => Found::Holds(format!("{rows}×{cols}"), String::new()),
        Some((r, c)) => Found::Fails(format!("{r}×{c}"), format!("{rows}×{cols}")),
        None => Found::Fails("not of that shape".into(), format!("{rows}×{cols}")),
    }
}

fn both<N: Number>(m: &mut Model<N>, r: &Relation, env: &HashMap<String, Value<N>>) -> Result<(Value<N>, Value<N>), Stop> {
    Ok((m.eval(&r.lhs, env)?, m.eval(&r.rhs, env)?))
}

/// `compare`, with `!=` between matrices read as "not equal".
fn holds<N: Number>(a: &Value<N>, rel: Rel, b: &Value<N>) -> Result<bool, Stop> {
    match rel {
        Rel::Ne => compare(a, Rel::Eq, b).map(|eq| !eq),
        rel => compare(a, rel, b),
    }
}

type Points = Vec<(f64, f64)>;

fn float_condition(low: &mut Model<Wide>, high: &mut Model<Wider>, c: &Condition) -> (Found, Option<Points>) {
    match c {
        Condition::Relation(r) => (float_relation(low, high, r), None),
        Condition::Limit { relation, var } => {
            let (found, points) = float_limit(low, high, relation, var);
            (found, Some(points))
        }
        Condition::Integer(..) => (Found::Cannot("whether a value is whole is decided exactly".into()), None),
        Condition::Shape { value, rows, cols } => (shaped(high, value, *rows, *cols), None),
        Condition::Defined { lhs, var } => {
            crate::model::take_doubt();
            let found = match defined(low, lhs, var.as_deref()) {
                Found::Holds(..) => defined(high, lhs, var.as_deref()),
                other => other,
            };
            // A divisor within its rounding of 0 may be 0.
            if crate::model::take_doubt() {
                return (Found::Cannot(format!("{}, so the floats cannot tell", crate::model::DOUBT_REASON)), None);
            }
            (found, None)
        }
        Condition::FunctionBound { sup, attained, bound, strict, .. } => {
            let found = match (low.eval(bound, &HashMap::new()), high.eval(bound, &HashMap::new())) {
                (Ok(Value::S(lc)), Ok(Value::S(hc))) => {
                    let (ls, hs) = (Wide::from_rational(sup), Wider::from_rational(sup));
                    match settle(&ls, &lc, &hs, &hc, None) {
                        Some(s) if s < 0 || (s == 0 && !(*strict && *attained)) => Found::Holds(format!("sup |f| = {sup}"), hc.to_string()),
                        Some(_) => Found::Fails(format!("sup |f| = {sup}"), hc.to_string()),
                        None => Found::Cannot("the bound and the supremum differ by about their rounding error".into()),
                    }
                }
                (Err(stop), _) | (_, Err(stop)) => Found::Cannot(stop_text(stop)),
                _ => Found::Cannot("the bound is not a number".into()),
            };
            (found, None)
        }
        Condition::Undecidable(reason) => (Found::Cannot(reason.clone()), None),
    }
}

/// A relation in both precisions: a difference counts only where it stays (see `settle`);
/// a strict order or `!=` that holds only by rounding cannot be told.
fn float_relation(low: &mut Model<Wide>, high: &mut Model<Wider>, r: &Relation) -> Found {
    // Afresh, so that `largest` sees every sum this relation adds.
    low.reset();
    high.reset();
    crate::model::take_doubt();
    let env = HashMap::new();
    let (la, lb) = match both(low, r, &HashMap::new()) {
        Ok(v) => v,
        Err(stop) => return Found::Cannot(stop_text(stop)),
    };
    let largest = low.largest;
    let (ha, hb) = match both(high, r, &env) {
        Ok(v) => v,
        Err(stop) => return Found::Cannot(stop_text(stop)),
    };
    if low.lost || high.lost {
        return Found::Cannot("a term is lost to rounding on the way (`1 + 10^-200`, `tanh` saturated), so the floats cannot tell".into());
    }
    if crate::model::take_doubt() {
        return Found::Cannot(format!("{}, so the floats cannot tell", crate::model::DOUBT_REASON));
    }
    if ![&la, &lb].iter().all(|v| v.finite()) || ![&ha, &hb].iter().all(|v| v.finite()) {
        return Found::Cannot("a value leaves the floats' range on the way (beyond 2^(2^31), or a nonzero value below 2^(-2^31))".into());
    }
    let Some(signs) = super::settled_signs((&la, &lb), (&ha, &hb), largest, matches!(r.rel, Rel::Eq | Rel::Ne)) else {
        return Found::Cannot(format!("cannot compare {ha} with {hb} by `{}`", r.rel.symbol()));
    };
    let (a, b) = (ha.to_string(), hb.to_string());
    if signs.iter().any(Option::is_none) {
        return Found::Cannot("the sides differ by about their rounding error even in 640-bit floats".into());
    }
    let signs: Vec<i64> = signs.into_iter().flatten().collect();
    // Equal to 640 bits cannot be told from a difference below that (`tanh(1000) >= 1`,
    // `(exp(2000) + 1) - exp(2000) = 0`): a tie decides nothing, so `=` is decided exactly only.
    if signs.iter().all(|s| *s == 0) {
        return Found::Cannot("the sides are equal to 640 bits, which floats cannot tell from a difference below that".into());
    }
    let verdict = match r.rel {
        Rel::Eq => false,
        Rel::Ne => true,
        Rel::Le | Rel::Lt => signs[0] < 0,
        Rel::Ge | Rel::Gt => signs[0] > 0,
        Rel::To => return Found::Cannot("a limit is not a relation at a point".into()),
    };
    if verdict { Found::Holds(a, b) } else { Found::Fails(a, b) }
}

/// Follows `|X - L|` for `var` from 0 to `LIMIT_STEPS`: it tends to 0 when it ends below
/// `LIMIT_CLOSE` and keeps falling, by at least `LIMIT_FALL` over each of the last two quarters
/// of the steps (a sequence settling at a small constant does not); it does not when it is
/// rising or flat over the last half while above `LIMIT_CLOSE`. Anything else cannot be told,
/// and so is a value that lost a term to rounding. Both precisions must agree on the last
/// value. However small the end, this is evidence: a sequence can turn after the last step.
fn float_limit(low: &mut Model<Wide>, high: &mut Model<Wider>, r: &Relation, var: &str) -> (Found, Points) {
    let mut points = Vec::new();
    let mut last_low = 0.0;
    for t in 0..=LIMIT_STEPS {
        let (l, h) = match (distance(low, r, var, t), distance(high, r, var, t)) {
            (Ok(l), Ok(h)) => (l, h),
            (Err(stop), _) | (_, Err(stop)) => return (Found::Cannot(format!("at {var} = {t}: {}", stop_text(stop))), points),
        };
        if low.lost || high.lost {
            return (Found::Cannot(format!("at {var} = {t} a term is lost to rounding, so the floats cannot tell")), points);
        }
        last_low = l;
        points.push((t as f64, h));
    }
    let n = points.len();
    let (half, three_quarters, last) = (points[n / 2].1, points[3 * n / 4].1, points[n - 1].1);
    let tail = &points[n / 2..];
    let rising = tail.windows(2).all(|w| w[1].1 >= w[0].1 * (1.0 - 1e-9));
    let keeps_falling = three_quarters <= half * LIMIT_FALL && last <= three_quarters * LIMIT_FALL;
    let seen = format!("|{} - {}| = {last:.3e} at {var} = {LIMIT_STEPS}", crate::language::text::expr(&r.lhs), crate::language::text::expr(&r.rhs));
    let agree = (last - last_low).abs() <= 1e-6 * last.abs().max(f64::MIN_POSITIVE) || (last < 1e-60 && last_low < 1e-60);
    let found = if !last.is_finite() || !agree {
        Found::Cannot(format!("{seen}, and the two precisions disagree there"))
    } else if keeps_falling && last <= LIMIT_CLOSE {
        Found::Holds(format!("{last:.3e} at {var} = {LIMIT_STEPS}"), format!("below {LIMIT_CLOSE:e}, falling"))
    } else if rising && last > LIMIT_CLOSE {
        Found::Fails(format!("{last:.3e} at {var} = {LIMIT_STEPS}"), format!("{seen}: not falling towards the limit"))
    } else {
        Found::Cannot(format!("{seen}: it cannot be told in {LIMIT_STEPS} steps"))
    };
    (found, points)
}

/// `|X - L|` at `var = t` (the Euclidean norm for vectors and matrices).
fn distance<N: Number>(m: &mut Model<N>, r: &Relation, var: &str, t: i64) -> Result<f64, Stop> {
    let env = HashMap::from([(var.to_string(), int::<N>(t))]);
    let (a, b) = both(m, r, &env)?;
    match (a, b) {
        (Value::S(a), Value::S(b)) => Ok((a - b).to_f64().abs()),
        (Value::M(a), Value::M(b)) if a.shape() == b.shape() => {
            Ok(a.iter().zip(b.iter()).map(|(x, y)| (x.clone() - y.clone()).to_f64().powi(2)).sum::<f64>().sqrt())
        }
        (a, b) => Err(Stop::NotApplicable(format!("cannot compare {a} with {b}"))),
    }
}

fn limit_plot(text: &str, points: Points, earlier: Option<Plot>) -> Plot {
    let positive = points.iter().all(|p| p.1 > 0.0 && p.1.is_finite());
    let mut plot = earlier.unwrap_or(Plot {
        title: "Limits along the witness's sequences".into(),
        x_label: "step".into(),
        y_label: "distance to the limit".into(),
        log_x: false,
        log_y: positive,
        curves: Vec::new(),
    });
    plot.log_y &= positive;
    plot.curves.push(Curve { label: text.to_string(), points, intervals: None });
    plot
}

/// One layer's verdict on every condition, with a table of them; a condition that fails
/// makes it refuted, one it cannot decide leaves it n/a for that condition (and says so).
fn layer(kind: Layer, how: &str, conditions: &[Labeled], found: &[Found], shown: &[(String, String)]) -> LayerResult {
    let mut rows = Vec::new();
    let mut failed = None;
    let (mut decided, mut undecided) = (0, Vec::new());
    for (c, f) in conditions.iter().zip(found) {
        // Short cells (the report typesets them in a narrow table); the reasons are in the detail.
        let short = |x: &String| if x.chars().count() > 24 { format!("{}…", x.chars().take(23).collect::<String>()) } else { x.clone() };
        let (left, right, verdict) = match f {
            Found::Holds(a, b) => (short(a), short(b), "holds"),
            Found::Fails(a, b) => (short(a), short(b), "fails"),
            Found::Cannot(_) => (String::new(), String::new(), "n/a"),
        };
        match f {
            Found::Holds(..) => decided += 1,
            Found::Fails(a, b) => {
                decided += 1;
                failed.get_or_insert((c, a.clone(), b.clone()));
            }
            Found::Cannot(reason) => undecided.push(format!("{} ({reason})", c.label)),
        }
        rows.push(vec![c.label.clone(), left, right, verdict.to_string()]);
    }
    let table = Some(Table { columns: vec!["condition".into(), "left".into(), "right".into(), "verdict".into()], rows });
    let (verdict, detail, counterexample) = if let Some((c, a, b)) = failed {
        let cx = Counterexample { values: shown.to_vec(), lhs: a.clone(), rhs: b.clone() };
        (Verdict::Refuted, format!("at the witness, {}: {} fails {how}: {a} against {b}", c.label, c.text), Some(cx))
    } else if decided == 0 {
        (Verdict::NotApplicable, format!("no condition can be evaluated {how}: {}", undecided.join("; ")), None)
    } else {
        let rest = if undecided.is_empty() { String::new() } else { format!("; not decided here: {}", undecided.join("; ")) };
        let limits = conditions.iter().zip(found).any(|(c, f)| matches!(c.condition, Condition::Limit { .. }) && matches!(f, Found::Holds(..)));
        let evidence = if limits { " (a limit followed numerically is evidence, not a proof)" } else { "" };
        (Verdict::Holds, format!("{decided} of {} conditions hold at the witness {how}{evidence}{rest}", conditions.len()), None)
    };
    LayerResult { table, counterexample, ..LayerResult::new(kind, verdict, detail) }
}
