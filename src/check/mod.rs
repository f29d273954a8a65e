//! Stage 3: checking. Every step of every proof gets a verdict from each layer that applies
//! (symbolic, exact), every claim a status; a failing step is a result, never an error, and
//! checking goes on with the next one.
//!
//! Architecture invariant: only `engine` talks to Symbolica; `exact` never calls the engine,
//! so the two layers can disagree, and a disagreement is reported as a failure.

pub mod engine;
mod evidence;
mod exact;
mod lemmas;
mod model;
mod montecarlo;
mod rewrite;
mod symbolic;

use std::collections::HashMap;

use num_rational::BigRational;
use serde::Serialize;

use crate::diagnostic::SourceFiles;
use crate::language::ast::{Binder, Check, Expr, ExprKind, Fact, Justification, Proof, Rel, Rule, RuleKind, Statement, Step};
use crate::language::{Document, Item};
pub use exact::Counterexample;
use exact::Verdict as ExactVerdict;
use model::ModelSpec;
use rewrite::{Context, RewriteRule};
use symbolic::{Kinds, Outcome, Rule as SearchRule};

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Root of every random stream; each claim derives its own seed from it.
    pub seed: u64,
    /// Exact instantiations per step when a claim has no `check exact N`.
    pub samples: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { seed: 20220323, samples: 20 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Symbolic,
    Exact,
    Trajectory,
    /// Expand a claim from its definitions at concrete indices and compare symbolically.
    Unroll,
    /// Simulation with the file's own definitions and declared distributions.
    MonteCarlo,
    /// High-precision or larger-shape floating-point evaluation where exact does not apply.
    Float,
    /// Exact operation counts of two evaluation orders.
    Cost,
}

impl Layer {
    /// The name in messages and JSON (`symbolic`, `montecarlo`, …).
    pub fn name(self) -> &'static str {
        match self {
            Layer::Symbolic => "symbolic",
            Layer::Exact => "exact",
            Layer::Trajectory => "trajectory",
            Layer::Unroll => "unroll",
            Layer::MonteCarlo => "montecarlo",
            Layer::Float => "float",
            Layer::Cost => "cost",
        }
    }
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Refuted => "refuted",
            Verdict::NotShown => "not shown",
            Verdict::NotApplicable => "n/a",
        }
    }
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Refuted => "refuted",
            Status::NotShown => "not shown",
            Status::Unproved => "unproved",
            Status::Supported => "supported by evidence",
        }
    }
}

/// A figure for the report: curves over a common x axis (Monte Carlo estimates with their
/// intervals against the claimed values, error against sample size on log-log axes, …).
#[derive(Debug, Clone, Serialize)]
pub struct Plot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub curves: Vec<Curve>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Curve {
    pub label: String,
    /// `(x, y)` points in order of x.
    pub points: Vec<(f64, f64)>,
    /// Optional interval per point, `(low, high)`: drawn as error bars or a band.
    pub intervals: Option<Vec<(f64, f64)>>,
}

/// A table of numbers for the report (estimates, intervals, counts).
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Holds,
    Refuted,
    NotShown,
    NotApplicable,
}

