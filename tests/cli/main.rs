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

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built binary from the crate root.
pub fn derivcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_derivcheck")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("the derivcheck binary runs")
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
