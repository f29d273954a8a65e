//! What checking produces: a verdict per layer per step, a status per claim, the findings
//! behind them, and the counts every printer shows.

use serde::{Deserialize, Serialize};

use crate::diagnostic::Span;
use crate::language::ast::RuleKind;
use crate::verdict::{Finding, LayerResult, Status};

/// How the warning on a step that fails only because an earlier step is wrong begins: the
/// printers single those steps out by it.
pub const CONSEQUENCE: &str = "this step follows from the start of the chain";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepResult {
    /// The step's line in the source (the whole step).
    #[serde(skip)]
    pub span: Span,
    pub line: usize,
    pub status: Status,
    pub layers: Vec<LayerResult>,
    /// Warnings about the step (a cited rule it does not need).
    pub findings: Vec<Finding>,
    /// The rules the symbolic layer used (with `by ?`, those it found).
    pub used: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChainResult {
    /// `base` or `step` in an induction.
    pub label: Option<String>,
    pub steps: Vec<StepResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimResult {
    pub name: String,
    pub kind: RuleKind,
    pub line: usize,
    pub status: Status,
    pub seed: u64,
    pub samples: usize,
    pub chains: Vec<ChainResult>,
    /// Evidence about the claim itself: its exact check, trajectories, Monte Carlo, ….
    pub evidence: Vec<LayerResult>,
    /// Why a proof does not prove the claim even if its steps hold.
    pub problems: Vec<Finding>,
    /// Wall-clock seconds the whole claim took (for `cargo bench`; not in the JSON).
    #[serde(skip)]
    pub seconds: f64,
}

impl ClaimResult {
    /// A claim shown without a proof or random points (an existence claim by its witness, a
    /// complexity claim by counting), verified until a layer says otherwise.
    pub fn without_proof(name: &str, line: usize, seed: u64) -> ClaimResult {
        ClaimResult {
            name: name.to_string(),
            kind: crate::language::ast::RuleKind::Claim,
            line,
            status: Status::Verified,
            seed,
            samples: 0,
            chains: Vec::new(),
            evidence: Vec::new(),
            problems: Vec::new(),
            seconds: 0.0,
        }
    }

    pub fn steps(&self) -> impl Iterator<Item = &StepResult> {
        self.chains.iter().flat_map(|c| &c.steps)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentResult {
    pub path: String,
    /// The built-in lemma library, checked because some file cites a lemma.
    pub library: bool,
    pub claims: Vec<ClaimResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    pub seed: u64,
    pub documents: Vec<DocumentResult>,
    /// Stopped early (Ctrl-C): the documents hold only the claims checked before.
    pub interrupted: bool,
}

/// Counts of a run, as every printer shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Input files, the lemma library not counted.
    pub files: usize,
    pub claims: usize,
    pub verified: usize,
    pub refuted: usize,
    pub not_shown: usize,
    pub unproved: usize,
    /// Library lemmas without proofs whose every check holds.
    pub supported: usize,
    /// Claims of the files shown only by numerical evidence (an existence claim whose
    /// witness meets a limit, or a condition only floats can evaluate).
    pub evidence_only: usize,
    /// Verified, but some step only by the symbolic layer.
    pub symbolic_only: usize,
    pub all_verified: bool,
}

impl Results {
    pub fn claims(&self) -> impl Iterator<Item = &ClaimResult> {
        self.documents.iter().flat_map(|d| &d.claims)
    }

    /// Every claim and lemma verified (or, in the library, supported): exit code 0.
    pub fn all_verified(&self) -> bool {
        !self.interrupted && self.claims().all(|c| c.status.is_accepted())
    }

    /// The claim or lemma of this name, in the first file that has one.
    pub fn claim(&self, name: &str) -> Option<&ClaimResult> {
        self.claims().find(|c| c.name == name)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary { files: self.documents.iter().filter(|d| !d.library).count(), all_verified: self.all_verified(), ..Summary::default() };
        for (c, library) in self.documents.iter().flat_map(|d| d.claims.iter().map(move |c| (c, d.library))) {
            s.claims += 1;
            *match c.status {
                Status::Verified => &mut s.verified,
                Status::Refuted => &mut s.refuted,
                Status::NotShown => &mut s.not_shown,
                Status::Unproved => &mut s.unproved,
                Status::Supported if library => &mut s.supported,
                Status::Supported => &mut s.evidence_only,
                Status::SymbolicOnly => &mut s.symbolic_only,
            } += 1;
        }
        s
    }
}

/// One mutant of one step, as `derivcheck audit` judged it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditedMutant {
    pub file: String,
    pub line: usize,
    pub claim: String,
    pub operator: &'static str,
    /// The step's right-hand side as written, and as mutated.
    pub original: String,
    pub mutant: String,
    pub meaning: Meaning,
    /// What rejected the mutated proof: `symbolic`, `exact` or `float` (a layer refuted or
    /// could not show a step), `chain` (the chain no longer ends at the claim's side).
    pub rejected_by: Vec<&'static str>,
}

impl AuditedMutant {
    pub fn accepted(&self) -> bool {
        self.rejected_by.is_empty()
    }
}

/// Whether a mutant says something else than the original: `changed` when the exact (or
/// float) layer finds a point where the two right-hand sides differ, `same` when the
/// symbolic layer shows them equal (with the file's rules) and no point separates them,
/// `ill_formed` when the language rejects it (a matrix exponent), `unknown` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Meaning {
    Changed,
    Same,
    IllFormed,
    Unknown,
}
