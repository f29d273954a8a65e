//! Integration tests: the CLI run as a user runs it, one module per feature.
//!
//! Every test here starts `derivcheck` processes; none uses the engine in this process,
//! so the processes never wait on this one for Symbolica's lock.

mod architecture;
mod audit;
mod concurrency;
mod fixtures;
mod names;
mod report;
mod usage;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built binary from the crate root.
pub fn derivcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_derivcheck")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("the derivcheck binary runs")
}

/// Runs the built binary like [`derivcheck`], but fails the test if it has not finished within
/// `limit`: a liveness guard for inputs that once hung, not a timing.
pub fn derivcheck_within(args: &[&str], limit: std::time::Duration) -> Output {
    use std::process::Stdio;
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("runs-{}", std::process::id())).join(run.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_derivcheck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
        .spawn()
        .expect("the derivcheck binary runs");
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("derivcheck {} did not finish within {limit:?}", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let output = Output { status, stdout: std::fs::read(&out).unwrap(), stderr: std::fs::read(&err).unwrap() };
    let _ = std::fs::remove_dir_all(&dir);
    output
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh, empty folder under the target dir for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}
