//! One claim or lemma: its proof (a chain, or an induction's base and step), its own exact
//! check, the evidence its `check` lines ask for, and the status that follows.

use std::collections::{BTreeSet, HashMap};

use num_rational::BigRational;

use super::results::{AuditedMutant, ChainResult, ClaimResult, Meaning};
use super::step::{Hypothesis, StepScope, check_chain, check_step, squeeze};
use super::{Knowledge, Options, givens};
use crate::diagnostic::SourceFiles;
use crate::evidence::{cost, derivative, montecarlo, points, rate, trajectory, unroll};
use crate::language::ast::{BinOp, Chain, Check, Expr, ExprKind, Fact, Proof, Rel, Relation, Rule, Step, With};
use crate::language::{Kinds, kind_errors, text};
use crate::model::ModelSpec;
use crate::prove::{self, Bound, Context, Equation, Outcome, Rewrite};
use crate::verdict::{Finding, FindingKind, Layer, LayerResult, Status, Verdict};

/// What a claim is checked against: what is known before it, with its own binders' kinds
/// and `check exact` sizes, and how many exact points each step gets.
struct Setting {
    known: Knowledge,
    kinds: Kinds,
    samples: usize,
    /// Whether the proof may assume the claim's own side conditions: only when some model
    /// of the givens is a point where the claim is defined, so that they cannot contradict
    /// the givens (`given m[0]^2 = 0` makes `m[0]/m[0]` defined nowhere, and a claim that
    /// says nothing anywhere is not verified).
    assume_own: bool,
}

/// The claim itself at random points: evidence whether or not it has a proof.
fn own_evidence(rule: &Rule, set: &Setting, seed: u64) -> LayerResult {
    if rule.limit.is_some() {
        return LayerResult::new(
            Layer::Exact,
            Verdict::NotApplicable,
            "a limit is not a value at a point: the steps of its proof are checked there".to_string(),
        );
    }
    let s = scope(rule, set, vec![], vec![], HashMap::new());
    points::layer(&s.known.model, &s.question(&rule.relation.lhs, rule.relation.rel, &rule.relation.rhs, seed ^ 3))
}

/// The setting of a claim's proof before its own evidence is known (see `settle_own`).
fn setting(rule: &Rule, known: &Knowledge, base_kinds: &Kinds, options: &Options) -> Setting {
    let mut kinds = base_kinds.clone();
    for b in &rule.binders {
        kinds.insert(b.var.clone(), b.kind.clone());
    }
    let mut model = known.model.clone();
    model.kinds = kinds.clone();
    let mut samples = options.samples;
    for check in &rule.checks {
        if let Check::Exact { samples: n, with, .. } = check {
            samples = *n;
            apply_with(&mut model, with);
        }
    }
    givens::settle_means(&mut model, &known.random);
    model.unusable = unusable(rule, &model);
    Setting { known: Knowledge { model, ..known.clone() }, kinds, samples, assume_own: true }
}

/// The claim's own evidence, and with it whether its proof may assume the statement's side
/// conditions.
fn settle_own(rule: &Rule, set: &mut Setting, seed: u64) -> LayerResult {
    let start = std::time::Instant::now();
    let mut own = own_evidence(rule, set, seed);
    // Whether they are satisfiable is asked without them.
    set.assume_own = false;
    set.assume_own = matches!(own.verdict, Verdict::Holds | Verdict::Refuted) && defined_somewhere(rule, set, seed);
    own.seconds = start.elapsed().as_secs_f64();
    own
}

/// Whether the models have a point where every side condition of the claim's statement
/// holds. The numeric layers' own notion of "defined" can be wider (`x^(k/2)` at `k = 0` for
/// a negative `x`), so a claim evaluated somewhere may still have side conditions that
/// contradict the facts (`x > 0` with `assume x < 0`): assuming them would prove anything.
fn defined_somewhere(rule: &Rule, set: &Setting, seed: u64) -> bool {
    let s = scope(rule, set, vec![], vec![], HashMap::new());
    let sides = [&rule.relation.lhs, &rule.relation.rhs];
    let own: Vec<Fact> = sides.iter().flat_map(|e| prove::side_conditions(e, &s.context)).collect();
    if own.is_empty() {
        return true;
    }
    let conditions: Vec<Fact> = s.conditions.iter().cloned().chain(own).collect();
    let q = points::Question { conditions: &conditions, ..s.question(&rule.relation.lhs, rule.relation.rel, &rule.relation.rhs, seed ^ 9) };
    matches!(points::layer(&s.known.model, &q).verdict, Verdict::Holds | Verdict::Refuted)
}

