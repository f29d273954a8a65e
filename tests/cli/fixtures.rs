//! Data-driven checks of `tests/data` and `derivations/`, asserted through `--json`. A fixture
//! states what it expects in a comment right above the line it blames (typst-style):
//!
//! ```text
//! # expect: refuted; exact: refuted; symbolic: not shown "-2*epsilon*g[t]"
//!             = alpha*dtheta[t-1] + epsilon*g[t]    by mom_step
//! <!-- expect: error at 31 "unbalanced parenthesis" -->
//! ```
//!
//! `# expect:` works inside derivation blocks, `<!-- expect: … -->` anywhere; both apply to
//! the next line that is neither blank nor another comment. Above a step, the first word is
//! the step's status (`verified`, `refuted`, `not shown`); above a claim or lemma, the claim's
//! (`unproved`, `supported` too); above a `check` line, the verdict of its evidence row
//! (`holds`, `refuted`, `not shown`, `n/a`). Then, separated by `;`: `LAYER: VERDICT`, with
//! an optional quoted piece of its detail; `problem "…"` and `warning "…"` for findings.
//! Every step and claim without an annotation must be verified, and the exit code follows:
//! 2 for input errors, 1 when a claim is not verified, 0 otherwise.

use serde_json::Value;

use crate::{derivcheck, derivcheck_within, scratch, text};

#[derive(Debug)]
struct Expectation {
    /// The line of the annotation, and the line it blames.
    at: usize,
    line: usize,
    what: What,
}

#[derive(Debug)]
enum What {
    /// A status or verdict, with details about layers and findings.
    Outcome {
        word: String,
        parts: Vec<Part>,
    },
    Error {
        column: Option<usize>,
        message: String,
    },
}

#[derive(Debug)]
struct Part {
    /// A layer name, `problem` or `warning`.
    key: String,
    verdict: Option<String>,
    contains: Option<String>,
}

fn quoted(text: &str) -> (String, Option<String>) {
    match text.split_once('"') {
        Some((before, rest)) => (before.trim().to_string(), Some(rest.trim_end().trim_end_matches('"').to_string())),
        None => (text.trim().to_string(), None),
    }
}

fn parse_expectation(text: &str) -> What {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("error") {
        let (head, message) = quoted(rest);
        let column = head.strip_prefix("at").map(|c| c.trim().parse().expect("error at COLUMN"));
        return What::Error { column, message: message.expect("error \"message\"") };
    }
    let mut pieces = text.split(';');
    let word = pieces.next().unwrap_or_default().trim().to_string();
    let parts = pieces
        .map(|p| {
            let (head, contains) = quoted(p);
            let (key, verdict) = match head.split_once(':') {
                Some((k, v)) => (k.trim().to_string(), Some(v.trim().to_string()).filter(|v| !v.is_empty())),
                None => (head, None),
            };
            Part { key, verdict, contains }
        })
        .collect();
    What::Outcome { word, parts }
}

fn expectations(source: &str) -> Vec<Expectation> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        let body = t.strip_prefix("# expect:").or_else(|| t.strip_prefix("<!-- expect:").map(|r| r.trim_end_matches("-->")));
        let Some(body) = body else { continue };
        let target = (i + 1..lines.len())
            .find(|&j| {
                let u = lines[j].trim();
                !u.is_empty() && !u.starts_with('#') && !u.starts_with("<!--")
            })
            .unwrap_or_else(|| panic!("line {}: an expectation with no line after it", i + 1));
        out.push(Expectation { at: i + 1, line: target + 1, what: parse_expectation(body) });
    }
    out
}

/// The name JSON uses for a status or verdict word of an annotation.
fn json_word(word: &str) -> String {
    match word {
        "n/a" => "not_applicable".into(),
        "supported by evidence" => "supported".into(),
        w => w.replace(' ', "_"),
    }
}

