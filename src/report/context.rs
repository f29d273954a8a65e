//! The one serializable context the templates receive (documented field by field in
//! `docs/report.md`): the documents in order with their claims, steps and evidence, the
//! summary and the lemma appendix. Templates compute nothing; everything they show is here.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use super::{html, latex, plot};
use crate::Loaded;
use crate::check::{ClaimResult, DocumentResult, Results, StepResult, Summary};
use crate::diagnostic::{SourceFiles, Span};
use crate::language::ast::{
    Algorithm, Complexity, CostBound, Decl, Existence, Expr, ExprKind, Fact, Growth, Justification, Kind, Rule, RuleKind, Simulation, Statement,
    WitnessExpr,
};
use crate::language::{Document, Item, Scope, builtins, latex as expr_latex, text};
use crate::verdict::{Finding, Layer, LayerResult, Status, Table, Verdict};

#[derive(Serialize)]
pub(super) struct Context {
    /// `writeup` (the student's text with a mark per step, details in an appendix) or `full`.
    layout: &'static str,
    title: String,
    seed: u64,
    version: &'static str,
    summary: Summary,
    /// The layers that have a verdict anywhere, in a fixed order: the summary's columns.
    layers: Vec<LayerColumn>,
    rows: Vec<SummaryRow>,
    documents: Vec<DocContext>,
    /// The built-in lemmas some claim cites, for the appendix (once, whatever cites them).
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
    /// The file's name without its folders, for narrow tables.
    file_name: String,
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
    Algorithm(Box<AlgorithmContext>),
}

/// An algorithm's lines, beside those of the algorithm it is compared with.
#[derive(Serialize)]
struct AlgorithmContext {
    title: String,
    other_title: Option<String>,
    rows: Vec<AlgorithmRow>,
    /// How many lines differ from the other algorithm's.
    changed: usize,
}

#[derive(Serialize)]
struct AlgorithmRow {
    /// The rule's name, which proofs cite.
    name: String,
    tex: String,
    other_name: String,
    other_tex: String,
    /// The line differs from the other algorithm's line at the same place, once the names
    /// the other defines are read as the ones this one defines.
    changed: bool,
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
    /// One line for the write-up: the status and which layers stand behind it.
    summary_line: String,
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
    /// Warnings about the step.
    notes: Vec<String>,
}

#[derive(Serialize, Clone)]
struct LayerContext {
    layer: String,
    title: &'static str,
    verdict: Verdict,
    verdict_text: &'static str,
    detail: String,
    residual_tex: Option<String>,
    counterexample: Option<CounterexampleContext>,
    table: Option<Table>,
    /// At most `PREVIEW_ROWS` rows of the table, evenly spread, first and last kept, for
    /// the write-up's appendix; `--layout full` shows every row.
    preview: Option<Table>,
    plot: Option<PlotContext>,
}

const PREVIEW_ROWS: usize = 8;

fn preview(table: &Table) -> Table {
    let n = table.rows.len();
    if n <= PREVIEW_ROWS {
        return table.clone();
    }
    let mut picks: Vec<usize> = (0..PREVIEW_ROWS).map(|i| i * (n - 1) / (PREVIEW_ROWS - 1)).collect();
    picks.dedup();
    Table { columns: table.columns.clone(), rows: picks.into_iter().map(|i| table.rows[i].clone()).collect() }
}

#[derive(Serialize, Clone)]
struct CounterexampleContext {
    values: Vec<NameValue>,
    lhs: String,
    rhs: String,
    /// The same, typeset (`\texttt` where a value is not an expression of the language).
    lhs_tex: String,
    rhs_tex: String,
}

#[derive(Serialize, Clone)]
struct NameValue {
    name: String,
    value: String,
    /// `name = value`, typeset.
    tex: String,
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
    /// What is left of the step (left − right), typeset.
    residual_tex: Option<String>,
    counterexample: Option<CounterexampleContext>,
    /// The step's warnings (that it fails only because an earlier step is wrong, …).
    notes: Vec<String>,
}