/// The scope of a proof's steps: the claim's conditions (in an induction, those about the
/// induction variable replaced by `extra`), the `assume` facts and the claim's own side
/// conditions (where they fail, the claim says nothing) when `set.assume_own`.
fn scope<'a>(rule: &'a Rule, set: &'a Setting, hypotheses: Vec<Hypothesis>, extra: Vec<Fact>, fixed: HashMap<String, BigRational>) -> StepScope<'a> {
    let induction_var = match &rule.proof {
        Some(Proof::Induction { var, .. }) => Some(var.clone()),
        _ => None,
    };
    // A step shown only for t >= 5 cannot rest on a base at 0.
    let about_var = |c: &Fact| induction_var.as_ref().is_some_and(|v| !extra.is_empty() && (c.lhs.mentions(v) || c.rhs.mentions(v)));
    let conditions: Vec<Fact> = rule.conditions.iter().filter(|c| !about_var(c)).cloned().chain(extra.iter().cloned()).collect();
    let mut context = Context {
        facts: conditions.iter().chain(&set.known.model.assumptions).cloned().collect(),
        kinds: set.kinds.clone(),
        random: set.known.random.clone(),
        shapes: set.known.model.shapes.clone(),
    };
    for side in [&rule.relation.lhs, &rule.relation.rhs].into_iter().filter(|_| set.assume_own) {
        let own = prove::side_conditions(side, &context);
        context.facts.extend(own);
    }
    StepScope { known: &set.known, hypotheses, context, binders: &rule.binders, conditions, fixed, samples: set.samples }
}

/// One chain of a proof with what it must show and the scope its steps are checked in.
struct Goal<'a> {
    label: Option<String>,
    chain: &'a Chain,
    lhs: Expr,
    rel: Rel,
    rhs: Expr,
    scope: StepScope<'a>,
    seed: u64,
}

