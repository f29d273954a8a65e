//! Stage 4: the report. Builds one serializable context from the documents and their
//! results, renders it with tera templates (`templates/`, built in; a folder can override
//! them), and writes every output through a temp file and a rename.
//!
//! Architecture invariant: templates compute nothing; everything they show is in the
//! context. Nothing here decides a verdict.

mod html;
mod latex;
mod plot;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Loaded;
use crate::check::{ClaimResult, Layer, LayerResult, Results, Status, Table, Verdict};
use crate::language::ast::{Decl, Fact, Justification, Proof, Rule, RuleKind, Statement};
use crate::language::{Document, Item, Scope, latex as expr_latex};

pub use html::markdown_to_html;
pub use latex::{escape as tex_escape, markdown_to_latex};

/// An output format of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Latex,
    Html,
}

impl Format {
    /// Every format, in the order they are written.
    pub const ALL: [Format; 3] = [Format::Latex, Format::Html, Format::Markdown];

    /// The format's name on the command line (`--format tex,html,md`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Latex => "tex",
            Format::Html => "html",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Format::Markdown => "report.md",
            Format::Latex => "report.tex",
            Format::Html => "report.html",
        }
    }

    fn template(self) -> (&'static str, &'static str) {
        match self {
            Format::Markdown => ("report.md.tera", include_str!("../../templates/report.md.tera")),
            Format::Latex => ("report.tex.tera", include_str!("../../templates/report.tex.tera")),
            Format::Html => ("report.html.tera", include_str!("../../templates/report.html.tera")),
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

/// Renders the requested formats, as `(file name, content)` pairs; nothing is written. With
/// Markdown, each figure also comes as an `.svg` file that `report.md` links to.
pub fn render(loaded: &Loaded, results: &Results, formats: &[Format], templates: Option<&Path>) -> Result<Vec<(String, String)>, ReportError> {
    let mut context = build_context(loaded, results);
    if formats.contains(&Format::Html) {
        context.katex = Some(Katex { css: html::katex_css(), js: html::KATEX_JS });
    }
    let mut tera = tera::Tera::default();
    tera.register_filter("tex", |value: &tera::Value, _: &std::collections::HashMap<String, tera::Value>| {
        Ok(tera::Value::String(latex::escape(value.as_str().unwrap_or(&value.to_string()))))
    });
    // HTML escapes every value unless the template marks it `safe`; the others escape by filter.
    tera.autoescape_on(vec![".html.tera"]);
    tera.set_escape_fn(html::escape);
    let figures = std::mem::take(&mut context.figures);
    let context = tera::Context::from_serialize(&context).map_err(|e| ReportError::Template(error_chain(&e)))?;
    let progress = crate::progress::bar(formats.len() as u64, "report");
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
        if *format == Format::Markdown {
            out.extend(figures.iter().cloned());
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
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

// ---- the template context (documented field by field in docs/report.md) ----

#[derive(Serialize)]
struct Context {
    title: String,
    seed: u64,
    version: &'static str,
    summary: Summary,
    /// The layers that have a verdict anywhere, in a fixed order: the summary's columns.
    layers: Vec<LayerColumn>,
    rows: Vec<SummaryRow>,
    documents: Vec<DocContext>,
    /// Every lemma of every document, for the appendix.
    lemmas: Vec<LemmaContext>,
    /// KaTeX for `report.html`, only when HTML is rendered.
    katex: Option<Katex>,
    /// `(file name, SVG)` of every figure, written beside `report.md`.
    #[serde(skip)]
    figures: Vec<(String, String)>,
}

#[derive(Serialize)]
struct Katex {
    /// The stylesheet, fonts inlined.
    css: String,
    js: &'static str,
}

#[derive(Serialize, Default)]
struct Summary {
    claims: usize,
    verified: usize,
    refuted: usize,
    not_shown: usize,
    unproved: usize,
    /// Library lemmas without proofs whose every check holds.
    supported: usize,
    all_verified: bool,
}

#[derive(Serialize, Clone)]
struct LayerColumn {
    layer: String,
    title: &'static str,
}

#[derive(Serialize)]
struct SummaryRow {
    file: String,
    name: String,
    kind: &'static str,
    anchor: String,
    line: usize,
    status: Status,
    status_text: &'static str,
    /// One cell per entry of `layers`: the worst verdict over the claim's steps and evidence.
    layers: Vec<LayerCell>,
}

#[derive(Serialize, Clone)]
struct LayerCell {
    layer: String,
    title: &'static str,
    /// Absent when the layer gave no verdict on this claim.
    verdict: Option<Verdict>,
    verdict_text: &'static str,
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
    Prose { md: String, tex: String, html: String },
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
    status_text: &'static str,
    source: String,
    layers: Vec<LayerContext>,
}

#[derive(Serialize, Clone)]
struct LayerContext {
    layer: String,
    title: &'static str,
    verdict: Verdict,
    verdict_text: &'static str,
    detail: String,
    counterexample: Option<CounterexampleContext>,
    table: Option<Table>,
    plot: Option<PlotContext>,
}

#[derive(Serialize, Clone)]
struct CounterexampleContext {
    values: Vec<NameValue>,
    lhs: String,
    rhs: String,
}

#[derive(Serialize, Clone)]
struct NameValue {
    name: String,
    value: String,
}

/// A figure in every format: inline SVG, the `.svg` file's name, pgfplots code.
#[derive(Serialize, Clone)]
struct PlotContext {
    title: String,
    file: String,
    svg: String,
    pgf: String,
}

/// A failing step or check, told in one place for the reader.
#[derive(Serialize)]
struct FailureContext {
    line: usize,
    source: String,
    layer: String,
    title: &'static str,
    detail: String,
    counterexample: Option<CounterexampleContext>,
}

#[derive(Serialize)]
struct LemmaContext {
    file: String,
    name: String,
    anchor: String,
    line: usize,
    statement_tex: String,
    status: Status,
    status_text: &'static str,
    /// Cells as in the summary, one per entry of `layers`.
    layers: Vec<LayerCell>,
    /// The claims and lemmas of the same file whose steps cite this lemma.
    used_by: Vec<NameAnchor>,
}

#[derive(Serialize)]
struct NameAnchor {
    name: String,
    anchor: String,
}

/// The layers in the order the report shows them.
const LAYERS: [Layer; 7] = [Layer::Symbolic, Layer::Exact, Layer::Trajectory, Layer::Unroll, Layer::MonteCarlo, Layer::Float, Layer::Cost];

fn layer_title(layer: Layer) -> &'static str {
    match layer {
        Layer::Symbolic => "symbolic",
        Layer::Exact => "exact",
        Layer::Trajectory => "trajectory",
        Layer::Unroll => "unroll",
        Layer::MonteCarlo => "Monte Carlo",
        Layer::Float => "float",
        Layer::Cost => "cost",
    }
}

/// Builds the context of one layer result; a plot becomes figure number `figures.len() + 1`
/// of the claim `anchor`, and its SVG is kept in `figures` to be written beside report.md.
fn layer_context(l: &LayerResult, anchor: &str, figures: &mut Vec<(String, String)>) -> LayerContext {
    let plot = l.plot.as_ref().map(|p| {
        let file = format!("fig-{anchor}-{}.svg", figures.iter().filter(|(f, _)| f.starts_with(&format!("fig-{anchor}-"))).count() + 1);
        let svg = plot::svg(p);
        figures.push((file.clone(), svg.clone()));
        PlotContext { title: p.title.clone(), file, svg, pgf: plot::pgfplots(p) }
    });
    LayerContext {
        layer: l.layer.name().to_string(),
        title: layer_title(l.layer),
        verdict: l.verdict,
        verdict_text: l.verdict.name(),
        detail: l.detail.clone(),
        counterexample: l.counterexample.as_ref().map(|c| CounterexampleContext {
            values: c.values.iter().map(|(n, v)| NameValue { name: n.clone(), value: v.clone() }).collect(),
            lhs: c.lhs.clone(),
            rhs: c.rhs.clone(),
        }),
        table: l.table.clone(),
        plot,
    }
}

fn failure(line: usize, source: &str, l: &LayerContext) -> FailureContext {
    FailureContext {
        line,
        source: source.to_string(),
        layer: l.layer.clone(),
        title: l.title,
        detail: l.detail.clone(),
        counterexample: l.counterexample.clone(),
    }
}

/// The worst verdict of a layer: refuted > not shown > holds > n/a.
fn worst(verdicts: impl Iterator<Item = Verdict>) -> Option<Verdict> {
    let rank = |v: &Verdict| match v {
        Verdict::Refuted => 3,
        Verdict::NotShown => 2,
        Verdict::Holds => 1,
        Verdict::NotApplicable => 0,
    };
    verdicts.max_by_key(rank)
}

/// The worst verdict of each layer in `columns` over a claim's steps and evidence.
fn layer_cells(claim: &ClaimResult, columns: &[Layer]) -> Vec<LayerCell> {
    let all = || claim.chains.iter().flat_map(|ch| &ch.steps).flat_map(|s| &s.layers).chain(&claim.evidence);
    columns
        .iter()
        .map(|&layer| {
            let verdict = worst(all().filter(|l| l.layer == layer).map(|l| l.verdict));
            LayerCell { layer: layer.name().to_string(), title: layer_title(layer), verdict, verdict_text: verdict.map_or("—", Verdict::name) }
        })
        .collect()
}

fn build_context(loaded: &Loaded, results: &Results) -> Context {
    let all_claims = || results.documents.iter().flat_map(|d| &d.claims);
    let all_layers = || all_claims().flat_map(|c| c.chains.iter().flat_map(|ch| &ch.steps).flat_map(|s| &s.layers).chain(&c.evidence));
    let columns: Vec<Layer> =
        LAYERS.into_iter().filter(|&layer| matches!(layer, Layer::Symbolic | Layer::Exact) || all_layers().any(|l| l.layer == layer)).collect();
    let mut summary = Summary::default();
    let mut rows = Vec::new();
    let mut documents = Vec::new();
    let mut lemmas = Vec::new();
    let mut figures = Vec::new();
    for (doc, result) in loaded.documents.iter().zip(&results.documents) {
        let claims: BTreeMap<&str, &ClaimResult> = result.claims.iter().map(|c| (c.name.as_str(), c)).collect();
        for c in &result.claims {
            summary.claims += 1;
            match c.status {
                Status::Verified => summary.verified += 1,
                Status::Supported => summary.supported += 1,
                Status::Refuted => summary.refuted += 1,
                Status::NotShown => summary.not_shown += 1,
                Status::Unproved => summary.unproved += 1,
            }
            rows.push(SummaryRow {
                file: doc.path.clone(),
                name: c.name.clone(),
                kind: c.kind.keyword(),
                anchor: anchor(&doc.path, &c.name),
                line: c.line,
                status: c.status,
                status_text: c.status.name(),
                layers: layer_cells(c, &columns),
            });
        }
        lemmas.extend(lemma_contexts(doc, &claims, &columns));
        documents.push(doc_context(doc, loaded, &claims, &mut figures));
    }
    summary.all_verified = results.all_verified();
    let title = match loaded.documents.as_slice() {
        [one] => one.front.title.clone().unwrap_or_else(|| one.path.clone()),
        _ => "Checked derivations".to_string(),
    };
    let layers = columns.iter().map(|&l| LayerColumn { layer: l.name().to_string(), title: layer_title(l) }).collect();
    Context { title, seed: results.seed, version: env!("CARGO_PKG_VERSION"), summary, layers, rows, documents, lemmas, katex: None, figures }
}

fn anchor(path: &str, name: &str) -> String {
    let stem = Path::new(path).file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    format!("{stem}-{name}").chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

fn lemma_contexts(doc: &Document, claims: &BTreeMap<&str, &ClaimResult>, columns: &[Layer]) -> Vec<LemmaContext> {
    let mut out = Vec::new();
    for rule in doc.rules().filter(|r| r.kind == RuleKind::Lemma) {
        let Some(result) = claims.get(rule.name.as_str()) else {
            continue;
        };
        let used_by = doc
            .rules()
            .filter(|r| r.cited().contains(&rule.name.as_str()))
            .map(|r| NameAnchor { name: r.name.clone(), anchor: anchor(&doc.path, &r.name) })
            .collect();
        out.push(LemmaContext {
            file: doc.path.clone(),
            name: rule.name.clone(),
            anchor: anchor(&doc.path, &rule.name),
            line: result.line,
            statement_tex: rule_tex(rule, &doc.scope),
            status: result.status,
            status_text: result.status.name(),
            layers: layer_cells(result, columns),
            used_by,
        });
    }
    out
}

fn doc_context(doc: &Document, loaded: &Loaded, claims: &BTreeMap<&str, &ClaimResult>, figures: &mut Vec<(String, String)>) -> DocContext {
    let files = &loaded.files;
    let scope = &doc.scope;
    let mut parts = Vec::new();
    for item in &doc.items {
        match item {
            Item::Prose(md) => parts.push(PartContext::Prose { md: md.clone(), tex: markdown_to_latex(md), html: markdown_to_html(md) }),
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
                            rows.push(StatementRow {
                                keyword: "assume",
                                name: String::new(),
                                tex: facts_tex(facts, scope),
                                source: source_line(files, *span),
                                line: files.line(*span),
                            });
                        }
                        Statement::Rule(rule) => match claims.get(rule.name.as_str()) {
                            Some(result) => {
                                flush(&mut rows, &mut parts);
                                parts.push(PartContext::Claim(Box::new(claim_context(doc, rule, result, loaded, figures))));
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
        // The same expression token, not merely an equal one: `e > 0, 0 < b` is two facts.
        let continues = i > 0 && facts[i - 1].rhs.span == f.lhs.span;
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

fn claim_context(doc: &Document, rule: &Rule, result: &ClaimResult, loaded: &Loaded, figures: &mut Vec<(String, String)>) -> ClaimContext {
    let files = &loaded.files;
    let scope = &doc.scope;
    let anchor = anchor(&doc.path, &rule.name);
    let mut chains = Vec::new();
    let labels: &[Option<&str>] = if matches!(rule.proof, Some(Proof::Induction { .. })) { &[Some("base"), Some("step")] } else { &[None] };
    let proof_chains: Vec<(Option<&str>, &crate::language::ast::Chain)> = labels.iter().copied().zip(rule.chains()).collect();
    let mut failures = Vec::new();
    for ((label, chain), checked) in proof_chains.into_iter().zip(&result.chains) {
        let mut rows = Vec::new();
        for (i, (step, res)) in chain.steps.iter().zip(&checked.steps).enumerate() {
            let source = source_line(files, step.span);
            let layers: Vec<LayerContext> = res.layers.iter().map(|l| layer_context(l, &anchor, figures)).collect();
            failures
                .extend(layers.iter().filter(|l| matches!(l.verdict, Verdict::Refuted | Verdict::NotShown)).map(|l| failure(res.line, &source, l)));
            rows.push(StepContext {
                first_tex: if i == 0 { expr_latex::expr(&chain.first, scope) } else { String::new() },
                rel_tex: step.rel.latex(),
                rhs_tex: expr_latex::expr(&step.rhs, scope),
                by: match &step.by {
                    Justification::Algebra => "algebra".into(),
                    Justification::Search => "?".into(),
                    Justification::Rules(names) => names.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "),
                },
                line: res.line,
                status: res.status,
                status_text: res.status.name(),
                source,
                layers,
            });
        }
        chains.push(ChainContext { label: label.map(String::from), rows });
    }
    let source = source_line(files, rule.span);
    let evidence: Vec<LayerContext> = result.evidence.iter().map(|l| layer_context(l, &anchor, figures)).collect();
    failures.extend(evidence.iter().filter(|e| e.verdict == Verdict::Refuted).map(|e| failure(result.line, &source, e)));
    ClaimContext {
        name: rule.name.clone(),
        anchor,
        kind: rule.kind.keyword(),
        line: result.line,
        status: result.status,
        status_text: result.status.name(),
        statement_tex: rule_tex(rule, scope),
        source,
        seed: result.seed,
        samples: result.samples,
        chains,
        evidence,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{ChainResult, Curve, DocumentResult, Plot, StepResult};

    const FILE: &str = r#"+++
title = "Tables & plots"
+++

# Q1

Prose with <script>alert(1)</script>, 5% and $a_t$.

```derivation
let a, b: scalar
lemma sq: (a+b)^2 = a^2 + 2*a*b + b^2
proof
  (a+b)^2 = a^2 + 2*a*b + b^2    by algebra
qed
claim twice: 2*(a+b)^2 = 2*a^2 + 4*a*b + 2*b^2
proof
  2*(a+b)^2 = 2*(a^2 + 2*a*b + b^2)    by sq
            = 2*a^2 + 4*a*b + 2*b^2
qed
```
"#;

    fn layer(layer: Layer, verdict: Verdict) -> LayerResult {
        LayerResult { layer, verdict, detail: format!("{layer:?} says so"), counterexample: None, table: None, plot: None }
    }

    fn step(line: usize) -> StepResult {
        StepResult { line, status: Status::Verified, layers: vec![layer(Layer::Symbolic, Verdict::Holds), layer(Layer::Exact, Verdict::Holds)] }
    }

    /// The file above, loaded for real, with results made by hand: a Monte Carlo check with a
    /// table and a plot behind the claim.
    fn fixture() -> (Loaded, Results) {
        // One file per call: the tests run in parallel.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("derivcheck-report-test-{}-{n}", std::process::id())).join("q1.md");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, FILE).unwrap();
        let loaded = crate::load(std::slice::from_ref(&path)).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
        let monte_carlo = LayerResult {
            table: Some(Table {
                columns: vec!["m".into(), "mean_hat".into(), "95% interval".into()],
                rows: vec![vec!["100".into(), "0.51".into(), "[0.41, 0.61]".into()], vec!["1000".into(), "0.498".into(), "[0.467, 0.529]".into()]],
            }),
            plot: Some(Plot {
                title: "RMSE against m".into(),
                x_label: "m".into(),
                y_label: "RMSE".into(),
                log_x: true,
                log_y: true,
                curves: vec![
                    Curve {
                        label: "estimate".into(),
                        points: vec![(100.0, 0.1), (1000.0, 0.031), (10000.0, 0.0101)],
                        intervals: Some(vec![(0.08, 0.12), (0.025, 0.037), (0.009, 0.0112)]),
                    },
                    Curve { label: "1/sqrt(m)".into(), points: vec![(100.0, 0.1), (1000.0, 0.0316), (10000.0, 0.01)], intervals: None },
                ],
            }),
            ..layer(Layer::MonteCarlo, Verdict::Holds)
        };
        let claim = |name: &str, kind, line, steps: Vec<StepResult>, evidence| ClaimResult {
            name: name.into(),
            kind,
            line,
            status: Status::Verified,
            seed: 7,
            samples: 20,
            chains: vec![ChainResult { label: None, steps }],
            evidence,
            problems: vec![],
        };
        let doc = &loaded.documents[0];
        let results = Results {
            seed: 1,
            documents: vec![DocumentResult {
                path: doc.path.clone(),
                claims: vec![
                    claim("sq", RuleKind::Lemma, 12, vec![step(14)], vec![]),
                    claim("twice", RuleKind::Claim, 16, vec![step(18), step(19)], vec![monte_carlo]),
                ],
            }],
        };
        (loaded, results)
    }

    fn rendered() -> BTreeMap<String, String> {
        let (loaded, results) = fixture();
        render(&loaded, &results, &Format::ALL, None).unwrap().into_iter().collect()
    }

    #[test]
    fn every_format_shows_a_layers_table_and_plot() {
        let out = rendered();
        let figure = out.keys().find(|k| k.ends_with(".svg")).expect("a figure file beside report.md").clone();
        assert_eq!(figure, "fig-q1-twice-1.svg");
        assert!(out[&figure].starts_with("<svg"));

        let md = &out["report.md"];
        assert!(md.contains("| m | mean_hat | 95% interval |\n|---|--:|--:|\n| 100 | 0.51 | [0.41, 0.61] |"), "{md}");
        assert!(md.contains(&format!("![RMSE against m]({figure})")), "{md}");
        assert!(md.contains("| symbolic | exact | Monte Carlo |"), "a column for the layer that appeared: {md}");

        let tex = &out["report.tex"];
        assert!(tex.contains("\\begin{tabular}{lrr}") && tex.contains("m & mean\\_hat & 95\\% interval \\\\"), "{tex}");
        assert!(tex.contains("xmode=log") && tex.contains("\\addlegendentry{estimate}"), "{tex}");

        let html = &out["report.html"];
        assert!(html.contains("<table class=\"numbers\">") && html.contains("<td>[0.41, 0.61]</td>"), "table");
        assert!(html.contains("<figure class=\"plot\">\n<svg xmlns=\"http://www.w3.org/2000/svg\""), "inline SVG");
    }

    #[test]
    fn html_escapes_user_text_and_is_self_contained() {
        let html = &rendered()["report.html"];
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "prose HTML shown as text");
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("<title>Tables &amp; plots</title>"), "the title is escaped");
        assert!(html.contains(r#"<span class="math math-inline">a_t</span>"#));
        assert!(!html.contains("url(fonts/") && !html.contains("src=\"http") && !html.contains("href=\"http"), "nothing fetched");
    }

    #[test]
    fn the_lemma_appendix_lists_who_cites_each_lemma() {
        let out = rendered();
        assert!(out["report.md"].contains(":12` | verified | [`twice`](#q1-twice) |"), "{}", out["report.md"]);
        assert!(out["report.tex"].contains("\\section*{Appendix: lemmas}"));
        assert!(out["report.html"].contains("<h2>Lemmas</h2>"));
    }

    #[test]
    fn only_the_requested_formats_are_rendered() {
        let (loaded, results) = fixture();
        let names: Vec<String> = render(&loaded, &results, &[Format::Html], None).unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["report.html"], "no figure files without report.md");
    }

    /// pgfplots and the tables compile: the CLI tests cannot show this until a layer fills them.
    #[test]
    fn the_latex_with_tables_and_plots_compiles() {
        if std::process::Command::new("pdflatex").arg("--version").output().is_err() {
            eprintln!("SKIPPED: pdflatex is not installed here (CI installs it through .ci/run)");
            return;
        }
        let dir = std::env::temp_dir().join(format!("derivcheck-report-tex-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("report.tex"), &rendered()["report.tex"]).unwrap();
        let out = std::process::Command::new("pdflatex")
            .args(["-interaction=nonstopmode", "-halt-on-error", "report.tex"])
            .current_dir(&dir)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout).into_owned();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(out.status.success(), "pdflatex failed:\n{log}");
    }
}
