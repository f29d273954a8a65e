//! Named numerical experiments of the library (`check experiment NAME(…)`). They do not read
//! the claim's statement.

use super::montecarlo::{Moments, bonferroni_z};
use crate::language::ast::Expr;
use crate::model::{Model, ModelSpec};
use crate::verdict::{Curve, Layer, LayerResult, Plot, Table, Verdict};

/// Runs a named experiment of the library.
pub fn experiment(name: &str, args: &[(String, Expr)], seed: u64) -> LayerResult {
    let arg = |key: &str, default: f64| {
        args.iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, e)| crate::model::constant(e))
            .map_or(default, |v| num_traits::ToPrimitive::to_f64(&v).unwrap_or(default))
    };
    match name {
        "gaussian_integral" => gaussian_integral(arg("w_max", 2.0), arg("points", 9.0) as usize),
        "positive_features" => {
            positive_features(arg("d", 4.0) as usize, arg("scale", 0.5), arg("repeats", 2000.0) as usize, arg("max_m", 256.0) as usize, seed)
        }
        other => LayerResult::new(Layer::Experiment, Verdict::NotApplicable, format!("unknown experiment `{other}`")),
    }
}

fn not_applicable(why: &str) -> LayerResult {
    LayerResult::new(Layer::Experiment, Verdict::NotApplicable, why)
}

/// `∫ exp(x w) φ(x) dx = exp(w²/2)` in one dimension, by composite Simpson quadrature on
/// [-14, 14] (the tails beyond are below 1e-40 for |w| ≤ 4), at `points` values of `w`.
fn gaussian_integral(w_max: f64, points: usize) -> LayerResult {
    // Beyond |w| = 6 the integrand's peak at x = w is too narrow and too far out for the
    // fixed grid: the rule, not the identity, would fail.
    let usable = w_max > 0.0 && w_max <= 6.0 && (2..=1000).contains(&points);
    if !usable {
        return not_applicable("gaussian_integral needs 0 < w_max <= 6 (where Simpson's rule on its grid is accurate) and 2 to 1000 points");
    }
    let mut rows = Vec::new();
    let mut worst: f64 = 0.0;
    for k in 0..points {
        let w = -w_max + 2.0 * w_max * k as f64 / (points - 1) as f64;
        let f = |x: f64| (x * w - x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let (a, b, n) = (-14.0, 14.0, 20_000);
        let h = (b - a) / n as f64;
        let inner: f64 = (1..n).map(|i| f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 }).sum();
        let integral = h / 3.0 * (f(a) + inner + f(b));
        let exact = (w * w / 2.0).exp();
        let relative = (integral / exact - 1.0).abs();
        worst = worst.max(relative);
        rows.push(vec![format!("{w:.3}"), format!("{integral:.12}"), format!("{exact:.12}"), format!("{relative:.1e}")]);
    }
    let holds = worst <= 1e-9;
    LayerResult {
        table: Some(Table { columns: vec!["w".into(), "integral".into(), "exp(w²/2)".into(), "relative error".into()], rows }),
        ..LayerResult::new(
            Layer::Experiment,
            if holds { Verdict::Holds } else { Verdict::Refuted },
            format!(
                "∫ exp(x·w) φ(x) dx by Simpson's rule at {points} values of w in [−{w_max}, {w_max}]: largest relative error {worst:.1e} (tolerance 1e-9)"
            ),
        )
    }
}

