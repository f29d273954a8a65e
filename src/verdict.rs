//! The vocabulary of results that every layer speaks and the report reads: which layer said
//! what (`LayerResult`), with its counterexample, table and plot, and the findings that are
//! not verdicts (warnings, reasons a proof does not prove its claim).

use serde::{Deserialize, Serialize};

use crate::diagnostic::Span;

/// A layer that judges a step or gathers evidence about a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Symbolic,
    Exact,
    Trajectory,
    /// Expand a claim from its definitions at concrete indices and compare symbolically.
    Unroll,
    /// Simulation with the file's own definitions and declared distributions.
    MonteCarlo,
    /// Double-precision evaluation where exact arithmetic does not apply.
    Float,
    /// Exact operation counts of two evaluation orders.
    Cost,
    /// How fast an error falls along a sweep, by sampling; it does not read the claim's
    /// statement.
    Rate,
    /// A stated derivative against central differences of what it differentiates, in
    /// 640-bit floats; it does not read the claim's statement.
    Derivative,
}

impl Layer {
    /// The layers in the order the report shows them.
    pub const ALL: [Layer; 9] = [
        Layer::Symbolic,
        Layer::Exact,
        Layer::Trajectory,
        Layer::Unroll,
        Layer::MonteCarlo,
        Layer::Float,
        Layer::Derivative,
        Layer::Rate,
        Layer::Cost,
    ];

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
            Layer::Rate => "rate",
            Layer::Derivative => "derivative",
        }
    }

    /// Whether its verdict is about the claim's own statement (a count, a rate or a derivative is
    /// not, so it can never support a claim).
    pub fn reads_the_statement(self) -> bool {
        !matches!(self, Layer::Cost | Layer::Rate | Layer::Derivative)
    }

    /// The name in the report's prose and tables.
    pub fn title(self) -> &'static str {
        match self {
            Layer::MonteCarlo => "Monte Carlo",
            other => other.name(),
        }
    }
}

/// What one layer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Holds,
    Refuted,
    NotShown,
    NotApplicable,
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

/// The overall status of a step or claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Verified,
    Refuted,
    NotShown,
    Unproved,
    /// A library lemma without a proof whose every check holds: supported by evidence.
    Supported,
    /// Verified by the symbolic layer alone, where no numeric layer could apply (an
    /// accepted status, except with `--strict`).
    SymbolicOnly,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Refuted => "refuted",
            Status::NotShown => "not shown",
            Status::Unproved => "unproved",
            Status::Supported => "supported by evidence",
            Status::SymbolicOnly => "verified (symbolic only)",
        }
    }

    /// What exit code 0 needs: verified (by the symbolic layer alone too), or supported by
    /// evidence in the built-in library.
    pub fn is_accepted(self) -> bool {
        matches!(self, Status::Verified | Status::Supported | Status::SymbolicOnly)
    }
}

/// Values at which a statement fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The claim's variables, then the free values the two sides used, in order.
    pub values: Vec<(String, String)>,
    pub lhs: String,
    pub rhs: String,
}

/// A figure for the report: curves over a common x axis (Monte Carlo estimates with their
/// intervals against the claimed values, error against sample size on log-log axes, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub curves: Vec<Curve>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Curve {
    pub label: String,
    /// `(x, y)` points in order of x.
    pub points: Vec<(f64, f64)>,
    /// Optional interval per point, `(low, high)`: drawn as error bars or a band.
    pub intervals: Option<Vec<(f64, f64)>>,
}

/// A table of numbers for the report (estimates, intervals, counts).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One layer's verdict on a step, or one piece of evidence about a claim.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerResult {
    pub layer: Layer,
    pub verdict: Verdict,
    pub detail: String,
    pub counterexample: Option<Counterexample>,
    /// Numbers behind the verdict, for the report (Monte Carlo estimates, op counts).
    pub table: Option<Table>,
    pub plot: Option<Plot>,
    /// For evidence about a claim: the line of the `check` that asked for it (the claim's
    /// own line for its built-in exact check).
    pub line: Option<usize>,
    /// What is left of a step the symbolic layer could not close (left − right), in the
    /// language's syntax, for the report to typeset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residual: Option<String>,
    /// Wall-clock seconds the layer took (for `cargo bench`; not in the JSON, which stays
    /// the same from run to run).
    #[serde(skip)]
    pub seconds: f64,
}

impl LayerResult {
    pub fn new(layer: Layer, verdict: Verdict, detail: impl Into<String>) -> LayerResult {
        LayerResult { layer, verdict, detail: detail.into(), counterexample: None, table: None, plot: None, line: None, residual: None, seconds: 0.0 }
    }

    /// The layer `run` computes, with the time it took.
    pub fn timed(run: impl FnOnce() -> LayerResult) -> LayerResult {
        let start = std::time::Instant::now();
        let mut result = run();
        result.seconds = start.elapsed().as_secs_f64();
        result
    }
}

/// Something a check found that is not a verdict, at the line it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    #[serde(skip)]
    pub span: Span,
    pub line: usize,
    pub kind: FindingKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// The step holds, but something about it is off (a cited rule it does not need).
    Warning,
    /// Why a proof does not prove its claim although its steps may hold.
    Problem,
}
