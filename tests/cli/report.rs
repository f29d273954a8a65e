//! `derivcheck report`: snapshots of the rendered formats, and outputs that are never
//! half-written or clobbered by a failing run.

use crate::{derivcheck, scratch, text};

#[test]
fn report_formats_match_their_snapshots() {
    let dir = scratch("snapshot");
    let out = derivcheck(&["report", "tests/data/ok/small.md", "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let tex = std::fs::read_to_string(dir.join("report.tex")).unwrap();
    insta::assert_snapshot!("small.md", md);
    insta::assert_snapshot!("small.tex", tex);
}

#[test]
fn the_main_command_writes_both_reports_with_every_claim_verified() {
    let dir = scratch("main");
    let out = derivcheck(&["report", "derivations", "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let tex = std::fs::read_to_string(dir.join("report.tex")).unwrap();
    for claim in ["mom_rec", "avg_rec", "equivalent", "l2_step", "identical"] {
        let row = md.lines().find(|l| l.starts_with(&format!("| [`{claim}`]"))).unwrap_or_else(|| panic!("{claim} in summary"));
        assert!(row.contains("✓ verified | holds | holds |"), "{row}");
    }
    assert!(tex.contains("\\begin{align*}") && tex.contains("\\end{document}"));
    assert!(md.contains("root seed `20220323`"));
}

#[test]
fn a_failing_derivation_is_reported_with_its_counterexample() {
    let dir = scratch("failing");
    let out = derivcheck(&["report", "tests/data/err/sign_slip.md", "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let tex = std::fs::read_to_string(dir.join("report.tex")).unwrap();
    assert!(md.contains("**✗ Line 43**") && md.contains("Counterexample: `t = "), "{md}");
    assert!(tex.contains("Line 43 fails") && tex.contains("Counterexample:"), "{tex}");
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
fn pdflatex(dir: &std::path::Path) -> Option<String> {
    if std::process::Command::new("pdflatex").arg("--version").output().is_err() {
        eprintln!("SKIPPED: pdflatex is not installed here (CI installs it through .ci/run)");
        return None;
    }
    for _ in 0..2 {
        let out = std::process::Command::new("pdflatex")
            .args(["-interaction=nonstopmode", "-halt-on-error", "report.tex"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "pdflatex failed:\n{}", text(&out.stdout));
    }
    Some(std::fs::read_to_string(dir.join("report.log")).unwrap())
}

#[test]
fn the_latex_report_compiles_without_errors_or_undefined_references() {
    for (input, name) in [("derivations", "latex-ok"), ("tests/data/err/sign_slip.md", "latex-failing"), ("tests/data/ok/small.md", "latex-small")] {
        let dir = scratch(name);
        derivcheck(&["report", input, "-o", dir.to_str().unwrap()]);
        let Some(log) = pdflatex(&dir) else { return };
        assert!(!log.lines().any(|l| l.starts_with('!')), "LaTeX errors for {input}:\n{log}");
        assert!(!log.contains("undefined references") && !log.contains("Reference `"), "undefined references for {input}");
        assert!(dir.join("report.pdf").is_file());
    }
}