/// Positive random features for `exp(q·k)` (Performer, Lemma 1): one feature is
/// `Z = exp(w·(q+k) − |q|²/2 − |k|²/2)` with `w ~ N(0, I)`. Checks, on fixed random `q`, `k`:
/// the mean of `Z` against `exp(q·k)`; `log Z` against its exact law
/// `N(q·k − |q+k|²/2, |q+k|²)` (mean and variance); and the relative RMSE of the average of
/// `m` features against `sqrt((exp(|q+k|²) − 1)/m)`, with its log-log slope near −1/2.
fn positive_features(d: usize, scale: f64, repeats: usize, max_m: usize, seed: u64) -> LayerResult {
    let usable = (1..=4096).contains(&d)
        && scale > 0.0
        && scale <= 10.0
        && repeats >= 2
        && (2..=65536).contains(&max_m)
        && repeats.saturating_mul(max_m) <= 100_000_000;
    if !usable {
        return not_applicable(
            "positive_features needs 1 <= d <= 4096, 0 < scale <= 10, repeats >= 2, 2 <= max_m <= 65536 and repeats × max_m <= 10^8",
        );
    }
    let spec = ModelSpec::default();
    let mut model: Model<f64> = Model::new(&spec, seed);
    let normal = |model: &mut Model<f64>| model.standard_normal();
    let q: Vec<f64> = (0..d).map(|_| scale * normal(&mut model)).collect();
    let k: Vec<f64> = (0..d).map(|_| scale * normal(&mut model)).collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let s: Vec<f64> = q.iter().zip(&k).map(|(a, b)| a + b).collect();
    let (qk, s2) = (dot(&q, &k), dot(&s, &s));
    let offset = -dot(&q, &q) / 2.0 - dot(&k, &k) / 2.0;
    let exact_mean = qk.exp();
    let exact_var = (2.0 * qk).exp() * (s2.exp() - 1.0);
    // One feature's relative variance is exp(|q+k|²) − 1: beyond about 20 the averages are
    // ruled by rare huge features and no z-test over this many samples can be trusted.
    if s2 > 3.0 {
        return not_applicable(&format!(
            "with these q, k (|q+k|² = {s2:.2}) one feature's relative variance exp(|q+k|²) − 1 is {:.0}: the tails are too heavy for the tests; choose a smaller scale",
            s2.exp() - 1.0
        ));
    }
    let feature = |model: &mut Model<f64>| -> (f64, f64) {
        let w: Vec<f64> = (0..d).map(|_| normal(model)).collect();
        let log_z = dot(&w, &s) + offset;
        (log_z.exp(), log_z)
    };
    // 1. Mean of Z and the law of log Z, from repeats × max_m single features.
    let (mut z, mut log_z) = (Moments::default(), Moments::default());
    for _ in 0..repeats * max_m {
        let (a, b) = feature(&mut model);
        z.push(a);
        log_z.push(b);
    }
    let tests = 3;
    let z_star = bonferroni_z(tests);
    let z_mean = (z.mean - exact_mean) / z.standard_error();
    let z_log_mean = (log_z.mean - (qk - s2 / 2.0)) / log_z.standard_error();
    let n = log_z.n;
    let z_log_var = (log_z.variance() / s2 - 1.0) * ((n - 1.0) / 2.0).sqrt();
    // 2. RMSE of the m-feature average against m.
    let mut rows = Vec::new();
    let mut measured = Vec::new();
    let mut predicted = Vec::new();
    let mut m = 1;
    while m <= max_m {
        let mut squared = 0.0;
        for _ in 0..repeats {
            let estimate = (0..m).map(|_| feature(&mut model).0).sum::<f64>() / m as f64;
            squared += (estimate / exact_mean - 1.0).powi(2);
        }
        let rmse = (squared / repeats as f64).sqrt();
        let theory = ((s2.exp() - 1.0) / m as f64).sqrt();
        rows.push(vec![m.to_string(), format!("{rmse:.5}"), format!("{theory:.5}")]);
        measured.push((m as f64, rmse));
        predicted.push((m as f64, theory));
        m *= 2;
    }
    let slope = {
        let xs: Vec<f64> = measured.iter().map(|p| p.0.ln()).collect();
        let ys: Vec<f64> = measured.iter().map(|p| p.1.ln()).collect();
        let (mx, my) = (xs.iter().sum::<f64>() / xs.len() as f64, ys.iter().sum::<f64>() / ys.len() as f64);
        xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum::<f64>() / xs.iter().map(|x| (x - mx).powi(2)).sum::<f64>()
    };
    let slope_ok = (slope + 0.5).abs() <= 0.1;
    let stats_ok = z_mean.abs() <= z_star && z_log_mean.abs() <= z_star && z_log_var.abs() <= z_star;
    let detail = format!(
        "d = {d}, |q+k|² = {s2:.4}, {} single features and {repeats} repeats per m (seed {seed}); mean of Z: {:.5} against exp(q·k) = {exact_mean:.5} (z = {z_mean:.2}); \
         log Z: mean z = {z_log_mean:.2}, variance z = {z_log_var:.2} (threshold {z_star:.2}, 4σ family level over {tests} tests); \
         variance of Z: {:.5} against exp(2q·k)(exp(|q+k|²) − 1) = {exact_var:.5}; log-log slope of RMSE against m: {slope:.3} (expected −1/2 ± 0.1)",
        repeats * max_m,
        z.mean,
        z.variance(),
    );
    LayerResult {
        table: Some(Table { columns: vec!["m".into(), "relative RMSE (measured)".into(), "sqrt((exp(|q+k|²) − 1)/m)".into()], rows }),
        plot: Some(Plot {
            title: "Relative RMSE of the positive-feature estimate".into(),
            x_label: "m (features)".into(),
            y_label: "relative RMSE".into(),
            log_x: true,
            log_y: true,
            curves: vec![
                Curve { label: "measured".into(), points: measured, intervals: None },
                Curve { label: "closed form".into(), points: predicted, intervals: None },
            ],
        }),
        ..LayerResult::new(Layer::Experiment, if slope_ok && stats_ok { Verdict::Holds } else { Verdict::Refuted }, detail)
    }
}
