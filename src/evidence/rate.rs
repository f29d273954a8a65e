//! `check rate`: how fast an error falls along a sweep of a parameter. At each value of the
//! parameter the root mean square of the file's own expression is estimated by sampling the
//! declared distributions; the slope of its logarithm against the parameter's is fitted in
//! all the samples and tested against the stated exponent, with a standard error from the
//! spread of the slopes fitted in each of 20 batches, at the Monte Carlo family level.

use std::collections::HashMap;

use num_rational::BigRational;
use num_traits::ToPrimitive;

use super::montecarlo::{LEVEL_SIGMAS, check_values};
use crate::language::ast::{Expr, MonteCarloSetup};
use crate::model::{Model, ModelSpec, Value, Wide};
use crate::verdict::{Counterexample, Curve, Layer, LayerResult, Plot, Table, Verdict};

const BATCHES: usize = 20;

/// A slope known to within this (one standard error) says something; a noisier one does not.
const MAX_STANDARD_ERROR: f64 = 0.1;

/// The largest part of a mean square one sample may make.
const MAX_SHARE: f64 = 0.1;

/// The most evaluations of the error's terms a check may ask for (samples times the sum of
/// the sweep's values, a rough measure of the work).
const MAX_WORK: u64 = 20_000_000;

/// Samples per value of the sweep recomputed in 320-bit floats, to see whether double
/// precision keeps the error's digits.
const RECHECKED: usize = 8;

/// How far a value of the root mean square may sit from the fitted power law, in its logarithm
/// (beyond 4 of its standard errors): 0.1 is about 10%.
const MAX_MISFIT: f64 = 0.1;

