//! A comparison of two costs, `time(X) < time(Y) when n = 4096, d = 64, m <= 1357`: every size
//! held to a number but at most one, which runs over a finite range. Both costs are taken at
//! every size of the range twice — the count polynomials evaluated there (symbolic layer) and
//! whole-number counts with sums unrolled (exact layer) — and compared at each. Past the
//! range, the symbolic layer looks for the first size where the comparison fails: the
//! break-even, confirmed by a whole-number count.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::ToPrimitive;

use super::results::ClaimResult;
use crate::evidence::count::{self, Counts, Program};
use crate::evidence::growth::Poly;
use crate::language::ast::{Complexity, Expr, ExprKind, Measure, Rel};
use crate::language::text;
use crate::verdict::{Counterexample, Curve, Finding, FindingKind, Layer, LayerResult, Plot, Status, Table, Verdict};

/// At most this many sizes in a claim's range: every one is counted both ways (the
/// polynomials hold only where every sum has two terms or more, which only a count with the
/// sums unrolled sees).
const MAX_RANGE: i64 = 20_000;
/// How far past the range the break-even is looked for.
const MAX_BEYOND: i64 = 100_000;

type Sizes = BTreeMap<String, BigInt>;

/// The sizes a comparison runs over: the fixed ones, and the one free size with its range.
struct Range {
    fixed: Sizes,
    free: Option<(String, i64, i64)>,
}

impl Range {
    fn at(&self, x: i64) -> Sizes {
        let mut sizes = self.fixed.clone();
        if let Some((v, ..)) = &self.free {
            sizes.insert(v.clone(), BigInt::from(x));
        }
        sizes
    }

    fn ends(&self) -> (i64, i64) {
        self.free.as_ref().map_or((0, 0), |(_, lo, hi)| (*lo, *hi))
    }

    fn describe(&self, x: i64) -> String {
        shown(&self.at(x))
    }

    /// `at n = 4096, d = 64 for every m from 1 to 1357 [with m >= d]`.
    fn describe_all(&self, regime: &[(String, String)]) -> String {
        let fixed = if self.fixed.is_empty() { String::new() } else { format!(" at {}", shown(&self.fixed)) };
        let within: Vec<String> = regime.iter().map(|(a, b)| format!("{a} >= {b}")).collect();
        let within = if within.is_empty() { String::new() } else { format!(" with {}", within.join(", ")) };
        match &self.free {
            Some((v, lo, hi)) => format!("{fixed} for every {v} from {lo} to {hi}{within}"),
            None => fixed,
        }
    }
}

fn shown(sizes: &Sizes) -> String {
    let shown: Vec<String> = sizes.iter().map(|(v, x)| format!("{v} = {x}")).collect();
    shown.join(", ")
}

