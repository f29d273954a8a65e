//! Symbolica's unlicensed runtime aborts a second process that uses it at the same time;
//! derivcheck processes take turns through an advisory lock instead.

use std::process::{Command, Stdio};

#[test]
fn two_processes_started_together_both_finish_correctly() {
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_derivcheck"))
            .args(["check", "derivations"])
            // Both use the engine, not results kept from an earlier run.
            .env("DERIVCHECK_CACHE", "off")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("derivcheck starts")
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for out in [&a, &b] {
        assert_eq!(out.status.code(), Some(0), "{}\n{}", crate::text(&out.stdout), crate::text(&out.stderr));
    }
    // Same input, same seeds: the same verdicts, line for line.
    assert_eq!(crate::text(&a.stdout), crate::text(&b.stdout));
}

/// Claims, and Monte Carlo batches, run on as many threads as there are cores, each claim
/// from its own seed and each batch on its own stream of it, merged in order: the report
/// (every verdict, and the numbers: estimates, intervals, z to the digits it prints) does not
/// depend on how many threads there are.
#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let report = |threads: &str| {
        let dir = crate::scratch(&format!("threads-{threads}"));
        let out = Command::new(env!("CARGO_BIN_EXE_derivcheck"))
            .args(["report", "derivations/q2_momentum.md", "--format", "md", "--layout", "full", "-o", dir.to_str().unwrap()])
            .env("DERIVCHECK_THREADS", threads)
            // Both computed, not one read back from the cache.
            .env("DERIVCHECK_CACHE", "off")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("derivcheck runs");
        assert_eq!(out.status.code(), Some(0), "{}", crate::text(&out.stderr));
        std::fs::read_to_string(dir.join("report.md")).expect("report.md written")
    };
    let one = report("1");
    assert!(one.contains("Monte Carlo"), "q2 has Monte Carlo checks");
    assert_eq!(one, report("3"), "one thread and three threads give different reports");
}

/// Claims checked side by side ask the engine in an order that changes from run to run; the
/// engine orders a printed form's terms by when it first met each name, so each claim has
/// names of its own and its residuals read the same whatever ran beside it.
#[test]
fn printed_residuals_do_not_depend_on_the_number_of_threads() {
    let files = [
        "tests/data/err/residual_order_per_claim.md",
        "tests/data/unsound/accept_gaussian_mgf_wrong_params.md",
        "tests/data/unsound/accept_gauss_vector_swap.md",
        "tests/data/unsound/accept_cite_chain_through_unproved.md",
        "tests/data/unsound/accept_elementwise.md",
    ];
    let verdicts = |threads: &str| {
        let json = crate::scratch(&format!("residuals-{threads}")).join("out.json");
        let out = Command::new(env!("CARGO_BIN_EXE_derivcheck"))
            .arg("check")
            .args(files)
            .args(["--json", json.to_str().unwrap()])
            .env("DERIVCHECK_THREADS", threads)
            .env("DERIVCHECK_CACHE", "off")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("derivcheck runs");
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", crate::text(&out.stderr));
        std::fs::read_to_string(json).expect("JSON written")
    };
    let one = verdicts("1");
    assert!(one.contains("remaining difference"), "the files have residuals");
    assert_eq!(one, verdicts("3"), "one thread and three threads print different residuals");
}
