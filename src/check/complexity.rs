//! One complexity claim: the cost of evaluating an expression as written, counted in two
//! ways that must agree — as polynomials in the sizes (sums counted once and multiplied),
//! and as whole numbers at a grid of sizes (sums unrolled), interpolated back to a
//! polynomial — and its growth compared exactly with the stated class.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Knowledge;
use super::comparison::{add_rows, not_counted};
use super::results::ClaimResult;
use crate::diagnostic::SourceFiles;
use crate::evidence::count::{self, Counts, Program};
use crate::evidence::growth::{self, Direction, Poly, Regime};
use crate::language::ast::{BinOp, Complexity, CostBound, Expr, ExprKind, Growth, Kind, Measure};
use crate::language::{Kinds, text};
use crate::model::ModelSpec;
use crate::verdict::{Layer, LayerResult, Status, Table, Verdict};

/// At most this many sizes are counted to interpolate.
const MAX_GRID: usize = 4000;

pub(super) fn check(claim: &Complexity, known: &Knowledge, kinds: &Kinds, files: &SourceFiles, seed: u64) -> ClaimResult {
    let line = files.line(claim.span);
    let mut result = ClaimResult::without_proof(&claim.name, line, seed);
    let parts = ProgramParts::of(&known.model, kinds);
    let program = parts.program(kinds, &known.model);
    // `when k = d`: every `k` is read as `d`.
    let same: HashMap<&str, &str> = claim.equal.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let resolve = |v: &str| -> String {
        let mut v = v;
        for _ in 0..same.len() {
            v = same.get(v).copied().unwrap_or(v);
        }
        v.to_string()
    };
    let fail = |result: &mut ClaimResult, why: String| not_counted(result, claim, why);
    let (growth, class) = match &claim.bound {
        CostBound::Class(growth, class) => (*growth, class),
        CostBound::Than(rel, other) => return super::comparison::check(claim, *rel, other, &program, &resolve, result),
    };
    let symbolic = match count::count::<Poly>(&program, &claim.expr, &|v| Poly::var(&resolve(v))) {
        Ok(c) => c,
        Err(e) => {
            fail(&mut result, format!("cannot count `{}`: {e}", text::expr(&claim.expr)));
            return result;
        }
    };
    let regime: Vec<Regime> = claim.regime.iter().map(|(a, b)| (resolve(a), resolve(b))).collect();
    let class = class_poly(class, &resolve);
    let candidates = symbolic.space_candidates();
    // What grows: the count itself, or (space) the largest of the storages at each moment,
    // which grows like their sum.
    let measured = match claim.measure {
        Measure::Time => symbolic.time.clone(),
        Measure::Space => candidates.iter().cloned().fold(Poly::default(), |a, b| a + b),
    };
    // An upper bound may drop the negative terms; a Θ needs them outgrown.
    let positive = match growth {
        Growth::BigO => Some(measured.positive_terms()),
        Growth::Theta => measured.dominant_part(),
    };
    let Some(positive) = positive else {
        fail(&mut result, format!("the count {measured} has negative terms that no positive term outgrows"));
        return result;
    };
    let verdict = theta(claim, growth, &symbolic, &positive, &class, &regime, &candidates);
    let exact = exact_layer(claim, &program, &symbolic, &candidates, &resolve, seed);
    result.status = match (verdict.verdict, exact.verdict) {
        (Verdict::Holds, Verdict::Holds) => Status::Verified,
        (Verdict::Holds, Verdict::NotApplicable) => Status::SymbolicOnly,
        (Verdict::Refuted, Verdict::Holds | Verdict::NotApplicable) => Status::Refuted,
        _ => Status::NotShown,
    };
    add_rows(&mut result, claim, [verdict, exact]);
    result
}

/// What the cost model reads of a file at one point: the definitions it inlines, the names
/// defined otherwise (not counted), the sizes.
pub(super) struct ProgramParts {
    definitions: HashMap<String, Expr>,
    defined: BTreeSet<String>,
    dims: BTreeSet<String>,
}