/// The chains of a proof: the one chain, or an induction's base (the claim and each companion
/// equation at the start) and step (each at `var` from all of them at `var - 1`); with the
/// problems of its shape.
fn goals<'a>(rule: &'a Rule, set: &'a Setting, seed: u64) -> (Vec<Goal<'a>>, Vec<String>) {
    let (lhs, rhs) = (&rule.relation.lhs, &rule.relation.rhs);
    match &rule.proof {
        None => (vec![], vec![format!("`{}` has no proof", rule.name)]),
        Some(Proof::Chain(chain)) => {
            let scope = scope(rule, set, vec![], vec![], HashMap::new());
            (vec![Goal { label: None, chain, lhs: lhs.clone(), rel: rule.relation.rel, rhs: rhs.clone(), scope, seed }], vec![])
        }
        Some(Proof::Induction { var, from, companions, base, step, .. }) => {
            let mut problems = Vec::new();
            let span = rule.span;
            let at = |k: i64| Expr::int(k, span);
            let var_expr = Expr::name(var, span);
            let covered = Context { facts: rule.conditions.clone(), ..Context::default() }.proves(&Fact {
                lhs: var_expr.clone(),
                rel: Rel::Ge,
                rhs: at(*from),
            });
            if !covered {
                problems.push(format!("the induction starts at {var} = {from}, but the claim's conditions do not give {var} >= {from}"));
            }
            // The companions in the order named, then the claim: each shown at the start, and at
            // `var` from all of them one index earlier (`hypothesis`) and from those shown before
            // it at `var` (cited by name).
            let claim_at = companions.len();
            let shown: Vec<(&str, &Relation)> =
                companions.iter().map(|c| (c.name.as_str(), &c.relation)).chain(std::iter::once((rule.name.as_str(), &rule.relation))).collect();
            for (part, chains) in [("base", base), ("step", step)] {
                if chains.len() != shown.len() {
                    let what = if shown.len() == 1 {
                        "one chain".to_string()
                    } else {
                        format!("{} chains: each companion's in order, then the claim's", shown.len())
                    };
                    problems.push(format!("the `{part}:` part has {} chain(s); it needs {what}", chains.len()));
                }
            }
            let label = |part: &str, i: usize| Some(if i == claim_at { part.to_string() } else { format!("{part} of {}", shown[i].0) });
            let base_map = HashMap::from([(var.clone(), at(*from))]);
            let base_fact = Fact { lhs: var_expr.clone(), rel: Rel::Eq, rhs: at(*from) };
            let fixed = HashMap::from([(var.clone(), BigRational::from_integer((*from).into()))]);
            let mut goals = Vec::new();
            for (i, ((_, r), chain)) in shown.iter().zip(base).enumerate() {
                goals.push(Goal {
                    label: label("base", i),
                    chain,
                    lhs: r.lhs.substitute(&base_map),
                    rel: r.rel,
                    rhs: r.rhs.substitute(&base_map),
                    scope: scope(rule, set, vec![], vec![base_fact.clone()], fixed.clone()),
                    seed: seed ^ (1 + 16 * i as u64),
                });
            }
            let Some(next) = from.checked_add(1) else {
                problems.push(format!("the induction cannot start at {from}"));
                return (goals, problems);
            };
            let previous = HashMap::from([(var.clone(), Expr::bin(BinOp::Sub, var_expr.clone(), at(1)))]);
            // An equation rewrites; an inequality bounds.
            let vars: Vec<_> = rule.binders.iter().filter(|b| b.var != *var).map(|b| (b.var.clone(), b.kind.clone())).collect();
            let conditions: Vec<Fact> = rule.conditions.iter().filter(|c| !c.lhs.mentions(var) && !c.rhs.mentions(var)).cloned().collect();
            let hypothesis = |name: &str, r: &Relation, at: &HashMap<String, Expr>| -> Option<Hypothesis> {
                let (lhs, rhs) = (r.lhs.substitute(at), r.rhs.substitute(at));
                if r.rel == Rel::Eq {
                    Some(Hypothesis::Equation(Equation::new(name, &lhs, &rhs, vars.clone(), conditions.clone())))
                } else {
                    Bound::new(name, &lhs, r.rel, &rhs, vars.clone(), conditions.clone()).map(Hypothesis::Bound)
                }
            };
            let step_fact = Fact { lhs: var_expr, rel: Rel::Ge, rhs: at(next) };
            let now = HashMap::new();
            for (i, ((_, r), chain)) in shown.iter().zip(step).enumerate() {
                let earlier = shown.iter().filter_map(|(_, r)| hypothesis("hypothesis", r, &previous));
                let shown_now = shown[..i].iter().filter_map(|(name, r)| hypothesis(name, r, &now));
                let scope = scope(rule, set, earlier.chain(shown_now).collect(), vec![step_fact.clone()], HashMap::new());
                goals.push(Goal {
                    label: label("step", i),
                    chain,
                    lhs: r.lhs.clone(),
                    rel: r.rel,
                    rhs: r.rhs.clone(),
                    scope,
                    seed: seed ^ (2 + 16 * i as u64),
                });
            }
            (goals, problems)
        }
    }
}

pub(super) fn check(rule: &Rule, known: &Knowledge, base_kinds: &Kinds, files: &SourceFiles, options: &Options, seed: u64) -> ClaimResult {
    let mut set = setting(rule, known, base_kinds, options);
    let line = files.line(rule.span);
    let mut result = ClaimResult {
        name: rule.name.clone(),
        kind: rule.kind,
        line,
        status: Status::Verified,
        seed,
        samples: set.samples,
        chains: Vec::new(),
        evidence: Vec::new(),
        problems: Vec::new(),
        seconds: 0.0,
    };
    // The `check` lines do not depend on the proof: they run beside it, on their own copy of
    // the setting.
    let lines = rule.checks.iter().any(|c| !matches!(c, Check::Exact { .. })).then(|| (set.known.model.clone(), set.kinds.clone()));
    let lines = std::thread::scope(|scope| {
        let lines = lines.as_ref().map(|(model, kinds)| {
            #[cfg(test)]
            let weakened = crate::evidence::points::WEAKENED.get();
            scope.spawn(move || {
                #[cfg(test)]
                crate::evidence::points::WEAKENED.set(weakened);
                // Engine names of their own (`check unroll`), apart from the proof's.
                crate::prove::in_namespace(seed ^ 0x9e37_79b9_7f4a_7c15, || evidence_lines(rule, model, kinds, files, seed))
            })
        });
        let mut own = settle_own(rule, &mut set, seed);
        let problem = |message: String| Finding { span: rule.span, line, kind: FindingKind::Problem, message };
        let (goals, problems) = goals(rule, &set, seed);
        result.problems.extend(problems.into_iter().map(problem));
        for goal in &goals {
            let (steps, problems) = check_chain(goal.chain, &goal.lhs, goal.rel, &goal.rhs, rule.limit.as_deref(), &goal.scope, files, goal.seed);
            let prefix = goal.label.as_ref().map(|l| format!("{l}: ")).unwrap_or_default();
            result.chains.push(ChainResult { label: goal.label.clone(), steps });
            result.problems.extend(problems.into_iter().map(|p| problem(format!("{prefix}{p}"))));
        }
        own.line = Some(line);
        result.evidence.push(own);
        lines.map(|l| l.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).unwrap_or_default()
    });
    result.evidence.extend(lines);
    // A proof of one step that is the statement itself: refuting the step refutes the claim.
    let restating: Vec<usize> = match &rule.proof {
        Some(Proof::Chain(chain)) if chain.steps.len() == 1 => {
            let step = &chain.steps[0];
            let same = step.rel == rule.relation.rel && chain.first == rule.relation.lhs && step.rhs == rule.relation.rhs;
            if same { vec![files.line(step.span)] } else { vec![] }
        }
        _ => vec![],
    };
    result.status = status(&mut result, rule.proof.is_some(), options.strict, &restating);
    result
}

