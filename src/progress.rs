//! Progress bars on stderr, for long work. A bar draws only when stderr is a terminal; in
//! pipes, CI logs and tests it is hidden, so the output stays quiet and deterministic.

use std::io::IsTerminal;

pub use indicatif::ProgressBar;

/// A bar of `len` steps labelled `what`, or a hidden one when stderr is not a terminal.
/// Call `inc(1)` per step and `finish_and_clear()` at the end.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {elapsed}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr()).with_style(style).with_message(what.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bar_in_tests_is_hidden() {
        // cargo test captures stderr through a pipe, or runs under CI without a terminal.
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            assert!(super::bar(3, "test").is_hidden());
        }
    }
}