pub(super) fn check(
    claim: &Complexity,
    rel: Rel,
    other: &Expr,
    program: &Program,
    resolve: &dyn Fn(&str) -> String,
    mut result: ClaimResult,
) -> ClaimResult {
    let line = result.line;
    let fail = |mut result: ClaimResult, why: String| {
        not_counted(&mut result, claim, why);
        result
    };
    let symbolic =
        |e: &Expr| count::count::<Poly>(program, e, &|v| Poly::var(&resolve(v))).map_err(|err| format!("cannot count `{}`: {err}", text::expr(e)));
    let (left, right) = match (symbolic(&claim.expr), symbolic(other)) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(why), _) | (_, Err(why)) => return fail(result, why),
    };
    let (left_forms, right_forms) = (polynomials(claim.measure, &left), polynomials(claim.measure, &right));
    // Every size either evaluation reads, as well as those its cost grows with: a size used
    // only as an index (`Ai[h]` beside `Ai[3]`) changes what is stored.
    let mut vars: Vec<String> = left_forms.iter().chain(&right_forms).flat_map(Poly::vars).collect();
    for e in [&claim.expr, other] {
        sizes_read(e, program, resolve, &mut Vec::new(), &mut vars);
    }
    vars.sort();
    vars.dedup();
    let range = match range(claim, &vars, resolve) {
        Ok(r) => r,
        Err(why) => return fail(result, why),
    };
    let inside = |sizes: &Sizes| {
        claim.regime.iter().all(|(big, small)| match (sizes.get(&resolve(big)), sizes.get(&resolve(small))) {
            (Some(b), Some(s)) => b >= s,
            _ => true,
        })
    };
    let holds = |a: &BigRational, b: &BigRational| if rel == Rel::Lt { a < b } else { a <= b };
    let measure = claim.measure.name();
    let (lo, hi) = range.ends();
    let points: Vec<i64> = (lo..=hi).filter(|&x| inside(&range.at(x))).collect();
    if points.is_empty() {
        return fail(result, "no size satisfies the claim's conditions".into());
    }
    let cost = |forms: &[Poly], sizes: &Sizes| forms.iter().map(|p| p.eval(sizes)).max().unwrap_or_default();
    let costs = |x: i64| (cost(&left_forms, &range.at(x)), cost(&right_forms, &range.at(x)));

    // The symbolic layer: the polynomials at every size of the range, then past it.
    let failing = points.iter().copied().find(|&x| {
        let (a, b) = costs(x);
        !holds(&a, &b)
    });
    let break_even = match (&range.free, failing) {
        (Some(_), None) => (hi + 1..=hi.saturating_add(MAX_BEYOND)).filter(|&x| inside(&range.at(x))).find(|&x| {
            let (a, b) = costs(x);
            !holds(&a, &b)
        }),
        _ => None,
    };
    let forms =
        format!("the {measure} of the left side is {}, of the right side {}", form(claim.measure, &left_forms), form(claim.measure, &right_forms));
    let mut symbolic_row = match failing {
        Some(x) => {
            let (a, b) = costs(x);
            let mut r = LayerResult::new(
                Layer::Symbolic,
                Verdict::Refuted,
                format!("{forms}; the comparison fails at {}: {a} against {b}", range.describe(x)),
            );
            r.counterexample = Some(Counterexample { values: sizes_shown(&range.at(x)), lhs: a.to_string(), rhs: b.to_string() });
            r
        }
        None => {
            let past = match (&range.free, break_even) {
                (Some((v, ..)), Some(x)) => {
                    let (a, b) = costs(x);
                    format!("; it first fails at {v} = {x} ({a} against {b}): the break-even")
                }
                (Some((v, ..)), None) => format!("; it holds on up to {v} = {}, as far as it was followed", hi.saturating_add(MAX_BEYOND)),
                (None, _) => String::new(),
            };
            LayerResult::new(Layer::Symbolic, Verdict::Holds, format!("{forms}; the comparison holds{}{past}", range.describe_all(&claim.regime)))
        }
    };
    let end = break_even.or(failing).map_or(hi, |x| x.max(hi));
    symbolic_row.table = Some(table(claim.measure, &range, lo, end, &points, break_even.or(failing), &costs));
    symbolic_row.plot = range.free.as_ref().map(|(v, ..)| plot(claim, other, v, lo, end + (end - lo) / 8, &costs));

    // The exact layer: whole-number counts at every size of the range, on their own.
    let exact_row = exact(claim, other, program, resolve, &range, &points, failing.or(break_even), &holds, &costs);
    // The polynomials are the cost only where the counts with sums unrolled agree with them
    // (a sum of one term or none breaks them), so neither layer decides alone. An exact
    // refutation at the size the symbolic layer fails at is the claim's; any other is a
    // disagreement of the layers.
    let agree = exact_row.counterexample.as_ref().map(|c| &c.values) == symbolic_row.counterexample.as_ref().map(|c| &c.values);
    result.status = match (symbolic_row.verdict, exact_row.verdict) {
        (Verdict::Holds, Verdict::Holds) => Status::Verified,
        (Verdict::Refuted, Verdict::Refuted) if agree => Status::Refuted,
        _ => Status::NotShown,
    };
    if result.status == Status::NotShown && exact_row.verdict == Verdict::NotApplicable {
        result.problems.push(Finding { span: claim.span, line, kind: FindingKind::Problem, message: exact_row.detail.clone() });
    }
    add_rows(&mut result, claim, [symbolic_row, exact_row]);
    result
}