/// The evidence of the claim's `check` lines (but `check exact`, which sets the proof's
/// samples), each from its own seed.
fn evidence_lines(rule: &Rule, model: &ModelSpec, kinds: &Kinds, files: &SourceFiles, seed: u64) -> Vec<LayerResult> {
    let mut out = Vec::new();
    for (k, check) in rule.checks.iter().enumerate() {
        let seed = seed ^ (4 + k as u64);
        let with_sizes = |with: &With| {
            let mut model = model.clone();
            apply_with(&mut model, with);
            model
        };
        if let Check::Exact { .. } = check {
            continue;
        }
        let mut evidence = LayerResult::timed(|| match check {
            Check::Exact { .. } => unreachable!("skipped above"),
            Check::Trajectory { relation, var, from, to, control, float, with, .. } => trajectory::layer(
                &with_sizes(with),
                relation,
                &rule.conditions,
                var,
                *from,
                *to,
                control.as_ref().map(|c| c.0.as_str()),
                *float,
                seed,
            ),
            Check::Unroll { var, from, to, .. } => unroll::layer(rule, &model.definitions, kinds, var, *from, *to),
            Check::MonteCarlo { relation, setup, .. } => {
                montecarlo::check(model, relation, &rule.conditions, setup, seed, montecarlo::Reading::Evidence)
            }
            Check::Rate { error, var, rate, values, setup, .. } => rate::check(model, error, var, rate, values, setup, seed),
            Check::Cost { var, from, to, with, .. } => {
                let spec = with_sizes(with);
                let parts = super::complexity::ProgramParts::of(&spec, &spec.kinds);
                cost::layer(&spec, &parts.program(&spec.kinds, &spec), &rule.relation, var, *from, *to)
            }
            Check::Derivative { jacobian, of, by, var, from, to, with, .. } => {
                derivative::layer(&with_sizes(with), jacobian, of, by, var, *from, *to, seed)
            }
        });
        evidence.line = Some(files.line(check.span()));
        out.push(evidence);
    }
    out
}

