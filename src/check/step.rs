//! One chain of a proof: every step judged by the symbolic layer and by the exact (or float)
//! layer, and whether the chain as a whole proves `lhs REL rhs`.

use std::collections::HashMap;

use num_rational::BigRational;
use num_traits::Zero;

use super::Knowledge;
use super::results::{CONSEQUENCE, StepResult};
use crate::diagnostic::SourceFiles;
use crate::evidence::points;
use crate::language::ast::{Binder, Chain, Expr, ExprKind, Fact, Justification, Kind, Rel, Step};
use crate::language::{shapes, text};
use crate::prove::{self, Bound, Bounds, Comparison, Context, Equation, Outcome, Rewrite};
use crate::verdict::{Finding, FindingKind, Layer, LayerResult, Status, Verdict};

/// An induction's hypothesis: the claim (or a companion equation) one index earlier, an
/// equation or an inequality.
pub(super) enum Hypothesis {
    Equation(Equation),
    Bound(Bound),
}

/// Everything a step check needs besides the step.
pub(super) struct StepScope<'a> {
    pub known: &'a Knowledge,
    pub hypotheses: Vec<Hypothesis>,
    pub context: Context,
    pub binders: &'a [Binder],
    pub conditions: Vec<Fact>,
    pub fixed: HashMap<String, BigRational>,
    pub samples: usize,
}

impl StepScope<'_> {
    /// The exact layer's question about `lhs REL rhs` in this scope.
    pub fn question<'q>(&'q self, lhs: &'q Expr, rel: Rel, rhs: &'q Expr, seed: u64) -> points::Question<'q> {
        points::Question { lhs, rel, rhs, binders: self.binders, conditions: &self.conditions, fixed: &self.fixed, samples: self.samples, seed }
    }
}

/// Checks the steps of a chain and whether it proves `lhs REL rhs`; returns the steps'
/// results and the reasons the chain does not prove it.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_chain(
    chain: &Chain,
    lhs: &Expr,
    rel: Rel,
    rhs: &Expr,
    limit: Option<&str>,
    s: &StepScope,
    files: &SourceFiles,
    seed: u64,
) -> (Vec<StepResult>, Vec<String>) {
    let mut results = Vec::new();
    let mut problems = Vec::new();
    let mut previous = &chain.first;
    let mut first_wrong: Option<usize> = None;
    for (i, step) in chain.steps.iter().enumerate() {
        let mut result = check_step(previous, step, s, files, seed.wrapping_add(i as u64 * 7919));
        if result.status == Status::Refuted {
            match first_wrong {
                // A later step may fail only because an earlier one changed the expression:
                // then the chain from its start to this step holds, and only that one is wrong.
                Some(line) if chain.steps[..=i].iter().all(|st| st.rel == Rel::Eq) => {
                    let whole = points::layer(&s.known.model, &s.question(&chain.first, Rel::Eq, &step.rhs, seed.wrapping_add(i as u64 * 7919 + 1)));
                    if whole.verdict == Verdict::Holds {
                        let message = format!("{CONSEQUENCE}: it fails only because line {line} is wrong");
                        result.findings.push(Finding { span: step.span, line: result.line, kind: FindingKind::Warning, message });
                    }
                }
                Some(_) => {}
                None => first_wrong = Some(result.line),
            }
        }
        results.push(result);
        previous = &step.rhs;
    }
    if let Some(var) = limit {
        problems.extend(squeeze(chain, lhs, rhs, var, s));
        return (results, problems);
    }
    // A bare 0 between vectors or matrices stands for the zero of each neighbour's shape, so
    // the chain links its ends only where their shapes are known to be one.
    let through_zero = chain.steps.iter().rev().skip(1).any(|st| st.rhs.rational().is_some_and(|q| q.is_zero()));
    if through_zero && s.context.kinds.of(&chain.first) != Kind::Scalar {
        let shape = |e: &Expr| shapes::shape(e, &s.context.kinds, &s.context.shapes, &mut |_, _| {});
        let same = matches!((shape(&chain.first), shape(previous)), (Some(a), Some(b)) if a == b);
        if !same {
            problems.push("the chain passes through 0, which has no size, between sides whose sizes are not declared to be one".into());
        }
    }
    let composed = chain.steps.iter().try_fold(Rel::Eq, |acc, st| compose(acc, st.rel));
    match composed {
        None => problems.push("the chain mixes `<` and `>` relations, so it proves no single relation".into()),
        Some(c) if !implies(c, rel) => problems.push(format!("the chain shows `{}`, but the claim states `{}`", c.symbol(), rel.symbol())),
        _ => {}
    }
    for (what, chain_end, claim_side) in [("starts", &chain.first, lhs), ("ends", previous, rhs)] {
        // The same expression needs no proof, nor the facts its steps cited to show it defined.
        let same = chain_end == claim_side || matches!(prove::prove_equal(chain_end, claim_side, &[], &s.context, 0), Ok(Outcome::Equal { .. }));
        if !same {
            let side = if what == "starts" { "left" } else { "right" };
            problems.push(format!("the chain {what} at a different expression than the claim's {side}-hand side"));
        }
    }
    (results, problems)
}

