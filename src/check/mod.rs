//! Stage 3: checking. Walks each file in order, keeping what is known at each point (the
//! rules, the model of the definitions, the facts), and gives every step of every proof a
//! verdict from each layer that applies (`prove` for the symbolic layer, `evidence` for the
//! numeric ones) and every claim a status. A failing step is a result, never an error, and
//! checking goes on with the next one.
//!
//! Architecture invariant: this stage calls Symbolica only through `prove`; it decides
//! statuses from the layers' verdicts and never computes a verdict itself.

mod claim;
mod comparison;
mod complexity;
mod exists;
mod givens;
mod results;
mod simulation;
mod step;

use std::collections::BTreeSet;

use crate::diagnostic::SourceFiles;
use crate::language::ast::{Complexity, Existence, Expr, Rel, Relation, Rule, RuleKind, Simulation, Statement};
use crate::language::elaborate::elaborate;
use crate::language::{Document, Item, Kinds};
use crate::model::ModelSpec;
use crate::prove::{Bound, Equation};
use crate::verdict::{Finding, FindingKind, Status, Verdict};
pub use results::{AuditedMutant, CONSEQUENCE, ChainResult, ClaimResult, DocumentResult, Meaning, Results, StepResult, Summary};

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Root of every random stream; each claim derives its own seed from it.
    pub seed: u64,
    /// Exact instantiations per step when a claim has no `check exact N`.
    pub samples: usize,
    /// A step judged by the symbolic layer alone makes its claim not shown.
    pub strict: bool,
    /// Set from outside (Ctrl-C) to stop before the next claim; the results then hold the
    /// claims checked so far and `Results::interrupted` says so.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Documents' results from an earlier run with the same build, options and text
    /// (`derivcheck::check_with_cache`), by path: used instead of checking them again.
    pub known: Vec<DocumentResult>,
}

impl Default for Options {
    fn default() -> Options {
        Options { seed: 20220323, samples: 20, strict: false, stop: None, known: Vec::new() }
    }
}

impl Options {
    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Checks every claim and lemma of every document.
pub fn check_documents(documents: &[Document], files: &SourceFiles, options: &Options) -> Results {
    let claims = documents.iter().map(|d| d.claims() as u64).sum();
    let bar = crate::progress::bar(claims, "checking");
    let known = |d: &Document| options.known.iter().find(|k| k.path == d.path);
    // Every claim of every file not known already, with what is known just before it. They
    // are checked on all cores (each from its own seed, so in any order); what depends on the
    // claims before one (citations, contradictions) is decided after, in order.
    let mut visits: Vec<(usize, Visit, Knowledge, Kinds)> = Vec::new();
    for (d, doc) in documents.iter().enumerate().filter(|(_, d)| known(d).is_none()) {
        walk(doc, |visit, known, kinds| visits.push((d, visit, known.clone(), kinds.clone())));
    }
    let checked = on_all_cores(
        &visits,
        |(_, visit, ..)| cost(visit),
        |(d, visit, known, kinds)| {
            if options.stopped() {
                return None;
            }
            // Each claim's engine names are its own, so that its printed forms do not depend on
            // the claims beside it.
            let claim = crate::prove::in_namespace(visit_seed(options, &documents[*d], visit), || {
                check_visit(&documents[*d], visit, known, kinds, files, options, &bar)
            });
            bar.inc(1);
            Some(claim)
        },
    );
    let mut checked = visits.iter().zip(checked).peekable();
    let documents = documents
        .iter()
        .enumerate()
        .map(|(d, doc)| {
            if let Some(known) = known(doc) {
                bar.inc(known.claims.len() as u64);
                return known.clone();
            }
            let mut claims: Vec<ClaimResult> = Vec::new();
            // After a stop, only the claims before the first one not checked are kept.
            let mut complete = true;
            while let Some(((_, visit, known, kinds), claim)) = checked.next_if(|((v, ..), _)| *v == d) {
                match claim {
                    Some(claim) if complete => claims.push(in_context(visit, known, kinds, claim, &claims)),
                    _ => complete = false,
                }
            }
            DocumentResult { path: doc.path.clone(), library: doc.is_library, claims }
        })
        .collect();
    bar.finish_and_clear();
    Results { seed: options.seed, documents, interrupted: options.stopped() }
}

/// A rough measure of a claim's work, to start the longest first: its proof's steps, and
/// far more for each line of evidence it asks for (simulations, trajectories).
fn cost(visit: &Visit) -> usize {
    match visit {
        Visit::Rule(rule) => 1 + rule.chains().iter().map(|c| c.steps.len()).sum::<usize>() + 20 * rule.checks.len(),
        Visit::Exists(_) | Visit::Complexity(_) => 5,
        Visit::Simulation(_) => 20,
    }
}

impl Visit<'_> {
    fn name(&self) -> &str {
        match self {
            Visit::Rule(rule) => &rule.name,
            Visit::Exists(existence) => &existence.name,
            Visit::Complexity(claim) => &claim.name,
            Visit::Simulation(claim) => &claim.name,
        }
    }
}