/// Every mutant of every step of the claim's proof, judged as `check` judges the proof: the
/// mutated step, and the step after it (or, for the last step, whether the chain still ends
/// at the claim's side), since it now starts from the mutant.
pub(super) fn audit(
    rule: &Rule,
    known: &Knowledge,
    base_kinds: &Kinds,
    files: &SourceFiles,
    options: &Options,
    seed: u64,
    mutants: &dyn Fn(&Expr) -> Vec<(&'static str, Expr)>,
) -> Vec<AuditedMutant> {
    let mut set = setting(rule, known, base_kinds, options);
    settle_own(rule, &mut set, seed);
    let (goals, _) = goals(rule, &set, seed);
    let mut out = Vec::new();
    for goal in &goals {
        let s = &goal.scope;
        let steps = &goal.chain.steps;
        for (k, step) in steps.iter().enumerate() {
            let previous = if k == 0 { &goal.chain.first } else { &steps[k - 1].rhs };
            for (operator, mutant) in mutants(&step.rhs) {
                let seed = goal.seed.wrapping_add(k as u64 * 7919);
                let (meaning, rejected_by) = if kind_errors(&mutant, &set.kinds).is_empty() {
                    let mut rejected_by = judge(previous, step, &mutant, steps.get(k + 1), &goal.rhs, s, files, seed);
                    // A limit's chain must still squeeze the claim's side between ends that tend to it.
                    if let Some(var) = &rule.limit {
                        let mut chain = goal.chain.clone();
                        chain.steps[k].rhs = mutant.clone();
                        if !squeeze(&chain, &goal.lhs, &goal.rhs, var, s).is_empty() && !rejected_by.contains(&"chain") {
                            rejected_by.push("chain");
                        }
                    }
                    (meaning(&step.rhs, &mutant, s, seed), rejected_by)
                } else {
                    (Meaning::IllFormed, vec!["language"])
                };
                out.push(AuditedMutant {
                    file: String::new(),
                    line: files.line(step.span),
                    claim: rule.name.clone(),
                    operator,
                    original: text::expr(&step.rhs),
                    mutant: text::expr(&mutant),
                    meaning,
                    rejected_by,
                });
            }
        }
    }
    out
}

/// What rejects a proof whose step `step` now ends at `mutant`: the layers that do not
/// accept the mutated step or the step after it, or the chain's end (`chain`).
#[allow(clippy::too_many_arguments)]
fn judge(
    previous: &Expr,
    step: &Step,
    mutant: &Expr,
    next: Option<&Step>,
    end: &Expr,
    s: &StepScope,
    files: &SourceFiles,
    seed: u64,
) -> Vec<&'static str> {
    let mutated = Step { rhs: mutant.clone(), ..step.clone() };
    let mut judged = vec![check_step(previous, &mutated, s, files, seed)];
    let mut rejected_by: Vec<&'static str> = Vec::new();
    match next {
        Some(next) => judged.push(check_step(mutant, next, s, files, seed.wrapping_add(7919))),
        None => {
            if !matches!(prove::prove_equal(mutant, end, &[], &s.context, 0), Ok(Outcome::Equal { .. })) {
                rejected_by.push("chain");
            }
        }
    }
    for result in judged.iter().filter(|r| !matches!(r.status, Status::Verified | Status::SymbolicOnly)) {
        for layer in &result.layers {
            // A symbolic layer that cannot read the step does not show it either.
            let rejects = matches!(layer.verdict, Verdict::Refuted | Verdict::NotShown)
                || (layer.layer == Layer::Symbolic && layer.verdict == Verdict::NotApplicable);
            if rejects && !rejected_by.contains(&layer.layer.name()) {
                rejected_by.push(layer.layer.name());
            }
        }
    }
    rejected_by
}

/// Whether `mutant` says something else than `original` in this scope (see [`Meaning`]).
fn meaning(original: &Expr, mutant: &Expr, s: &StepScope, seed: u64) -> Meaning {
    if points::layer(&s.known.model, &s.question(original, Rel::Eq, mutant, seed ^ 5)).verdict == Verdict::Refuted {
        return Meaning::Changed;
    }
    let rules: Vec<&dyn Rewrite> = s.known.rules.iter().map(|r| r as &dyn Rewrite).collect();
    match prove::prove_equal(original, mutant, &rules, &s.context, 3) {
        Ok(Outcome::Equal { .. }) => Meaning::Same,
        _ => Meaning::Unknown,
    }
}

/// Why the models cannot serve this claim, if they cannot: it depends (through the names it
/// mentions and their definitions) on a given they do not satisfy.
fn unusable(rule: &Rule, model: &ModelSpec) -> Option<String> {
    let mut names = BTreeSet::new();
    let mut exprs = vec![&rule.relation.lhs, &rule.relation.rhs];
    for chain in rule.chains() {
        exprs.push(&chain.first);
        exprs.extend(chain.steps.iter().map(|s| &s.rhs));
    }
    for e in exprs {
        givens::mentioned(e, &mut names);
    }
    let names = closed_over_definitions(names, model);
    model.unsatisfied.iter().find_map(|(given, mentions)| {
        // What the given constrains: the names it mentions and what their definitions use
        // (`E[x[t]] = 1` with `x[t] = 2*g[t]` constrains `g`).
        let mentions = closed_over_definitions(mentions.clone(), model);
        let shared: Vec<&String> = mentions.intersection(&names).filter(|n| model.kinds.get(n).is_some()).collect();
        (!shared.is_empty()).then(|| {
            let list: Vec<String> = shared.iter().map(|n| format!("`{n}`")).collect();
            format!("random models cannot satisfy `{given}`, and this claim depends on {} through it", list.join(", "))
        })
    })
}