/// Why a chain does not prove `x -> l as var -> inf` by squeezing: it must run `lo <= … <= hi`
/// (or `>=` throughout) through an expression equal to `x`, with both ends tending to `l`.
pub(super) fn squeeze(chain: &Chain, x: &Expr, l: &Expr, var: &str, s: &StepScope) -> Vec<String> {
    let composed = chain.steps.iter().try_fold(Rel::Eq, |acc, st| compose(acc, st.rel));
    let last = chain.steps.last().map_or(&chain.first, |st| &st.rhs);
    let (lo, hi) = match composed {
        Some(Rel::Eq | Rel::Le | Rel::Lt) => (&chain.first, last),
        Some(Rel::Ge | Rel::Gt) => (last, &chain.first),
        _ => return vec!["a limit is proved by a chain `lo <= X <= hi` (or `>=` throughout), and this one mixes directions".into()],
    };
    let mut problems = Vec::new();
    let through = std::iter::once(&chain.first)
        .chain(chain.steps.iter().map(|st| &st.rhs))
        .any(|e| matches!(prove::prove_equal(e, x, &[], &s.context, 0), Ok(Outcome::Equal { .. })));
    if !through {
        problems.push("the chain does not pass through the claim's left-hand side".to_string());
    }
    for (end, e) in [("lower", lo), ("upper", hi)] {
        if let Err(why) = prove::tends_to(e, var, l, &s.context) {
            problems.push(format!("the chain's {end} end `{}` is not shown to tend to `{}`: {why}", text::expr(e), text::expr(l)));
        }
    }
    problems
}

fn compose(a: Rel, b: Rel) -> Option<Rel> {
    use Rel::*;
    Some(match (a, b) {
        (Eq, x) | (x, Eq) => x,
        (Le, Le) => Le,
        (Le | Lt, Le | Lt) => Lt,
        (Ge, Ge) => Ge,
        (Ge | Gt, Ge | Gt) => Gt,
        _ => return None,
    })
}

fn implies(shown: Rel, claimed: Rel) -> bool {
    use Rel::*;
    shown == claimed || matches!((shown, claimed), (Eq, Le | Ge) | (Lt, Le) | (Gt, Ge))
}