/// The sizes `e` reads, through the definitions it uses.
fn sizes_read<'a>(e: &'a Expr, program: &'a Program, resolve: &dyn Fn(&str) -> String, seen: &mut Vec<&'a str>, out: &mut Vec<String>) {
    if let ExprKind::Name(n) | ExprKind::Index(n, _) = &e.kind {
        if program.dims.contains(n) {
            out.push(resolve(n));
        }
        if let Some(body) = program.definitions.get(n).filter(|_| !seen.contains(&n.as_str())) {
            seen.push(n);
            sizes_read(body, program, resolve, seen, out);
        }
    }
    for c in e.children() {
        sizes_read(c, program, resolve, seen, out);
    }
}

/// What is compared: the time, or the storage at each moment (the peak is their largest).
fn polynomials(measure: Measure, c: &Counts<Poly>) -> Vec<Poly> {
    match measure {
        Measure::Time => vec![c.time.clone()],
        Measure::Space => c.space_candidates(),
    }
}

fn form(measure: Measure, forms: &[Poly]) -> String {
    let texts: Vec<String> = forms.iter().map(Poly::text).collect();
    match measure {
        Measure::Space if texts.len() > 1 => format!("the largest of {}", texts.join(", ")),
        _ => texts.join(", "),
    }
}

/// The sizes the claim's numbers allow: each size of the counts held to a number, but one,
/// which needs an upper end (its lower end is 1 unless the claim says otherwise).
fn range(claim: &Complexity, vars: &[String], resolve: &dyn Fn(&str) -> String) -> Result<Range, String> {
    let mut fixed = Sizes::new();
    // Sizes are at least 1 unless the claim gives a lower end (`m >= 0`).
    let mut ends: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (name, rel, _) in &claim.numbers {
        let lowest = if matches!(rel, Rel::Ge | Rel::Gt | Rel::Eq) { 0 } else { 1 };
        let entry = ends.entry(resolve(name)).or_insert((lowest, i64::MAX));
        entry.0 = entry.0.min(lowest);
    }
    for (name, rel, k) in &claim.numbers {
        let v = resolve(name);
        let (lo, hi) = ends.get_mut(&v).expect("every size held to a number has its ends");
        match rel {
            Rel::Eq => {
                if let Some(earlier) = fixed.insert(v.clone(), BigInt::from(*k)).filter(|e| *e != BigInt::from(*k)) {
                    return Err(format!("`{v}` is held to both {earlier} and {k}"));
                }
            }
            Rel::Le => *hi = (*hi).min(*k),
            Rel::Lt => *hi = (*hi).min(k - 1),
            Rel::Ge => *lo = (*lo).max(*k),
            _ => *lo = (*lo).max(k + 1),
        }
    }
    for (v, x) in &fixed {
        let (lo, hi) = ends.get(v).copied().unwrap_or((1, i64::MAX));
        if *x < BigInt::from(lo) || *x > BigInt::from(hi) {
            return Err(format!("`{v}` is held to {x}, outside the range the claim gives it"));
        }
    }
    let free: Vec<&String> = vars.iter().filter(|v| !fixed.contains_key(*v)).collect();
    match free[..] {
        [] => Ok(Range { fixed, free: None }),
        [v] => {
            let (lo, hi) = ends.get(v).copied().unwrap_or((1, i64::MAX));
            if hi == i64::MAX {
                return Err(format!("`{v}` runs over no finite range: give it an upper end (`{v} <= …`), and hold every other size to a number"));
            }
            if hi < lo {
                return Err(format!("no size satisfies the claim's conditions: `{v}` runs from {lo} to {hi}"));
            }
            if hi - lo + 1 > MAX_RANGE {
                return Err(format!("`{v}` runs over {} sizes; at most {MAX_RANGE} are compared", hi - lo + 1));
            }
            Ok(Range { fixed, free: Some((v.clone(), lo, hi)) })
        }
        _ => {
            let names: Vec<String> = free.iter().map(|v| format!("`{v}`")).collect();
            Err(format!(
                "a comparison of costs holds every size but one to a number, and {} are not (`when n = 4096, d = 64, m <= 1357`)",
                names.join(" and ")
            ))
        }
    }
}