/// The names, with every name the definitions of those names use, recursively.
pub(super) fn closed_over_definitions(mut names: BTreeSet<String>, model: &ModelSpec) -> BTreeSet<String> {
    loop {
        let before = names.len();
        for d in &model.definitions {
            let head = match &d.lhs.kind {
                ExprKind::Name(n) | ExprKind::Index(n, _) | ExprKind::Call(n, _) => n,
                _ => continue,
            };
            if names.contains(head) {
                givens::mentioned(&d.rhs, &mut names);
                // A piecewise definition's value depends on what its conditions read too.
                for c in &d.conditions {
                    givens::mentioned(&c.lhs, &mut names);
                    givens::mentioned(&c.rhs, &mut names);
                }
            }
        }
        if names.len() == before {
            return names;
        }
    }
}

/// `with n = 5, sigma = tanh`: sizes for every model, concrete functions for float models.
fn apply_with(model: &mut ModelSpec, with: &With) {
    for (dim, size) in &with.sizes {
        model.sizes.insert(dim.clone(), *size);
    }
    for (f, concrete) in &with.functions {
        model.float_functions.insert(f.clone(), concrete.clone());
    }
}

fn status(result: &mut ClaimResult, has_proof: bool, strict: bool, restating: &[usize]) -> Status {
    let wrong_lines: Vec<usize> = result.steps().filter(|s| s.status == Status::Refuted).map(|s| s.line).collect();
    if wrong_lines.iter().any(|l| restating.contains(l)) {
        return Status::Refuted;
    }
    // The claim's own exact (or float) check: evidence at the claim's own line.
    let statement_holds =
        result.evidence.iter().any(|e| e.line == Some(result.line) && matches!(e.layer, Layer::Exact | Layer::Float) && e.verdict == Verdict::Holds);
    let symbolic_only = result.steps().any(|s| s.status == Status::SymbolicOnly);
    if result.evidence.iter().any(|e| e.verdict == Verdict::Refuted) {
        Status::Refuted
    } else if !wrong_lines.is_empty() && statement_holds {
        // A wrong proof of a true statement: the student should fix the step, not the claim.
        let lines: Vec<String> = wrong_lines.iter().map(|l| l.to_string()).collect();
        let message = format!("the proof is wrong at line {}; the statement holds (at every point of its own exact check)", lines.join(", "));
        result.problems.push(Finding { span: Default::default(), line: result.line, kind: FindingKind::Problem, message });
        Status::NotShown
    } else if !wrong_lines.is_empty() {
        Status::Refuted
    } else if !has_proof {
        Status::Unproved
    } else if !result.problems.is_empty()
        || result.steps().any(|s| !matches!(s.status, Status::Verified | Status::SymbolicOnly))
        || result.evidence.iter().any(|e| e.verdict == Verdict::NotShown)
    {
        Status::NotShown
    } else if symbolic_only && strict {
        let line = result.line;
        let message = "with --strict, a step judged by the symbolic layer alone is not enough".to_string();
        result.problems.push(Finding { span: Default::default(), line, kind: FindingKind::Problem, message });
        Status::NotShown
    } else if symbolic_only {
        Status::SymbolicOnly
    } else {
        Status::Verified
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::results::{ChainResult, StepResult};

    fn claim_with_refuted_step(step_line: usize) -> ClaimResult {
        let step = StepResult {
            span: Default::default(),
            line: step_line,
            status: Status::Refuted,
            layers: vec![LayerResult::new(Layer::Exact, Verdict::Refuted, "fails")],
            findings: vec![],
            used: vec![],
        };
        ClaimResult {
            name: "c".into(),
            kind: crate::language::ast::RuleKind::Claim,
            line: 1,
            status: Status::Verified,
            seed: 0,
            samples: 1,
            chains: vec![ChainResult { label: None, steps: vec![step] }],
            // The claim's own check met no counterexample.
            evidence: vec![LayerResult { line: Some(1), ..LayerResult::new(Layer::Exact, Verdict::Holds, "holds") }],
            problems: vec![],
            seconds: 0.0,
        }
    }

    #[test]
    fn a_refuted_step_that_restates_the_claim_refutes_it() {
        assert_eq!(status(&mut claim_with_refuted_step(3), true, false, &[3]), Status::Refuted);
        // Another wrong step of a true statement: fix the proof, not the claim.
        let mut other = claim_with_refuted_step(3);
        assert_eq!(status(&mut other, true, false, &[]), Status::NotShown);
        assert!(other.problems[0].message.contains("the statement holds"));
    }
}
