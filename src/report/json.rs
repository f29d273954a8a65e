//! The JSON output (`--json FILE`, schema in `docs/json.md`).

use serde::Serialize;

use crate::check::Results;
use crate::verdict::{Counterexample, Status, Verdict};

/// One verdict of one layer, flat: the JSON output is a list of these (schema in
/// `docs/json.md`).
#[derive(Serialize)]
struct JsonRow<'a> {
    file: &'a str,
    line: usize,
    claim: &'a str,
    /// 1-based step number within its chain; absent for the claim's own checks.
    step: Option<usize>,
    chain: Option<&'a str>,
    layer: String,
    verdict: Verdict,
    detail: &'a str,
    counterexample: Option<&'a Counterexample>,
}

#[derive(Serialize)]
struct JsonClaim<'a> {
    file: &'a str,
    line: usize,
    claim: &'a str,
    status: Status,
    seed: u64,
    problems: Vec<&'a str>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    seed: u64,
    all_verified: bool,
    claims: Vec<JsonClaim<'a>>,
    verdicts: Vec<JsonRow<'a>>,
}

/// All verdicts as JSON (see `docs/json.md`).
pub fn json(results: &Results) -> String {
    let mut claims = Vec::new();
    let mut verdicts = Vec::new();
    for d in &results.documents {
        for c in &d.claims {
            claims.push(JsonClaim {
                file: &d.path,
                line: c.line,
                claim: &c.name,
                status: c.status,
                seed: c.seed,
                problems: c.problems.iter().map(|p| p.message.as_str()).collect(),
            });
            for chain in &c.chains {
                for (i, s) in chain.steps.iter().enumerate() {
                    for l in &s.layers {
                        verdicts.push(JsonRow {
                            file: &d.path,
                            line: s.line,
                            claim: &c.name,
                            step: Some(i + 1),
                            chain: chain.label.as_deref(),
                            layer: l.layer.name().to_string(),
                            verdict: l.verdict,
                            detail: &l.detail,
                            counterexample: l.counterexample.as_ref(),
                        });
                    }
                }
            }
            for l in &c.evidence {
                verdicts.push(JsonRow {
                    file: &d.path,
                    line: c.line,
                    claim: &c.name,
                    step: None,
                    chain: None,
                    layer: l.layer.name().to_string(),
                    verdict: l.verdict,
                    detail: &l.detail,
                    counterexample: l.counterexample.as_ref(),
                });
            }
        }
    }
    let report = JsonReport { schema: "derivcheck-verdicts/1", seed: results.seed, all_verified: results.all_verified(), claims, verdicts };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
