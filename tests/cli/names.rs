//! The generated name sweep: every Greek spelling and every common function name, declared as
//! a scalar, a sequence and a function, must mean nothing but what the file says. A name the
//! engine gave its own meaning to (γ as the Gamma function, `tan`, `pi`, `e`, `i`, ∞) would make
//! one of the false claims below provable; with opaque names none is verified, and a true
//! control claim about each name still is.

use serde_json::Value;

use crate::{derivcheck, scratch, text};

const GREEK: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "varpi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Upsilon",
    "Phi",
    "Psi",
    "Omega",
    "α",
    "β",
    "γ",
    "δ",
    "ε",
    "ζ",
    "η",
    "θ",
    "ι",
    "κ",
    "λ",
    "μ",
    "ν",
    "ξ",
    "ο",
    "π",
    "ρ",
    "σ",
    "ς",
    "τ",
    "υ",
    "φ",
    "χ",
    "ψ",
    "ω",
    "Γ",
    "Δ",
    "Θ",
    "Λ",
    "Ξ",
    "Π",
    "Σ",
    "Υ",
    "Φ",
    "Ψ",
    "Ω",
];

const FUNCTIONS: &[&str] = &[
    "sin",
    "cos",
    "tan",
    "cot",
    "sec",
    "csc",
    "sinh",
    "cosh",
    "tanh",
    "coth",
    "sech",
    "csch",
    "asin",
    "acos",
    "atan",
    "atan2",
    "arcsin",
    "arccos",
    "arctan",
    "asinh",
    "acosh",
    "atanh",
    "erf",
    "erfc",
    "lgamma",
    "digamma",
    "polygamma",
    "li",
    "polylog",
    "sgn",
    "floor",
    "ceil",
    "round",
    "mod",
    "conj",
    "re",
    "im",
    "arg",
    "factorial",
    "binomial",
    "bernoulli",
    "heaviside",
    "dirac",
    "ln",
    "log2",
    "log10",
    "exp2",
    "sinc",
    "sigmoid",
    "relu",
    "softplus",
    "max",
    "min",
    "gcd",
    "lcm",
    "e",
    "i",
    "inf",
    "infinity",
    "nan",
    "oo",
    "x",
    "f",
    "g",
    "cosine",
    "coeff",
    "series",
    "der",
    "integrate",
    "symbol",
];

/// The claims generated for one name of one kind: `(statement, true?)`.
fn claims(name: &str, kind: &str) -> Vec<(String, bool)> {
    let n = name;
    let false_claims: Vec<String> = match kind {
        "scalar" => vec![format!("{n} = 0"), format!("{n} = 1"), format!("log({n}) = 1"), format!("{n}^2 = -1"), format!("{n} + 1 = {n}")],
        "sequence" => {
            vec![format!("{n}[0] = 0"), format!("{n}[1] = 1"), format!("{n}[2] = 1"), format!("{n}[0] + 1 = {n}[0]"), format!("{n}[2] = {n}[3]")]
        }
        _ => vec![format!("{n}(0) = 0"), format!("{n}(0) = 1"), format!("{n}(1) = 0"), format!("{n}(1) = 1"), format!("{n}(0) + 1 = {n}(0)")],
    };
    let control = match kind {
        "scalar" => format!("({n} + 1)^2 = {n}^2 + 2*{n} + 1"),
        "sequence" => format!("({n}[1] + {n}[2])^2 = {n}[1]^2 + 2*{n}[1]*{n}[2] + {n}[2]^2"),
        _ => format!("({n}(a) + 1)^2 = {n}(a)^2 + 2*{n}(a) + 1"),
    };
    false_claims.into_iter().map(|c| (c, false)).chain([(control, true)]).collect()
}

#[test]
fn no_user_name_means_anything_to_the_engine() {
    let mut spelled: Vec<&str> = GREEK.iter().chain(FUNCTIONS).copied().filter(|n| n.is_ascii()).collect();
    spelled.sort_unstable();
    spelled.dedup();
    // Typed Greek letters are the same names as their spellings, so they get files of their own.
    let typed: Vec<&str> = GREEK.iter().copied().filter(|n| !n.is_ascii()).collect();
    let dir = scratch("name-sweep");
    for kind in ["scalar", "sequence", "function"] {
        for (group, names) in [("spelled", &spelled), ("typed", &typed)] {
            let mut source = format!("# Names as {kind}s\n\n```derivation\nlet {}: {kind}\nlet a: scalar\n", names.join(", "));
            let mut expected = Vec::new();
            for (i, name) in names.iter().enumerate() {
                for (j, (statement, truth)) in claims(name, kind).into_iter().enumerate() {
                    let label = format!("n{i}_{j}");
                    let (lhs, rhs) = statement.split_once(" = ").unwrap();
                    source.push_str(&format!("claim {label}: {statement}\nproof\n  {lhs} = {rhs}   by algebra\nqed\n"));
                    expected.push((label, statement, truth));
                }
            }
            source.push_str("```\n");
            let file = dir.join(format!("{kind}-{group}.md"));
            std::fs::write(&file, &source).unwrap();
            let json = dir.join(format!("{kind}-{group}.json"));
            let out = derivcheck(&["check", file.to_str().unwrap(), "--json", json.to_str().unwrap()]);
            let context = format!("{} {kind}s\n--- stderr\n{}", names.len(), text(&out.stderr));
            let value: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_else(|_| panic!("no JSON: {context}"))).unwrap();
            assert_eq!(value["errors"].as_array().map(Vec::len), Some(0), "every name can be declared: {context}\n{}", value["errors"]);
            let mut wrong = Vec::new();
            for (label, statement, truth) in &expected {
                let claim = value["claims"].as_array().unwrap().iter().find(|c| c["claim"] == label.as_str());
                let status = claim.unwrap_or_else(|| panic!("claim {label} missing: {context}"))["status"].as_str().unwrap();
                if *truth && status != "verified" {
                    wrong.push(format!("true `{statement}` is {status}"));
                }
                if !truth && matches!(status, "verified" | "supported") {
                    wrong.push(format!("false `{statement}` is {status}"));
                }
            }
            assert!(wrong.is_empty(), "as {kind}s:\n{}", wrong.join("\n"));
            assert_eq!(expected.len(), names.len() * 6);
        }
    }
}
