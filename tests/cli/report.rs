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
    assert!(tex.contains("\\begin{aligned}") && tex.contains("\\end{document}"));
    assert!(tex.contains("Appendix: how each claim was checked") && tex.contains("Appendix: built-in lemmas"), "the write-up's appendices");
    assert_eq!(tex.matches("\\item[\\texttt{linearity\\_of\\_expectation}]").count(), 1, "a built-in lemma appears once");
    assert!(!tex.contains("cited by ."), "every lemma in the appendix is cited by some claim");
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
    assert!(md.contains("**✗ Line 45**") && md.contains("Counterexample: $t = "), "the counterexample typeset as math: {md}");
    assert!(md.contains("Remaining difference (left − right): $-2 \\epsilon {g}_{t}$"), "{md}");
    assert!(md.contains("the proof is wrong at line 45; the statement holds"), "{md}");
    assert!(tex.contains("&\\color{BrickRed}= \\alpha") && tex.contains("\\color{BrickRed}line 45"), "the failing row is red: {tex}");
    assert!(tex.contains("Line 45 fails") && tex.contains("Counterexample:"), "{tex}");
    let failing = html.find(r#"<tr class="step failing refuted">"#).expect("the failing step is marked");
    let detail = &html[failing..html[failing..].find("</table>").map_or(html.len(), |e| failing + e)];
    assert!(
        detail.contains("line 45") && detail.contains("Counterexample:") && detail.contains(r#"<span class="math math-inline">t = "#),
        "{detail}"
    );
    assert_eq!(html.matches(r#"class="step failing"#).count(), 1, "only the wrong step is highlighted");

    let out = derivcheck(&["report", "tests/data/err/sign_slip.md", "-o", dir.to_str().unwrap(), "--layout", "full"]);
    assert_eq!(out.status.code(), Some(1));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("| **✗ 45** |"), "the full layout has the step table: {md}");
    assert!(md.find("## Summary").unwrap() < md.find("**✗ Line 45**").unwrap(), "and the summary first");
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
        if input == "derivations" {
            assert_eq!(overfull(&log), Vec::<String>::new(), "boxes over 1 pt too wide in the write-up of {input}");
        }
    }
}

/// The "Overfull \hbox (Xpt too wide)" lines of a LaTeX log with X above 1 pt.
fn overfull(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.starts_with("Overfull"))
        .filter(|l| l.split('(').nth(1).and_then(|r| r.split("pt").next()).and_then(|x| x.parse::<f64>().ok()).is_some_and(|x| x > 1.0))
        .map(String::from)
        .collect()
}

fn words(text: &str) -> usize {
    text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count()
}

/// The write-up is the student's text: their prose is at least 40% of the words before the
/// verification appendix (pdftotext also counts every symbol of the typeset math as a word).
/// Screenshots of its first page and of a failing step are saved under `target/` to be
/// looked at.
#[test]
fn the_write_up_is_mostly_the_students_prose_and_is_saved_as_pictures() {
    let dir = scratch("writeup");
    derivcheck(&["report", "derivations", "-o", dir.to_str().unwrap(), "--format", "tex"]);
    let Some(_) = pdflatex(&dir) else { return };
    let Ok(out) = Command::new("pdftotext").args(["report.pdf", "-"]).current_dir(&dir).output() else {
        eprintln!("SKIPPED: pdftotext is not installed here (CI installs it through .ci/run)");
        return;
    };
    let pdf = text(&out.stdout);
    let body = pdf.split("Appendix: how each claim was checked").next().unwrap();
    let mut prose = 0;
    for entry in std::fs::read_dir("derivations").unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut in_block = false;
        let mut in_front = false;
        for line in source.lines() {
            if line.starts_with("```") {
                in_block = !in_block;
            } else if line == "+++" {
                in_front = !in_front;
            } else if !in_block && !in_front {
                prose += words(line);
            }
        }
    }
    let share = prose as f64 / words(body) as f64;
    eprintln!("prose: {prose} words, the write-up before its appendix: {} words ({:.0}%)", words(body), 100.0 * share);
    assert!(share >= 0.40, "the student's prose is {:.0}% of the write-up", 100.0 * share);

    let failing = scratch("writeup-failing");
    derivcheck(&["report", "tests/data/err/sign_slip.md", "-o", failing.to_str().unwrap(), "--format", "tex"]);
    pdflatex(&failing);
    let pictures = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let page_of = |dir: &Path, what: &str| {
        (1..=20)
            .find(|p| {
                let p = p.to_string();
                let out = Command::new("pdftotext").args(["-f", &p, "-l", &p, "report.pdf", "-"]).current_dir(dir).output();
                out.is_ok_and(|o| text(&o.stdout).contains(what))
            })
            .unwrap_or_else(|| panic!("no page with `{what}`"))
    };
    let failing_page = page_of(&failing, "Line 45 fails");
    for (from, page, name) in [(&dir, 1, "report-pdf-first-page"), (&failing, failing_page, "report-pdf-failing-step")] {
        let target = pictures.join(name);
        let page = page.to_string();
        let made = Command::new("pdftoppm")
            .args(["-png", "-r", "60", "-f", &page, "-l", &page, "-singlefile", "report.pdf"])
            .arg(&target)
            .current_dir(from)
            .status();
        assert!(made.is_ok_and(|s| s.success()) && target.with_extension("png").is_file(), "a picture at {}", target.display());
        eprintln!("picture of the PDF: {}.png", target.display());
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
