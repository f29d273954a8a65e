//! The terminal view of the results (`derivcheck check`): one line per step and per claim,
//! the details, counterexamples and warnings under the lines that need them, and a summary.

use std::io::{self, Write};

use crate::check::{CONSEQUENCE, Results};
use crate::verdict::{Counterexample, Status, Verdict};

/// A status as the check output shows it: failures in capitals, to stand out in a log.
fn mark(status: Status) -> String {
    match status {
        Status::Verified => "ok".into(),
        Status::SymbolicOnly => "ok (symbolic only)".into(),
        Status::Supported => status.name().into(),
        _ => status.name().to_uppercase(),
    }
}

fn counterexample(out: &mut impl Write, cx: &Counterexample) -> io::Result<()> {
    let values: Vec<String> = cx.values.iter().map(|(n, v)| format!("{n} = {v}")).collect();
    // A Monte Carlo counterexample may have no fixed values: every variable was sampled.
    let at = if values.is_empty() { String::new() } else { format!("{}; ", values.join(", ")) };
    writeln!(out, "    counterexample: {at}left = {}, right = {}", cx.lhs, cx.rhs)
}

/// Writes the results to `out`.
pub fn print(results: &Results, out: &mut impl Write) -> io::Result<()> {
    for doc in &results.documents {
        for claim in &doc.claims {
            for chain in &claim.chains {
                for step in &chain.steps {
                    let layers: Vec<String> = step.layers.iter().map(|l| format!("{}: {}", l.layer.name(), l.verdict.name())).collect();
                    let label = chain.label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
                    writeln!(out, "{}:{}: step of {}{label}: {} [{}]", doc.path, step.line, claim.name, mark(step.status), layers.join(", "))?;
                    for warning in &step.findings {
                        writeln!(out, "    warning: {}", warning.message)?;
                    }
                    if !matches!(step.status, Status::Verified | Status::SymbolicOnly) {
                        for l in &step.layers {
                            if matches!(l.verdict, Verdict::Refuted | Verdict::NotShown | Verdict::NotApplicable) {
                                writeln!(out, "    {}: {}", l.layer.name(), l.detail)?;
                            }
                            if let Some(cx) = &l.counterexample {
                                counterexample(out, cx)?;
                            }
                        }
                    }
                }
            }
            writeln!(out, "{}:{}: {} {}: {}", doc.path, claim.line, claim.kind.keyword(), claim.name, mark(claim.status))?;
            for p in &claim.problems {
                writeln!(out, "    {}", p.message)?;
            }
            for e in &claim.evidence {
                writeln!(out, "    {}: {}: {}", e.layer.name(), e.verdict.name(), e.detail)?;
                if let Some(cx) = &e.counterexample {
                    counterexample(out, cx)?;
                }
            }
        }
    }
    // Every failure again in one block, so a long run's end says what to fix.
    let mut failures = Vec::new();
    for doc in &results.documents {
        for claim in doc.claims.iter().filter(|c| !c.status.is_accepted()) {
            let lines: Vec<String> = claim
                .steps()
                .filter(|s| !s.status.is_accepted())
                .map(|s| {
                    let follows = s.findings.iter().any(|f| f.message.starts_with(CONSEQUENCE));
                    format!("line {} {}{}", s.line, s.status.name(), if follows { " only as a consequence" } else { "" })
                })
                .collect();
            let at = if lines.is_empty() { String::new() } else { format!(" ({})", lines.join(", ")) };
            failures.push(format!("{}:{}: {} {}: {}{at}", doc.path, claim.line, claim.kind.keyword(), claim.name, mark(claim.status)));
        }
    }
    if !failures.is_empty() {
        writeln!(out, "\n{} claim(s) not verified:", failures.len())?;
        for f in &failures {
            writeln!(out, "  {f}")?;
        }
    }
    let s = results.summary();
    writeln!(
        out,
        "{} file(s), {} claim(s): {} verified, {} verified by the symbolic layer alone, {} supported by numerical evidence, {} refuted, {} not shown, {} unproved, {} library lemma(s) supported by evidence (root seed {})",
        s.files, s.claims, s.verified, s.symbolic_only, s.evidence_only, s.refuted, s.not_shown, s.unproved, s.supported, results.seed
    )
}