fn sizes_shown(sizes: &Sizes) -> Vec<(String, String)> {
    sizes.iter().map(|(v, x)| (v.clone(), x.to_string())).collect()
}

/// The costs at a few sizes spread over the range, and at the break-even.
fn table(
    measure: Measure,
    range: &Range,
    lo: i64,
    end: i64,
    points: &[i64],
    mark: Option<i64>,
    costs: &dyn Fn(i64) -> (BigRational, BigRational),
) -> Table {
    let mut shown: Vec<i64> = (0..=8).map(|i| lo + (end - lo) * i / 8).filter(|x| points.contains(x) || Some(*x) == mark).collect();
    shown.extend(mark);
    shown.sort();
    shown.dedup();
    let rows = shown
        .into_iter()
        .map(|x| {
            let (a, b) = costs(x);
            let ratio = if b == BigRational::from_integer(0.into()) {
                "—".into()
            } else {
                format!("{:.4}", (a.clone() / b.clone()).to_f64().unwrap_or(f64::NAN))
            };
            vec![range.describe(x), a.to_string(), b.to_string(), ratio]
        })
        .collect();
    let m = measure.name();
    Table { columns: vec!["sizes".into(), format!("{m}, left"), format!("{m}, right"), "ratio".into()], rows }
}

/// Both costs against the free size, past the break-even.
fn plot(claim: &Complexity, other: &Expr, v: &str, lo: i64, end: i64, costs: &dyn Fn(i64) -> (BigRational, BigRational)) -> Plot {
    let xs: Vec<i64> = {
        let mut xs: Vec<i64> = (0..=60).map(|i| lo + (end - lo) * i / 60).collect();
        xs.dedup();
        xs
    };
    let values: Vec<(f64, f64, f64)> = xs
        .iter()
        .map(|&x| {
            let (a, b) = costs(x);
            (x as f64, a.to_f64().unwrap_or(f64::NAN), b.to_f64().unwrap_or(f64::NAN))
        })
        .collect();
    let m = claim.measure.name();
    let label = |e: &Expr, side: &str| {
        let t = text::expr(e);
        if t.chars().count() <= 30 { format!("{m}({t})") } else { format!("{m} of the {side} side") }
    };
    Plot {
        title: format!("The {m} of both sides against {v}"),
        x_label: v.to_string(),
        y_label: format!("{m} (operations counted)"),
        log_x: false,
        log_y: false,
        curves: vec![
            Curve { label: label(&claim.expr, "left"), points: values.iter().map(|p| (p.0, p.1)).collect(), intervals: None },
            Curve { label: label(other, "right"), points: values.iter().map(|p| (p.0, p.2)).collect(), intervals: None },
        ],
    }
}

