//! `derivcheck audit`: the checker's own red team. Every step of every proof gets each slip
//! a student could make ([`mutate`]), the mutated proof is judged as `check` judges it, and
//! the audit counts how many mutants that say something else each layer rejects. A mutant
//! whose meaning changed and that is still accepted is a hole in the checker.
//!
//! This stage decides nothing about steps itself: verdicts come from `check`.

pub mod mutate;

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::Loaded;
use crate::check::{self, AuditedMutant, Meaning, Options};

/// The mutants of a run and how each was judged.
#[derive(Debug, Serialize)]
pub struct Audit {
    pub seed: String,
    pub summary: Summary,
    pub mutants: Vec<AuditedMutant>,
}

/// The counts a reader wants first.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub mutants: usize,
    /// Mutants whose meaning changed, and how many of those were rejected.
    pub changed: usize,
    pub rejected: usize,
    /// Of the changed mutants, how many each layer rejected (a mutant may count for several).
    pub rejected_by: BTreeMap<&'static str, usize>,
    /// Per operator: changed mutants and rejected ones.
    pub operators: BTreeMap<&'static str, (usize, usize)>,
    pub same: usize,
    /// Mutants the language rejects as input errors (a matrix in an exponent).
    pub ill_formed: usize,
    pub unknown: usize,
    /// Undecided mutants the checker accepted: worth a look, not counted as holes.
    pub unknown_accepted: usize,
}

impl Summary {
    pub fn survivors(&self) -> usize {
        self.changed - self.rejected
    }
}

/// Mutates every step of the loaded files (the built-in library is left alone) and judges
/// each mutant.
pub fn run(loaded: &Loaded, options: &Options) -> Audit {
    let mutants = check::audit_documents(&loaded.documents, &loaded.files, options, &mutate::mutants);
    let mut summary = Summary { mutants: mutants.len(), ..Summary::default() };
    for m in &mutants {
        match m.meaning {
            Meaning::Same => summary.same += 1,
            Meaning::IllFormed => summary.ill_formed += 1,
            Meaning::Unknown => {
                summary.unknown += 1;
                summary.unknown_accepted += usize::from(m.accepted());
            }
            Meaning::Changed => {
                summary.changed += 1;
                summary.rejected += usize::from(!m.accepted());
                for layer in &m.rejected_by {
                    *summary.rejected_by.entry(layer).or_default() += 1;
                }
                let op = summary.operators.entry(m.operator).or_default();
                op.0 += 1;
                op.1 += usize::from(!m.accepted());
            }
        }
    }
    Audit { seed: options.seed.to_string(), summary, mutants }
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 { "—".into() } else { format!("{:.1}%", 100.0 * part as f64 / whole as f64) }
}

/// The audit as the terminal shows it: the counts, then every survivor and every accepted
/// mutant whose meaning is undecided.
pub fn print(audit: &Audit, out: &mut impl Write) -> io::Result<()> {
    let s = &audit.summary;
    writeln!(out, "{} mutants (seed {})", s.mutants, audit.seed)?;
    writeln!(out, "  meaning changed: {}, rejected {} ({})", s.changed, s.rejected, percent(s.rejected, s.changed))?;
    for (layer, n) in &s.rejected_by {
        writeln!(out, "    rejected by {layer}: {n} ({})", percent(*n, s.changed))?;
    }
    for (op, (changed, rejected)) in &s.operators {
        writeln!(out, "    {op}: {rejected} of {changed} rejected")?;
    }
    writeln!(out, "  same meaning (not counted): {}", s.same)?;
    writeln!(out, "  ill-formed, rejected as input errors (not counted): {}", s.ill_formed)?;
    writeln!(out, "  undecided (no point tells them apart, no proof they are equal): {}, accepted {}", s.unknown, s.unknown_accepted)?;
    let show = |m: &AuditedMutant| format!("{}:{} (claim {}, {}): `{}` became `{}`", m.file, m.line, m.claim, m.operator, m.original, m.mutant);
    let survivors: Vec<&AuditedMutant> = audit.mutants.iter().filter(|m| m.meaning == Meaning::Changed && m.accepted()).collect();
    if !survivors.is_empty() {
        writeln!(out, "SURVIVORS (meaning changed, still accepted):")?;
        for m in survivors {
            writeln!(out, "  {}", show(m))?;
        }
    }
    let undecided: Vec<&AuditedMutant> = audit.mutants.iter().filter(|m| m.meaning == Meaning::Unknown && m.accepted()).collect();
    if !undecided.is_empty() {
        writeln!(out, "accepted, meaning undecided:")?;
        for m in undecided {
            writeln!(out, "  {}", show(m))?;
        }
    }
    Ok(())
}

/// The audit as JSON (`--json`).
pub fn json(audit: &Audit) -> String {
    serde_json::to_string_pretty(audit).expect("the audit serializes")
}