#[derive(Serialize)]
struct LemmaContext {
    file: String,
    name: String,
    /// The name proofs cite it by (`linearity` for `linearity_of_expectation`).
    cited_as: String,
    anchor: String,
    line: usize,
    statement_tex: String,
    status: Status,
    status_text: &'static str,
    summary_line: String,
    /// Cells as in the summary, one per entry of `layers`.
    layers: Vec<LayerCell>,
    /// The claims and lemmas whose steps cite or use this lemma, in every file.
    used_by: Vec<NameAnchor>,
}

#[derive(Serialize)]
struct NameAnchor {
    name: String,
    anchor: String,
}

/// Builds the context of one layer result; a plot becomes figure number `figures.len() + 1`
/// of the claim `anchor`, and its SVG is kept in `figures` to be written beside report.md.
fn layer_context(l: &LayerResult, anchor: &str, scope: &Scope, figures: &mut Vec<(String, String)>) -> LayerContext {
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
        // The remaining difference is typeset on its own.
        detail: match &l.residual {
            Some(r) => l.detail.replace(&format!("; remaining difference (left − right): {r}"), ""),
            None => l.detail.clone(),
        },
        counterexample: l.counterexample.as_ref().map(|c| CounterexampleContext {
            values: c
                .values
                .iter()
                .map(|(n, v)| NameValue { name: n.clone(), value: v.clone(), tex: format!("{} = {}", math(n, scope), math(v, scope)) })
                .collect(),
            lhs: c.lhs.clone(),
            rhs: c.rhs.clone(),
            lhs_tex: math(&c.lhs, scope),
            rhs_tex: math(&c.rhs, scope),
        }),
        residual_tex: l.residual.as_deref().map(|r| math(r, scope)),
        table: l.table.clone(),
        preview: l.table.as_ref().map(preview),
        plot,
    }
}

/// Text the checker wrote in the language (a value, a side, a residual), typeset with the
/// file's names; anything that does not read as an expression stays verbatim, in `\texttt`.
fn math(text: &str, scope: &Scope) -> String {
    match crate::language::parse_expr(text, scope) {
        Some(e) => expr_latex::expr(&e, scope),
        None => format!("\\texttt{{{}}}", latex::escape(text)),
    }
}