pub(super) fn check_step(lhs: &Expr, step: &Step, s: &StepScope, files: &SourceFiles, seed: u64) -> StepResult {
    // The exact layer runs on a thread of its own while this one waits for the engine: the
    // two meet only in the verdict (and in the hint below).
    let (exact, Symbolic { layer: mut symbolic, warning, used }) = std::thread::scope(|scope| {
        #[cfg(test)]
        let weakened = points::WEAKENED.get();
        let running = scope.spawn(move || {
            #[cfg(test)]
            points::WEAKENED.set(weakened);
            LayerResult::timed(|| points::layer(&s.known.model, &s.question(lhs, step.rel, &step.rhs, seed)))
        });
        let running = std::cell::RefCell::new(Some(running));
        let exact = std::cell::OnceCell::new();
        let exact_layer =
            || exact.get_or_init(|| running.borrow_mut().take().expect("joined once").join().expect("the exact layer panicked")).verdict;
        // A step the exact layer refutes gets no hint about the rules it would need: it is false.
        let start = std::time::Instant::now();
        let mut symbolic = symbolic_layer(lhs, step, s, &|| exact_layer() != Verdict::Refuted);
        symbolic.layer.seconds = start.elapsed().as_secs_f64();
        exact_layer();
        (exact.into_inner().expect("the exact layer ran"), symbolic)
    });
    let status = match (symbolic.verdict, exact.verdict) {
        (_, Verdict::Refuted) => Status::Refuted,
        // A second, independent layer confirms it, or could not apply: then it says so.
        (Verdict::Holds, Verdict::Holds) => Status::Verified,
        (Verdict::Holds, Verdict::NotApplicable) => Status::SymbolicOnly,
        _ => Status::NotShown,
    };
    if symbolic.verdict == Verdict::Holds && exact.verdict == Verdict::Refuted {
        symbolic.detail.push_str(" — but the exact layer refutes it: the layers disagree, so the step is not accepted");
    }
    let line = files.line(step.span);
    let findings = warning.map(|message| Finding { span: step.span, line, kind: FindingKind::Warning, message }).into_iter().collect();
    StepResult { span: step.span, line, status, layers: vec![symbolic, exact], findings, used }
}

/// What the symbolic layer says of a step: its verdict, a warning when the step holds
/// without a rule it cites, and the rules it used.
struct Symbolic {
    layer: LayerResult,
    warning: Option<String>,
    used: Vec<String>,
}

impl Symbolic {
    /// A verdict with its detail, no warning, no rule used.
    fn plain(verdict: Verdict, detail: String) -> Symbolic {
        Symbolic { layer: LayerResult::new(Layer::Symbolic, verdict, detail), warning: None, used: vec![] }
    }
}

fn symbolic_layer(lhs: &Expr, step: &Step, s: &StepScope, hint: &dyn Fn() -> bool) -> Symbolic {
    let layer = Symbolic::plain;
    let all: Vec<&dyn Rewrite> = s
        .known
        .rules
        .iter()
        .map(|r| r as &dyn Rewrite)
        .chain(s.hypotheses.iter().filter_map(|h| if let Hypothesis::Equation(e) = h { Some(e as &dyn Rewrite) } else { None }))
        .chain(prove::LEMMAS.iter().map(|l| l as &dyn Rewrite))
        .collect();
    let (rules, depth, cited): (Vec<&dyn Rewrite>, usize, Vec<String>) = match &step.by {
        Justification::Algebra => (vec![], 0, vec![]),
        Justification::Search => (all.clone(), 3, vec![]),
        Justification::Rules(names) => {
            let names: Vec<String> = names.iter().map(|(n, _)| n.clone()).collect();
            (all.iter().filter(|r| names.iter().any(|n| n == r.name())).copied().collect(), prove::MAX_DEPTH, names)
        }
    };
    let (context, signs) = cited_signs(lhs, step, s, &cited);
    if step.rel != Rel::Eq {
        return inequality_layer(lhs, step, s, (&context, &signs), hint, (&all, &rules), &cited);
    }
    match prove::prove_equal(lhs, &step.rhs, &rules, &context, depth) {
        Err(e) => layer(Verdict::NotApplicable, e),
        Ok(Outcome::Equal { used }) => {
            let detail = match (&step.by, used.is_empty()) {
                (Justification::Search, true) => "closes by algebra".to_string(),
                (Justification::Search, false) => format!("closes by {}", used.join(", ")),
                (_, true) => "equal after normalization".to_string(),
                (_, false) => format!("equal after rewriting with {}", used.join(", ")),
            };
            // `transpose` is applied by normalization, so it never shows up as used.
            let unused: Vec<String> =
                cited.iter().filter(|c| !used.contains(c) && !signs.contains(c) && *c != "transpose").map(|u| format!("`{u}`")).collect();
            let warning = (!unused.is_empty()).then(|| format!("{} cited but not needed", unused.join(", ")));
            Symbolic { warning, used, ..layer(Verdict::Holds, detail) }
        }
        Ok(Outcome::Different { residual, blocked }) => {
            let all = if hint() { all.as_slice() } else { &[] };
            let detail = not_shown(lhs, step, s, all, &rules, &cited, format!("not equal after {}", with(&cited)), &residual, &blocked);
            with_residual(layer(Verdict::NotShown, detail), residual)
        }
        Ok(Outcome::GaveUp { residual, forms, blocked }) => {
            let what = format!("gave up: {forms} forms per side after {} did not meet", with(&cited));
            let all = if hint() { all.as_slice() } else { &[] };
            let detail = not_shown(lhs, step, s, all, &rules, &cited, what, &residual, &blocked);
            with_residual(layer(Verdict::NotShown, detail), residual)
        }
        Ok(Outcome::Undefined { reason }) => layer(Verdict::NotShown, format!("cannot judge the step: {reason}")),
    }
}