/// Runs `check --json` on one file and compares the verdicts with its annotations.
fn check_fixture(path: &str) {
    let source = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    let expected = expectations(&source);
    let json_path = scratch(&format!("fixture-{}", path.replace('/', "-"))).join("out.json");
    // Some fixtures once hung the checker: each run must end.
    let out = derivcheck_within(&["check", path, "--json", json_path.to_str().unwrap()], std::time::Duration::from_secs(120));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let context = format!("{path}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap_or_else(|_| panic!("no JSON written: {context}")))
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {context}"));
    let errors = json["errors"].as_array().cloned().unwrap_or_default();
    let in_file = |v: &Value| v["file"].as_str().is_some_and(|f| f.ends_with(path));
    let claims: Vec<&Value> = json["claims"].as_array().map(|c| c.iter().filter(|c| in_file(c)).collect()).unwrap_or_default();
    let mut blamed_steps = Vec::new();
    let mut blamed_claims = Vec::new();
    for e in &expected {
        let here = format!("{path}:{} (the annotation at line {})", e.line, e.at);
        match &e.what {
            What::Error { column, message } => {
                let hit = errors.iter().find(|x| x["line"] == e.line && x["message"].as_str().is_some_and(|m| m.contains(message.as_str())));
                let hit = hit.unwrap_or_else(|| panic!("{here}: no input error containing `{message}`: {context}"));
                if let Some(c) = column {
                    assert_eq!(hit["column"], *c, "{here}: column of the error: {context}");
                }
                assert!(stderr.contains(&format!("--> {path}:{}:", e.line)), "{here}: the error is printed with its location: {context}");
                assert!(stderr.lines().any(|l| l.trim_start().starts_with('|') && l.contains('^')), "{here}: no caret: {context}");
            }
            What::Outcome { word, parts } => {
                let word = json_word(word);
                let steps: Vec<&Value> =
                    claims.iter().flat_map(|c| c["steps"].as_array().into_iter().flatten()).filter(|s| s["line"] == e.line).collect();
                let claim = claims.iter().find(|c| c["line"] == e.line);
                let evidence: Vec<&Value> =
                    claims.iter().flat_map(|c| c["evidence"].as_array().into_iter().flatten()).filter(|r| r["line"] == e.line).collect();
                let (status, layers, findings): (String, Vec<&Value>, Vec<&Value>) = if let Some(claim) = claim {
                    blamed_claims.push(e.line);
                    let findings = claim["problems"].as_array().into_iter().flatten().collect();
                    (claim["status"].as_str().unwrap_or_default().to_string(), evidence, findings)
                } else if !steps.is_empty() {
                    blamed_steps.push(e.line);
                    let step = steps[0];
                    let layers = step["layers"].as_array().into_iter().flatten().collect();
                    let findings = step["warnings"].as_array().into_iter().flatten().collect();
                    (step["status"].as_str().unwrap_or_default().to_string(), layers, findings)
                } else if !evidence.is_empty() {
                    // Several rows at one line (a witness's exact and float layers): the worst.
                    let worst = ["refuted", "not_shown", "holds", "not_applicable"]
                        .into_iter()
                        .find(|w| evidence.iter().any(|r| r["verdict"] == *w))
                        .unwrap_or_default();
                    (worst.to_string(), evidence.clone(), vec![])
                } else {
                    panic!("{here}: no step, claim or check at this line: {context}");
                };
                assert_eq!(status, word, "{here}: {context}");
                if word == "refuted" && claim.is_none() {
                    assert!(
                        layers.iter().any(|l| l["verdict"] == "refuted" && !l["counterexample"].is_null()),
                        "{here}: refuted without a counterexample: {context}"
                    );
                }
                for part in parts {
                    let pool: Vec<&Value> = match part.key.as_str() {
                        "problem" | "warning" => findings.clone(),
                        layer => layers.iter().copied().filter(|l| l["layer"] == layer).collect(),
                    };
                    let matching = pool.iter().any(|v| {
                        part.verdict.as_ref().is_none_or(|w| v["verdict"] == json_word(w).as_str())
                            && part.contains.as_ref().is_none_or(|c| {
                                let text = v.get("detail").or_else(|| v.get("message")).and_then(|d| d.as_str()).unwrap_or_default();
                                text.contains(c.as_str())
                            })
                    });
                    assert!(matching, "{here}: no `{}` matching {part:?}: {context}", part.key);
                }
            }
        }
    }
    // Everything not blamed verifies, and the exit code follows from the annotations.
    for c in &claims {
        let line = c["line"].as_u64().unwrap_or_default() as usize;
        if !blamed_claims.contains(&line) {
            assert!(
                matches!(c["status"].as_str(), Some("verified" | "supported")),
                "{path}:{line}: `{}` is {} but states no expectation: {context}",
                c["claim"],
                c["status"]
            );
        }
        for s in c["steps"].as_array().into_iter().flatten() {
            let line = s["line"].as_u64().unwrap_or_default() as usize;
            if !blamed_steps.contains(&line) {
                assert_eq!(s["status"], "verified", "{path}:{line}: a step is {} but states no expectation: {context}", s["status"]);
            }
        }
    }
    let exit = if !errors.is_empty() {
        2
    } else if json["all_verified"] == true {
        0
    } else {
        1
    };
    assert_eq!(out.status.code(), Some(exit), "exit code of {context}");
    for error in &errors {
        let line = error["line"].as_u64().unwrap_or_default() as usize;
        assert!(
            expected.iter().any(|e| e.line == line && matches!(e.what, What::Error { .. })),
            "{path}:{line}: an input error states no expectation: {error}"
        );
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
        assert!(!expectations(&source).is_empty(), "{f} states no expectation");
        check_fixture(&f);
    }
}

/// The red team's derivations: each states its class (what it attacks) and what a sound
/// checker must report, and every class of attack is represented.
#[test]
fn every_adversarial_fixture_is_judged_soundly() {
    const CLASSES: [&str; 5] = ["accept", "evidence", "reject", "crash", "hang"];
    let files = md_files("tests/data/unsound");
    assert!(files.len() >= 40, "only {} adversarial fixtures", files.len());
    let mut seen = std::collections::BTreeSet::new();
    // Every fixture is judged, and every one that fails is named (not only the first).
    let mut failed = Vec::new();
    for f in files {
        let source = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&f)).unwrap();
        let class = source.lines().find_map(|l| l.trim().strip_prefix("<!-- class:")).map(|c| c.trim_end_matches("-->").trim().to_string());
        let class = class.unwrap_or_else(|| panic!("{f} states no `<!-- class: … -->`"));
        assert!(CLASSES.contains(&class.as_str()), "{f}: unknown class `{class}`");
        assert!(source.contains("<!-- why:"), "{f} does not say why");
        seen.insert(class);
        if std::panic::catch_unwind(|| check_fixture(&f)).is_err() {
            failed.push(f);
        }
    }
    assert!(failed.is_empty(), "fixtures not judged as they state: {failed:?}");
    assert_eq!(seen.len(), CLASSES.len(), "classes covered: {seen:?}");
}

