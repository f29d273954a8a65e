//! `cargo bench`: wall-clock time of checking the worked derivations, per file and in all,
//! in process (the engine starts once): the median and the spread of a few runs, then where
//! the time of one run of all of them goes, by layer and by claim.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use derivcheck::check::{Options, Results, check_documents};

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

/// Seconds per layer over every step and every piece of evidence, and the claims' time
/// outside their layers (settings, models, bookkeeping).
fn per_layer(results: &Results) -> BTreeMap<&'static str, f64> {
    let mut seconds = BTreeMap::new();
    for claim in results.claims() {
        let layers = claim.steps().flat_map(|s| &s.layers).chain(&claim.evidence);
        let mut inside = 0.0;
        for layer in layers {
            *seconds.entry(layer.layer.name()).or_insert(0.0) += layer.seconds;
            inside += layer.seconds;
        }
        *seconds.entry("(outside the layers)").or_insert(0.0) += (claim.seconds - inside).max(0.0);
    }
    seconds
}

fn main() {
    // `cargo bench -- [FOLDER] [--samples N]`: the worked derivations by default.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let samples = args.iter().position(|a| a == "--samples").and_then(|i| args.get(i + 1)).map(|n| n.parse().expect("--samples N"));
    let folder = args.iter().enumerate().find(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--samples")).map(|(_, a)| a.clone());
    // The worked derivations must verify; another folder is measured as it is.
    let must_verify = folder.is_none();
    let root = folder.map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("derivations"), PathBuf::from);
    let mut targets: Vec<PathBuf> = std::fs::read_dir(&root).expect("derivations/").map(|e| e.expect("entry").path()).collect();
    targets.sort();
    targets.insert(0, root.clone());
    let options = Options { samples: samples.unwrap_or(Options::default().samples), ..Options::default() };
    // Warm the engine (thread start, process lock) and the library's cache outside the
    // measurements.
    let warm = derivcheck::load(&targets[..1]).expect("derivations load");
    let results = check_documents(&warm.documents, &warm.files, &options);
    eprintln!("{:<40} {:>10} {:>10} {:>10}", "input (load + check)", "min", "median", "max");
    for target in &targets {
        let (min, median, max) = time(3, || {
            let loaded = derivcheck::load(std::slice::from_ref(target)).expect("loads");
            let results = check_documents(&loaded.documents, &loaded.files, &options);
            assert!(!must_verify || results.all_verified(), "{} verifies", target.display());
        });
        let name = target.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(target).display().to_string();
        eprintln!("{name:<40} {:>9.1?} {:>9.1?} {:>9.1?}", min, median, max);
    }
    eprintln!("\nwhere the time of checking goes (one run; seconds summed over the claims, which run on every core)");
    for (layer, seconds) in per_layer(&results) {
        eprintln!("  {layer:<24} {seconds:>8.3} s");
    }
    let mut slowest: Vec<_> = results.documents.iter().flat_map(|d| d.claims.iter().map(move |c| (c.seconds, &d.path, &c.name))).collect();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    eprintln!("\nslowest claims");
    for (seconds, path, name) in slowest.iter().take(10) {
        eprintln!("  {seconds:>8.3} s  {name} ({path})");
    }
}
