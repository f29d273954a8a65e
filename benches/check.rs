//! `cargo bench`: wall-clock time of checking the worked derivations, per file and in all,
//! in process (the engine starts once). Prints the median and the spread of a few runs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use derivcheck::check::{Options, check_documents};

fn time<F: FnMut()>(runs: usize, mut f: F) -> (Duration, Duration, Duration) {
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort();
    (samples[0], samples[runs / 2], samples[runs - 1])
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("derivations");
    let mut targets: Vec<PathBuf> = std::fs::read_dir(&root).expect("derivations/").map(|e| e.expect("entry").path()).collect();
    targets.sort();
    targets.insert(0, root);
    let options = Options::default();
    // Warm the engine (thread start, process lock) outside the measurements.
    let warm = derivcheck::load(&targets[..1]).expect("derivations load");
    check_documents(&warm.documents, &warm.files, &options);
    eprintln!("{:<40} {:>10} {:>10} {:>10}", "input (load + check)", "min", "median", "max");
    for target in &targets {
        let (min, median, max) = time(5, || {
            let loaded = derivcheck::load(std::slice::from_ref(target)).expect("loads");
            let results = check_documents(&loaded.documents, &loaded.files, &options);
            assert!(results.all_verified(), "{} verifies", target.display());
        });
        let name = target.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(target).display().to_string();
        eprintln!("{name:<40} {:>9.1?} {:>9.1?} {:>9.1?}", min, median, max);
    }
}
