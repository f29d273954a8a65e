//! One simulation claim: a comparison of expectations under the distributions it states,
//! decided by simulating the file's definitions (the Monte Carlo layer). Nothing symbolic
//! or exact can confirm it, so at best it is supported by numerical evidence.

use super::Knowledge;
use super::results::ClaimResult;
use crate::diagnostic::SourceFiles;
use crate::evidence::montecarlo;
use crate::language::ast::Simulation;
use crate::verdict::{Finding, FindingKind, Status, Verdict};

pub(super) fn check(claim: &Simulation, known: &Knowledge, files: &SourceFiles, seed: u64) -> ClaimResult {
    let line = files.line(claim.span);
    let mut result = ClaimResult::without_proof(&claim.name, line, seed);
    result.samples = claim.setup.samples;
    let row = montecarlo::check(&known.model, &claim.relation, &[], &claim.setup, seed);
    result.status = match row.verdict {
        Verdict::Holds => Status::Supported,
        Verdict::Refuted => Status::Refuted,
        _ => {
            let message = "the simulation cannot tell whether the comparison holds".to_string();
            result.problems.push(Finding { span: claim.span, line, kind: FindingKind::Problem, message });
            Status::NotShown
        }
    };
    result.evidence.push(row);
    result
}
