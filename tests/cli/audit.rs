//! `derivcheck audit`: mutants of every step, judged as `check` judges them.

use serde_json::Value;

use crate::{derivcheck, scratch, text};

#[test]
fn audit_rejects_every_meaning_changing_mutant_of_a_correct_file() {
    let json = scratch("audit").join("audit.json");
    let out = derivcheck(&["audit", "tests/data/ok/small.md", "--json", json.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let summary = &value["summary"];
    let changed = summary["changed"].as_u64().unwrap();
    assert!(changed >= 20, "{summary}");
    assert_eq!(summary["rejected"], changed, "{summary}");
    assert!(stdout.contains(&format!("meaning changed: {changed}, rejected {changed} (100.0%)")), "{stdout}");
    let mutants = value["mutants"].as_array().unwrap();
    assert_eq!(mutants.len() as u64, summary["mutants"].as_u64().unwrap());
    for m in mutants {
        assert_ne!(m["original"], m["mutant"], "{m}");
        assert!(m["line"].as_u64().unwrap() > 0);
        if m["meaning"] == "changed" {
            assert!(!m["rejected_by"].as_array().unwrap().is_empty(), "{m}");
        }
    }
    for op in ["sign flip", "dropped factor", "doubled factor", "shifted index", "swapped operands", "wrong constant"] {
        assert!(mutants.iter().any(|m| m["operator"] == op), "no `{op}` mutant");
    }
}

#[test]
fn audit_of_bad_input_exits_with_2() {
    let out = derivcheck(&["audit", "tests/data/err/unbalanced_paren.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unbalanced_paren.md:7:31"), "{}", text(&out.stderr));
}
