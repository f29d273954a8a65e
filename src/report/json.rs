//! The JSON output (`--json FILE`, schema `derivcheck-verdicts/2` in `docs/json.md`): every
//! claim with its steps, each step with every layer's verdict, and the evidence rows; or,
//! when the input does not parse, the input errors. Seeds are strings: above 2^53 a JSON
//! number loses digits in JavaScript and jq.

use serde::Serialize;

use crate::check::{Results, Summary};
use crate::diagnostic::Located;
use crate::language::ast::RuleKind;
use crate::verdict::{Counterexample, LayerResult, Status, Verdict};

const SCHEMA: &str = "derivcheck-verdicts/2";

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    seed: String,
    all_verified: bool,
    summary: Option<Summary>,
    errors: &'a [Located],
    claims: Vec<Claim<'a>>,
}

#[derive(Serialize)]
struct Claim<'a> {
    file: &'a str,
    line: usize,
    claim: &'a str,
    kind: RuleKind,
    status: Status,
    seed: String,
    problems: Vec<Note<'a>>,
    steps: Vec<Step<'a>>,
    evidence: Vec<Row<'a>>,
}

#[derive(Serialize)]
struct Step<'a> {
    line: usize,
    /// `base` or `step` inside an induction.
    chain: Option<&'a str>,
    /// 1-based within its chain.
    step: usize,
    status: Status,
    layers: Vec<Row<'a>>,
    warnings: Vec<Note<'a>>,
}

#[derive(Serialize)]
struct Row<'a> {
    /// The line of the `check` that asked for an evidence row.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    layer: &'static str,
    verdict: Verdict,
    detail: &'a str,
    counterexample: Option<&'a Counterexample>,
}

#[derive(Serialize)]
struct Note<'a> {
    line: usize,
    message: &'a str,
}

fn row(l: &LayerResult) -> Row<'_> {
    Row { line: l.line, layer: l.layer.name(), verdict: l.verdict, detail: &l.detail, counterexample: l.counterexample.as_ref() }
}

/// All verdicts as JSON.
pub fn json(results: &Results) -> String {
    let mut claims = Vec::new();
    for d in &results.documents {
        for c in &d.claims {
            let steps = c
                .chains
                .iter()
                .flat_map(|chain| {
                    chain.steps.iter().enumerate().map(|(i, s)| Step {
                        line: s.line,
                        chain: chain.label.as_deref(),
                        step: i + 1,
                        status: s.status,
                        layers: s.layers.iter().map(row).collect(),
                        warnings: s.findings.iter().map(|f| Note { line: f.line, message: &f.message }).collect(),
                    })
                })
                .collect();
            claims.push(Claim {
                file: &d.path,
                line: c.line,
                claim: &c.name,
                kind: c.kind,
                status: c.status,
                seed: c.seed.to_string(),
                problems: c.problems.iter().map(|p| Note { line: p.line, message: &p.message }).collect(),
                steps,
                evidence: c.evidence.iter().map(row).collect(),
            });
        }
    }
    let report = Report {
        schema: SCHEMA,
        seed: results.seed.to_string(),
        all_verified: results.all_verified(),
        summary: Some(results.summary()),
        errors: &[],
        claims,
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The input errors of a run that could not start checking, as JSON.
pub fn json_errors(seed: u64, errors: &[Located]) -> String {
    let report = Report { schema: SCHEMA, seed: seed.to_string(), all_verified: false, summary: None, errors, claims: vec![] };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