/// The overall status of a step or claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Verified,
    Refuted,
    NotShown,
    Unproved,
    /// A library lemma without a proof whose every check holds: supported by evidence.
    Supported,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerResult {
    pub layer: Layer,
    pub verdict: Verdict,
    pub detail: String,
    pub counterexample: Option<Counterexample>,
    /// Numbers behind the verdict, for the report (Monte Carlo estimates, op counts).
    pub table: Option<Table>,
    pub plot: Option<Plot>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub line: usize,
    pub status: Status,
    pub layers: Vec<LayerResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainResult {
    /// `base` or `step` in an induction.
    pub label: Option<String>,
    pub steps: Vec<StepResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimResult {
    pub name: String,
    pub kind: RuleKind,
    pub line: usize,
    pub status: Status,
    pub seed: u64,
    pub samples: usize,
    pub chains: Vec<ChainResult>,
    /// Evidence about the claim itself: its exact check, trajectories.
    pub evidence: Vec<LayerResult>,
    /// Why a proof does not prove the claim even if its steps hold.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentResult {
    pub path: String,
    pub claims: Vec<ClaimResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub seed: u64,
    pub documents: Vec<DocumentResult>,
}

impl Results {
    pub fn all_verified(&self) -> bool {
        self.documents.iter().flat_map(|d| &d.claims).all(|c| matches!(c.status, Status::Verified | Status::Supported))
    }
}

/// Checks every claim and lemma of every document.
pub fn check_documents(documents: &[Document], files: &SourceFiles, options: &Options) -> Results {
    let claims = documents.iter().map(|d| d.rules().filter(|r| matches!(r.kind, RuleKind::Claim | RuleKind::Lemma)).count() as u64).sum();
    let bar = crate::progress::bar(claims, "checking");
    let documents = documents.iter().map(|d| check_document(d, files, options, &bar)).collect();
    bar.finish_and_clear();
    Results { seed: options.seed, documents }
}

/// What is known at a point of a file: the rules, the definitions and facts stated so far.
#[derive(Default)]
struct Knowledge {
    rules: Vec<RewriteRule>,
    model: ModelSpec,
    /// Names that may be random under `E` (see `rewrite::Context::random`).
    random: Vec<String>,
}

fn check_document(doc: &Document, files: &SourceFiles, options: &Options, bar: &crate::progress::ProgressBar) -> DocumentResult {
    let kinds = Kinds(doc.scope.decls.iter().map(|(n, d)| (n.clone(), d.kind.clone())).collect());
    let mut known = Knowledge { model: ModelSpec { kinds: kinds.clone(), ..ModelSpec::default() }, ..Knowledge::default() };
    // Shapes as declared; each dimension name gets a default size of its own (2, 3, 4, …),
    // so that a product of mismatched shapes is noticed (the exact layer then does not apply)
    // instead of passing by coincidence.
    let mut decls: Vec<&crate::language::ast::Decl> = doc.scope.decls.values().collect();
    decls.sort_by_key(|d| d.span.start);
    for d in decls {
        if !d.shape.is_empty() {
            known.model.shapes.insert(d.name.clone(), d.shape.clone());
        }
        for dim in &d.shape {
            if dim.parse::<usize>().is_err() && !known.model.sizes.contains_key(dim) {
                let size = 2 + known.model.sizes.len();
                known.model.sizes.insert(dim.clone(), size);
            }
        }
    }
    known.random = random_names(doc);
    let mut claims = Vec::new();
    // A library of lemmas stated with evidence but no proofs (`evidence_only = true`).
    let evidence_only = doc.front.extra.get("evidence_only").and_then(|v| v.as_bool()).unwrap_or(false);
    for item in &doc.items {
        let Item::Block(block) = item else { continue };
        for statement in &block.statements {
            match statement {
                Statement::Let(_) => {}
                Statement::Assume(facts, _) => known.model.assumptions.extend(facts.iter().cloned()),
                Statement::Rule(rule) => {
                    if matches!(rule.kind, RuleKind::Claim | RuleKind::Lemma) {
                        let seed = derive_seed(options.seed, &doc.path, &rule.name);
                        bar.set_message(rule.name.clone());
                        let mut claim = check_claim(rule, &known, &kinds, files, options, seed);
                        bar.inc(1);
                        let evidence_holds = !claim.evidence.is_empty()
                            && claim.evidence.iter().all(|e| matches!(e.verdict, Verdict::Holds | Verdict::NotApplicable))
                            && claim.evidence.iter().any(|e| e.verdict == Verdict::Holds);
                        if evidence_only && rule.proof.is_none() && evidence_holds {
                            claim.status = Status::Supported;
                            claim.problems.clear();
                        }
                        // A proof is only as good as the claims and lemmas it cites.
                        for name in rule.cited() {
                            let weak = claims
                                .iter()
                                .find(|c: &&ClaimResult| c.name == name)
                                .filter(|c| !matches!(c.status, Status::Verified | Status::Supported));
                            if let Some(c) = weak {
                                let problem = format!("it cites `{name}`, which is not verified ({})", c.status.name());
                                if !claim.problems.contains(&problem) {
                                    claim.problems.push(problem);
                                }
                                if claim.status == Status::Verified {
                                    claim.status = Status::NotShown;
                                }
                            }
                        }
                        claims.push(claim);
                    } else {
                        add_definition(&mut known.model, rule);
                    }
                    if rule.relation.rel == Rel::Eq {
                        known.rules.push(rewrite_rule(rule));
                    }
                }
            }
        }
    }
    DocumentResult { path: doc.path.clone(), claims }
}

fn rewrite_rule(rule: &Rule) -> RewriteRule {
    RewriteRule {
        name: rule.name.clone(),
        lhs: rewrite::canonical_indices(&rule.relation.lhs),
        rhs: rewrite::canonical_indices(&rule.relation.rhs),
        vars: rule.binders.iter().map(|b| b.var.clone()).collect(),
        conditions: rule.conditions.clone(),
    }
}

/// A `def` or `given` joins the model when it defines something; otherwise the exact layer
/// cannot build models that satisfy it, and says so.
fn add_definition(model: &mut ModelSpec, rule: &Rule) {
    // Facts about expectations constrain distributions, which Monte Carlo checks take from
    // their `where` clause; points of a model never evaluate `E`.
    if mentions_expectation(&rule.relation.lhs) || mentions_expectation(&rule.relation.rhs) {
        return;
    }
    let vars: Vec<String> = rule.binders.iter().map(|b| b.var.clone()).collect();
    let definitional = rule.relation.rel == Rel::Eq
        && match &rule.relation.lhs.kind {
            ExprKind::Name(n) => !vars.contains(n),
            ExprKind::Index(..) => true,
            ExprKind::Call(f, args) => {
                !crate::language::BUILTIN_FUNCTIONS.contains(&f.as_str())
                    && args.iter().all(|a| matches!(&a.kind, ExprKind::Name(v) if vars.contains(v)) || rewrite::Affine::of(a).is_some())
            }
            _ => false,
        };
    if definitional {
        model.definitions.push(RewriteRule {
            name: rule.name.clone(),
            lhs: rule.relation.lhs.clone(),
            rhs: rule.relation.rhs.clone(),
            vars,
            conditions: rule.conditions.clone(),
        });
    } else if rule.binders.is_empty() && rule.relation.rel != Rel::Eq {
        // A fact such as `given x >= 0` restricts the points drawn, like an `assume`.
        model.assumptions.push(rule.relation.clone());
    } else if model.unusable.is_none() {
        model.unusable =
            Some(format!("`{}` does not define a name, sequence element or function value (`x = …`), so random models cannot satisfy it", rule.name));
    }
}

/// Names that `linearity` must not treat as constants: defined by a `def` or `given`
/// (`m = g[1]` is as random as `g[1]`), or drawn by a Monte Carlo check of the file.
fn random_names(doc: &Document) -> Vec<String> {
    let mut names: Vec<String> = doc
        .rules()
        .filter(|r| matches!(r.kind, RuleKind::Def | RuleKind::Given))
        .filter_map(|r| if let ExprKind::Name(n) = &r.relation.lhs.kind { Some(n.clone()) } else { None })
        .collect();
    for rule in doc.rules() {
        for check in &rule.checks {
            if let Check::MonteCarlo { setup, .. } = check {
                names.extend(setup.draws.iter().map(|(n, ..)| n.clone()));
            }
        }
    }
    names
}

fn mentions_expectation(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Expect { .. }) || e.children().into_iter().any(mentions_expectation)
}

/// FNV-1a over the root seed, the file and the claim: stable across runs and platforms.
fn derive_seed(root: u64, path: &str, name: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for byte in root.to_le_bytes().iter().chain(path.as_bytes()).chain([0u8].iter()).chain(name.as_bytes()) {
        h ^= *byte as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Everything a step check needs besides the step.
struct StepScope<'a> {
    known: &'a Knowledge,
    kinds: &'a Kinds,
    hypothesis: Option<RewriteRule>,
    context: Context,
    binders: &'a [Binder],
    conditions: Vec<Fact>,
    fixed: HashMap<String, BigRational>,
    samples: usize,
}

fn check_claim(rule: &Rule, known: &Knowledge, base_kinds: &Kinds, files: &SourceFiles, options: &Options, seed: u64) -> ClaimResult {
    let mut kinds = base_kinds.clone();
    for b in &rule.binders {
        kinds.0.insert(b.var.clone(), b.kind.clone());
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
    let known = Knowledge { rules: known.rules.clone(), model, random: known.random.clone() };
    let mut result = ClaimResult {
        name: rule.name.clone(),
        kind: rule.kind,
        line: files.line(rule.span),
        status: Status::Verified,
        seed,
        samples,
        chains: Vec::new(),
        evidence: Vec::new(),
        problems: Vec::new(),
    };
    // In an induction, the facts about the induction variable are the base case's or the
    // step's, never the claim's: a step shown only for t >= 5 cannot rest on a base at 0.
    let induction_var = match &rule.proof {
        Some(Proof::Induction { var, .. }) => Some(var.clone()),
        _ => None,
    };
    let scope = |hypothesis, extra: Vec<Fact>, fixed| {
        let about_var = |c: &Fact| induction_var.as_ref().is_some_and(|v| !extra.is_empty() && (c.lhs.mentions(v) || c.rhs.mentions(v)));
        let conditions: Vec<Fact> = rule.conditions.iter().filter(|c| !about_var(c)).cloned().chain(extra.iter().cloned()).collect();
        StepScope {
            known: &known,
            kinds: &kinds,
            hypothesis,
            context: Context { facts: conditions.clone(), kinds: kinds.clone(), random: known.random.clone() },
            binders: &rule.binders,
            conditions,
            fixed,
            samples,
        }
    };
    match &rule.proof {
        None => {
            result.problems.push(format!("`{}` has no proof", rule.name));
        }
        Some(Proof::Chain(chain)) => {
            let s = scope(None, vec![], HashMap::new());
            let (steps, problems) =
                check_chain(&chain.first, &chain.steps, &rule.relation.lhs, rule.relation.rel, &rule.relation.rhs, &s, files, seed);
            result.chains.push(ChainResult { label: None, steps });
            result.problems.extend(problems);
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
                result.problems.push(format!("the induction starts at {var} = {from}, but the claim's conditions do not give {var} >= {from}"));
            }
            // Base: the claim at var = from.
            let base_map = HashMap::from([(var.clone(), at(*from))]);
            let base_fact = Fact { lhs: var_expr.clone(), rel: Rel::Eq, rhs: at(*from) };
            let fixed = HashMap::from([(var.clone(), BigRational::from_integer((*from).into()))]);
            let s = scope(None, vec![base_fact], fixed);
            let (lhs, rhs) = (rule.relation.lhs.substitute(&base_map), rule.relation.rhs.substitute(&base_map));
            let (steps, problems) = check_chain(&base.first, &base.steps, &lhs, rule.relation.rel, &rhs, &s, files, seed ^ 1);
            result.chains.push(ChainResult { label: Some("base".into()), steps });
            result.problems.extend(problems.into_iter().map(|p| format!("base: {p}")));
            // Step: the claim at var from the claim at var - 1.
            let previous = HashMap::from([(var.clone(), Expr::bin(crate::language::ast::BinOp::Sub, var_expr.clone(), at(1)))]);
            let hypothesis = RewriteRule {
                name: "hypothesis".into(),
                lhs: rewrite::canonical_indices(&rule.relation.lhs.substitute(&previous)),
                rhs: rewrite::canonical_indices(&rule.relation.rhs.substitute(&previous)),
                vars: rule.binders.iter().filter(|b| b.var != *var).map(|b| b.var.clone()).collect(),
                conditions: rule.conditions.iter().filter(|c| !c.lhs.mentions(var) && !c.rhs.mentions(var)).cloned().collect(),
            };
            let Some(next) = from.checked_add(1) else {
                result.problems.push(format!("the induction cannot start at {from}"));
                result.status = Status::NotShown;
                return result;
            };
            let step_fact = Fact { lhs: var_expr, rel: Rel::Ge, rhs: at(next) };
            // Only an equation can be used as a rewrite.
            let hypothesis = (rule.relation.rel == Rel::Eq).then_some(hypothesis);
            let s = scope(hypothesis, vec![step_fact], HashMap::new());
            let (steps, problems) =
                check_chain(&step.first, &step.steps, &rule.relation.lhs, rule.relation.rel, &rule.relation.rhs, &s, files, seed ^ 2);
            result.chains.push(ChainResult { label: Some("step".into()), steps });
            result.problems.extend(problems.into_iter().map(|p| format!("step: {p}")));
        }
    }
    // The claim itself, at random points: evidence whether or not it has a proof.
    let s = scope(None, vec![], HashMap::new());
    result.evidence.push(exact_layer(&s, &rule.relation.lhs, rule.relation.rel, &rule.relation.rhs, seed ^ 3));
    for (k, check) in rule.checks.iter().enumerate() {
        let seed = seed ^ (4 + k as u64);
        match check {
            Check::Exact { .. } => {}
            Check::Trajectory { relation, var, from, to, control, float, with, .. } => {
                let mut model = known.model.clone();
                apply_with(&mut model, with);
                result.evidence.push(evidence::trajectory_layer(
                    &model,
                    relation,
                    var,
                    *from,
                    *to,
                    control.as_ref().map(|c| c.0.as_str()),
                    *float,
                    seed,
                ));
            }
            Check::Unroll { var, from, to, .. } => result.evidence.push(evidence::unroll_layer(rule, &known, &kinds, var, *from, *to)),
            Check::MonteCarlo { relation, setup, .. } => result.evidence.push(montecarlo::check(&known.model, relation, setup, seed)),
            Check::Experiment { name, args, .. } => result.evidence.push(montecarlo::experiment(name, args, seed)),
            Check::Cost { var, from, to, with, .. } => {
                let mut model = known.model.clone();
                apply_with(&mut model, with);
                result.evidence.push(evidence::cost_layer(&model, &rule.relation, var, *from, *to));
            }
        }
    }
    result.status = claim_status(&result, rule.proof.is_some());
    result
}

/// `with n = 5, sigma = tanh`: sizes for every model, concrete functions for float models.
fn apply_with(model: &mut ModelSpec, with: &crate::language::ast::With) {
    for (dim, size) in &with.sizes {
        model.sizes.insert(dim.clone(), *size);
    }
    for (f, concrete) in &with.functions {
        model.float_functions.insert(f.clone(), concrete.clone());
    }
}

fn layer_result(layer: Layer, verdict: Verdict, detail: String) -> LayerResult {
    LayerResult { layer, verdict, detail, counterexample: None, table: None, plot: None }
}

fn claim_status(result: &ClaimResult, has_proof: bool) -> Status {
    let steps = result.chains.iter().flat_map(|c| &c.steps);
    let refuted = steps.clone().any(|s| s.status == Status::Refuted) || result.evidence.iter().any(|e| e.verdict == Verdict::Refuted);
    if refuted {
        Status::Refuted
    } else if !has_proof {
        Status::Unproved
    } else if !result.problems.is_empty()
        || steps.clone().any(|s| s.status != Status::Verified)
        || result.evidence.iter().any(|e| e.verdict == Verdict::NotShown)
    {
        Status::NotShown
    } else {
        Status::Verified
    }
}

/// Checks the steps of a chain and whether it proves `lhs REL rhs`.
#[allow(clippy::too_many_arguments)]
fn check_chain(
    first: &Expr,
    steps: &[Step],
    lhs: &Expr,
    rel: Rel,
    rhs: &Expr,
    s: &StepScope,
    files: &SourceFiles,
    seed: u64,
) -> (Vec<StepResult>, Vec<String>) {
    let mut results = Vec::new();
    let mut problems = Vec::new();
    let mut previous = first;
    for (i, step) in steps.iter().enumerate() {
        results.push(check_step(previous, step, s, files, seed.wrapping_add(i as u64 * 7919)));
        previous = &step.rhs;
    }
    let composed = steps.iter().try_fold(Rel::Eq, |acc, st| compose(acc, st.rel));
    match composed {
        None => problems.push("the chain mixes `<` and `>` relations, so it proves no single relation".into()),
        Some(c) if !implies(c, rel) => problems.push(format!("the chain shows `{}`, but the claim states `{}`", c.symbol(), rel.symbol())),
        _ => {}
    }
    for (what, chain_end, claim_side) in [("starts", first, lhs), ("ends", previous, rhs)] {
        let same = symbolic::prove_equal(chain_end, claim_side, &[], &s.context, s.kinds, 0);
        if !matches!(same, Ok(Outcome::Equal { .. })) {
            let side = if what == "starts" { "left" } else { "right" };
            problems.push(format!("the chain {what} at a different expression than the claim's {side}-hand side"));
        }
    }
    (results, problems)
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

fn check_step(lhs: &Expr, step: &Step, s: &StepScope, files: &SourceFiles, seed: u64) -> StepResult {
    let symbolic = symbolic_layer(lhs, step, s);
    let exact = exact_layer(s, lhs, step.rel, &step.rhs, seed);
    let status = match (symbolic.verdict, exact.verdict) {
        (_, Verdict::Refuted) => Status::Refuted,
        (Verdict::Holds, _) => Status::Verified,
        _ => Status::NotShown,
    };
    let mut layers = vec![symbolic, exact];
    if layers[0].verdict == Verdict::Holds && layers[1].verdict == Verdict::Refuted {
        layers[0].detail.push_str(" — but the exact layer refutes it: the layers disagree, so the step is not accepted");
    }
    StepResult { line: files.line(step.span), status, layers }
}

fn symbolic_layer(lhs: &Expr, step: &Step, s: &StepScope) -> LayerResult {
    let layer = |verdict, detail: String| LayerResult { layer: Layer::Symbolic, verdict, detail, counterexample: None, table: None, plot: None };
    if step.rel != Rel::Eq {
        return layer(Verdict::NotShown, "inequality steps are checked by the exact layer only in this version".into());
    }
    let all: Vec<SearchRule> = s
        .known
        .rules
        .iter()
        .cloned()
        .chain(s.hypothesis.clone())
        .map(SearchRule::Equation)
        .chain(lemmas::ALL.iter().map(|l| SearchRule::Lemma(*l)))
        .collect();
    let (rules, depth, cited): (Vec<SearchRule>, usize, Vec<String>) = match &step.by {
        Justification::Algebra => (vec![], 0, vec![]),
        Justification::Search => (all.clone(), 3, vec![]),
        Justification::Rules(names) => {
            let names: Vec<String> = names.iter().map(|(n, _)| n.clone()).collect();
            (all.iter().filter(|r| names.iter().any(|n| n == r.name())).cloned().collect(), 4, names)
        }
    };
    match symbolic::prove_equal(lhs, &step.rhs, &rules, &s.context, s.kinds, depth) {
        Err(e) => layer(Verdict::NotApplicable, e),
        Ok(Outcome::Equal { used }) => {
            let mut detail = match (&step.by, used.is_empty()) {
                (Justification::Search, true) => "closes by algebra".to_string(),
                (Justification::Search, false) => format!("closes by {}", used.join(", ")),
                (_, true) => "equal after normalization".to_string(),
                (_, false) => format!("equal after rewriting with {}", used.join(", ")),
            };
            // `transpose` is applied by normalization, so it never shows up as used.
            let unused: Vec<&String> = cited.iter().filter(|c| !used.contains(c) && *c != "transpose").collect();
            if !unused.is_empty() {
                let list: Vec<String> = unused.iter().map(|u| format!("`{u}`")).collect();
                detail.push_str(&format!("; warning: {} cited but not needed", list.join(", ")));
            }
            layer(Verdict::Holds, detail)
        }
        Ok(Outcome::Different { residual }) => {
            let with = if cited.is_empty() { "normalization".to_string() } else { format!("rewriting with {}", cited.join(", ")) };
            let mut detail = format!("not equal after {with}; remaining difference (left − right): {residual}");
            // Say whether other rules in scope would close it: true, but not for the reason given.
            if !matches!(step.by, Justification::Search) && rules.len() < all.len() {
                if let Ok(Outcome::Equal { used }) = symbolic::prove_equal(lhs, &step.rhs, &all, &s.context, s.kinds, 3) {
                    let missing: Vec<&String> = used.iter().filter(|u| !cited.contains(u)).collect();
                    if !missing.is_empty() {
                        let list: Vec<String> = missing.iter().map(|u| format!("`{u}`")).collect();
                        detail = format!("true, but not for the reason given: it needs {}, which is not cited", list.join(", "));
                    }
                }
            }
            layer(Verdict::NotShown, detail)
        }
    }
}

/// The exact layer; where it cannot apply (transcendental functions), the float layer
/// checks the same statement in double precision instead.
fn exact_layer(s: &StepScope, lhs: &Expr, rel: Rel, rhs: &Expr, seed: u64) -> LayerResult {
    let binders: Vec<Binder> = s.binders.iter().filter(|b| !s.fixed.contains_key(&b.var)).cloned().collect();
    let verdict = exact::check::<BigRational>(&s.known.model, lhs, rel, rhs, &binders, &s.conditions, &s.fixed, s.samples, seed);
    let (verdict, detail, counterexample) = match verdict {
        ExactVerdict::Holds { samples } => (Verdict::Holds, format!("at {samples} random rational points (seed {seed})"), None),
        ExactVerdict::Refuted(cx) => (Verdict::Refuted, format!("fails at a random rational point (seed {seed})"), Some(cx)),
        ExactVerdict::NotApplicable(reason) => {
            let float = exact::check::<f64>(&s.known.model, lhs, rel, rhs, &binders, &s.conditions, &s.fixed, s.samples, seed);
            let (verdict, detail, counterexample) = match float {
                ExactVerdict::Holds { samples } => (
                    Verdict::Holds,
                    format!("exact does not apply ({reason}); in double precision both sides agree to 1e-9 at {samples} random points (seed {seed})"),
                    None,
                ),
                ExactVerdict::Refuted(cx) => (
                    Verdict::Refuted,
                    format!("exact does not apply ({reason}); in double precision the sides differ at a random point (seed {seed})"),
                    Some(cx),
                ),
                ExactVerdict::NotApplicable(_) => {
                    return LayerResult {
                        layer: Layer::Exact,
                        verdict: Verdict::NotApplicable,
                        detail: reason,
                        counterexample: None,
                        table: None,
                        plot: None,
                    };
                }
            };
            return LayerResult { layer: Layer::Float, verdict, detail, counterexample, table: None, plot: None };
        }
    };
    LayerResult { layer: Layer::Exact, verdict, detail, counterexample, table: None, plot: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks one literate file given as text.
    fn check_text(text: &str) -> DocumentResult {
        let mut files = SourceFiles::default();
        let id = files.add("test.md".into(), text.into());
        let doc = crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap();
        check_document(&doc, &files, &Options::default(), &crate::progress::ProgressBar::hidden())
    }

    const SIGN_SLIP: &str = "```derivation
let alpha, epsilon: scalar
assume 0 < alpha < 1, epsilon > 0
let g, v, dtheta: sequence
def mom_v: v[t] = alpha*v[t-1] + epsilon*g[t]   for t >= 1
def mom_step: dtheta[t] = -v[t]   for t >= 0
claim mom_rec: dtheta[t] = alpha*dtheta[t-1] - epsilon*g[t]   for t >= 1
proof
  dtheta[t] = -v[t]                            by mom_step
            = -(alpha*v[t-1] + epsilon*g[t])   by mom_v
            = alpha*dtheta[t-1] + epsilon*g[t] by mom_step
qed
```
";

    fn last_step(result: &DocumentResult) -> &StepResult {
        result.claims[0].chains[0].steps.last().unwrap()
    }

    #[test]
    fn the_exact_layer_alone_catches_a_wrong_step() {
        symbolic::tests::WEAKENED.set(true);
        let result = check_text(SIGN_SLIP);
        symbolic::tests::WEAKENED.set(false);
        let step = last_step(&result);
        assert_eq!(step.layers[0].verdict, Verdict::Holds, "the weakened symbolic layer is fooled");
        assert_eq!(step.layers[1].verdict, Verdict::Refuted);
        assert!(step.layers[1].counterexample.is_some());
        assert_eq!(step.status, Status::Refuted);
        assert_eq!(result.claims[0].status, Status::Refuted);
    }

    #[test]
    fn the_symbolic_layer_alone_catches_a_wrong_step() {
        exact::WEAKENED.set(true);
        let result = check_text(SIGN_SLIP);
        exact::WEAKENED.set(false);
        let step = last_step(&result);
        assert_eq!(step.layers[1].verdict, Verdict::Holds, "the weakened exact layer is fooled");
        assert_eq!(step.layers[0].verdict, Verdict::NotShown);
        assert!(step.layers[0].detail.contains("-2*epsilon*g[t]"), "{}", step.layers[0].detail);
        assert_eq!(step.status, Status::NotShown);
        assert_ne!(result.claims[0].status, Status::Verified);
    }

    #[test]
    fn both_layers_accept_the_correct_step() {
        let result = check_text(&SIGN_SLIP.replace("alpha*dtheta[t-1] + epsilon*g[t] by", "alpha*dtheta[t-1] - epsilon*g[t] by"));
        assert_eq!(result.claims[0].status, Status::Verified);
    }
}

#[cfg(test)]
mod robustness {
    use rand::{RngExt, SeedableRng};

    use super::*;

    /// Whatever parses is checked without panicking: random token edits of the worked
    /// derivations (their long Monte Carlo checks removed) go through the whole checker.
    #[test]
    fn mutated_derivations_never_panic_the_checker() {
        let sources = [
            include_str!("../../derivations/q1_rnn.md"),
            include_str!("../../derivations/q2_momentum.md"),
            include_str!("../../derivations/q3_attention.md"),
            include_str!("../../derivations/q4_weight_decay.md"),
        ];
        let edits = ["t-1", "t+1", "0", "1", "*", "+", "-", "^T", "^-1", "2", "x", "ones", "I", "h[t]", "sum(i, 1, t, g[i])"];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let options = Options { samples: 3, ..Options::default() };
        let mut checked = 0;
        for round in 0..120 {
            let source: String = sources[round % sources.len()]
                .lines()
                .filter(|l| !l.contains("montecarlo") && !l.contains("experiment") && !l.contains("cost"))
                .collect::<Vec<_>>()
                .join("\n");
            let mut text = source.clone();
            let mut at = rng.random_range(0..text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, edits[rng.random_range(0..edits.len())]);
            let mut files = SourceFiles::default();
            let id = files.add("mutated.md".into(), text);
            let Ok(doc) = crate::source::split(id, &files).map_err(|e| vec![e]).and_then(|lit| crate::language::parse(&lit)) else { continue };
            check_documents(&[doc], &files, &options);
            checked += 1;
        }
        assert!(checked > 20, "only {checked} mutants parsed");
    }
}