impl ProgramParts {
    pub(super) fn of(spec: &ModelSpec, kinds: &Kinds) -> ProgramParts {
        let definitions: HashMap<String, Expr> = spec
            .definitions
            .iter()
            .filter(|d| d.vars.is_empty() && d.conditions.is_empty() && matches!(d.lhs.kind, ExprKind::Name(_)))
            .map(|d| (d.lhs.head().cloned().unwrap_or_default(), d.rhs.clone()))
            .collect();
        // The sizes: dimension names and declared integers (a number of heads).
        let integers = kinds.0.iter().filter(|(_, k)| **k == Kind::Integer).map(|(n, _)| n.clone());
        let dims = spec.shapes.values().flatten().filter(|d| d.parse::<u64>().is_err()).cloned().chain(integers).collect();
        let defined = spec.definitions.iter().filter_map(|d| d.lhs.head().cloned()).filter(|n| !definitions.contains_key(n)).collect();
        ProgramParts { definitions, defined, dims }
    }

    pub(super) fn program<'a>(&'a self, kinds: &'a Kinds, spec: &'a ModelSpec) -> Program<'a> {
        Program { kinds, shapes: &spec.shapes, definitions: &self.definitions, defined: &self.defined, dims: &self.dims }
    }
}

/// The growth class as a polynomial (the parser allows only those).
fn class_poly(e: &Expr, resolve: &dyn Fn(&str) -> String) -> Poly {
    match &e.kind {
        ExprKind::Num(q) => Poly::constant(q.clone()),
        ExprKind::Name(n) => Poly::var(&resolve(n)),
        ExprKind::Bin(BinOp::Add, a, b) => class_poly(a, resolve) + class_poly(b, resolve),
        ExprKind::Bin(BinOp::Mul, a, b) => class_poly(a, resolve) * class_poly(b, resolve),
        ExprKind::Bin(BinOp::Div, a, b) => {
            class_poly(a, resolve).scale(&(BigRational::from_integer(1.into()) / b.rational().unwrap_or_else(|| BigRational::from_integer(1.into()))))
        }
        ExprKind::Bin(BinOp::Pow, a, b) => {
            let k = b.rational().and_then(|k| k.to_integer().to_u32()).unwrap_or(1);
            (0..k).fold(Poly::int(1), |p, _| p * class_poly(a, resolve))
        }
        _ => Poly::default(),
    }
}

fn describe(claim: &Complexity, growth: Growth, class: &Poly) -> String {
    let regime: Vec<String> =
        claim.regime.iter().map(|(a, b)| format!("{a} >= {b}")).chain(claim.equal.iter().map(|(a, b)| format!("{a} = {b}"))).collect();
    let when = if regime.is_empty() { String::new() } else { format!(" when {}", regime.join(", ")) };
    format!("{}({class}){when}", growth.name())
}

/// The symbolic layer: the count as a polynomial, its leading terms, and the class.
fn theta(
    claim: &Complexity,
    growth: Growth,
    counts: &Counts<Poly>,
    positive: &Poly,
    class: &Poly,
    regime: &[Regime],
    candidates: &[Poly],
) -> LayerResult {
    let stated = describe(claim, growth, class);
    let what = match claim.measure {
        Measure::Time => format!("the time of evaluating it as written is {}", counts.time),
        Measure::Space => {
            let peaks: Vec<String> = candidates.iter().map(Poly::text).collect();
            format!(
                "the storage of evaluating it as written is {} for the inputs, and at its peak the largest of {}",
                counts.inputs,
                peaks.join(", ")
            )
        }
    };
    if positive.is_zero() && growth == Growth::Theta {
        return LayerResult::new(
            Layer::Symbolic,
            Verdict::Refuted,
            format!("{what}: it does not grow at all, and {stated} needs it at least a positive multiple of the class"),
        );
    }
    let leading = growth::leading_terms(positive, regime).monomials();
    let upper = growth::big_o(positive, class, regime);
    let lower = if growth == Growth::Theta { growth::big_o(class, positive, regime) } else { Ok(()) };
    match (upper, lower) {
        (Ok(()), Ok(())) => LayerResult::new(Layer::Symbolic, Verdict::Holds, format!("{what}; it grows like {leading}, as {stated} says")),
        (Err(None), _) | (_, Err(None)) => {
            LayerResult::new(Layer::Symbolic, Verdict::NotApplicable, format!("{what}; how it compares with {stated} was not decided"))
        }
        (Err(Some(d)), _) => refuted(claim, format!("{what}: it grows faster than {stated}"), &d, counts, candidates, class, true),
        (Ok(()), Err(Some(d))) => {
            refuted(claim, format!("{what}: it grows more slowly than {stated} (like {leading})"), &d, counts, candidates, class, false)
        }
    }
}

