//! Stage 4: the report. Builds one serializable context from the documents and their
//! results, renders it with tera templates (`templates/`, built in; a folder can override
//! them), and writes every output through a temp file and a rename. The terminal printer
//! and the JSON output sit beside the templates: three views of the same results.
//!
//! Architecture invariant: templates compute nothing; everything they show is in the
//! context. Nothing here decides a verdict.

mod context;
mod html;
mod json;
mod latex;
mod plot;
mod terminal;
mod write;

use std::path::Path;

use crate::Loaded;
use crate::check::Results;

pub use html::markdown_to_html;
pub use json::{json, json_errors};
pub use latex::{escape as tex_escape, markdown_to_latex};
pub use terminal::print;
pub use write::{writable, write_file, write_outputs};

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

/// How much of the checking the report shows where the student wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// The submission: the student's prose and derivations in order, one mark per step and
    /// one line per claim; tables, seeds and each layer's detail in an appendix.
    #[default]
    Writeup,
    /// Every layer's verdict and detail under each claim, and the summary table first.
    Full,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::Writeup => "writeup",
            Layout::Full => "full",
        }
    }

    pub fn from_name(name: &str) -> Option<Layout> {
        [Layout::Writeup, Layout::Full].into_iter().find(|l| l.name() == name)
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
pub fn render(
    loaded: &Loaded,
    results: &Results,
    formats: &[Format],
    layout: Layout,
    templates: Option<&Path>,
) -> Result<Vec<(String, String)>, ReportError> {
    let mut context = context::build(loaded, results, layout);
    if formats.contains(&Format::Html) {
        context.katex = Some(context::Katex { css: html::katex_css(), js: html::KATEX_JS });
    }
    let mut tera = tera::Tera::default();
    tera.register_filter("tex", |value: &tera::Value, _: &std::collections::HashMap<String, tera::Value>| {
        Ok(tera::Value::String(latex::escape(value.as_str().unwrap_or(&value.to_string()))))
    });
    tera.register_filter("md", |value: &tera::Value, _: &std::collections::HashMap<String, tera::Value>| {
        Ok(tera::Value::String(markdown_escape(value.as_str().unwrap_or(&value.to_string()))))
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

/// Escapes text for Markdown, so a detail such as `2*delta*g[t]` is not read as emphasis,
/// a link or a table cell.
fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::check::{ChainResult, ClaimResult, DocumentResult, StepResult};
    use crate::diagnostic::Span;
    use crate::language::ast::RuleKind;
    use crate::verdict::{Curve, Layer, LayerResult, Plot, Status, Table, Verdict};

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
        LayerResult::new(layer, verdict, format!("{layer:?} says so"))
    }

    fn step(span: Span, line: usize) -> StepResult {
        StepResult {
            span,
            line,
            status: Status::Verified,
            layers: vec![layer(Layer::Symbolic, Verdict::Holds), layer(Layer::Exact, Verdict::Holds)],
            findings: vec![],
            used: vec![],
        }
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
            seconds: 0.0,
        };
        let doc = &loaded.documents[0];
        let spans: Vec<Span> = doc.rules().flat_map(|r| r.chains()).flat_map(|c| c.steps.iter().map(|s| s.span)).collect();
        let results = Results {
            seed: 1,
            interrupted: false,
            documents: vec![DocumentResult {
                path: doc.path.clone(),
                library: false,
                claims: vec![
                    claim("sq", RuleKind::Lemma, 12, vec![step(spans[0], 14)], vec![]),
                    claim("twice", RuleKind::Claim, 16, vec![step(spans[1], 18), step(spans[2], 19)], vec![monte_carlo]),
                ],
            }],
        };
        (loaded, results)
    }

    fn rendered() -> BTreeMap<String, String> {
        let (loaded, results) = fixture();
        render(&loaded, &results, &Format::ALL, Layout::Full, None).unwrap().into_iter().collect()
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
        assert!(tex.contains("\\begin{longtable}{lrr}") && tex.contains("m & mean\\_hat & 95\\% interval \\\\"), "{tex}");
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

    /// A user's lemma is part of their text; the appendix is for the built-in ones they cite
    /// (the CLI tests show it with the real library).
    #[test]
    fn a_users_lemma_stays_where_it_is_written() {
        let out = rendered();
        assert!(out["report.tex"].contains("\\textbf{Lemma \\texttt{sq}} (line 12)"), "{}", out["report.tex"]);
        assert!(!out["report.tex"].contains("Appendix: built-in lemmas"), "no library, no appendix of it");
        assert!(!out["report.html"].contains("<h2>Built-in lemmas</h2>"));
    }

    #[test]
    fn the_write_up_keeps_plots_in_place_and_moves_tables_to_the_appendix() {
        let (loaded, results) = fixture();
        let out: BTreeMap<String, String> = render(&loaded, &results, &Format::ALL, Layout::Writeup, None).unwrap().into_iter().collect();
        let tex = &out["report.tex"];
        let appendix = tex.find("Appendix: how each claim was checked").expect("the appendix");
        let plot = tex.find("\\addlegendentry{estimate}").expect("the plot");
        let table = tex.find("m & mean\\_hat").expect("the table");
        assert!(plot < appendix && appendix < table, "plot in place, table in the appendix");
        assert!(tex.contains("verified: every step symbolic and exact; evidence: Monte Carlo"), "one line per claim");
        let md = &out["report.md"];
        assert!(md.find("**Claim `twice`**").unwrap() < md.find("## How each claim was checked").unwrap(), "{md}");
    }

    #[test]
    fn only_the_requested_formats_are_rendered() {
        let (loaded, results) = fixture();
        let names: Vec<String> = render(&loaded, &results, &[Format::Html], Layout::Full, None).unwrap().into_iter().map(|(n, _)| n).collect();
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