/// The seed a claim's randomness starts from.
fn visit_seed(options: &Options, doc: &Document, visit: &Visit) -> u64 {
    derive_seed(options.seed, &doc.path, visit.name())
}

/// One claim, lemma, existence or complexity claim checked on its own: what it says and its
/// proof, without what the claims before it turned out to be.
fn check_visit(
    doc: &Document,
    visit: &Visit,
    known: &Knowledge,
    kinds: &Kinds,
    files: &SourceFiles,
    options: &Options,
    bar: &crate::progress::ProgressBar,
) -> ClaimResult {
    let start = std::time::Instant::now();
    let seed = visit_seed(options, doc, visit);
    bar.set_message(visit.name().to_string());
    let mut claim = match visit {
        Visit::Exists(existence) => exists::check(existence, known, kinds, files, seed),
        Visit::Complexity(claim) => complexity::check(claim, known, kinds, files, seed),
        Visit::Simulation(claim) => simulation::check(claim, known, files, seed),
        Visit::Rule(rule) => {
            // A library of lemmas stated with evidence but no proofs (`evidence_only = true`).
            let evidence_only = doc.is_library && doc.front.extra.get("evidence_only").and_then(|v| v.as_bool()).unwrap_or(false);
            let mut claim = claim::check(rule, known, kinds, files, options, seed);
            // Supported: nothing fails, and a check that reads the statement holds.
            let evidence_holds = claim.evidence.iter().all(|e| matches!(e.verdict, Verdict::Holds | Verdict::NotApplicable))
                && claim.evidence.iter().any(|e| e.verdict == Verdict::Holds && e.layer.reads_the_statement());
            if evidence_only && rule.proof.is_none() && evidence_holds {
                claim.status = Status::Supported;
                claim.problems.clear();
            }
            claim
        }
    };
    claim.seconds = start.elapsed().as_secs_f64();
    claim
}

/// A checked claim as the claims before it (`earlier`) leave it: a proof is only as good as
/// the claims and lemmas it uses, and an existence claim may contradict one that is verified.
fn in_context(visit: &Visit, known: &Knowledge, kinds: &Kinds, mut claim: ClaimResult, earlier: &[ClaimResult]) -> ClaimResult {
    match visit {
        Visit::Exists(existence) => {
            let verified = |name: &str| earlier.iter().any(|c| c.name == name && matches!(c.status, Status::Verified));
            if let Some(why) = exists::contradicted(existence, known, kinds, &verified) {
                claim.problems.push(Finding { span: existence.span, line: claim.line, kind: FindingKind::Problem, message: why });
                claim.status = Status::Refuted;
            }
        }
        Visit::Rule(rule) => {
            // The claims and lemmas it uses: named after `by`, or found by `by ?`.
            let used: BTreeSet<String> = claim.steps().flat_map(|s| s.used.iter().cloned()).collect();
            for name in &used {
                let weak = earlier.iter().find(|c| c.name == *name).filter(|c| !c.status.is_accepted());
                if let Some(c) = weak {
                    let message = format!("it cites `{name}`, which is not verified ({})", c.status.name());
                    if !claim.problems.iter().any(|p| p.message == message) {
                        claim.problems.push(Finding { span: rule.span, line: claim.line, kind: FindingKind::Problem, message });
                    }
                    if matches!(claim.status, Status::Verified | Status::SymbolicOnly) {
                        claim.status = Status::NotShown;
                    }
                }
            }
        }
        Visit::Complexity(_) | Visit::Simulation(_) => {}
    }
    claim
}