/// Whole-number counts (sums unrolled) at every size of the range, compared on their own,
/// and checked against the polynomials; the break-even (or the failing size) counted too.
#[allow(clippy::too_many_arguments)]
fn exact(
    claim: &Complexity,
    other: &Expr,
    program: &Program,
    resolve: &dyn Fn(&str) -> String,
    range: &Range,
    points: &[i64],
    mark: Option<i64>,
    holds: &dyn Fn(&BigRational, &BigRational) -> bool,
    costs: &dyn Fn(i64) -> (BigRational, BigRational),
) -> LayerResult {
    let counted = |e: &Expr, sizes: &Sizes| -> Result<BigRational, String> {
        let c = count::count::<BigInt>(program, e, &|v| sizes.get(&resolve(v)).cloned().unwrap_or_else(|| BigInt::from(1)))?;
        Ok(BigRational::from_integer(match claim.measure {
            Measure::Time => c.time,
            Measure::Space => c.space(),
        }))
    };
    let mut disagree = None;
    let mut failing = None;
    let mut seen_mark = None;
    for &x in points.iter().chain(mark.iter().filter(|m| !points.contains(m))) {
        let sizes = range.at(x);
        let (a, b) = match (counted(&claim.expr, &sizes), counted(other, &sizes)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                return LayerResult::new(Layer::Exact, Verdict::NotApplicable, format!("counting at {}: {e}", range.describe(x)));
            }
        };
        if disagree.is_none() && (a.clone(), b.clone()) != costs(x) {
            disagree = Some(format!("at {} the counts are {a} and {b}, the polynomials give {} and {}", range.describe(x), costs(x).0, costs(x).1));
        }
        if Some(x) == mark {
            seen_mark = Some((a.clone(), b.clone()));
        }
        if points.contains(&x) && failing.is_none() && !holds(&a, &b) {
            failing = Some((x, a, b));
        }
    }
    if let Some(why) = disagree {
        // The symbolic layer read the wrong polynomials somewhere (a sum of one term): its
        // verdict stands for nothing, and the claim is not shown.
        return LayerResult::new(
            Layer::Exact,
            Verdict::Refuted,
            format!("the two countings disagree: {why}, so the polynomial form cannot be trusted here (this says nothing against the claim)"),
        );
    }
    let n = points.len();
    match failing {
        Some((x, a, b)) => {
            let mut r =
                LayerResult::new(Layer::Exact, Verdict::Refuted, format!("counted with whole sizes at {}: {a} against {b}", range.describe(x)));
            r.counterexample = Some(Counterexample { values: sizes_shown(&range.at(x)), lhs: a.to_string(), rhs: b.to_string() });
            r
        }
        None => {
            let past = match (mark, seen_mark) {
                (Some(x), Some((a, b))) => format!("; at {} it is {a} against {b}, which fails", range.describe(x)),
                _ => String::new(),
            };
            LayerResult::new(
                Layer::Exact,
                Verdict::Holds,
                format!(
                    "counted with whole sizes (sums unrolled) at {}: the same counts as the polynomials, and the comparison holds{past}",
                    if n == 1 { "the one size".to_string() } else { format!("each of the {n} sizes") }
                ),
            )
        }
    }
}

/// A claim that cannot be counted or compared: not shown, with why.
pub(super) fn not_counted(result: &mut ClaimResult, claim: &Complexity, why: String) {
    let line = result.line;
    result.evidence.push(LayerResult { line: Some(line), ..LayerResult::new(Layer::Symbolic, Verdict::NotApplicable, why.clone()) });
    result.problems.push(Finding { span: claim.span, line, kind: FindingKind::Problem, message: why });
    result.status = Status::NotShown;
}

/// The symbolic and exact rows of a complexity claim, both about its own line; a refuting
/// row is also a problem of the claim.
pub(super) fn add_rows(result: &mut ClaimResult, claim: &Complexity, rows: [LayerResult; 2]) {
    let line = result.line;
    for mut row in rows {
        if row.verdict == Verdict::Refuted {
            result.problems.push(Finding { span: claim.span, line, kind: FindingKind::Problem, message: row.detail.clone() });
        }
        row.line = Some(line);
        result.evidence.push(row);
    }
}
