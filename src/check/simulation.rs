//! One simulation claim: a comparison of expectations under the distributions it states,
//! decided by simulating the file's definitions (the Monte Carlo layer). Nothing symbolic
//! or exact can confirm it, so at best it is supported by numerical evidence; and only where
//! the paths are models of the file under the stated setting: every size fixed, no name held
//! at one arbitrary draw, no `given` or `assume` on what is drawn.

use std::collections::BTreeSet;

use super::claim::closed_over_definitions;
use super::results::ClaimResult;
use super::{Knowledge, givens};
use crate::diagnostic::SourceFiles;
use crate::evidence::montecarlo::{self, Reading};
use crate::language::ast::Simulation;
use crate::verdict::{Finding, FindingKind, Layer, LayerResult, Status, Verdict};

pub(super) fn check(claim: &Simulation, known: &Knowledge, files: &SourceFiles, seed: u64) -> ClaimResult {
    let line = files.line(claim.span);
    let mut result = ClaimResult::without_proof(&claim.name, line, seed);
    result.samples = claim.setup.samples;
    let mut row = match outside_the_setting(claim, known) {
        Some(why) => LayerResult::new(Layer::MonteCarlo, Verdict::NotApplicable, why),
        None => montecarlo::check(&known.model, &claim.relation, &[], &claim.setup, seed, Reading::Statement),
    };
    row.line = Some(line);
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

/// Why the simulated paths would not be the setting the claim states, if they would not.
fn outside_the_setting(claim: &Simulation, known: &Knowledge) -> Option<String> {
    let model = &known.model;
    let mut mentioned = BTreeSet::new();
    givens::mentioned(&claim.relation.lhs, &mut mentioned);
    givens::mentioned(&claim.relation.rhs, &mut mentioned);
    let reached = closed_over_definitions(mentioned, model);
    // A size the `where` does not fix would be the checker's default, not the claim's.
    let sized: BTreeSet<&String> = claim.setup.sizes.iter().map(|(d, _)| d).collect();
    for name in &reached {
        let free_dimension = model.shapes.get(name).into_iter().flatten().find(|d| d.parse::<u64>().is_err() && !sized.contains(d));
        if let Some(dim) = free_dimension {
            return Some(format!(
                "`{name}` has the dimension `{dim}`, which `where` does not size (`{dim} = 5`): the claim would hold for one size the checker picks"
            ));
        }
    }
    // What is random: the drawn names and everything defined from them.
    let drawn: BTreeSet<String> = claim.setup.draws.iter().map(|(n, ..)| n.clone()).collect();
    let random =
        |name: &String| drawn.contains(name) || closed_over_definitions(BTreeSet::from([name.clone()]), model).iter().any(|n| drawn.contains(n));
    for premise in &known.premises {
        let mut names = BTreeSet::new();
        givens::mentioned(&premise.relation.lhs, &mut names);
        givens::mentioned(&premise.relation.rhs, &mut names);
        if let Some(name) = names.iter().find(|n| reached.contains(*n) && random(n)) {
            let what = if premise.name == "assume" { "an `assume` fact".to_string() } else { format!("`given {}`", premise.name) };
            return Some(format!("{what} constrains `{name}`, which the simulation draws from the stated distributions without regard to it"));
        }
    }
    None
}
