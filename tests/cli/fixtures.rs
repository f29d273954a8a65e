//! Data-driven checks of `tests/data`: every `err` file states, in a trailing
//! `<!-- expect … -->` comment, the exit code and the lines it must be blamed at; every
//! `ok` file (and `derivations/`) must verify completely.

use crate::{derivcheck, text};

#[derive(Default, Debug)]
struct Expect {
    exit: Option<i32>,
    refuted: Vec<usize>,
    not_shown: Vec<usize>,
    /// Verdicts of a claim's own checks: `montecarlo: refuted`.
    claim_checks: Vec<String>,
    unproved: Vec<String>,
    /// Claims that must end in any status but verified.
    not_verified: Vec<String>,
    errors: Vec<(String, String)>,
    symbolic: Vec<(usize, String)>,
}

fn expectations(source: &str) -> Expect {
    let mut e = Expect::default();
    let Some(block) = source.split("<!-- expect").nth(1) else { return e };
    for line in block.lines().take_while(|l| !l.contains("-->")) {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match key.trim() {
            "exit" => e.exit = value.parse().ok(),
            "refuted" => e.refuted.push(value.parse().expect("a line number")),
            "not shown" => e.not_shown.push(value.parse().expect("a line number")),
            "montecarlo" | "trajectory" | "unroll" => e.claim_checks.push(format!("{}: {value}", key.trim())),
            "unproved" => e.unproved.push(value.to_string()),
            "not verified" => e.not_verified.push(value.to_string()),
            "error" => {
                let (at, message) = value.split_once(' ').expect("error: LINE:COL message");
                e.errors.push((at.to_string(), message.to_string()));
            }
            "symbolic" => {
                let (at, message) = value.split_once(' ').expect("symbolic: LINE message");
                e.symbolic.push((at.parse().expect("a line number"), message.to_string()));
            }
            other => panic!("unknown expectation `{other}`"),
        }
    }
    e
}

/// Runs `check` on one fixture and compares with what it states.
fn check_fixture(path: &str) {
    let source = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    let expect = expectations(&source);
    let out = derivcheck(&["check", path]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let context = format!("{path}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert_eq!(out.status.code(), expect.exit, "exit code of {context}");
    for line in &expect.refuted {
        let blamed = format!("{path}:{line}: step of");
        let hit = stdout.lines().find(|l| l.starts_with(&blamed)).unwrap_or_else(|| panic!("no step at line {line}: {context}"));
        assert!(hit.contains("REFUTED"), "line {line} not refuted: {context}");
        let after: String = stdout.lines().skip_while(|l| *l != hit).skip(1).take_while(|l| l.starts_with("    ")).collect::<Vec<_>>().join("\n");
        assert!(after.contains("counterexample:"), "no counterexample for line {line}: {context}");
    }
    for line in &expect.not_shown {
        let blamed = format!("{path}:{line}: step of");
        let hit = stdout.lines().find(|l| l.starts_with(&blamed)).unwrap_or_else(|| panic!("no step at line {line}: {context}"));
        assert!(hit.contains("NOT SHOWN"), "line {line} not flagged: {context}");
    }
    for check in &expect.claim_checks {
        assert!(stdout.lines().any(|l| l.trim_start().starts_with(check.as_str())), "no `{check}`: {context}");
    }
    for (line, message) in &expect.symbolic {
        let blamed = format!("{path}:{line}: step of");
        let after: String =
            stdout.lines().skip_while(|l| !l.starts_with(&blamed)).skip(1).take_while(|l| l.starts_with("    ")).collect::<Vec<_>>().join("\n");
        assert!(after.contains(&format!("symbolic: {message}")), "symbolic detail at {line}: {context}");
    }
    for name in &expect.unproved {
        assert!(stdout.lines().any(|l| l.ends_with(&format!(" {name}: UNPROVED"))), "{name} not unproved: {context}");
    }
    for name in &expect.not_verified {
        let line = stdout.lines().find(|l| l.contains(&format!(" {name}: "))).unwrap_or_else(|| panic!("no claim {name}: {context}"));
        assert!(!line.ends_with(": ok"), "{name} must not be verified: {context}");
    }
    for (at, message) in &expect.errors {
        assert!(stderr.contains(&format!("--> {path}:{at}")), "no error at {at}: {context}");
        assert!(stderr.contains(message.as_str()), "error message `{message}` missing: {context}");
        assert!(stderr.lines().any(|l| l.trim_start().starts_with('|') && l.contains('^')), "no caret: {context}");
    }
}

fn md_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    files
}

#[test]
fn every_failing_fixture_fails_as_it_states() {
    let files = md_files("tests/data/err");
    assert!(files.len() >= 5);
    for f in files {
        let source = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&f)).unwrap();
        assert!(source.contains("<!-- expect"), "{f} states no expectation");
        check_fixture(&f);
    }
}

#[test]
fn good_derivations_verify_completely() {
    for path in ["derivations", "tests/data/ok"] {
        let out = derivcheck(&["check", path]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{path}:\n{stdout}\n{}", text(&out.stderr));
        assert!(!stdout.contains("REFUTED") && !stdout.contains("NOT SHOWN") && !stdout.contains("UNPROVED"), "{stdout}");
        // Every step holds symbolically, and in the exact layer or, where exact arithmetic
        // cannot apply (exp, expectations), in the float layer or by the claim's Monte Carlo.
        let steps: Vec<&str> = stdout.lines().filter(|l| l.contains(": step of ")).collect();
        assert!(path != "derivations" || steps.len() > 30, "{stdout}");
        for step in steps {
            assert!(step.contains(": ok [symbolic: holds, "), "{step}");
            assert!(step.contains("exact: holds") || step.contains("float: holds") || step.contains("exact: n/a"), "{step}");
        }
        let exact = stdout.lines().filter(|l| l.contains("exact: holds]")).count();
        assert!(path != "derivations" || exact > 25, "most steps are confirmed in exact arithmetic:\n{stdout}");
    }
}

#[test]
fn missing_files_and_bad_usage_exit_with_2() {
    let out = derivcheck(&["check", "no/such/file.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/file.md: no such file or folder"));
    let out = derivcheck(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let out = derivcheck(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_output_lists_each_verdict_with_its_counterexample() {
    let dir = crate::scratch("json");
    let json = dir.join("verdicts.json");
    let out = derivcheck(&["check", "tests/data/err/sign_slip.md", "--json", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["schema"], "derivcheck-verdicts/1");
    assert_eq!(value["all_verified"], false);
    let rows = value["verdicts"].as_array().unwrap();
    let refuted = rows.iter().find(|r| r["line"] == 43 && r["layer"] == "exact").expect("a row for line 43");
    assert_eq!(refuted["verdict"], "refuted");
    assert_eq!(refuted["claim"], "mom_rec");
    assert!(refuted["counterexample"]["values"].as_array().is_some_and(|v| !v.is_empty()));
    assert!(value["claims"].as_array().unwrap().iter().any(|c| c["claim"] == "mom_rec" && c["status"] == "refuted"));
}