#[test]
fn good_derivations_verify_completely() {
    for f in md_files("tests/data/ok").into_iter().chain(md_files("derivations")) {
        check_fixture(&f);
    }
    // Every step holds symbolically, and in the exact layer or, where exact arithmetic
    // cannot apply, in the float layer; a step neither can evaluate (an expectation) must
    // belong to a claim whose Monte Carlo check holds.
    let json = scratch("derivations-json").join("out.json");
    let out = derivcheck(&["check", "derivations", "--json", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let (mut steps, mut exact) = (0, 0);
    for claim in value["claims"].as_array().unwrap() {
        let monte_carlo = claim["evidence"].as_array().unwrap().iter().any(|e| e["layer"] == "montecarlo" && e["verdict"] == "holds");
        for step in claim["steps"].as_array().unwrap() {
            steps += 1;
            let verdict = |layer: &str| step["layers"].as_array().unwrap().iter().find(|l| l["layer"] == layer).map(|l| l["verdict"].clone());
            let here = format!("{}:{}", claim["file"], step["line"]);
            assert_eq!(verdict("symbolic"), Some(Value::from("holds")), "{here}");
            let numeric = verdict("exact").or_else(|| verdict("float"));
            exact += usize::from(verdict("exact") == Some(Value::from("holds")));
            match numeric.as_ref().and_then(|v| v.as_str()) {
                Some("holds") => {}
                Some("not_applicable") => {
                    assert!(monte_carlo, "{here}: only the symbolic layer judged this step, and no Monte Carlo check backs the claim")
                }
                other => panic!("{here}: numeric layer says {other:?}"),
            }
        }
    }
    assert!(steps > 30 && exact > 25, "most of the {steps} steps are confirmed in exact arithmetic ({exact})");
}

#[test]
fn annotations_are_read_as_stated() {
    let source = "```derivation\n# expect: refuted; exact: refuted; symbolic: not shown \"-2*e\"\n\n  = a by b\n```\n<!-- expect: error at 31 \"unbalanced\" -->\nx\n";
    let e = expectations(source);
    assert_eq!((e[0].at, e[0].line), (2, 4));
    let What::Outcome { word, parts } = &e[0].what else { panic!() };
    assert_eq!(word, "refuted");
    assert_eq!((parts[1].key.as_str(), parts[1].verdict.as_deref(), parts[1].contains.as_deref()), ("symbolic", Some("not shown"), Some("-2*e")));
    assert!(matches!(&e[1].what, What::Error { column: Some(31), message } if message == "unbalanced"));
    assert_eq!(e[1].line, 7);
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
    // A file without a derivation block checks nothing, which is not a pass.
    let dir = scratch("nothing");
    let notes = dir.join("notes.md");
    std::fs::write(&notes, "# Notes\n\n```Derivation\nclaim c: 1 = 1\n```\n").unwrap();
    let out = derivcheck(&["check", notes.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no `derivation` block"), "{}", text(&out.stderr));
    // Options that would check nothing or write where no one can read are usage errors.
    for (args, says) in [
        (&["check", "derivations/q1_rnn.md", "--samples", "0"][..], "at least one point"),
        (&["check", "derivations/q1_rnn.md", "--json", "-"][..], "prints its banner there"),
        (&["report", "derivations/q1_rnn.md", "--templates", "no/such/folder"][..], "no folder `no/such/folder`"),
    ] {
        let out = derivcheck(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(says), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn json_output_lists_each_verdict_with_its_counterexample() {
    let dir = scratch("json");
    let json = dir.join("verdicts.json");
    let out = derivcheck(&["check", "tests/data/err/sign_slip.md", "--json", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["schema"], "derivcheck-verdicts/2");
    assert_eq!(value["all_verified"], false);
    assert!(value["seed"].is_string(), "seeds are strings");
    let claim = value["claims"].as_array().unwrap().iter().find(|c| c["claim"] == "mom_rec").expect("mom_rec");
    assert_eq!(claim["status"], "not_shown", "a true statement with a wrong step");
    let problems = claim["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p["message"].as_str().is_some_and(|m| m.starts_with("the proof is wrong at line 45"))), "{claim}");
    let step = claim["steps"].as_array().unwrap().iter().find(|s| s["line"] == 45).expect("a step at line 45");
    assert_eq!(step["status"], "refuted");
    let exact = step["layers"].as_array().unwrap().iter().find(|l| l["layer"] == "exact").expect("an exact row");
    assert_eq!(exact["verdict"], "refuted");
    assert!(exact["counterexample"]["values"].as_array().is_some_and(|v| !v.is_empty()));
}

#[test]
fn json_lists_input_errors_and_no_report_is_written() {
    let dir = scratch("json-errors");
    let json = dir.join("errors.json");
    let out = derivcheck(&["check", "tests/data/err/unbalanced_paren.md", "--json", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let error = &value["errors"][0];
    assert_eq!((error["line"].as_u64(), error["column"].as_u64()), (Some(7), Some(31)), "{value}");
    assert!(value["claims"].as_array().is_some_and(|c| c.is_empty()));
}
