//! Stage 4: the report. Builds one serializable context from the documents and their
//! results, renders it with tera templates (`templates/`, built in; a folder can override
//! them), and writes every output through a temp file and a rename.
//!
//! Architecture invariant: templates compute nothing; everything they show is in the
//! context. Nothing here decides a verdict.

mod latex;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Loaded;
use crate::check::{ClaimResult, LayerResult, Results, Status, Verdict};
use crate::language::ast::{Decl, Fact, Proof, Rule, Statement};
use crate::language::{Document, Item, Scope, latex as expr_latex};

pub use latex::{escape as tex_escape, markdown_to_latex};

/// An output format of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Latex,
}

impl Format {
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Markdown => "report.md",
            Format::Latex => "report.tex",
        }
    }

    fn template(self) -> (&'static str, &'static str) {
        match self {
            Format::Markdown => ("report.md.tera", include_str!("../../templates/report.md.tera")),
            Format::Latex => ("report.tex.tera", include_str!("../../templates/report.tex.tera")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("template error: {0}")]
    Template(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Renders the requested formats; nothing is written.
pub fn render(loaded: &Loaded, results: &Results, formats: &[Format], templates: Option<&Path>) -> Result<Vec<(String, String)>, ReportError> {
    let context = build_context(loaded, results);
    let mut tera = tera::Tera::default();
    tera.register_filter("tex", |value: &tera::Value, _: &std::collections::HashMap<String, tera::Value>| {
        Ok(tera::Value::String(latex::escape(value.as_str().unwrap_or(&value.to_string()))))
    });
    tera.autoescape_on(vec![]);
    let context = tera::Context::from_serialize(&context).map_err(|e| ReportError::Template(error_chain(&e)))?;
    let mut out = Vec::new();
    for format in formats {
        let (name, builtin) = format.template();
        let text = match templates.map(|dir| dir.join(name)).filter(|p| p.is_file()) {
            Some(path) => std::fs::read_to_string(&path).map_err(|source| ReportError::Io { path: path.display().to_string(), source })?,
            None => builtin.to_string(),
        };
        tera.add_raw_template(name, &text).map_err(|e| ReportError::Template(error_chain(&e)))?;
        let rendered = tera.render(name, &context).map_err(|e| ReportError::Template(error_chain(&e)))?;
        out.push((format.file_name().to_string(), rendered));
    }
    Ok(out)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// Writes each `(file name, content)` into `dir`: all to temp files first, then each renamed
/// over its target, so a failure leaves every existing output as it was.
pub fn write_outputs(dir: &Path, outputs: &[(String, String)]) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io { path: dir.display().to_string(), source })?;
    let mut temps = Vec::new();
    for (name, content) in outputs {
        let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        if let Err(source) = std::fs::write(&temp, content) {
            for (t, _) in &temps {
                let _ = std::fs::remove_file(t);
            }
            let _ = std::fs::remove_file(&temp);
            return Err(ReportError::Io { path: temp.display().to_string(), source });
        }
        temps.push((temp, dir.join(name)));
    }
    let mut written = Vec::new();
    for (temp, target) in temps {
        std::fs::rename(&temp, &target).map_err(|source| ReportError::Io { path: target.display().to_string(), source })?;
        written.push(target);
    }
    Ok(written)
}

/// Writes one file atomically (temp file and rename).
pub fn write_file(path: &Path, content: &str) -> Result<(), ReportError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "out".into());
    write_outputs(dir, &[(name, content.to_string())]).map(|_| ())
}

// ---- the template context ----

#[derive(Serialize)]
struct Context {
    title: String,
    seed: u64,
    version: &'static str,
    summary: Summary,
    rows: Vec<SummaryRow>,
    documents: Vec<DocContext>,
}

#[derive(Serialize, Default)]
struct Summary {
    claims: usize,
    verified: usize,
    refuted: usize,
    not_shown: usize,
    unproved: usize,
    all_verified: bool,
}