fn failure(line: usize, source: &str, l: &LayerContext, notes: &[Finding]) -> FailureContext {
    FailureContext {
        notes: notes.iter().map(|f| f.message.clone()).collect(),
        line,
        source: source.to_string(),
        layer: l.layer.clone(),
        title: l.title,
        detail: l.detail.clone(),
        residual_tex: l.residual_tex.clone(),
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

pub(super) fn build(loaded: &Loaded, results: &Results, layout: super::Layout) -> Context {
    let all_claims = || results.documents.iter().flat_map(|d| &d.claims);
    let all_layers = || all_claims().flat_map(|c| c.chains.iter().flat_map(|ch| &ch.steps).flat_map(|s| &s.layers).chain(&c.evidence));
    let columns: Vec<Layer> =
        Layer::ALL.into_iter().filter(|&layer| matches!(layer, Layer::Symbolic | Layer::Exact) || all_layers().any(|l| l.layer == layer)).collect();
    let mut rows = Vec::new();
    let mut documents = Vec::new();
    let mut lemmas = Vec::new();
    let mut figures = Vec::new();
    let users: Vec<(&Document, &DocumentResult)> = loaded.documents.iter().zip(&results.documents).filter(|(d, _)| !d.is_library).collect();
    for (doc, result) in loaded.documents.iter().zip(&results.documents) {
        let claims: BTreeMap<&str, &ClaimResult> = result.claims.iter().map(|c| (c.name.as_str(), c)).collect();
        if doc.is_library {
            // The library is not the student's text: its lemmas appear once, in the appendix.
            lemmas.extend(library_lemmas(doc, &claims, &users, &columns));
            continue;
        }
        for c in &result.claims {
            rows.push(SummaryRow {
                file: doc.path.clone(),
                file_name: file_name(&doc.path),
                name: c.name.clone(),
                kind: c.kind.keyword(),
                anchor: anchor(&doc.path, &c.name),
                line: c.line,
                status: c.status,
                status_text: c.status.name(),
                layers: layer_cells(c, &columns),
            });
        }
        documents.push(doc_context(doc, loaded, &claims, &mut figures));
    }
    let summary = results.summary();
    let title = match users.as_slice() {
        [(one, _)] => one.front.title.clone().unwrap_or_else(|| one.path.clone()),
        _ => "Checked derivations".to_string(),
    };
    let layers = columns.iter().map(|&l| LayerColumn { layer: l.name().to_string(), title: l.title() }).collect();
    Context {
        layout: layout.name(),
        title,
        seed: results.seed,
        version: env!("CARGO_PKG_VERSION"),
        summary,
        layers,
        rows,
        documents,
        lemmas,
        katex: None,
        figures,
    }
}

fn file_name(path: &str) -> String {
    Path::new(path).file_name().map_or_else(|| path.to_string(), |f| f.to_string_lossy().into_owned())
}

fn anchor(path: &str, name: &str) -> String {
    let stem = Path::new(path).file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    format!("{stem}-{name}").chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// The library's lemmas that some user's claim cites (or found with `by ?`), each with the
/// claims that do.
fn library_lemmas(
    library: &Document,
    claims: &BTreeMap<&str, &ClaimResult>,
    users: &[(&Document, &DocumentResult)],
    columns: &[Layer],
) -> Vec<LemmaContext> {
    let mut out = Vec::new();
    for rule in library.rules().filter(|r| r.kind == RuleKind::Lemma) {
        let Some(result) = claims.get(rule.name.as_str()) else {
            continue;
        };
        // A proof cites `linearity`; the library states it as `linearity_of_expectation`.
        let cited_as: Vec<&str> = builtins::LEMMAS.iter().filter(|l| l.statements.contains(&rule.name.as_str())).map(|l| l.name).collect();
        let used_by: Vec<NameAnchor> = users
            .iter()
            .flat_map(|(doc, checked)| {
                doc.rules()
                    .filter(|r| {
                        r.cited().iter().any(|c| cited_as.contains(c))
                            || checked
                                .claims
                                .iter()
                                .any(|c| c.name == r.name && c.steps().any(|s| s.used.iter().any(|u| cited_as.contains(&u.as_str()))))
                    })
                    .map(|r| NameAnchor { name: r.name.clone(), anchor: anchor(&doc.path, &r.name) })
            })
            .collect();
        if used_by.is_empty() {
            continue;
        }
        out.push(LemmaContext {
            file: library.path.clone(),
            name: rule.name.clone(),
            cited_as: cited_as.join(", "),
            anchor: anchor(&library.path, &rule.name),
            line: result.line,
            statement_tex: rule_tex(rule, &library.scope),
            status: result.status,
            status_text: result.status.name(),
            summary_line: summary_line(result),
            layers: layer_cells(result, columns),
            used_by,
        });
    }
    out
}

/// The status and the layers behind it, in one line: "verified: every step symbolic and
/// exact; Monte Carlo, trajectory hold".
fn summary_line(claim: &ClaimResult) -> String {
    let mut parts = Vec::new();
    let steps: Vec<&StepResult> = claim.steps().collect();
    let held_everywhere: Vec<&str> = Layer::ALL
        .into_iter()
        .filter(|&layer| !steps.is_empty() && steps.iter().all(|s| s.layers.iter().any(|l| l.layer == layer && l.verdict == Verdict::Holds)))
        .map(Layer::title)
        .collect();
    if !held_everywhere.is_empty() {
        parts.push(format!("every step {}", and_list(&held_everywhere)));
    }
    let failing: Vec<String> = steps
        .iter()
        .filter(|s| !s.status.is_accepted())
        .map(|s| {
            let layers: Vec<&str> =
                s.layers.iter().filter(|l| matches!(l.verdict, Verdict::Refuted | Verdict::NotShown)).map(|l| l.layer.title()).collect();
            format!("line {} {} ({})", s.line, s.status.name(), layers.join(", "))
        })
        .collect();
    parts.extend(failing);
    // The claim's own exact check is what "exact" at each step already says, unless it fails.
    let mut evidence: Vec<String> = Vec::new();
    let supported = claim.status == Status::Supported;
    for e in claim.evidence.iter().filter(|e| supported || !(e.line == Some(claim.line) && e.verdict == Verdict::Holds)) {
        let said = match e.verdict {
            Verdict::Holds => e.layer.title().to_string(),
            _ => format!("{} {}", e.layer.title(), e.verdict.name()),
        };
        if e.verdict != Verdict::NotApplicable && !evidence.contains(&said) {
            evidence.push(said);
        }
    }
    if !evidence.is_empty() {
        // "supported by evidence: exact, Monte Carlo"; "verified: …; evidence: Monte Carlo".
        parts.push(if supported { evidence.join(", ") } else { format!("evidence: {}", evidence.join(", ")) });
    }
    if parts.is_empty() { claim.status.name().to_string() } else { format!("{}: {}", claim.status.name(), parts.join("; ")) }
}

fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
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
                // The lines of an algorithm of this block are shown once, in the algorithm.
                let in_algorithm: Vec<&String> =
                    block.statements.iter().filter_map(|s| if let Statement::Algorithm(a) = s { Some(&a.rules) } else { None }).flatten().collect();
                for statement in &block.statements {
                    match statement {
                        Statement::Rule(rule) if in_algorithm.contains(&&rule.name) && !claims.contains_key(rule.name.as_str()) => {}
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
                        Statement::Exists(_) | Statement::Complexity(_) | Statement::Simulation(_) => {
                            if let Some((name, span, statement_tex)) = shown_without_proof(statement, scope)
                                && let Some(result) = claims.get(name)
                            {
                                flush(&mut rows, &mut parts);
                                parts.push(PartContext::Claim(Box::new(claim_context_of(
                                    doc,
                                    name,
                                    "claim",
                                    span,
                                    statement_tex,
                                    result,
                                    Vec::new(),
                                    Vec::new(),
                                    loaded,
                                    figures,
                                ))));
                            }
                        }
                        Statement::Algorithm(algorithm) => {
                            flush(&mut rows, &mut parts);
                            parts.push(PartContext::Algorithm(Box::new(algorithm_context(doc, algorithm))));
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
    let dims: Vec<String> =
        decls[0].shape.iter().map(|d| if d.chars().all(|c| c.is_ascii_digit()) { d.clone() } else { expr_latex::name(d, scope) }).collect();
    let shape = if dims.is_empty() { String::new() } else { format!("\\ {}", dims.join(" \\times ")) };
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

/// The lines of an algorithm and, against another, which of them differ from its lines.
fn algorithm_context(doc: &Document, algorithm: &Algorithm) -> AlgorithmContext {
    let scope = &doc.scope;
    let rule = |name: &String| doc.rules().find(|r| r.name == *name);
    let lines: Vec<&Rule> = algorithm.rules.iter().filter_map(rule).collect();
    let title = |name: &str, title: &Option<String>| title.clone().unwrap_or_else(|| name.replace('_', " "));
    let Some(other) = &algorithm.against else {
        let rows = lines
            .iter()
            .map(|r| AlgorithmRow {
                name: r.name.clone(),
                tex: rule_tex(r, scope),
                other_name: String::new(),
                other_tex: String::new(),
                changed: false,
            })
            .collect();
        return AlgorithmContext { title: title(&algorithm.name, &algorithm.title), other_title: None, rows, changed: 0 };
    };
    let other_lines: Vec<&Rule> = scope.algorithms.get(other).into_iter().flatten().filter_map(rule).collect();
    let blocks = doc.items.iter().filter_map(|i| if let Item::Block(b) = i { Some(b) } else { None });
    let other_title = blocks.flat_map(|b| &b.statements).find_map(|s| match s {
        Statement::Algorithm(a) if a.name == *other => Some(title(&a.name, &a.title)),
        _ => None,
    });
    // The other's defined names read as this one's, line by line: `s_adam[t]` as `s_l2[t]`.
    let renaming: HashMap<String, String> =
        other_lines.iter().zip(&lines).filter_map(|(o, r)| Some((o.relation.lhs.head()?.clone(), r.relation.lhs.head()?.clone()))).collect();
    let statement = |r: &Rule, rename: &HashMap<String, String>| {
        let relation = |e: &Expr| text::expr(&renamed_heads(e, rename));
        let conditions: Vec<String> = r.conditions.iter().map(|c| format!("{} {} {}", relation(&c.lhs), c.rel.symbol(), relation(&c.rhs))).collect();
        format!("{} {} {} for {}", relation(&r.relation.lhs), r.relation.rel.symbol(), relation(&r.relation.rhs), conditions.join(", "))
    };
    let rows: Vec<AlgorithmRow> = (0..lines.len().max(other_lines.len()))
        .map(|i| {
            let (mine, theirs) = (lines.get(i), other_lines.get(i));
            let changed = match (mine, theirs) {
                (Some(m), Some(o)) => statement(m, &HashMap::new()) != statement(o, &renaming),
                _ => true,
            };
            AlgorithmRow {
                name: mine.map(|r| r.name.clone()).unwrap_or_default(),
                tex: mine.map(|r| rule_tex(r, scope)).unwrap_or_default(),
                other_name: theirs.map(|r| r.name.clone()).unwrap_or_default(),
                other_tex: theirs.map(|r| rule_tex(r, scope)).unwrap_or_default(),
                changed,
            }
        })
        .collect();
    let changed = rows.iter().filter(|r| r.changed).count();
    AlgorithmContext { title: title(&algorithm.name, &algorithm.title), other_title, rows, changed }
}

/// `e` with the names of sequences, functions and values renamed by `map`.
fn renamed_heads(e: &Expr, map: &HashMap<String, String>) -> Expr {
    let rename = |n: &String| map.get(n).cloned().unwrap_or_else(|| n.clone());
    let renamed = e.with_children(e.children().into_iter().map(|c| renamed_heads(c, map)).collect());
    let kind = match renamed.kind {
        ExprKind::Name(n) => ExprKind::Name(rename(&n)),
        ExprKind::Index(n, args) => ExprKind::Index(rename(&n), args),
        ExprKind::Call(n, args) => ExprKind::Call(rename(&n), args),
        other => other,
    };
    Expr::new(kind, e.span)
}

fn rule_tex(rule: &Rule, scope: &Scope) -> String {
    let r = &rule.relation;
    let mut tex = expr_latex::relation(&r.lhs, r.rel, &r.rhs, scope);
    // A limit's variable grows: its lower bound says nothing a reader needs.
    let conditions: Vec<Fact> = match &rule.limit {
        Some(var) => {
            tex.push_str(&format!(" \\text{{ as }} {} \\to \\infty", expr_latex::name(var, scope)));
            rule.conditions.iter().filter(|c| !c.lhs.mentions(var) && !c.rhs.mentions(var)).cloned().collect()
        }
        None => rule.conditions.clone(),
    };
    // Variables no condition mentions range over everything of their kind.
    let free: Vec<String> = rule
        .binders
        .iter()
        .filter(|b| rule.limit.as_ref() != Some(&b.var) && !conditions.iter().any(|c| c.lhs.mentions(&b.var) || c.rhs.mentions(&b.var)))
        .map(|b| expr_latex::name(&b.var, scope))
        .collect();
    if !free.is_empty() {
        tex.push_str(&format!("\\quad \\text{{for all }} {}", free.join(", ")));
    }
    if !conditions.is_empty() {
        tex.push_str(&format!("\\quad \\text{{for }} {}", facts_tex(&conditions, scope)));
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
            let layers: Vec<LayerContext> = res.layers.iter().map(|l| layer_context(l, &anchor, scope, figures)).collect();
            failures.extend(
                layers
                    .iter()
                    .filter(|l| matches!(l.verdict, Verdict::Refuted | Verdict::NotShown))
                    .map(|l| failure(res.line, &source, l, &res.findings)),
            );
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
                notes: res.findings.iter().map(|f| f.message.clone()).collect(),
            });
        }
        chains.push(ChainContext { label: checked.label.clone(), rows });
    }
    let tex = rule_tex(rule, scope);
    claim_context_of(doc, &rule.name, rule.kind.keyword(), rule.span, tex, result, chains, failures, loaded, figures)
}

/// A claim's context from its parts: the chains and failures its proof gave (none for an
/// existence claim), then its evidence.
#[allow(clippy::too_many_arguments)]
fn claim_context_of(
    doc: &Document,
    name: &str,
    kind: &'static str,
    span: Span,
    statement_tex: String,
    result: &ClaimResult,
    chains: Vec<ChainContext>,
    mut failures: Vec<FailureContext>,
    loaded: &Loaded,
    figures: &mut Vec<(String, String)>,
) -> ClaimContext {
    let (files, scope) = (&loaded.files, &doc.scope);
    let anchor = anchor(&doc.path, name);
    let source = source_line(files, span);
    let evidence: Vec<LayerContext> = result.evidence.iter().map(|l| layer_context(l, &anchor, scope, figures)).collect();
    failures.extend(evidence.iter().filter(|e| e.verdict == Verdict::Refuted).map(|e| failure(result.line, &source, e, &[])));
    ClaimContext {
        name: name.to_string(),
        anchor,
        kind,
        line: result.line,
        status: result.status,
        status_text: result.status.name(),
        statement_tex,
        source,
        seed: result.seed,
        samples: result.samples,
        summary_line: summary_line(result),
        chains,
        evidence,
        problems: result.problems.iter().map(|p| p.message.clone()).collect(),
        failures,
    }
}

/// An existence, complexity or simulation claim: its name, line and statement.
fn shown_without_proof<'s>(statement: &'s Statement, scope: &Scope) -> Option<(&'s str, crate::diagnostic::Span, String)> {
    match statement {
        Statement::Exists(claim) => Some((&claim.name, claim.span, existence_tex(claim, scope))),
        Statement::Complexity(claim) => Some((&claim.name, claim.span, complexity_tex(claim, scope))),
        Statement::Simulation(claim) => Some((&claim.name, claim.span, simulation_tex(claim, scope))),
        _ => None,
    }
}

/// `time(X) = Θ(n² d)  (n ≥ d, k = d)`, `time(X) < time(Y)  (n = 4096, m ≤ 1357)`.
fn complexity_tex(claim: &Complexity, scope: &Scope) -> String {
    let cost = |e: &Expr| format!("\\operatorname{{{}}}\\left({}\\right)", claim.measure.name(), expr_latex::expr(e, scope));
    let mut tex = match &claim.bound {
        CostBound::Class(growth, class) => {
            let growth = match growth {
                Growth::Theta => "\\Theta",
                Growth::BigO => "O",
            };
            format!("{} = {growth}\\left({}\\right)", cost(&claim.expr), expr_latex::expr(class, scope))
        }
        CostBound::Than(rel, other) => format!("{} {} {}", cost(&claim.expr), rel.latex(), cost(other)),
    };
    let when: Vec<String> = claim
        .regime
        .iter()
        .map(|(a, b)| format!("{} \\ge {}", expr_latex::name(a, scope), expr_latex::name(b, scope)))
        .chain(claim.equal.iter().map(|(a, b)| format!("{} = {}", expr_latex::name(a, scope), expr_latex::name(b, scope))))
        .chain(claim.numbers.iter().map(|(a, rel, k)| format!("{} {} {k}", expr_latex::name(a, scope), rel.latex())))
        .collect();
    if !when.is_empty() {
        tex.push_str(&format!("\\quad \\text{{when }} {}", when.join(",\\ ")));
    }
    tex
}

/// `∃ W, h_0 : C_1, C_2` (setting aside givens), and the witness's values below it.
/// `E[X] > E[Y]` over the line `where ξ_t ~ N(0, 1), ε = 1/100, 10 ≤ t ≤ 100 (400 samples)`.
fn simulation_tex(claim: &Simulation, scope: &Scope) -> String {
    let r = &claim.relation;
    let setup = &claim.setup;
    let mut settings: Vec<String> = setup
        .draws
        .iter()
        .map(|(name, mean, sd)| {
            let index = match scope.decls.get(name).map(|d| &d.kind) {
                Some(Kind::Sequence(_)) => "_i",
                _ => "",
            };
            format!(
                "{}{index} \\sim \\mathcal{{N}}\\left({}, {}^2\\right)",
                expr_latex::name(name, scope),
                expr_latex::expr(mean, scope),
                expr_latex::expr(sd, scope)
            )
        })
        .collect();
    settings.extend(setup.values.iter().map(|(name, value)| format!("{} = {}", expr_latex::name(name, scope), expr_latex::expr(value, scope))));
    if let Some((var, from, to)) = &setup.range {
        settings.push(format!("{from} \\le {} \\le {to}", expr_latex::name(var, scope)));
    }
    format!(
        "\\begin{{gathered}} {} \\\\ \\text{{simulated with }} {} \\text{{ ({} samples)}} \\end{{gathered}}",
        expr_latex::relation(&r.lhs, r.rel, &r.rhs, scope),
        settings.join(",\\ "),
        setup.samples
    )
}

fn existence_tex(claim: &Existence, scope: &Scope) -> String {
    let names: Vec<String> = claim.names.iter().map(|n| expr_latex::expr(n, scope)).collect();
    let conditions: Vec<String> = claim
        .conditions
        .iter()
        .zip(&claim.limits)
        .map(|(c, limit)| {
            let tex = expr_latex::relation(&c.lhs, c.rel, &c.rhs, scope);
            match limit {
                Some(var) => format!("{tex} \\text{{ as }} {} \\to \\infty", expr_latex::name(var, scope)),
                None => tex,
            }
        })
        .collect();
    let mut tex = format!("\\exists\\, {} :\\ {}", names.join(", "), conditions.join(",\\quad "));
    if !claim.without.is_empty() {
        let aside: Vec<String> = claim.without.iter().map(|(g, _)| format!("\\text{{{}}}", g.replace('_', "\\_"))).collect();
        tex.push_str(&format!("\\quad \\text{{(setting aside }} {}\\text{{)}}", aside.join(", ")));
    }
    let Some(w) = &claim.witness else { return tex };
    let mut values: Vec<String> = w
        .values
        .iter()
        .map(|v| {
            let value = match &v.value {
                WitnessExpr::Expr(e) => expr_latex::expr(e, scope),
                WitnessExpr::Literal(rows) => {
                    let rows: Vec<String> =
                        rows.iter().map(|r| r.iter().map(|e| expr_latex::expr(e, scope)).collect::<Vec<_>>().join(" & ")).collect();
                    format!("\\begin{{pmatrix}} {} \\end{{pmatrix}}", rows.join(" \\\\ "))
                }
            };
            format!("{} = {value}", expr_latex::expr(&v.lhs, scope))
        })
        .collect();
    for (f, concrete) in &w.with.functions {
        let form = builtins::concrete(concrete).map(|c| c.latex.replace("$0", "z")).unwrap_or_else(|| concrete.clone());
        values.push(format!("{}(z) = {form}", expr_latex::name(f, scope)));
    }
    for (dim, size) in &w.with.sizes {
        values.push(format!("{} = {size}", expr_latex::name(dim, scope)));
    }
    format!("\\begin{{gathered}} {tex} \\\\ \\text{{witness: }} {} \\end{{gathered}}", values.join(",\\ "))
}