/// The count against the class along the direction where they part, exactly.
fn refuted(claim: &Complexity, detail: String, d: &Direction, counts: &Counts<Poly>, candidates: &[Poly], class: &Poly, faster: bool) -> LayerResult {
    let mut rows = Vec::new();
    for s in 1..=5 {
        let sizes = d.sizes(s);
        let c = match claim.measure {
            Measure::Time => counts.time.eval(&sizes),
            Measure::Space => candidates.iter().map(|p| p.eval(&sizes)).max().unwrap_or_default(),
        };
        let f = class.eval(&sizes);
        let ratio = if f.is_zero() { "—".into() } else { format!("{:.4}", (c.clone() / f.clone()).to_f64().unwrap_or(f64::NAN)) };
        let shown: Vec<String> = sizes.iter().map(|(v, x)| format!("{v} = {x}")).collect();
        rows.push(vec![shown.join(", "), c.to_string(), f.to_string(), ratio]);
    }
    let rate = if faster { "grows" } else { "falls" };
    let factor = if d.gap == BigRational::from_integer(1.into()) { "2".to_string() } else { format!("2^{}", d.gap) };
    let detail = format!("{detail}; along {}, the ratio {rate} by a factor {factor} at each step of s", d.describe());
    let mut r = LayerResult::new(Layer::Symbolic, Verdict::Refuted, detail);
    let measure = claim.measure.name();
    r.table = Some(Table { columns: vec!["sizes".into(), measure.into(), "class".into(), "ratio".into()], rows });
    r
}