pub fn check(spec: &ModelSpec, error: &Expr, var: &str, rate: &BigRational, values: &[i64], setup: &MonteCarloSetup, seed: u64) -> LayerResult {
    let fail = |detail: String| LayerResult::new(Layer::Rate, Verdict::NotApplicable, detail);
    let rate = rate.to_f64().unwrap_or(f64::NAN);
    let mut spec = spec.clone();
    for (name, mean, sd) in &setup.draws {
        spec.distributions.insert(name.clone(), (mean.clone(), sd.clone()));
        spec.random.insert(name.clone());
    }
    spec.unusable = None;
    let samples = setup.samples;
    if samples < 20 * BATCHES {
        return fail(format!("a rate check needs {} samples at least ({} per batch), to know how far its slope can be trusted", 20 * BATCHES, 20));
    }
    let work = samples as u64 * values.iter().map(|&v| v.unsigned_abs()).sum::<u64>();
    if work > MAX_WORK {
        return fail(format!(
            "{samples} samples at values of {var} summing to {} is too much work (samples times the values at most {MAX_WORK})",
            work / samples as u64
        ));
    }
    let batch = samples.div_ceil(BATCHES);
    // Per value of the sweep, per batch: the sum of the squared errors and their number.
    let mut sums = vec![vec![(0.0f64, 0usize); BATCHES]; values.len()];
    // The largest squared error at each value: how much of the mean square one sample makes.
    let mut largest = vec![0.0f64; values.len()];
    let mut undefined = 0usize;
    for (i, &v) in values.iter().enumerate() {
        let mut at = spec.clone();
        let mut values_here = setup.values.clone();
        values_here.push((var.to_string(), Expr::int(v, error.span)));
        at.definitions = check_values(&values_here).into_iter().chain(spec.definitions.iter().cloned()).collect();
        at.sizes.extend(setup.sizes.iter().cloned());
        for s in 0..samples {
            // Every sample draws everything afresh, from its own seed.
            let mut model: Model<f64> = Model::new(&at, mix(seed, i, s));
            let value = model.eval(error, &HashMap::new());
            if s < RECHECKED
                && let Ok(Value::S(e)) = &value
                && let Some(why) = loses_digits(&at, error, mix(seed, i, s), *e)
            {
                return fail(format!("at {var} = {v}, {why}"));
            }
            match value {
                Ok(Value::S(e)) if e.is_finite() => {
                    largest[i] = largest[i].max(e * e);
                    let cell = &mut sums[i][s / batch];
                    cell.0 += e * e;
                    cell.1 += 1;
                }
                Ok(Value::S(_)) => undefined += 1,
                Ok(other) => return fail(format!("the error is not a number but {other}")),
                Err(stop) => {
                    let why = super::stop_text(stop);
                    if undefined > samples / 100 {
                        return fail(format!("the error cannot be evaluated at many samples ({why})"));
                    }
                    undefined += 1;
                }
            }
        }
    }
    if undefined * 100 > samples * values.len() {
        return fail(format!("the error is undefined or infinite at {undefined} of {} samples", samples * values.len()));
    }
    // A mean square that rests on a few samples says nothing about how it falls (an error
    // whose mean square is infinite looks like one that falls, slowly and erratically).
    let share = sums
        .iter()
        .zip(&largest)
        .map(|(per_value, top)| top / per_value.iter().map(|c| c.0).sum::<f64>().max(f64::MIN_POSITIVE))
        .fold(0.0f64, f64::max);
    if share > MAX_SHARE {
        return fail(format!(
            "the tails are too heavy: one sample makes {:.0}% of a mean square (at most {:.0}%), so it rests on a few draws (smaller draws, or an error with a finite fourth moment)",
            100.0 * share,
            100.0 * MAX_SHARE
        ));
    }
    if let Some((i, _)) = sums.iter().enumerate().find(|(_, per_value)| per_value.iter().any(|c| !c.0.is_finite())) {
        return fail(format!("at {var} = {}, the squared errors overflow double precision (scale the error down)", values[i]));
    }
    if let Some((i, _)) = sums.iter().enumerate().find(|(_, per_value)| per_value.iter().all(|c| c.0 == 0.0)) {
        return fail(format!(
            "at {var} = {}, the error is 0 at every sample (or so small that its square is 0 in double precision): there is no rate to fit",
            values[i]
        ));
    }
    let xs: Vec<f64> = values.iter().map(|&v| (v as f64).ln()).collect();
    let rms = |cells: &[(f64, usize)]| {
        let (sq, n) = cells.iter().fold((0.0, 0), |(a, b), (s, k)| (a + s, b + k));
        (sq / n.max(1) as f64).sqrt()
    };
    let slopes: Vec<f64> = (0..BATCHES)
        .filter(|&b| sums.iter().all(|per_value| per_value[b].1 > 0))
        .map(|b| slope(&xs, &sums.iter().map(|per_value| rms(&per_value[b..b + 1]).ln()).collect::<Vec<_>>()))
        .collect();
    if slopes.len() < BATCHES / 2 || slopes.iter().any(|s| !s.is_finite()) {
        return fail("too few batches of samples to fit a slope (a batch where the error is 0 at every sample of some value)".into());
    }
    let mean = slopes.iter().sum::<f64>() / slopes.len() as f64;
    let sd = (slopes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (slopes.len() - 1) as f64).sqrt();
    let se = sd / (slopes.len() as f64).sqrt();
    let overall: Vec<f64> = sums.iter().map(|per_value| rms(per_value)).collect();
    let fitted = slope(&xs, &overall.iter().map(|r| r.ln()).collect::<Vec<_>>());
    // The slope of all the samples is tested (a batch's log of a root mean square is biased
    // low by its few samples); the batches tell how far it may be from the true one.
    if !fitted.is_finite() {
        return fail("the slope of all the samples is not a number (the squared errors overflow)".into());
    }
    let stated = if rate.fract() == 0.0 { format!("{rate}") } else { format!("{rate:.3}") };
    let apart = if se > 0.0 {
        format!("{:.1} standard errors from the stated {stated}", ((fitted - rate) / se).abs())
    } else {
        format!("the batches agree exactly; the stated {stated}")
    };
    let summary = format!(
        "{samples} samples at each of {} values of {var} (seed {seed}): the root mean square of the error goes like {var}^{fitted:.3} ± {se:.3} (standard error from the slopes of {} batches, mean {mean:.3}), {apart}",
        values.len(),
        slopes.len()
    );
    // A power law is a straight line in logarithms: a value far from the fitted line (beyond
    // its own batches' spread and 10%) shows the error does not go like any power of `var`.
    let intercept = overall.iter().map(|r| r.ln()).sum::<f64>() / xs.len() as f64 - fitted * xs.iter().sum::<f64>() / xs.len() as f64;
    for (i, r) in overall.iter().enumerate() {
        let logs: Vec<f64> = (0..BATCHES).filter(|&b| sums[i][b].1 > 0).map(|b| rms(&sums[i][b..b + 1]).ln()).collect();
        let m = logs.iter().sum::<f64>() / logs.len() as f64;
        let spread = (logs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (logs.len().max(2) - 1) as f64).sqrt() / (logs.len() as f64).sqrt();
        let line = intercept + fitted * xs[i];
        if (r.ln() - line).abs() > (LEVEL_SIGMAS * spread).max(MAX_MISFIT) {
            let mut result = LayerResult::new(
                Layer::Rate,
                Verdict::Refuted,
                format!(
                    "{summary}; but the error does not go like a power of {var}: at {var} = {} its root mean square is {r:.4e}, the fitted power law gives {:.4e}",
                    values[i],
                    line.exp()
                ),
            );
            result.table =
                Some(table(var, values, &overall, &|x| (line - fitted * xs[i] + fitted * x.ln()).exp(), &format!("{var}^{fitted:.3}, fitted")));
            result.counterexample = Some(Counterexample {
                values: vec![(var.to_string(), values[i].to_string())],
                lhs: format!("root mean square {r:.4e}"),
                rhs: format!("power law {:.4e}", line.exp()),
            });
            return result;
        }
    }
    // Heavy tails make the batches' spread an unsure standard error (a true rate was found
    // 4.6 of them away at one seed in twenty): a slope within 0.1 of the stated exponent (10%
    // of a steeper one) holds whatever the standard error. So a rate check tells m^(-1/2)
    // from m^(-1) or m^(-1/4), not from m^(-0.45).
    let tolerance = (LEVEL_SIGMAS * se).max(0.1 * rate.abs().max(1.0));
    let verdict = if se > MAX_STANDARD_ERROR {
        return fail(format!("{summary}: too noisy to test a rate (more samples, or smaller draws)"));
    } else if (fitted - rate).abs() <= tolerance {
        Verdict::Holds
    } else {
        Verdict::Refuted
    };
    let threshold = format!(
        "it must be within {tolerance:.3} of it: {LEVEL_SIGMAS:.0} standard errors (the Monte Carlo family level), and at least 0.1 or 10% of the stated exponent"
    );
    let mut result = LayerResult::new(Layer::Rate, verdict, format!("{summary} ({threshold})"));
    if verdict == Verdict::Refuted {
        result.counterexample = Some(Counterexample {
            values: values.iter().zip(&overall).map(|(v, r)| (format!("{var} = {v}"), format!("{r:.4e}"))).collect(),
            lhs: format!("{var}^{fitted:.3} ± {se:.3}"),
            rhs: format!("{var}^{stated}"),
        });
    }
    let reference = |x: f64| overall[0] * (x / values[0] as f64).powf(rate);
    result.table = Some(table(var, values, &overall, &reference, &format!("stated rate through the first ({var}^{stated})")));
    result.plot = Some(Plot {
        title: format!("Error against {var}"),
        x_label: var.to_string(),
        y_label: "root mean square error".into(),
        log_x: true,
        log_y: true,
        curves: vec![
            Curve { label: "sampled".into(), points: values.iter().map(|&v| v as f64).zip(overall.iter().copied()).collect(), intervals: None },
            Curve { label: format!("{var}^{stated}"), points: values.iter().map(|&v| (v as f64, reference(v as f64))).collect(), intervals: None },
        ],
    });
    result
}