#[derive(Serialize)]
struct SummaryRow {
    file: String,
    name: String,
    anchor: String,
    line: usize,
    status: Status,
    status_text: &'static str,
    /// Per layer: the worst verdict over the claim's steps and evidence.
    layers: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct DocContext {
    path: String,
    title: Option<String>,
    author: Option<String>,
    course: Option<String>,
    parts: Vec<PartContext>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum PartContext {
    Prose { md: String, tex: String },
    Statements { rows: Vec<StatementRow> },
    Claim(Box<ClaimContext>),
}

#[derive(Serialize)]
struct StatementRow {
    keyword: &'static str,
    name: String,
    tex: String,
    source: String,
    line: usize,
}

#[derive(Serialize)]
struct ClaimContext {
    name: String,
    anchor: String,
    kind: &'static str,
    line: usize,
    status: Status,
    status_text: &'static str,
    statement_tex: String,
    source: String,
    seed: u64,
    samples: usize,
    chains: Vec<ChainContext>,
    evidence: Vec<LayerContext>,
    problems: Vec<String>,
    failures: Vec<FailureContext>,
}

#[derive(Serialize)]
struct ChainContext {
    label: Option<String>,
    rows: Vec<StepContext>,
}

#[derive(Serialize)]
struct StepContext {
    first_tex: String,
    rel_tex: &'static str,
    rhs_tex: String,
    by: String,
    line: usize,
    status: Status,
    source: String,
    layers: Vec<LayerContext>,
}

#[derive(Serialize)]
struct LayerContext {
    layer: String,
    verdict: Verdict,
    verdict_text: &'static str,
    detail: String,
    counterexample: Option<CounterexampleContext>,
}

#[derive(Serialize)]
struct CounterexampleContext {
    values: Vec<NameValue>,
    lhs: String,
    rhs: String,
}

#[derive(Serialize)]
struct NameValue {
    name: String,
    value: String,
}

/// A failing step or check, told in one place for the reader.
#[derive(Serialize)]
struct FailureContext {
    line: usize,
    source: String,
    layer: String,
    detail: String,
    counterexample: Option<CounterexampleContext>,
}

fn status_text(s: Status) -> &'static str {
    match s {
        Status::Verified => "verified",
        Status::Refuted => "refuted",
        Status::NotShown => "not shown",
        Status::Unproved => "unproved",
    }
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "holds",
        Verdict::Refuted => "refuted",
        Verdict::NotShown => "not shown",
        Verdict::NotApplicable => "n/a",
    }
}

fn layer_context(l: &LayerResult) -> LayerContext {
    LayerContext {
        layer: serde_json::to_value(l.layer).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
        verdict: l.verdict,
        verdict_text: verdict_text(l.verdict),
        detail: l.detail.clone(),
        counterexample: l.counterexample.as_ref().map(|c| CounterexampleContext {
            values: c.values.iter().map(|(n, v)| NameValue { name: n.clone(), value: v.clone() }).collect(),
            lhs: c.lhs.clone(),
            rhs: c.rhs.clone(),
        }),
    }
}

/// The worst verdict of a layer: refuted > not shown > holds > n/a.
fn worst(verdicts: impl Iterator<Item = Verdict>) -> &'static str {
    let rank = |v: &Verdict| match v {
        Verdict::Refuted => 3,
        Verdict::NotShown => 2,
        Verdict::Holds => 1,
        Verdict::NotApplicable => 0,
    };
    verdicts.max_by_key(rank).map_or("—", verdict_text)
}

fn build_context(loaded: &Loaded, results: &Results) -> Context {
    let mut summary = Summary::default();
    let mut rows = Vec::new();
    let mut documents = Vec::new();
    for (doc, result) in loaded.documents.iter().zip(&results.documents) {
        let claims: BTreeMap<&str, &ClaimResult> = result.claims.iter().map(|c| (c.name.as_str(), c)).collect();
        for c in &result.claims {
            summary.claims += 1;
            match c.status {
                Status::Verified => summary.verified += 1,
                Status::Refuted => summary.refuted += 1,
                Status::NotShown => summary.not_shown += 1,
                Status::Unproved => summary.unproved += 1,
            }
            let all_layers = c.chains.iter().flat_map(|ch| &ch.steps).flat_map(|s| &s.layers).chain(&c.evidence);
            let mut layers = BTreeMap::new();
            for (key, layer) in [("symbolic", crate::check::Layer::Symbolic), ("exact", crate::check::Layer::Exact), ("trajectory", crate::check::Layer::Trajectory)] {
                layers.insert(key, worst(all_layers.clone().filter(|l| l.layer == layer).map(|l| l.verdict)));
            }
            rows.push(SummaryRow {
                file: doc.path.clone(),
                name: c.name.clone(),
                anchor: anchor(&doc.path, &c.name),
                line: c.line,
                status: c.status,
                status_text: status_text(c.status),
                layers,
            });
        }
        documents.push(doc_context(doc, loaded, &claims));
    }
    summary.all_verified = results.all_verified();
    let title = match loaded.documents.as_slice() {
        [one] => one.front.title.clone().unwrap_or_else(|| one.path.clone()),
        _ => "Checked derivations".to_string(),
    };
    Context { title, seed: results.seed, version: env!("CARGO_PKG_VERSION"), summary, rows, documents }
}

