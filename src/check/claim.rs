//! One claim or lemma: its proof (a chain, or an induction's base and step), its own exact
//! check, the evidence its `check` lines ask for, and the status that follows.

use std::collections::{BTreeSet, HashMap};

use num_rational::BigRational;

use super::results::{ChainResult, ClaimResult};
use super::step::{StepScope, check_chain};
use super::{Knowledge, Options, givens};
use crate::diagnostic::SourceFiles;
use crate::evidence::{cost, experiments, montecarlo, points, trajectory, unroll};
use crate::language::Kinds;
use crate::language::ast::{BinOp, Check, Expr, ExprKind, Fact, Proof, Rel, Rule, With};
use crate::model::ModelSpec;
use crate::prove::{self, Context, Equation};
use crate::verdict::{Finding, FindingKind, Status, Verdict};

pub(super) fn check(rule: &Rule, known: &Knowledge, base_kinds: &Kinds, files: &SourceFiles, options: &Options, seed: u64) -> ClaimResult {
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
    model.unusable = unusable(rule, &model);
    let known = Knowledge { model, ..known.clone() };
    let line = files.line(rule.span);
    let mut result = ClaimResult {
        name: rule.name.clone(),
        kind: rule.kind,
        line,
        status: Status::Verified,
        seed,
        samples,
        chains: Vec::new(),
        evidence: Vec::new(),
        problems: Vec::new(),
    };
    let problem = |message: String| Finding { span: rule.span, line, kind: FindingKind::Problem, message };
    // In an induction, the facts about the induction variable are the base case's or the
    // step's, never the claim's: a step shown only for t >= 5 cannot rest on a base at 0.
    let induction_var = match &rule.proof {
        Some(Proof::Induction { var, .. }) => Some(var.clone()),
        _ => None,
    };
    let scope = |hypothesis, extra: Vec<Fact>, fixed| {
        let about_var = |c: &Fact| induction_var.as_ref().is_some_and(|v| !extra.is_empty() && (c.lhs.mentions(v) || c.rhs.mentions(v)));
        let conditions: Vec<Fact> = rule.conditions.iter().filter(|c| !about_var(c)).cloned().chain(extra.iter().cloned()).collect();
        // What the proof may use: the conditions, the `assume` facts, and the claim's own side
        // conditions (where they fail, the claim says nothing).
        let mut context = Context {
            facts: conditions.iter().chain(&known.model.assumptions).cloned().collect(),
            kinds: kinds.clone(),
            random: known.random.clone(),
        };
        for side in [&rule.relation.lhs, &rule.relation.rhs] {
            let own = prove::side_conditions(side, &context);
            context.facts.extend(own);
        }
        StepScope { known: &known, hypothesis, context, binders: &rule.binders, conditions, fixed, samples }
    };
    match &rule.proof {
        None => result.problems.push(problem(format!("`{}` has no proof", rule.name))),
        Some(Proof::Chain(chain)) => {
            let s = scope(None, vec![], HashMap::new());
            let (steps, problems) = check_chain(chain, &rule.relation.lhs, rule.relation.rel, &rule.relation.rhs, &s, files, seed);
            result.chains.push(ChainResult { label: None, steps });
            result.problems.extend(problems.into_iter().map(problem));
        }
        Some(Proof::Induction { var, from, base, step, .. }) => {
            let span = rule.span;
            let at = |k: i64| Expr::int(k, span);
            let var_expr = Expr::name(var, span);
            let covered = Context { facts: rule.conditions.clone(), ..Context::default() }.proves(&Fact {
                lhs: var_expr.clone(),
                rel: Rel::Ge,
                rhs: at(*from),
            });
            if !covered {
                result
                    .problems
                    .push(problem(format!("the induction starts at {var} = {from}, but the claim's conditions do not give {var} >= {from}")));
            }
            // Base: the claim at var = from.
            let base_map = HashMap::from([(var.clone(), at(*from))]);
            let base_fact = Fact { lhs: var_expr.clone(), rel: Rel::Eq, rhs: at(*from) };
            let fixed = HashMap::from([(var.clone(), BigRational::from_integer((*from).into()))]);
            let s = scope(None, vec![base_fact], fixed);
            let (lhs, rhs) = (rule.relation.lhs.substitute(&base_map), rule.relation.rhs.substitute(&base_map));
            let (steps, problems) = check_chain(base, &lhs, rule.relation.rel, &rhs, &s, files, seed ^ 1);
            result.chains.push(ChainResult { label: Some("base".into()), steps });
            result.problems.extend(problems.into_iter().map(|p| problem(format!("base: {p}"))));
            // Step: the claim at var from the claim at var - 1.
            let Some(next) = from.checked_add(1) else {
                result.problems.push(problem(format!("the induction cannot start at {from}")));
                result.status = Status::NotShown;
                return result;
            };
            let previous = HashMap::from([(var.clone(), Expr::bin(BinOp::Sub, var_expr.clone(), at(1)))]);
            // Only an equation can be used as a rewrite.
            let hypothesis = (rule.relation.rel == Rel::Eq).then(|| {
                Equation::new(
                    "hypothesis",
                    &rule.relation.lhs.substitute(&previous),
                    &rule.relation.rhs.substitute(&previous),
                    rule.binders.iter().filter(|b| b.var != *var).map(|b| (b.var.clone(), b.kind.clone())).collect(),
                    rule.conditions.iter().filter(|c| !c.lhs.mentions(var) && !c.rhs.mentions(var)).cloned().collect(),
                )
            });
            let step_fact = Fact { lhs: var_expr, rel: Rel::Ge, rhs: at(next) };
            let s = scope(hypothesis, vec![step_fact], HashMap::new());
            let (steps, problems) = check_chain(step, &rule.relation.lhs, rule.relation.rel, &rule.relation.rhs, &s, files, seed ^ 2);
            result.chains.push(ChainResult { label: Some("step".into()), steps });
            result.problems.extend(problems.into_iter().map(|p| problem(format!("step: {p}"))));
        }
    }
    // The claim itself, at random points: evidence whether or not it has a proof.
    let s = scope(None, vec![], HashMap::new());
    let mut own = points::layer(&s.known.model, &s.question(&rule.relation.lhs, rule.relation.rel, &rule.relation.rhs, seed ^ 3));
    own.line = Some(line);
    result.evidence.push(own);
    for (k, check) in rule.checks.iter().enumerate() {
        let seed = seed ^ (4 + k as u64);
        let with_sizes = |with: &With| {
            let mut model = known.model.clone();
            apply_with(&mut model, with);
            model
        };
        let mut evidence = match check {
            Check::Exact { .. } => continue,
            Check::Trajectory { relation, var, from, to, control, float, with, .. } => {
                trajectory::layer(&with_sizes(with), relation, var, *from, *to, control.as_ref().map(|c| c.0.as_str()), *float, seed)
            }
            Check::Unroll { var, from, to, .. } => unroll::layer(rule, &known.model.definitions, &kinds, var, *from, *to),
            Check::MonteCarlo { relation, setup, .. } => montecarlo::check(&known.model, relation, setup, seed),
            Check::Experiment { name, args, .. } => experiments::experiment(name, args, seed),
            Check::Cost { var, from, to, with, .. } => cost::layer(&with_sizes(with), &rule.relation, var, *from, *to),
        };
        evidence.line = Some(files.line(check.span()));
        result.evidence.push(evidence);
    }
    result.status = status(&mut result, rule.proof.is_some(), options.strict);
    result
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
    loop {
        let before = names.len();
        for d in &model.definitions {
            let head = match &d.lhs.kind {
                ExprKind::Name(n) | ExprKind::Index(n, _) | ExprKind::Call(n, _) => n,
                _ => continue,
            };
            if names.contains(head) {
                givens::mentioned(&d.rhs, &mut names);
            }
        }
        if names.len() == before {
            break;
        }
    }
    model.unsatisfied.iter().find_map(|(given, mentions)| {
        let shared: Vec<&String> = mentions.intersection(&names).collect();
        (!shared.is_empty()).then(|| {
            let list: Vec<String> = shared.iter().map(|n| format!("`{n}`")).collect();
            format!("random models cannot satisfy `{given}`, and this claim depends on {} through it", list.join(", "))
        })
    })
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

fn status(result: &mut ClaimResult, has_proof: bool, strict: bool) -> Status {
    let refuted = result.steps().any(|s| s.status == Status::Refuted) || result.evidence.iter().any(|e| e.verdict == Verdict::Refuted);
    let symbolic_only = result.steps().any(|s| s.status == Status::SymbolicOnly);
    if refuted {
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