/// The exact layer: counts with whole sizes on a grid (sums unrolled), the time interpolated
/// back to a polynomial, the storage compared at every size; and at a few sizes off the grid.
fn exact_layer(
    claim: &Complexity,
    program: &Program,
    symbolic: &Counts<Poly>,
    candidates: &[Poly],
    resolve: &dyn Fn(&str) -> String,
    seed: u64,
) -> LayerResult {
    let mut vars: Vec<String> = symbolic.time.vars();
    vars.extend(candidates.iter().flat_map(Poly::vars));
    vars.sort();
    vars.dedup();
    let degree = |v: &str| std::iter::once(&symbolic.time).chain(candidates).map(|p| p.degree(v)).max().unwrap_or(0);
    // One point more than the degree: a count of higher degree would not come back as the
    // polynomial.
    // Each size on its own stretch of whole numbers, above those it must be at least (`when
    // n >= d`): the counts are taken inside the regime, where a sum like `sum(i, 1, n - d, …)`
    // is not empty.
    let length = |v: &str| 2 + i64::from(degree(v));
    let mut start: BTreeMap<&str, i64> = vars.iter().map(|v| (v.as_str(), 2)).collect();
    for _ in 0..vars.len() {
        for (big, small) in &claim.regime {
            let (big, small) = (resolve(big), resolve(small));
            if let (Some(&s), true) = (start.get(small.as_str()), start.contains_key(big.as_str())) {
                let need = s + length(&small);
                let entry = start.get_mut(big.as_str()).expect("a size of the count");
                *entry = (*entry).max(need);
            }
        }
    }
    let grid: Vec<(String, Vec<i64>)> = vars.iter().map(|v| (v.clone(), (start[v.as_str()]..start[v.as_str()] + length(v)).collect())).collect();
    let points: usize = grid.iter().map(|(_, xs)| xs.len()).product();
    if points > MAX_GRID {
        return LayerResult::new(Layer::Exact, Verdict::NotApplicable, format!("counting at {points} sizes is too many (at most {MAX_GRID})"));
    }
    let counted = |sizes: &BTreeMap<String, BigInt>| -> Result<Counts<BigInt>, String> {
        count::count::<BigInt>(program, &claim.expr, &|v| sizes.get(&resolve(v)).cloned().unwrap_or_else(|| BigInt::from(7)))
    };
    let mut storage_differs: Option<String> = None;
    let largest = |sizes: &BTreeMap<String, BigInt>| candidates.iter().map(|p| p.eval(sizes)).max().unwrap_or_default();
    let mut compared = 0;
    let mut compare_space = |sizes: &BTreeMap<String, BigInt>, c: &Counts<BigInt>| {
        if c.short_sum {
            return;
        }
        compared += 1;
        let (got, want) = (BigRational::from_integer(c.space()), largest(sizes));
        if got != want && storage_differs.is_none() {
            let at: Vec<String> = sizes.iter().map(|(v, x)| format!("{v} = {x}")).collect();
            storage_differs = Some(format!("at {} the peak storage counted is {got}, the polynomial form gives {want}", at.join(", ")));
        }
    };
    let interpolated = growth::interpolate(&grid, &mut |sizes| {
        let c = counted(sizes)?;
        compare_space(sizes, &c);
        Ok::<BigInt, String>(c.time)
    });
    let time = match interpolated {
        Ok(p) => p,
        Err(e) => return LayerResult::new(Layer::Exact, Verdict::NotApplicable, format!("counting at whole sizes: {e}")),
    };
    let mut differs = (time != symbolic.time).then(|| format!("the time counted at whole sizes is {time}, not {}", symbolic.time));
    // Off the grid, at larger sizes.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::new();
    for _ in 0..3 {
        let mut sizes: BTreeMap<String, BigInt> = vars.iter().map(|v| (v.clone(), BigInt::from(rng.random_range(5..=40)))).collect();
        for _ in 0..vars.len() {
            for (big, small) in &claim.regime {
                if let (Some(s), Some(b)) = (sizes.get(&resolve(small)).cloned(), sizes.get_mut(&resolve(big))) {
                    *b = (*b).clone().max(s + 1);
                }
            }
        }
        match counted(&sizes) {
            Ok(c) => {
                if differs.is_none() && BigRational::from_integer(c.time.clone()) != symbolic.time.eval(&sizes) {
                    differs = Some(format!("the time counted at {sizes:?} is {}, not {}", c.time, symbolic.time.eval(&sizes)));
                }
                compare_space(&sizes, &c);
                let shown: Vec<String> = sizes.iter().map(|(v, x)| format!("{v} = {x}")).collect();
                rows.push(vec![shown.join(", "), c.time.to_string(), c.space().to_string()]);
            }
            Err(e) => return LayerResult::new(Layer::Exact, Verdict::NotApplicable, format!("counting at whole sizes: {e}")),
        }
    }
    if let Some(why) = differs.or(storage_differs) {
        return LayerResult::new(
            Layer::Exact,
            Verdict::Refuted,
            format!("the two countings disagree: {why} (the polynomial form cannot be trusted here; this says nothing against the claim)"),
        );
    }
    if claim.measure == Measure::Space && compared == 0 {
        return LayerResult::new(Layer::Exact, Verdict::NotApplicable, "the storage was compared at no size (every size had a sum of one term)");
    }
    let measure = claim.measure.name();
    let mut r = LayerResult::new(
        Layer::Exact,
        Verdict::Holds,
        format!(
            "counted with whole sizes at {points} sizes and 3 more (sums unrolled): the time interpolates to the same polynomial, and the peak storage is the polynomial form's at {}; the {measure} at three of them below",
            if compared == points + 3 { "every one".to_string() } else { format!("{compared} of them (the others have a sum of one term)") }
        ),
    );
    r.table = Some(Table { columns: vec!["sizes".into(), "time".into(), "space".into()], rows });
    r
}