/// The step's context with the signs its cited inequalities and the induction's hypotheses
/// give to the vectors and sequence elements it holds: `r[t] >= 0` from a cited claim
/// `r[t] >= 0 for t >= 0` (its conditions shown at t), so that `sqrt(r[t])` is defined there.
fn cited_signs(lhs: &Expr, step: &Step, s: &StepScope, cited: &[String]) -> (prove::Context, Vec<String>) {
    let mut context = s.context.clone();
    let mut givers = Vec::new();
    let bounds: Vec<&dyn Bounds> = s
        .known
        .bounds
        .iter()
        // Only cited ones: a sign a step rests on is named in its `by` (`by ?` names none).
        .filter(|b| cited.iter().any(|n| n == b.name()))
        .map(|b| b as &dyn Bounds)
        .chain(s.hypotheses.iter().filter_map(|h| if let Hypothesis::Bound(b) = h { Some(b as &dyn Bounds) } else { None }))
        .collect();
    if bounds.is_empty() {
        return (context, givers);
    }
    let mut leaves = Vec::new();
    for e in [lhs, &step.rhs] {
        signed_leaves(e, &mut leaves);
    }
    for leaf in leaves {
        for b in &bounds {
            for (l, strict) in b.below(leaf, &s.context, &mut Vec::new()) {
                if l.rational().is_some_and(|q| num_traits::Zero::is_zero(&q)) {
                    let rel = if strict { Rel::Gt } else { Rel::Ge };
                    context.facts.push(Fact { lhs: leaf.clone(), rel, rhs: l });
                    givers.push(b.name().to_string());
                }
            }
        }
    }
    (context, givers)
}

/// The names, sequence elements and function values of `e` (what a cited sign is about).
fn signed_leaves<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Index(..) | ExprKind::Call(..) => out.push(e),
        _ => {}
    }
    if e.binds().is_none() {
        e.children().into_iter().for_each(|c| signed_leaves(c, out));
    }
}