fn table(var: &str, values: &[i64], overall: &[f64], reference: &dyn Fn(f64) -> f64, label: &str) -> Table {
    Table {
        columns: vec![var.to_string(), "root mean square error".into(), label.to_string()],
        rows: values.iter().zip(overall).map(|(v, r)| vec![v.to_string(), format!("{r:.4e}"), format!("{:.4e}", reference(*v as f64))]).collect(),
    }
}

/// Whether double precision keeps the error's digits at one sample: the same draws in 320-bit
/// floats must give the same value to a millionth (`(u + h)^2 - u^2` at a tiny `h` does not).
fn loses_digits(spec: &ModelSpec, error: &Expr, seed: u64, double: f64) -> Option<String> {
    let mut wide: Model<Wide> = Model::new(spec, seed);
    let Ok(Value::S(precise)) = wide.eval(error, &HashMap::new()) else {
        return Some("a sample cannot be recomputed in 320-bit floats, so its rounding cannot be measured".into());
    };
    let p = crate::model::Number::to_f64(&precise);
    let scale = p.abs().max(double.abs());
    let gap = (p - double).abs();
    (scale > 0.0 && gap > 1e-6 * scale || (p == 0.0) != (double == 0.0))
        .then(|| format!("double precision loses the error to rounding: a sample is {double:e} in double precision and {p:e} in 320-bit floats"))
}

/// The least-squares slope of `ys` against `xs`.
fn slope(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    sxy / sxx
}

/// A seed for sample `s` at the `i`-th value of the sweep (SplitMix64 of the three).
fn mix(seed: u64, i: usize, s: usize) -> u64 {
    let mut z = seed ^ ((i as u64) << 40) ^ (s as u64);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::slope;

    #[test]
    fn the_slope_of_a_power_law_is_its_exponent() {
        let xs: Vec<f64> = [1.0f64, 4.0, 16.0, 64.0].iter().map(|x| x.ln()).collect();
        let ys: Vec<f64> = [1.0f64, 4.0, 16.0, 64.0].iter().map(|x| (3.0 * x.powf(-0.5)).ln()).collect();
        assert!((slope(&xs, &ys) + 0.5).abs() < 1e-12);
    }
}