/// What is known at a point of a file: the rules, the definitions and facts stated so far.
#[derive(Clone, Default)]
struct Knowledge {
    rules: Vec<Equation>,
    /// The inequalities (`given`, `lemma`, `claim` with `<=`, `<`, `>=`, `>`).
    bounds: Vec<Bound>,
    model: ModelSpec,
    /// Names that may be random under `E` (see `language::elaborate`).
    random: BTreeSet<String>,
    /// The `given`s that do not define a value, and the `assume` facts: what a witness of an
    /// existence claim must satisfy.
    premises: Vec<Premise>,
}

/// A `given` that constrains rather than defines (`rule`, with its `for` variables), or an
/// `assume` fact (named `assume`).
#[derive(Clone)]
struct Premise {
    name: String,
    relation: Relation,
    rule: Option<Rule>,
}

/// A claim, lemma or existence claim met by `walk`.
enum Visit<'a> {
    Rule(&'a Rule),
    Exists(&'a Existence),
    Complexity(&'a Complexity),
    Simulation(&'a Simulation),
}

/// Walks a document's statements in order, keeping what is known, and calls `visit` with
/// each claim or lemma and what is known just before it.
fn walk<'a>(doc: &'a Document, mut visit: impl FnMut(Visit<'a>, &Knowledge, &Kinds)) {
    let kinds = Kinds(doc.scope.decls.iter().map(|(n, d)| (n.clone(), d.kind.clone())).collect());
    let elaboration = elaborate(doc);
    let model = ModelSpec {
        kinds: kinds.clone(),
        shapes: elaboration.shapes.into_iter().collect(),
        sizes: elaboration.sizes.into_iter().collect(),
        random: elaboration.random.clone(),
        scale: elaboration.scale,
        ..ModelSpec::default()
    };
    let mut known = Knowledge { model, random: elaboration.random, ..Knowledge::default() };
    for item in &doc.items {
        let Item::Block(block) = item else { continue };
        for statement in &block.statements {
            match statement {
                Statement::Let(_) | Statement::Algorithm(_) => {}
                Statement::Assume(facts, _) => {
                    known.model.assumptions.extend(facts.iter().cloned());
                    known.premises.extend(facts.iter().map(|f| Premise { name: "assume".into(), relation: f.clone(), rule: None }));
                }
                Statement::Exists(claim) => visit(Visit::Exists(claim), &known, &kinds),
                Statement::Complexity(claim) => visit(Visit::Complexity(claim), &known, &kinds),
                Statement::Simulation(claim) => visit(Visit::Simulation(claim), &known, &kinds),
                Statement::Rule(rule) => {
                    if matches!(rule.kind, RuleKind::Claim | RuleKind::Lemma) {
                        visit(Visit::Rule(rule), &known, &kinds);
                    } else {
                        let defined = known.model.definitions.len();
                        givens::add(&mut known.model, rule, &kinds);
                        if known.model.definitions.len() == defined {
                            let with_binders = (!rule.binders.is_empty()).then(|| rule.as_ref().clone());
                            known.premises.push(Premise { name: rule.name.clone(), relation: rule.relation.clone(), rule: with_binders });
                        }
                    }
                    if rule.relation.rel == Rel::Eq {
                        known.rules.push(equation(rule));
                    }
                    known.bounds.extend(bound(rule));
                }
            }
        }
    }
}

/// Mutation testing (`derivcheck audit`): every step of every proof, its right-hand side
/// replaced by each mutant `mutants` proposes, judged as `check` would judge it.
pub fn audit_documents(
    documents: &[Document],
    files: &SourceFiles,
    options: &Options,
    mutants: &(dyn Fn(&Expr) -> Vec<(&'static str, Expr)> + Sync),
) -> Vec<AuditedMutant> {
    let claims = documents.iter().map(|d| d.rules().filter(|r| r.proof.is_some()).count() as u64).sum();
    let bar = crate::progress::bar(claims, "auditing");
    let mut proofs = Vec::new();
    for doc in documents.iter().filter(|d| !d.is_library) {
        walk(doc, |visit, known, kinds| {
            if let Visit::Rule(rule) = visit
                && rule.proof.is_some()
            {
                proofs.push((doc, rule, known.clone(), kinds.clone()));
            }
        });
    }
    let audited = on_all_cores(
        &proofs,
        |(_, rule, ..)| cost(&Visit::Rule(rule)),
        |(doc, rule, known, kinds)| {
            bar.set_message(rule.name.clone());
            let seed = derive_seed(options.seed, &doc.path, &rule.name);
            let audited: Vec<AuditedMutant> = crate::prove::in_namespace(seed, || claim::audit(rule, known, kinds, files, options, seed, mutants))
                .into_iter()
                .map(|m| AuditedMutant { file: doc.path.clone(), ..m })
                .collect();
            bar.inc(1);
            audited
        },
    );
    bar.finish_and_clear();
    audited.into_iter().flatten().collect()
}

/// `crate::parallel::map`, with the tests' weakened layers (set on the calling thread)
/// weakened on every thread.
fn on_all_cores<T: Sync, R: Send>(items: &[T], cost: impl Fn(&T) -> usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    #[cfg(test)]
    let weakened = (crate::prove::WEAKENED.get(), crate::evidence::points::WEAKENED.get());
    crate::parallel::map_largest_first(items, cost, |item| {
        #[cfg(test)]
        {
            crate::prove::WEAKENED.set(weakened.0);
            crate::evidence::points::WEAKENED.set(weakened.1);
        }
        f(item)
    })
}

fn equation(rule: &Rule) -> Equation {
    Equation::new(
        &rule.name,
        &rule.relation.lhs,
        &rule.relation.rhs,
        rule.binders.iter().map(|b| (b.var.clone(), b.kind.clone())).collect(),
        rule.conditions.clone(),
    )
}

fn bound(rule: &Rule) -> Option<Bound> {
    let vars = rule.binders.iter().map(|b| (b.var.clone(), b.kind.clone())).collect();
    Bound::new(&rule.name, &rule.relation.lhs, rule.relation.rel, &rule.relation.rhs, vars, rule.conditions.clone())
}

/// FNV-1a over the root seed, the file's name and the claim: stable across runs and
/// platforms, and the same wherever the file is (`x.md`, `./x.md`, `/home/ta/s1/x.md`), so a
/// TA re-running a submission from another folder gets the student's draws.
fn derive_seed(root: u64, path: &str, name: &str) -> u64 {
    let file = std::path::Path::new(path).file_name().map_or(path.into(), |f| f.to_string_lossy());
    let mut h: u64 = 0xcbf29ce484222325;
    for byte in root.to_le_bytes().iter().chain(file.as_bytes()).chain([0u8].iter()).chain(name.as_bytes()) {
        h ^= *byte as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claims_seed_does_not_depend_on_where_the_file_is() {
        let seed = derive_seed(7, "x.md", "c");
        assert_eq!(derive_seed(7, "./x.md", "c"), seed);
        assert_eq!(derive_seed(7, "/home/ta/student1/x.md", "c"), seed);
        assert_ne!(derive_seed(7, "y.md", "c"), seed);
        assert_ne!(derive_seed(7, "x.md", "d"), seed);
        assert_ne!(derive_seed(8, "x.md", "c"), seed);
    }

    /// Checks one literate file given as text.
    pub(super) fn check_text(text: &str) -> DocumentResult {
        let mut files = SourceFiles::default();
        let id = files.add("test.md".into(), text.into());
        let doc = crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap();
        check_documents(std::slice::from_ref(&doc), &files, &Options::default()).documents.remove(0)
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

    /// The AVX2 copy of the Monte Carlo lane loop computes what the generic copy computes,
    /// bit for bit (on a processor without AVX2 both runs take the generic one).
    #[test]
    fn monte_carlo_numbers_are_the_same_with_and_without_avx2() {
        let text = "```derivation
let beta, mu: scalar
assume 0 < beta < 1
let g, m: sequence
def avg: m[t] = beta*m[t-1] + (1-beta)*g[t]   for t >= 1
given m0: m[0] = 0
given mean: E[g[i]] = mu   for i >= 1
claim bias: E[m[t]] = (1-beta^t)*mu   for t >= 1
check montecarlo E[m[t]] = (1-beta^t)*mu   where g[i] ~ Normal(mu, 2), beta = 9/10, mu = 3/2, t in 1..12, samples 3000
```
";
        let numbers = |result: &DocumentResult| {
            let mc = result.claims[0].evidence.iter().find(|e| e.layer == crate::verdict::Layer::MonteCarlo).expect("a Monte Carlo row");
            format!("{} {:?} {:?}", mc.detail, mc.table, mc.plot)
        };
        let with = numbers(&check_text(text));
        crate::evidence::montecarlo::WITHOUT_AVX2.store(true, std::sync::atomic::Ordering::Relaxed);
        let without = numbers(&check_text(text));
        crate::evidence::montecarlo::WITHOUT_AVX2.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(with.contains("3000 samples"), "{with}");
        assert_eq!(with, without);
    }

    #[test]
    fn the_exact_layer_alone_catches_a_wrong_step() {
        crate::prove::WEAKENED.set(true);
        let result = check_text(SIGN_SLIP);
        crate::prove::WEAKENED.set(false);
        let step = last_step(&result);
        assert_eq!(step.layers[0].verdict, Verdict::Holds, "the weakened symbolic layer is fooled");
        assert_eq!(step.layers[1].verdict, Verdict::Refuted);
        assert!(step.layers[1].counterexample.is_some());
        assert_eq!(step.status, Status::Refuted);
        // The statement itself is true: the proof is wrong, and the claim says so.
        assert_eq!(result.claims[0].status, Status::NotShown);
        assert!(result.claims[0].problems.iter().any(|p| p.message.starts_with("the proof is wrong at line")));
    }

    #[test]
    fn the_symbolic_layer_alone_catches_a_wrong_step() {
        crate::evidence::points::WEAKENED.set(true);
        let result = check_text(SIGN_SLIP);
        crate::evidence::points::WEAKENED.set(false);
        let step = last_step(&result);
        assert_eq!(step.layers[1].verdict, Verdict::Holds, "the weakened exact layer is fooled");
        assert_eq!(step.layers[0].verdict, Verdict::NotShown);
        assert!(step.layers[0].detail.contains("-2*epsilon*g[t]"), "{}", step.layers[0].detail);
        assert_eq!(step.status, Status::NotShown);
        assert_ne!(result.claims[0].status, Status::Verified);
    }

    /// The audit's rejections are the layers' own: with the symbolic layer broken, every
    /// meaning-changing mutant is still rejected, and some by the exact layer alone.
    #[test]
    fn the_audit_credits_each_layer_with_its_own_rejections() {
        let text = SIGN_SLIP.replace("alpha*dtheta[t-1] + epsilon*g[t] by", "alpha*dtheta[t-1] - epsilon*g[t] by");
        let mut files = SourceFiles::default();
        let id = files.add("test.md".into(), text);
        let doc = crate::language::parse(&crate::source::split(id, &files).unwrap()).unwrap();
        let audit = |weakened: bool| {
            crate::prove::WEAKENED.set(weakened);
            let out = audit_documents(std::slice::from_ref(&doc), &files, &Options::default(), &crate::audit::mutate::mutants);
            crate::prove::WEAKENED.set(false);
            out
        };
        for weakened in [false, true] {
            let mutants = audit(weakened);
            let changed: Vec<&AuditedMutant> = mutants.iter().filter(|m| m.meaning == Meaning::Changed).collect();
            assert!(changed.len() >= 15, "{mutants:?}");
            assert!(changed.iter().all(|m| !m.accepted()), "{changed:?}");
            let exact_alone = changed.iter().filter(|m| m.rejected_by == ["exact"]).count();
            assert_eq!(exact_alone > 0, weakened, "weakened: {weakened}, {changed:?}");
        }
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
        for round in 0..48 {
            let source: String = sources[round % sources.len()]
                .lines()
                .filter(|l| !l.contains("montecarlo") && !l.contains("check rate") && !l.contains("cost"))
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
            let Ok(doc) = crate::source::split(id, &files).and_then(|lit| crate::language::parse(&lit)) else { continue };
            check_documents(&[doc], &files, &options);
            checked += 1;
        }
        assert!(checked > 8, "only {checked} mutants parsed");
    }
}