/// An inequality step `lhs REL rhs` (see `prove::prove_le`): with the cited equations and
/// inequalities (or all of them for `by ?`), the facts and monotonicity.
#[allow(clippy::too_many_arguments)]
fn inequality_layer(
    lhs: &Expr,
    step: &Step,
    s: &StepScope,
    (context, signs): (&prove::Context, &[String]),
    hint: &dyn Fn() -> bool,
    (all, rules): (&[&dyn Rewrite], &[&dyn Rewrite]),
    cited: &[String],
) -> Symbolic {
    let layer = Symbolic::plain;
    let (a, b, strict) = match step.rel {
        Rel::Le => (lhs, &step.rhs, false),
        Rel::Lt | Rel::Ne => (lhs, &step.rhs, true),
        Rel::Ge => (&step.rhs, lhs, false),
        Rel::Gt => (&step.rhs, lhs, true),
        Rel::Eq | Rel::To => return layer(Verdict::NotShown, format!("`{}` is not an inequality step", step.rel.symbol())),
    };
    let every_bound: Vec<&dyn Bounds> = s
        .known
        .bounds
        .iter()
        .map(|b| b as &dyn Bounds)
        .chain(s.hypotheses.iter().filter_map(|h| if let Hypothesis::Bound(b) = h { Some(b as &dyn Bounds) } else { None }))
        .chain(prove::LEMMAS.iter().map(|l| l as &dyn Bounds))
        .collect();
    let bounds: Vec<&dyn Bounds> = match &step.by {
        Justification::Algebra => vec![],
        Justification::Search => every_bound.clone(),
        Justification::Rules(_) => every_bound.iter().filter(|r| cited.iter().any(|n| n == r.name())).copied().collect(),
    };
    // `a != b` follows from `a < b` or from `b < a`.
    let first = prove::prove_le(a, b, strict, rules, &bounds, context);
    let outcome = if step.rel == Rel::Ne && matches!(first, Ok(Comparison::NotShown { .. })) {
        match prove::prove_le(b, a, true, rules, &bounds, context) {
            shown @ Ok(Comparison::Shown { .. }) => shown,
            _ => first,
        }
    } else {
        first
    };
    match outcome {
        Err(e) => layer(Verdict::NotApplicable, e),
        Ok(Comparison::Shown { used }) => {
            let detail = if used.is_empty() {
                "follows from the facts, positivity and monotonicity".to_string()
            } else {
                format!("follows from {}, positivity and monotonicity", used.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", "))
            };
            let unused: Vec<String> = cited.iter().filter(|c| !used.contains(c) && !signs.contains(c)).map(|u| format!("`{u}`")).collect();
            let warning = (!unused.is_empty()).then(|| format!("{} cited but not needed", unused.join(", ")));
            Symbolic { warning, used, ..layer(Verdict::Holds, detail) }
        }
        Ok(Comparison::Undefined { reason }) => layer(Verdict::NotShown, format!("cannot judge the step: {reason}")),
        Ok(Comparison::NotShown { blocked }) => {
            let missing = match (&step.by, hint()) {
                (Justification::Search, _) | (_, false) => None,
                _ => match prove::prove_le(a, b, strict, all, &every_bound, context) {
                    Ok(Comparison::Shown { used }) => {
                        let missing: Vec<String> = used.iter().filter(|u| !cited.contains(u)).map(|u| format!("`{u}`")).collect();
                        (!missing.is_empty()).then(|| format!("it would follow with {}, which it does not cite", missing.join(", ")))
                    }
                    _ => None,
                },
            };
            let mut detail = missing.unwrap_or_else(|| {
                format!(
                    "`{}` does not follow from {}, the facts, positivity and monotonicity (part by part: write both sides with the same shape)",
                    step.rel.symbol(),
                    if cited.is_empty() { "normalization".to_string() } else { cited.join(", ") }
                )
            });
            for b in blocked.iter().take(3) {
                detail.push_str(&format!("; {b}"));
            }
            layer(Verdict::NotShown, detail)
        }
    }
}

fn with_residual(mut symbolic: Symbolic, residual: String) -> Symbolic {
    symbolic.layer.residual = Some(residual);
    symbolic
}

fn with(cited: &[String]) -> String {
    if cited.is_empty() { "normalization".to_string() } else { format!("rewriting with {}", cited.join(", ")) }
}

/// Why a step is not shown: what is left of it, or, when other rules in scope would close
/// it, which ones it needs. Those rules may themselves be unproved or false, so the hint
/// never calls the step true.
#[allow(clippy::too_many_arguments)]
fn not_shown(
    lhs: &Expr,
    step: &Step,
    s: &StepScope,
    all: &[&dyn Rewrite],
    rules: &[&dyn Rewrite],
    cited: &[String],
    what: String,
    residual: &str,
    blocked: &[String],
) -> String {
    if !matches!(step.by, Justification::Search)
        && rules.len() < all.len()
        && let Ok(Outcome::Equal { used }) = prove::prove_equal(lhs, &step.rhs, all, &s.context, 3)
    {
        let missing: Vec<String> = used.iter().filter(|u| !cited.contains(u)).map(|u| format!("`{u}`")).collect();
        if !missing.is_empty() {
            return format!("it would follow with {}, which it does not cite", missing.join(", "));
        }
    }
    let mut detail = format!("{what}; remaining difference (left − right): {residual}");
    for b in blocked.iter().take(3) {
        detail.push_str(&format!("; {b}"));
    }
    detail
}
