//! The one serializable context the templates receive (documented field by field in
//! `docs/report.md`): the documents in order with their claims, steps and evidence, the
//! summary and the lemma appendix. Templates compute nothing; everything they show is here.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{html, latex, plot};
use crate::Loaded;
use crate::check::{ClaimResult, Results, Summary};
use crate::diagnostic::{SourceFiles, Span};
use crate::language::ast::{Decl, Fact, Justification, Rule, RuleKind, Statement};
use crate::language::{Document, Item, Scope, latex as expr_latex};
use crate::verdict::{Layer, LayerResult, Status, Table, Verdict};

#[derive(Serialize)]
pub(super) struct Context {
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
    pub(super) katex: Option<Katex>,
    /// `(file name, SVG)` of every figure, written beside `report.md`.
    #[serde(skip)]
    pub(super) figures: Vec<(String, String)>,
}

#[derive(Serialize)]
pub(super) struct Katex {
    /// The stylesheet, fonts inlined.
    pub(super) css: String,
    pub(super) js: &'static str,
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
        title: l.layer.title(),
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
            LayerCell { layer: layer.name().to_string(), title: layer.title(), verdict, verdict_text: verdict.map_or("—", Verdict::name) }
        })
        .collect()
}

pub(super) fn build(loaded: &Loaded, results: &Results) -> Context {
    let all_claims = || results.documents.iter().flat_map(|d| &d.claims);
    let all_layers = || all_claims().flat_map(|c| c.chains.iter().flat_map(|ch| &ch.steps).flat_map(|s| &s.layers).chain(&c.evidence));
    let columns: Vec<Layer> =
        Layer::ALL.into_iter().filter(|&layer| matches!(layer, Layer::Symbolic | Layer::Exact) || all_layers().any(|l| l.layer == layer)).collect();
    let mut rows = Vec::new();
    let mut documents = Vec::new();
    let mut lemmas = Vec::new();
    let mut figures = Vec::new();
    for (doc, result) in loaded.documents.iter().zip(&results.documents) {
        let claims: BTreeMap<&str, &ClaimResult> = result.claims.iter().map(|c| (c.name.as_str(), c)).collect();
        for c in &result.claims {
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
    let summary = results.summary();
    let title = match loaded.documents.as_slice() {
        [one] => one.front.title.clone().unwrap_or_else(|| one.path.clone()),
        _ => "Checked derivations".to_string(),
    };
    let layers = columns.iter().map(|&l| LayerColumn { layer: l.name().to_string(), title: l.title() }).collect();
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
            Item::Prose(md) => parts.push(PartContext::Prose { md: md.clone(), tex: latex::markdown_to_latex(md), html: html::markdown_to_html(md) }),
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

fn let_row(decls: &[Decl], scope: &Scope, files: &SourceFiles) -> StatementRow {
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
fn source_line(files: &SourceFiles, span: Span) -> String {
    let file = files.get(span.file);
    let line = files.line(span);
    file.text.lines().nth(line - 1).unwrap_or("").trim().to_string()
}

fn claim_context(doc: &Document, rule: &Rule, result: &ClaimResult, loaded: &Loaded, figures: &mut Vec<(String, String)>) -> ClaimContext {
    let files = &loaded.files;
    let scope = &doc.scope;
    let anchor = anchor(&doc.path, &rule.name);
    let mut chains = Vec::new();
    let mut failures = Vec::new();
    for (chain, checked) in rule.chains().into_iter().zip(&result.chains) {
        let mut rows = Vec::new();
        for (i, step) in chain.steps.iter().enumerate() {
            // Results name the step they judge by its span.
            let Some(res) = checked.steps.iter().find(|r| r.span == step.span) else { continue };
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
        chains.push(ChainContext { label: checked.label.clone(), rows });
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
        problems: result.problems.iter().map(|p| p.message.clone()).collect(),
        failures,
    }
}
