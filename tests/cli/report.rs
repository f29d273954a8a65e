//! `derivcheck report`: snapshots of the rendered formats, the LaTeX compiled by pdflatex,
//! the HTML typeset by headless Chromium, and outputs that are never half-written or
//! clobbered by a failing run.

use std::path::Path;
use std::process::Command;

use crate::{derivcheck, scratch, text};

/// The page without the bundled KaTeX (several hundred kB, checked by the unit tests).
fn without_katex(html: &str) -> String {
    let mut out = html.to_string();
    for (open, close, placeholder) in [
        ("<style>@font-face", "</style>", "<style>/* KaTeX stylesheet */</style>"),
        ("<script>!function", "</script>", "<script>/* KaTeX */</script>"),
    ] {
        if let Some(start) = out.find(open) {
            let end = start + out[start..].find(close).expect("closed") + close.len();
            out.replace_range(start..end, placeholder);
        }
    }
    out
}

#[test]
fn report_formats_match_their_snapshots() {
    let dir = scratch("snapshot");
    let out = derivcheck(&["report", "tests/data/ok/small.md", "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let tex = std::fs::read_to_string(dir.join("report.tex")).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    insta::assert_snapshot!("small.md", md);
    insta::assert_snapshot!("small.tex", tex);
    insta::assert_snapshot!("small.html", without_katex(&html));
}

#[test]
fn the_main_command_writes_all_three_reports_with_every_claim_verified() {
    let dir = scratch("main");
    let out = derivcheck(&["report", "derivations", "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let tex = std::fs::read_to_string(dir.join("report.tex")).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for claim in ["mom_rec", "avg_rec", "equivalent", "l2_step", "identical"] {
        let row = md.lines().find(|l| l.starts_with(&format!("| [`{claim}`]"))).unwrap_or_else(|| panic!("{claim} in summary"));
        assert!(row.contains("✓ verified | holds | holds |"), "{row}");
        assert!(
            html.contains(&format!(r##"<a href="#{}"><code>{claim}</code></a>"##, anchor_of(&md, claim))),
            "{claim} linked from the HTML summary"
        );
    }
    assert!(tex.contains("\\begin{align*}") && tex.contains("\\end{document}"));
    assert!(md.contains("root seed `20220323`"));
    assert!(!html.contains("refuted</span>"), "no refuted badge");
}

/// The anchor the Markdown summary links `claim` to.
fn anchor_of(md: &str, claim: &str) -> String {
    let row = md.lines().find(|l| l.starts_with(&format!("| [`{claim}`](#"))).expect("summary row");
    row.split("](#").nth(1).and_then(|r| r.split(')').next()).expect("anchor").to_string()
}

#[test]
fn a_failing_derivation_is_highlighted_with_its_counterexample_in_every_format() {
    let dir = scratch("failing");
    let out = derivcheck(&["report", "tests/data/err/sign_slip.md", "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let tex = std::fs::read_to_string(dir.join("report.tex")).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(md.contains("| **✗ 45** |") && md.contains("**✗ Line 45**") && md.contains("Counterexample: `t = "), "{md}");
    assert!(tex.contains("&\\color{BrickRed}= \\alpha") && tex.contains("\\color{BrickRed}line 45"), "the failing row is red: {tex}");
    assert!(tex.contains("Line 45 fails") && tex.contains("Counterexample:"), "{tex}");
    let failing = html.find(r#"<tr class="step failing refuted">"#).expect("the failing step is marked");
    let detail = &html[failing..html[failing..].find("</table>").map_or(html.len(), |e| failing + e)];
    assert!(detail.contains("line 45") && detail.contains("Counterexample:") && detail.contains("<code>t = "), "{detail}");
    assert_eq!(html.matches(r#"class="step failing"#).count(), 1, "only the wrong step is highlighted");
}

#[test]
fn format_chooses_the_outputs_and_an_unknown_one_is_a_usage_error() {
    let dir = scratch("format");
    let out = derivcheck(&["report", "tests/data/ok/small.md", "-o", dir.to_str().unwrap(), "--format", "html,md"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["report.html", "report.md"]);
    let out = derivcheck(&["report", "tests/data/ok/small.md", "-o", dir.to_str().unwrap(), "--format", "pdf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown format `pdf`; the formats are tex, html, md"), "{}", text(&out.stderr));
}

#[test]
fn templates_from_a_folder_replace_the_built_in_ones_and_html_stays_escaped() {
    let dir = scratch("templates");
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("report.html.tera"),
        "<h1>{{ title }}</h1>{% for r in rows %}<p>{{ r.name }}: {{ r.status_text }}</p>{% endfor %}\n",
    )
    .unwrap();
    let out_dir = dir.join("out");
    let out = derivcheck(&["report", "tests/data/ok/small.md", "-o", out_dir.to_str().unwrap(), "--templates", templates.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert_eq!(html, "<h1>A small example: 100% exact &amp; checked</h1><p>two: verified</p>\n");
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.starts_with("# A small example"), "report.md stays built in");
}

#[test]
fn an_input_error_leaves_an_existing_report_untouched() {
    let dir = scratch("untouched");
    std::fs::write(dir.join("report.md"), "previous report").unwrap();
    let out = derivcheck(&["report", "tests/data/err/unbalanced_paren.md", "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(dir.join("report.md")).unwrap(), "previous report");
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries.len(), 1, "no temp or new files: {entries:?}");
}

/// Runs pdflatex twice (for references) on `report.tex` in `dir`; returns the final log.
fn pdflatex(dir: &Path) -> Option<String> {
    if Command::new("pdflatex").arg("--version").output().is_err() {
        eprintln!("SKIPPED: pdflatex is not installed here (CI installs it through .ci/run)");
        return None;
    }
    for _ in 0..2 {
        let out = Command::new("pdflatex").args(["-interaction=nonstopmode", "-halt-on-error", "report.tex"]).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "pdflatex failed:\n{}", text(&out.stdout));
    }
    Some(std::fs::read_to_string(dir.join("report.log")).unwrap())
}

#[test]
fn the_latex_report_compiles_without_errors_or_undefined_references() {
    for (input, name) in [("derivations", "latex-ok"), ("tests/data/err/sign_slip.md", "latex-failing"), ("tests/data/ok/small.md", "latex-small")] {
        let dir = scratch(name);
        derivcheck(&["report", input, "-o", dir.to_str().unwrap(), "--format", "tex"]);
        let Some(log) = pdflatex(&dir) else { return };
        assert!(!log.lines().any(|l| l.starts_with('!')), "LaTeX errors for {input}:\n{log}");
        assert!(!log.contains("undefined references") && !log.contains("Reference `"), "undefined references for {input}");
        assert!(dir.join("report.pdf").is_file());
    }
}

/// Headless Chromium, offline and with a fresh profile: returns the DOM after the page's
/// scripts ran, or `None` (saying so) where Chromium is not installed.
fn chromium(args: &[&str], page: &Path) -> Option<String> {
    if Command::new("chromium").arg("--version").output().is_err() {
        eprintln!("SKIPPED: chromium is not installed here (CI installs it through .ci/run)");
        return None;
    }
    let profile = scratch(&format!("chromium-profile-{}", page.parent().and_then(|p| p.file_name()).unwrap().to_string_lossy()));
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Some(reader.join().unwrap())
}

/// The visible text of a DOM: no scripts, styles, tags, or KaTeX's hidden MathML copy.
fn visible_text(dom: &str) -> String {
    let mut text = dom.to_string();
    for (open, close) in [("<script", "</script>"), ("<style", "</style>"), ("<span class=\"katex-mathml\">", "</math></span>")] {
        while let Some(start) = text.find(open) {
            let end = text[start..].find(close).map_or(text.len(), |e| start + e + close.len());
            text.replace_range(start..end, "");
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn the_html_report_typesets_all_its_math_offline_in_chromium() {
    for (input, name) in [("derivations", "html-ok"), ("tests/data/err/sign_slip.md", "html-failing")] {
        let dir = scratch(name);
        derivcheck(&["report", input, "-o", dir.to_str().unwrap(), "--format", "html"]);
        let page = dir.join("report.html");
        let html = std::fs::read_to_string(&page).unwrap();
        let Some(dom) = chromium(&["--dump-dom"], &page) else {
            return;
        };
        let math = html.matches(r#"<span class="math math-"#).count();
        assert!(math > 20, "{input}: math in the page");
        assert_eq!(dom.matches(r#"<span class="katex">"#).count(), math, "{input}: every math span typeset by KaTeX");
        assert!(!dom.contains(r#"class="katex-error""#), "{input}: KaTeX could not parse some math");
        let text = visible_text(&dom);
        assert!(!text.contains('$') && !text.contains("\\alpha"), "{input}: raw TeX left in the rendered text");
    }
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let page = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-failing/report.html");
    chromium(&[&format!("--screenshot={}", shot.display()), "--window-size=1200,1600"], &page);
    assert!(std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false), "a screenshot at {}", shot.display());
    eprintln!("screenshot of the failing report: {}", shot.display());
}