fn anchor(path: &str, name: &str) -> String {
    let stem = Path::new(path).file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    format!("{stem}-{name}").chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

fn doc_context(doc: &Document, loaded: &Loaded, claims: &BTreeMap<&str, &ClaimResult>) -> DocContext {
    let files = &loaded.files;
    let scope = &doc.scope;
    let mut parts = Vec::new();
    for item in &doc.items {
        match item {
            Item::Prose(md) => parts.push(PartContext::Prose { md: md.clone(), tex: markdown_to_latex(md) }),
            Item::Block(block) => {
                let mut rows = Vec::new();
                let flush = |rows: &mut Vec<StatementRow>, parts: &mut Vec<PartContext>| {
                    if !rows.is_empty() {
                        parts.push(PartContext::Statements { rows: std::mem::take(rows) });
                    }
                };
                for statement in &block.statements {
                    match statement {
                        Statement::Let(decls) => rows.push(let_row(decls, scope, files)),
                        Statement::Assume(facts, span) => {
                            rows.push(StatementRow { keyword: "assume", name: String::new(), tex: facts_tex(facts, scope), source: source_line(files, *span), line: files.line(*span) });
                        }
                        Statement::Rule(rule) => match claims.get(rule.name.as_str()) {
                            Some(result) => {
                                flush(&mut rows, &mut parts);
                                parts.push(PartContext::Claim(Box::new(claim_context(doc, rule, result, loaded))));
                            }
                            None => rows.push(StatementRow {
                                keyword: rule.kind.keyword(),
                                name: rule.name.clone(),
                                tex: rule_tex(rule, scope),
                                source: source_line(files, rule.span),
                                line: files.line(rule.span),
                            }),
                        },
                    }
                }
                flush(&mut rows, &mut parts);
            }
        }
    }
    DocContext { path: doc.path.clone(), title: doc.front.title.clone(), author: doc.front.author.clone(), course: doc.front.course.clone(), parts }
}

fn let_row(decls: &[Decl], scope: &Scope, files: &crate::diagnostic::SourceFiles) -> StatementRow {
    let names: Vec<String> = decls.iter().map(|d| expr_latex::name(&d.name, scope)).collect();
    let kind = decls[0].kind.describe();
    let shape = if decls[0].shape.is_empty() { String::new() } else { format!(" {}", decls[0].shape.join("\\times ")) };
    StatementRow {
        keyword: "let",
        name: String::new(),
        tex: format!("{} : \\text{{{}}}{shape}", names.join(", "), kind.trim_start_matches("a ").trim_start_matches("an ")),
        source: source_line(files, decls[0].span),
        line: files.line(decls[0].span),
    }
}

/// Facts as written: `0 < a`, `a < 1` read `0 < a < 1` again.
fn facts_tex(facts: &[Fact], scope: &Scope) -> String {
    let mut out = String::new();
    for (i, f) in facts.iter().enumerate() {
        let continues = i > 0 && facts[i - 1].rhs == f.lhs;
        if !continues {
            if i > 0 {
                out.push_str(",\\quad ");
            }
            out.push_str(&expr_latex::expr(&f.lhs, scope));
        }
        out.push_str(&format!(" {} {}", f.rel.latex(), expr_latex::expr(&f.rhs, scope)));
    }
    out
}

fn rule_tex(rule: &Rule, scope: &Scope) -> String {
    let r = &rule.relation;
    let mut tex = expr_latex::relation(&r.lhs, r.rel, &r.rhs, scope);
    if !rule.conditions.is_empty() {
        tex.push_str(&format!("\\quad \\text{{for }} {}", facts_tex(&rule.conditions, scope)));
    }
    tex
}

/// The whole source line where a span starts, trimmed.
fn source_line(files: &crate::diagnostic::SourceFiles, span: crate::diagnostic::Span) -> String {
    let file = files.get(span.file);
    let line = files.line(span);
    file.text.lines().nth(line - 1).unwrap_or("").trim().to_string()
}

fn claim_context(doc: &Document, rule: &Rule, result: &ClaimResult, loaded: &Loaded) -> ClaimContext {
    let files = &loaded.files;
    let scope = &doc.scope;
    let mut chains = Vec::new();
    let proof_chains: Vec<(Option<&str>, &crate::language::ast::Chain)> = match &rule.proof {
        None => vec![],
        Some(Proof::Chain(c)) => vec![(None, c)],
        Some(Proof::Induction { base, step, .. }) => vec![(Some("base"), base), (Some("step"), step)],
    };
    let mut failures = Vec::new();
    for ((label, chain), checked) in proof_chains.into_iter().zip(&result.chains) {
        let mut rows = Vec::new();
        for (i, (step, res)) in chain.steps.iter().zip(&checked.steps).enumerate() {
            let source = source_line(files, step.span);
            for l in res.layers.iter().filter(|l| matches!(l.verdict, Verdict::Refuted | Verdict::NotShown)) {
                failures.push(FailureContext {
                    line: res.line,
                    source: source.clone(),
                    layer: layer_context(l).layer,
                    detail: l.detail.clone(),
                    counterexample: layer_context(l).counterexample,
                });
            }
            rows.push(StepContext {
                first_tex: if i == 0 { expr_latex::expr(&chain.first, scope) } else { String::new() },
                rel_tex: step.rel.latex(),
                rhs_tex: expr_latex::expr(&step.rhs, scope),
                by: match &step.by {
                    crate::language::ast::Justification::Algebra => "algebra".into(),
                    crate::language::ast::Justification::Search => "?".into(),
                    crate::language::ast::Justification::Rules(names) => names.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "),
                },
                line: res.line,
                status: res.status,
                source,
                layers: res.layers.iter().map(layer_context).collect(),
            });
        }
        chains.push(ChainContext { label: label.map(String::from), rows });
    }
    for e in result.evidence.iter().filter(|e| e.verdict == Verdict::Refuted) {
        failures.push(FailureContext {
            line: result.line,
            source: source_line(files, rule.span),
            layer: layer_context(e).layer,
            detail: e.detail.clone(),
            counterexample: layer_context(e).counterexample,
        });
    }
    ClaimContext {
        name: rule.name.clone(),
        anchor: anchor(&doc.path, &rule.name),
        kind: rule.kind.keyword(),
        line: result.line,
        status: result.status,
        status_text: status_text(result.status),
        statement_tex: rule_tex(rule, scope),
        source: source_line(files, rule.span),
        seed: result.seed,
        samples: result.samples,
        chains,
        evidence: result.evidence.iter().map(layer_context).collect(),
        problems: result.problems.clone(),
        failures,
    }
}

// ---- JSON ----

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
    counterexample: Option<&'a crate::check::Counterexample>,
}

#[derive(Serialize)]
struct JsonClaim<'a> {
    file: &'a str,
    line: usize,
    claim: &'a str,
    status: Status,
    seed: u64,
    problems: &'a [String],
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
            claims.push(JsonClaim { file: &d.path, line: c.line, claim: &c.name, status: c.status, seed: c.seed, problems: &c.problems });
            for chain in &c.chains {
                for (i, s) in chain.steps.iter().enumerate() {
                    for l in &s.layers {
                        verdicts.push(JsonRow {
                            file: &d.path,
                            line: s.line,
                            claim: &c.name,
                            step: Some(i + 1),
                            chain: chain.label.as_deref(),
                            layer: layer_context(l).layer,
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
                    layer: layer_context(l).layer,
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
