//! Symbolica's unlicensed runtime aborts a second process that uses it at the same time;
//! derivcheck processes take turns through an advisory lock instead.

use std::process::{Command, Stdio};

#[test]
fn two_processes_started_together_both_finish_correctly() {
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_derivcheck"))
            .args(["check", "derivations"])
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
