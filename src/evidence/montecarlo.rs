//! The Monte Carlo layer: simulates the file's own definitions with the declared
//! distributions, estimates each side's expectation at every point of a range, and compares
//! them with a z-test at a stated level, Bonferroni-corrected over the points.

use std::collections::HashMap;

use crate::language::ast::{BigOp, BinOp, Expr, ExprKind, Fact, MonteCarloSetup, Rel, Relation};
use num_traits::Zero;

use crate::model::{Definition, LANES, Model, ModelSpec, Number, Stop, Tape, Trace, Traced, Value, Wide, int};
use crate::verdict::{Counterexample, Curve, Layer, LayerResult, Plot, Table, Verdict};

/// The per-check level: what 4 standard errors leave out, two-sided.
pub const LEVEL_SIGMAS: f64 = 4.0;

/// `erfc(x)`, fractional error below 1.2e-7 (Numerical Recipes' Chebyshev fit).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The two-sided tail probability of a standard normal beyond `z`.
fn two_sided_tail(z: f64) -> f64 {
    erfc(z / std::f64::consts::SQRT_2)
}

/// The `z` whose two-sided tail is `p`, by bisection.
pub fn z_for_tail(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if two_sided_tail(mid) > p { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// The threshold for `points` simultaneous comparisons at the 4-sigma family level.
pub fn bonferroni_z(points: usize) -> f64 {
    z_for_tail(two_sided_tail(LEVEL_SIGMAS) / points.max(1) as f64)
}

/// Running mean, variance and kurtosis (Welford's updates, extended to the fourth moment).
#[derive(Default, Clone, Copy)]
pub struct Moments {
    pub n: f64,
    pub mean: f64,
    m2: f64,
    m3: f64,
    m4: f64,
}

impl Moments {
    pub fn push(&mut self, x: f64) {
        let n1 = self.n;
        self.n += 1.0;
        let n = self.n;
        let delta = x - self.mean;
        let delta_n = delta / n;
        let term = delta * delta_n * n1;
        self.mean += delta_n;
        self.m4 += term * delta_n * delta_n * (n * n - 3.0 * n + 3.0) + 6.0 * delta_n * delta_n * self.m2 - 4.0 * delta_n * self.m3;
        self.m3 += term * delta_n * (n - 2.0) - 3.0 * delta_n * self.m2;
        self.m2 += term;
    }

    /// The moments of both samples together (Chan, Golub and LeVeque's pairwise update, to
    /// the fourth moment): batches computed apart, merged in a fixed order.
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0.0 {
            return;
        }
        if self.n == 0.0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.n, other.n);
        let n = na + nb;
        let delta = other.mean - self.mean;
        let (d2, d3, d4) = (delta * delta, delta * delta * delta, delta * delta * delta * delta);
        let m4 = self.m4
            + other.m4
            + d4 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n)
            + 6.0 * d2 * (na * na * other.m2 + nb * nb * self.m2) / (n * n)
            + 4.0 * delta * (na * other.m3 - nb * self.m3) / n;
        let m3 = self.m3 + other.m3 + d3 * na * nb * (na - nb) / (n * n) + 3.0 * delta * (na * other.m2 - nb * self.m2) / n;
        let m2 = self.m2 + other.m2 + d2 * na * nb / n;
        *self = Moments { n, mean: self.mean + delta * nb / n, m2, m3, m4 };
    }

    /// `E[(x - mean)^4] / var^2`: 3 for a Gaussian, large for heavy tails.
    pub fn kurtosis(&self) -> f64 {
        if self.m2 > 0.0 { self.n * self.m4 / (self.m2 * self.m2) } else { 0.0 }
    }

    pub fn variance(&self) -> f64 {
        if self.n > 1.0 { self.m2 / (self.n - 1.0) } else { f64::NAN }
    }

    pub fn standard_error(&self) -> f64 {
        (self.variance() / self.n).sqrt()
    }
}

fn scalar<N: Number>(v: Value<N>) -> Result<N, Stop> {
    match v {
        Value::S(x) => Ok(x),
        _ => Err(Stop::NotApplicable("a Monte Carlo side is not a scalar".into())),
    }
}

/// How a Monte Carlo estimate is read: as evidence beside a proof, or as the whole support of
/// a simulation claim, which must not hold a name at one arbitrary draw and rechecks its paths
/// for rounding before it holds, not only before it refutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    Evidence,
    Statement,
}

/// Runs the check; the relation's sides are random variables once `E[…]` is read as one draw.
pub fn check(spec: &ModelSpec, relation: &Relation, conditions: &[Fact], setup: &MonteCarloSetup, seed: u64, reading: Reading) -> LayerResult {
    let fail = |detail: String| LayerResult::new(Layer::MonteCarlo, Verdict::NotApplicable, detail);
    if relation.rel == Rel::To {
        return fail("a limit is not a value to estimate: check the bounds of its proof".into());
    }
    let mut random = spec.random.clone();
    random.extend(setup.draws.iter().map(|(n, ..)| n.clone()));
    // A plain `E[…]` integrates every random quantity, so beside one nothing random may stand
    // outside an expectation (`E[g[1]] = g[1]` would compare equal means); `E(x ~ N(…))`
    // integrates `x` only, for each draw of the rest.
    let plain = plain_expectation(&relation.lhs) || plain_expectation(&relation.rhs);
    for side in [&relation.lhs, &relation.rhs] {
        if let Some(problem) = unestimable(side, &random, plain) {
            return fail(problem);
        }
    }
    let mut spec = spec.clone();
    for (name, mean, sd) in &setup.draws {
        spec.distributions.insert(name.clone(), (mean.clone(), sd.clone()));
    }
    // Values fixed by the check come first, so they win over any other definition.
    spec.definitions = check_values(&setup.values).into_iter().chain(spec.definitions).collect();
    spec.sizes.extend(setup.sizes.iter().cloned());
    spec.unusable = None;
    spec.random = random;
    // Only where the claim says something: its conditions hold at the point.
    let points: Vec<Option<i64>> = match &setup.range {
        Some((v, a, b)) => super::trajectory::steps_where(conditions, v, *a, *b).into_iter().map(Some).collect(),
        None => vec![None],
    };
    if points.is_empty() {
        return fail("the claim's conditions hold at no point of the range".into());
    }
    let var = setup.range.as_ref().map(|(v, ..)| v.clone());
    let batch = setup.samples.div_ceil(BATCHES).max(1);
    let mut model: Model<f64> = Model::new(&spec, seed);
    model.sampling = true;
    model.outcomes = 1;
    let run = Paths { spec: &spec, relation, points: &points, var: &var, batch, reading };
    // The first path draws the constants (a scalar without a value in `where` is one number
    // for the whole check, not one per path); then every batch of paths runs on its own
    // stream of the seed, on as many threads as there are cores, and the batches are merged
    // in order: the result does not depend on the number of threads.
    let first = match run.paths(&mut model, 0..1.min(setup.samples)) {
        Ok(first) => first,
        Err(problem) => return fail(problem),
    };
    if reading == Reading::Statement {
        let constants = model.drawn_without_distribution();
        if !constants.is_empty() {
            return fail(format!(
                "{} {} neither drawn from a stated distribution nor given a value by `where`, so the simulation would make {} up",
                constants.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
                if constants.len() == 1 { "is" } else { "are" },
                if constants.len() == 1 { "it" } else { "them" }
            ));
        }
    }
    model.freeze_constants();
    if let Some(problem) = not_a_model(&mut model, &spec, &setup.draws) {
        return fail(problem);
    }
    let starts: Vec<usize> = (0..setup.samples.div_ceil(batch)).map(|b| (b * batch).max(1)).collect();
    // Paths evaluated as a traced tape, many at a time, where the evaluation can be traced.
    let tape = run.trace(&model).ok();
    let stretches = run.in_parallel(&model, tape.as_ref(), seed, &starts, setup.samples);
    let mut merged = first;
    for stretch in stretches {
        match stretch {
            Ok(stretch) => merged.merge(stretch),
            Err(problem) => return fail(problem),
        }
    }
    let Stretch { mut stats, relative_rounding, confirm_starts } = merged;
    let confirm_starts: Vec<Replay> = confirm_starts.into_iter().take(MAX_CONFIRMED).map(|(_, replay)| replay).collect();
    for st in &mut stats {
        st.rounding = relative_rounding;
    }
    let z_star = bonferroni_z(points.len());
    let mut rows = Vec::new();
    let mut worst: Option<(usize, f64)> = None;
    let mut heavy: Option<usize> = None;
    for (k, st) in stats.iter().enumerate() {
        let z = st.z();
        let badness = |z: f64| match relation.rel {
            Rel::Eq | Rel::To => z.abs(),
            Rel::Le | Rel::Lt => z,
            Rel::Ge | Rel::Gt => -z,
            Rel::Ne => -z.abs(),
        };
        if worst.is_none_or(|(_, w)| badness(z) > badness(w)) {
            worst = Some((k, z));
        }
        if st.tails_too_heavy() && heavy.is_none() {
            heavy = Some(k);
        }
        let label = points[k].map_or(String::new(), |t| t.to_string());
        rows.push(vec![
            label,
            format!("{:.5}", st.left.mean),
            format!("{:.5}", z_star * st.left.standard_error()),
            format!("{:.5}", st.right.mean),
            format!("{:.2}", z),
        ]);
    }
    let (k, z) = worst.unwrap_or((0, 0.0));
    let at = |k: usize| match (&var, points[k]) {
        (Some(v), Some(t)) => format!(" at {v} = {t}"),
        _ => String::new(),
    };
    // `=` is two-sided; `<=` and `>=` fail when the estimate is significantly on the wrong
    // side; a strict relation (and `!=`) needs the estimate significantly on the right side,
    // or it cannot tell the relation from equality.
    let verdict = match relation.rel {
        Rel::Eq if z.abs() <= z_star => Verdict::Holds,
        Rel::Le if z <= z_star => Verdict::Holds,
        Rel::Ge if z >= -z_star => Verdict::Holds,
        Rel::Lt if z < -z_star => Verdict::Holds,
        Rel::Gt if z > z_star => Verdict::Holds,
        Rel::Ne if z.abs() > z_star => Verdict::Holds,
        Rel::Lt if z < z_star => Verdict::NotShown,
        Rel::Gt if z > -z_star => Verdict::NotShown,
        Rel::Ne => Verdict::NotShown,
        _ => Verdict::Refuted,
    };
    // Rounding that spoils a few paths in a thousand escapes the recheck above but can move
    // a mean by many standard errors: before refuting, many more paths are rechecked at the
    // point that refutes.
    if (verdict == Verdict::Refuted || reading == Reading::Statement && verdict == Verdict::Holds)
        && let Some(problem) = confirm(&spec, relation, points[k], &var, &model, &confirm_starts)
    {
        let before = if verdict == Verdict::Refuted { "refuting" } else { "supporting the claim" };
        return fail(format!("{problem} (found rechecking the paths before {before})"));
    }
    let mut detail = format!(
        "{} samples (seed {seed}); the largest deviation is {:.2} standard errors{}, {} the threshold {:.2} (4σ family level, Bonferroni over {} point(s))",
        setup.samples,
        z.abs(),
        at(k),
        if z.abs() <= z_star { "within" } else { "beyond" },
        z_star,
        points.len()
    );
    if verdict == Verdict::NotShown {
        detail.push_str(&format!("; a strict `{}` needs the estimate beyond the threshold on its side", relation.rel.symbol()));
    }
    // Where the tails are too heavy for so few samples, the z-test's interval is not to be
    // trusted either way.
    let verdict = match heavy {
        Some(h) if verdict != Verdict::NotShown => {
            detail = format!(
                "{} samples (seed {seed}); the distribution{} has tails too heavy for a z-test with this many samples (batch means disagree with the standard error, or the kurtosis is {:.0}), so the estimate cannot decide",
                setup.samples,
                at(h),
                stats[h].diff.kurtosis()
            );
            Verdict::NotShown
        }
        _ => verdict,
    };
    // A right side with its own expectation is estimated too (a simulation comparing two
    // groups), not a claimed value.
    let estimated = relation.rhs.has_expectation();
    let right_label = if estimated { "estimate (right)" } else { "claimed (right)" };
    let columns =
        vec![var.clone().unwrap_or_else(|| "point".into()), "estimate (left)".into(), "± (threshold × s.e.)".into(), right_label.into(), "z".into()];
    let interval = |m: &Moments| (m.mean - z_star * m.standard_error(), m.mean + z_star * m.standard_error());
    let plot = var.as_ref().map(|v| {
        let xs: Vec<f64> = points.iter().map(|p| p.unwrap_or(0) as f64).collect();
        Plot {
            title: if estimated { "Monte Carlo estimates of both sides" } else { "Monte Carlo estimate against the claimed value" }.into(),
            x_label: v.clone(),
            y_label: "value".into(),
            log_x: false,
            log_y: false,
            curves: vec![
                Curve {
                    label: "estimate (left side)".into(),
                    points: xs.iter().zip(&stats).map(|(x, s)| (*x, s.left.mean)).collect(),
                    intervals: Some(stats.iter().map(|s| interval(&s.left)).collect()),
                },
                Curve {
                    label: if estimated { "estimate (right side)" } else { "claimed (right side)" }.into(),
                    points: xs.iter().zip(&stats).map(|(x, s)| (*x, s.right.mean)).collect(),
                    intervals: estimated.then(|| stats.iter().map(|s| interval(&s.right)).collect()),
                },
            ],
        }
    });
    let counterexample = (verdict == Verdict::Refuted).then(|| Counterexample {
        values: points[k].map(|t| vec![(var.clone().unwrap_or_default(), t.to_string())]).unwrap_or_default(),
        lhs: format!("{:.6} ± {:.6}", stats[k].left.mean, z_star * stats[k].left.standard_error()),
        rhs: format!("{:.6}", stats[k].right.mean),
    });
    LayerResult { counterexample, table: Some(Table { columns, rows }), plot, ..LayerResult::new(Layer::MonteCarlo, verdict, detail) }
}

/// The sample paths of one check: what each evaluates.
struct Paths<'a> {
    spec: &'a ModelSpec,
    relation: &'a Relation,
    points: &'a [Option<i64>],
    var: &'a Option<String>,
    /// Paths per batch (the batch-means check's unit, and the unit of work of a thread).
    batch: usize,
    /// A simulation claim's paths may draw nothing without a stated distribution, on any path
    /// (the first path's draws are also named in the message).
    reading: Reading,
}

/// What a stretch of consecutive sample paths found.
struct Stretch {
    stats: Vec<PointStatistics>,
    /// The largest relative rounding error measured on the paths rechecked in 320-bit floats.
    relative_rounding: f64,
    /// Some paths (by path number), to recheck them before a refutation.
    confirm_starts: Vec<(usize, Replay)>,
}

impl Stretch {
    /// This stretch followed by `next`.
    fn merge(&mut self, next: Stretch) {
        for (mine, theirs) in self.stats.iter_mut().zip(next.stats) {
            mine.merge(theirs);
        }
        self.relative_rounding = self.relative_rounding.max(next.relative_rounding);
        self.confirm_starts.extend(next.confirm_starts);
    }
}

impl Paths<'_> {
    /// Every batch from its first path (`starts[b]`) to the next batch's, each on its own
    /// stream (stream `b` of the seed) with the constants `first` drew, on up to `parallel::threads()`
    /// threads; in batch order.
    fn in_parallel(&self, first: &Model<f64>, tape: Option<&Tape>, seed: u64, starts: &[usize], samples: usize) -> Vec<Result<Stretch, String>> {
        use rand::SeedableRng;
        let ends: Vec<usize> = starts.iter().skip(1).copied().chain([samples]).collect();
        let run_batch = |b: usize| -> Result<Stretch, String> {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(b as u64 + 1);
            if let Some(tape) = tape {
                return self.tape_paths(TapeRun { tape, first, seed, rng, batch: b, range: starts[b]..ends[b] });
            }
            let mut model: Model<f64> = Model::new(self.spec, seed);
            model.rng = rng;
            model.distributions_only = self.reading == Reading::Statement;
            model.sampling = true;
            model.outcomes = 1;
            model.fixed = first.fixed.clone();
            self.paths(&mut model, starts[b]..ends[b])
        };
        let batches: Vec<usize> = (0..starts.len()).collect();
        crate::parallel::map(&batches, |&b| run_batch(b))
    }

    /// The paths `range`, each from where `model`'s stream is.
    fn paths(&self, model: &mut Model<f64>, range: std::ops::Range<usize>) -> Result<Stretch, String> {
        let mut stretch = Stretch { stats: vec![PointStatistics::default(); self.points.len()], relative_rounding: 0.0, confirm_starts: Vec::new() };
        for path in range {
            model.reset();
            let start = model.rng.clone();
            let mut values = Vec::with_capacity(self.points.len());
            for (k, point) in self.points.iter().enumerate() {
                let (a, b) = self.sides(model, *point)?;
                stretch.stats[k].push(a, b, path / self.batch);
                values.push((a, b));
            }
            if confirmed(path, MAX_CONFIRMED) {
                stretch.confirm_starts.push((path, Replay::Stream(start.clone())));
            }
            if rechecked(path) {
                let error = rounding(self.spec, self.relation, self.points, self.var, &Replay::Stream(start), model, &values)?;
                stretch.relative_rounding = stretch.relative_rounding.max(error);
            }
        }
        Ok(stretch)
    }
}

/// Before a refutation, one path in `CONFIRM_STRIDE` (up to `MAX_CONFIRMED`) is rechecked.
const CONFIRM_STRIDE: usize = 8;
const MAX_CONFIRMED: usize = 8192;

/// Why the paths that start at `starts` cannot be trusted in double precision at `point`,
/// if they cannot: each is replayed in double precision and in 320-bit floats.
fn confirm(
    spec: &ModelSpec,
    relation: &Relation,
    point: Option<i64>,
    var: &Option<String>,
    double: &Model<f64>,
    starts: &[Replay],
) -> Option<String> {
    let env: HashMap<String, Value<f64>> = match (var, point) {
        (Some(v), Some(t)) => HashMap::from([(v.clone(), int(t))]),
        _ => HashMap::new(),
    };
    for start in starts {
        let mut replay: Model<f64> = start.model(spec, double);
        let (Ok(Value::S(a)), Ok(Value::S(b))) = (replay.eval(&relation.lhs, &env), replay.eval(&relation.rhs, &env)) else { continue };
        if let Err(problem) = rounding(spec, relation, &[point], var, start, double, &[(a, b)]) {
            return Some(problem);
        }
    }
    None
}

/// Whether a path is kept for the recheck before a refutation (one in `CONFIRM_STRIDE`, up
/// to `limit` of them).
fn confirmed(path: usize, limit: usize) -> bool {
    path > 0 && path.is_multiple_of(CONFIRM_STRIDE) && path / CONFIRM_STRIDE <= limit
}

/// How to draw one sample path again: from the stream where it started, or (a path of a
/// tape) from its standard normal draws, continued by a stream of its own where the model
/// branches off the traced path and needs more; or (a path of a tape kept for later) from
/// the stream its run of `lanes` paths started at, its draws being lane `lane` of each of
/// the `normals` fills.
enum Replay {
    Stream(rand_chacha::ChaCha8Rng),
    Draws(Vec<f64>, rand_chacha::ChaCha8Rng),
    Lane { at: std::sync::Arc<rand_chacha::ChaCha8Rng>, lanes: usize, lane: usize, normals: usize, seed: u64, path: usize },
}

impl Replay {
    /// Path `path` of a tape from its draws: its continuation is stream `path` of a seed
    /// derived from the check's.
    fn draws(draws: Vec<f64>, seed: u64, path: usize) -> Replay {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
        rng.set_stream(path as u64);
        Replay::Draws(draws, rng)
    }

    /// A model that draws this path, with the constants `double` drew.
    fn model<'s, N: Number>(&self, spec: &'s ModelSpec, double: &Model<f64>) -> Model<'s, N> {
        let mut model: Model<N> = Model::new(spec, 0);
        match self {
            Replay::Lane { at, lanes, lane, normals, seed, path } => {
                let (mut rng, mut out) = ((**at).clone(), [0.0; LANES]);
                let draws = (0..*normals)
                    .map(|_| {
                        ziggurat::fill(ziggurat::tables(), &mut rng, &mut out[..*lanes]);
                        out[*lane]
                    })
                    .collect();
                return Replay::draws(draws, *seed, *path).model(spec, double);
            }
            Replay::Stream(rng) => model.rng = rng.clone(),
            Replay::Draws(draws, rng) => {
                model.pinned = Some(draws.iter().copied().collect());
                model.rng = rng.clone();
                // The tape made no draw without a distribution; neither may its replay.
                model.distributions_only = true;
            }
        }
        model.sampling = true;
        model.outcomes = 1;
        model.fixed = double.fixed_as();
        model
    }
}

/// Standard normal draws for tapes: Marsaglia and Tsang's ziggurat with 256 layers (Doornik's
/// variant: the layer and the position come from separate bits of one 64-bit word).
mod ziggurat {
    use rand::{Rng, RngExt};

    const LAYERS: usize = 256;
    /// The start of the tail, and the area of each layer.
    const R: f64 = 3.654152885361008796;
    const AREA: f64 = 0.00492867323399;

    pub struct Tables {
        x: [f64; LAYERS + 1],
        f: [f64; LAYERS + 1],
    }

    fn density(x: f64) -> f64 {
        (-0.5 * x * x).exp()
    }

    /// A uniform number in [-1, 1) from the top 52 bits of `bits`: a double in [2, 4) made
    /// from them as its mantissa, minus 3 (bit operations only, so that a run of them
    /// vectorizes).
    fn signed_unit(bits: u64) -> f64 {
        f64::from_bits(0x4000_0000_0000_0000 | (bits >> 12)) - 3.0
    }

    /// The tables, computed once.
    pub fn tables() -> &'static Tables {
        static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
        TABLES.get_or_init(|| {
            let mut x = [0.0; LAYERS + 1];
            x[0] = AREA / density(R);
            x[1] = R;
            for i in 1..LAYERS - 1 {
                x[i + 1] = (-2.0 * (AREA / x[i] + density(x[i])).ln()).sqrt();
            }
            x[LAYERS] = 0.0;
            let f = x.map(density);
            Tables { x, f }
        })
    }

    /// Standard normal draws into `out`: one 64-bit number each, read all at once, and for
    /// the few (about 1%) that fall outside their layer's rectangle, the ziggurat's test
    /// and, where it rejects, a fresh draw, in lane order.
    #[inline(always)]
    pub fn fill(t: &Tables, rng: &mut rand_chacha::ChaCha8Rng, out: &mut [f64]) {
        assert!(out.len() <= 64, "at most 64 draws at once");
        let mut bits = [0u64; 64];
        for b in bits.iter_mut().take(out.len()) {
            *b = rng.next_u64();
        }
        let mut outside = 0u64;
        for (lane, (x, &b)) in out.iter_mut().zip(&bits).enumerate() {
            let (i, u) = ((b & 0xff) as usize, signed_unit(b));
            *x = u * t.x[i];
            outside |= ((x.abs() >= t.x[i + 1]) as u64) << lane;
        }
        while outside != 0 {
            let lane = outside.trailing_zeros() as usize;
            outside &= outside - 1;
            let b = bits[lane];
            out[lane] = edge(t, rng, (b & 0xff) as usize, signed_unit(b)).unwrap_or_else(|| standard_normal(t, rng));
        }
    }

    /// One standard normal draw.
    pub fn standard_normal(t: &Tables, rng: &mut rand_chacha::ChaCha8Rng) -> f64 {
        loop {
            let bits = rng.next_u64();
            let i = (bits & 0xff) as usize;
            let u = signed_unit(bits);
            let x = u * t.x[i];
            if x.abs() < t.x[i + 1] {
                return x;
            }
            if let Some(x) = edge(t, rng, i, u) {
                return x;
            }
        }
    }

    /// A candidate `u * x[i]` outside layer `i`'s rectangle: the draw from the tail beyond R
    /// (layer 0), or the candidate itself if it falls under the density, or none.
    fn edge(t: &Tables, rng: &mut rand_chacha::ChaCha8Rng, i: usize, u: f64) -> Option<f64> {
        if i == 0 {
            // The tail beyond R (Marsaglia's method).
            loop {
                let a = rng.random::<f64>().max(f64::MIN_POSITIVE).ln() / R;
                let b = rng.random::<f64>().max(f64::MIN_POSITIVE).ln();
                if -2.0 * b >= a * a {
                    return Some(if u < 0.0 { a - R } else { R - a });
                }
            }
        }
        let x = u * t.x[i];
        (t.f[i + 1] + (t.f[i] - t.f[i + 1]) * rng.random::<f64>() < density(x)).then_some(x)
    }
}

/// Shifted power sums of one quantity over a batch, lane by lane (so that the sums vectorize
/// and add up in one fixed order): from them, the batch's moments.
#[derive(Clone)]
struct Sums<const P: usize> {
    n: usize,
    shift: f64,
    lanes: [[f64; LANES]; P],
}

impl<const P: usize> Default for Sums<P> {
    fn default() -> Self {
        Sums { n: 0, shift: 0.0, lanes: [[0.0; LANES]; P] }
    }
}

impl<const P: usize> Sums<P> {
    #[inline(always)]
    fn push(&mut self, xs: &[f64; LANES], lanes: usize) {
        if self.n == 0 {
            // Near the values, so that the sums of powers lose nothing to cancellation.
            self.shift = xs[0];
        }
        self.n += lanes;
        // Lanes past `lanes` add 0 (y = 0). Four lanes at a time, kept in registers, so that
        // the loop vectorizes.
        for chunk in (0..LANES).step_by(4) {
            let mut y = [0.0; 4];
            for (j, y) in y.iter_mut().enumerate() {
                *y = if chunk + j < lanes { xs[chunk + j] - self.shift } else { 0.0 };
            }
            let mut power = y;
            for sum in &mut self.lanes {
                for j in 0..4 {
                    sum[chunk + j] += power[j];
                    power[j] *= y[j];
                }
            }
        }
    }

    fn moments(&self) -> Moments {
        if self.n == 0 {
            return Moments::default();
        }
        let n = self.n as f64;
        let mut s = [0.0; 4];
        for (p, total) in s.iter_mut().enumerate().take(P) {
            *total = self.lanes[p].iter().sum();
        }
        let mu = s[0] / n;
        let m2 = s[1] - n * mu * mu;
        let (m3, m4) = if P == 4 {
            (s[2] - 3.0 * mu * s[1] + 2.0 * n * mu * mu * mu, s[3] - 4.0 * mu * s[2] + 6.0 * mu * mu * s[1] - 3.0 * n * mu * mu * mu * mu)
        } else {
            (0.0, 0.0)
        };
        Moments { n, mean: self.shift + mu, m2: m2.max(0.0), m3, m4: m4.max(0.0) }
    }
}

/// The sums of one point over a batch: both sides, their difference (to the fourth power,
/// for the kurtosis), and their size.
#[derive(Clone, Default)]
struct PointSums {
    left: Sums<2>,
    right: Sums<2>,
    diff: Sums<4>,
    size: Sums<1>,
}

impl Paths<'_> {
    /// The paths' evaluation traced into a tape, or why it cannot be.
    fn trace(&self, first: &Model<f64>) -> Result<Tape, String> {
        let trace = Trace::start();
        let mut model: Model<Traced> = Model::new(self.spec, 0);
        model.sampling = true;
        model.distributions_only = true;
        model.outcomes = 1;
        model.fixed = first.fixed_as();
        model.reset();
        for (k, point) in self.points.iter().enumerate() {
            let env: HashMap<String, Value<Traced>> = match (self.var, point) {
                (Some(v), Some(t)) => HashMap::from([(v.clone(), int(*t))]),
                _ => HashMap::new(),
            };
            let side = |model: &mut Model<Traced>, e: &Expr| model.eval(e, &env).and_then(scalar).map_err(|e| format!("the first path stops: {e:?}"));
            let a = side(&mut model, &self.relation.lhs)?;
            let b = side(&mut model, &self.relation.rhs)?;
            trace.sides(k, a, b);
        }
        trace.finish()
    }

    /// The paths `range` of batch `batch`, `LANES` at a time through the tape, their draws
    /// from `rng`. A path on which the tape's tests fail is evaluated by the model itself.
    fn tape_paths(&self, run: TapeRun) -> Result<Stretch, String> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && !without_avx2() {
            // SAFETY: this processor has AVX2.
            return unsafe { self.tape_paths_avx2(run) };
        }
        self.tape_paths_inline(run)
    }

    /// `tape_paths` compiled for AVX2, so that the loops over lanes (the tape's operations,
    /// the draws, the sums) run four lanes per instruction. Nothing is fused or reordered, so
    /// the results are the same bit for bit.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn tape_paths_avx2(&self, run: TapeRun) -> Result<Stretch, String> {
        self.tape_paths_inline(run)
    }

    #[inline(always)]
    fn tape_paths_inline(&self, TapeRun { tape, first, seed, mut rng, batch, range }: TapeRun) -> Result<Stretch, String> {
        let points = self.points.len();
        let mut sums = vec![PointSums::default(); points];
        let mut stretch = Stretch { stats: Vec::new(), relative_rounding: 0.0, confirm_starts: Vec::new() };
        // What the recheck before a refutation may draw again: 2^27 numbers at most.
        let limit = MAX_CONFIRMED.min((1 << 27) / (LANES * tape.normals.max(1)));
        let mut registers = Vec::new();
        let mut sides = vec![[[0.0; LANES]; 2]; points];
        let mut start = range.start;
        while start < range.end {
            let lanes = LANES.min(range.end - start);
            let kept = (0..lanes).filter(|lane| rechecked(start + lane)).fold(0u64, |m, l| m | 1 << l);
            let at_start = std::sync::Arc::new(rng.clone());
            let (failed, draws) = run_lanes(tape, &mut rng, lanes, kept, &mut sides, &mut registers);
            if failed != 0 {
                // The same draws again, every lane's kept: the model evaluates the lanes the
                // tests failed on.
                let mut scratch = vec![[[0.0; LANES]; 2]; points];
                let (_, mut all) = run_lanes(tape, &mut (*at_start).clone(), lanes, u64::MAX >> (LANES - lanes), &mut scratch, &mut registers);
                for lane in (0..lanes).filter(|l| failed & (1 << l) != 0) {
                    let mut model: Model<f64> = Replay::draws(std::mem::take(&mut all[lane]), seed, start + lane).model(self.spec, first);
                    for (k, point) in self.points.iter().enumerate() {
                        let (a, b) = self.sides(&mut model, *point)?;
                        sides[k][0][lane] = a;
                        sides[k][1][lane] = b;
                    }
                }
            }
            for (k, s) in sums.iter_mut().enumerate() {
                let [a, b] = &sides[k];
                // x - x is +0 but for an infinity or NaN (the bits of every lane or'ed, so that
                // it vectorizes).
                let undefined = (0..LANES).fold(0u64, |bits, l| bits | if l < lanes { ((a[l] - a[l]) + (b[l] - b[l])).to_bits() } else { 0 });
                if undefined != 0 {
                    return Err("a side overflows, or is undefined, on a sample path".into());
                }
                let mut diff = [0.0; LANES];
                let mut size = [0.0; LANES];
                for lane in 0..LANES {
                    diff[lane] = a[lane] - b[lane];
                    size[lane] = a[lane].abs() + b[lane].abs();
                }
                s.left.push(a, lanes);
                s.right.push(b, lanes);
                s.diff.push(&diff, lanes);
                s.size.push(&size, lanes);
            }
            for (lane, draws) in draws.into_iter().enumerate().filter(|(lane, _)| kept & (1 << lane) != 0) {
                let values: Vec<(f64, f64)> = sides.iter().map(|[a, b]| (a[lane], b[lane])).collect();
                let error = rounding(self.spec, self.relation, self.points, self.var, &Replay::draws(draws, seed, start + lane), first, &values)?;
                stretch.relative_rounding = stretch.relative_rounding.max(error);
            }
            for lane in (0..lanes).filter(|lane| confirmed(start + lane, limit)) {
                let at = at_start.clone();
                stretch.confirm_starts.push((start + lane, Replay::Lane { at, lanes, lane, normals: tape.normals, seed, path: start + lane }));
            }
            start += lanes;
        }
        stretch.stats = sums
            .iter()
            .map(|s| {
                let diff = s.diff.moments();
                let mut batches = vec![Moments::default(); batch + 1];
                batches[batch] = diff;
                PointStatistics { left: s.left.moments(), right: s.right.moments(), diff, batches, size: s.size.moments(), rounding: 0.0 }
            })
            .collect();
        Ok(stretch)
    }

    /// Both sides at one point of the path `model` draws.
    fn sides(&self, model: &mut Model<f64>, point: Option<i64>) -> Result<(f64, f64), String> {
        let env: HashMap<String, Value<f64>> = match (self.var, point) {
            (Some(v), Some(t)) => HashMap::from([(v.clone(), int(t))]),
            _ => HashMap::new(),
        };
        let sides = model.eval(&self.relation.lhs, &env).and_then(scalar).and_then(|a| Ok((a, scalar(model.eval(&self.relation.rhs, &env)?)?)));
        match sides {
            Ok((a, b)) if a.is_finite() && b.is_finite() => Ok((a, b)),
            Ok(_) => Err("a side overflows on a sample path".into()),
            Err(Stop::NotApplicable(reason)) => Err(reason),
            Err(Stop::Undefined) => Err("a side is undefined (division by zero) on a sample path".into()),
            Err(Stop::Shapes(what)) => Err(format!("the shapes do not fit: {what}")),
            Err(Stop::Invalid(why)) => Err(format!("a sample path is not a model of the file: {why}")),
        }
    }
}

/// One batch of paths through a tape: its paths `range`, drawn from `rng` (a stream of
/// `seed`) with the constants `first` drew.
struct TapeRun<'a, 's> {
    tape: &'a Tape,
    first: &'a Model<'s, f64>,
    seed: u64,
    rng: rand_chacha::ChaCha8Rng,
    batch: usize,
    range: std::ops::Range<usize>,
}

/// Set by a test to compare the AVX2 copy of the lane loop with the generic one.
#[cfg(test)]
pub(crate) static WITHOUT_AVX2: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn without_avx2() -> bool {
    #[cfg(test)]
    return WITHOUT_AVX2.load(std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(test))]
    false
}

/// The tape on `lanes` paths' draws from `rng`, keeping the draws of the lanes in `keep`
/// (bits): which lanes failed a test, and the draws kept.
#[inline(always)]
fn run_lanes(
    tape: &Tape,
    rng: &mut rand_chacha::ChaCha8Rng,
    lanes: usize,
    keep: u64,
    sides: &mut [[[f64; LANES]; 2]],
    registers: &mut Vec<[f64; LANES]>,
) -> (u64, Vec<Vec<f64>>) {
    let tables = ziggurat::tables();
    let mut draws: Vec<Vec<f64>> = if keep == 0 { Vec::new() } else { vec![Vec::new(); lanes] };
    let failed = tape.run(
        lanes,
        #[inline(always)]
        |out| {
            ziggurat::fill(tables, rng, out);
            let mut lanes = keep;
            while lanes != 0 {
                let lane = lanes.trailing_zeros() as usize;
                lanes &= lanes - 1;
                draws[lane].push(out[lane]);
            }
        },
        sides,
        registers,
    );
    (failed, draws)
}

/// Whether a path is recomputed in 320-bit floats: the first 16, then one in 128, at most
/// 256 in all. (Rounding that spoils fewer paths than that can miss is below what the
/// recheck sees; the documentation says so.)
fn rechecked(path: usize) -> bool {
    path < 16 || (path.is_multiple_of(128) && path <= 128 * 240)
}

/// The path that the stream `rng` draws, again in 320-bit floats with the same constants as
/// `double`: the largest error of the difference of the sides in double precision (`values`),
/// relative to the sides' size, or why double precision cannot be trusted here: a side differs by more than a
/// millionth of its size (`(exp(a) + 1) - exp(a)` is 0 in double precision at `a = 40`; a
/// value that underflows to 0 is not 0).
fn rounding(
    spec: &ModelSpec,
    relation: &Relation,
    points: &[Option<i64>],
    var: &Option<String>,
    replay: &Replay,
    double: &Model<f64>,
    values: &[(f64, f64)],
) -> Result<f64, String> {
    let mut wide: Model<Wide> = replay.model(spec, double);
    let mut largest: f64 = 0.0;
    for (point, (a, b)) in points.iter().zip(values) {
        let env: HashMap<String, Value<Wide>> = match (var, point) {
            (Some(v), Some(t)) => HashMap::from([(v.clone(), int(*t))]),
            _ => HashMap::new(),
        };
        let (Ok(Value::S(wa)), Ok(Value::S(wb))) = (wide.eval(&relation.lhs, &env), wide.eval(&relation.rhs, &env)) else {
            return Err("a sample path cannot be recomputed in 320-bit floats, so its rounding cannot be measured".into());
        };
        // In 320-bit floats: a value that underflows to 0 in double precision is not 0.
        let abs = |x: Wide| if x < Wide::zero() { -x } else { x };
        let relative = |gap: Wide, size: Wide| if size.is_zero() { 0.0 } else { (abs(gap) / size).to_f64() };
        for (precise, double) in [(&wa, *a), (&wb, *b)] {
            let (p, q) = (abs(precise.clone()), abs(Wide::from_f64(double)));
            if relative(precise.clone() - Wide::from_f64(double), if p > q { p } else { q }) > 1e-6 {
                let shown = precise.to_string();
                let precise = if shown.trim_start_matches('-') == "0" {
                    "not 0 (it is below double precision's range)".to_string()
                } else {
                    format!("{shown} in 320-bit floats")
                };
                return Err(format!(
                    "double precision loses these values to rounding: on a sample path a side is {double:e} in double precision and {precise}"
                ));
            }
        }
        // What rounding did to the difference, relative to the sides' size.
        let exact_gap = wa.clone() - wb.clone();
        let size = abs(wa) + abs(wb);
        largest = largest.max(relative(exact_gap - Wide::from_f64(a - b), size));
    }
    Ok(largest)
}

/// Values a check gives names (`beta = 9/10`), as definitions that come before the file's own,
/// so that they win over any other.
pub(super) fn check_values(values: &[(String, Expr)]) -> Vec<Definition> {
    values
        .iter()
        .map(|(name, value)| Definition {
            name: format!("{name} (check)"),
            lhs: Expr::name(name, value.span),
            rhs: value.clone(),
            vars: vec![],
            conditions: vec![],
        })
        .collect()
}

/// Why the simulated paths are not models of the file, if they are not: a value of the
/// check breaks an `assume` fact (`beta = -1` with `assume beta > 0`), or a distribution's
/// mean is not the one a given fixes (`g[i] ~ Normal(0, 1)` with `given E[g[i]] = mu`, `mu = 2`).
fn not_a_model(model: &mut Model<f64>, spec: &ModelSpec, draws: &[(String, Expr, Expr)]) -> Option<String> {
    for f in &spec.assumptions {
        if !model.holds(f, &HashMap::new()).unwrap_or(false) {
            return Some(format!("the check's values break `assume {}`", crate::language::text::relation(f)));
        }
    }
    for given in &spec.means {
        let ExprKind::Expect { body, .. } = &given.lhs.kind else { continue };
        let (ExprKind::Name(head) | ExprKind::Index(head, _) | ExprKind::Call(head, _)) = &body.kind else { continue };
        let Some((_, mean, _)) = draws.iter().find(|(n, ..)| n == head) else { continue };
        let envs: Vec<HashMap<String, Value<f64>>> = match given.vars.as_slice() {
            [] => vec![HashMap::new()],
            [(v, _)] => (0..=12).map(|i| HashMap::from([(v.clone(), int(i))])).collect(),
            _ => continue,
        };
        for env in envs {
            if !given.conditions.iter().all(|c| model.holds(c, &env).unwrap_or(false)) {
                continue;
            }
            let (Ok(Value::S(drawn)), Ok(Value::S(stated))) = (model.eval(mean, &HashMap::new()), model.eval(&given.rhs, &env)) else {
                return Some(format!("the mean that `{}` fixes cannot be compared with the check's distribution of `{head}`", given.name));
            };
            if (drawn - stated).abs() > 1e-9 * drawn.abs().max(stated.abs()).max(1.0) {
                return Some(format!("the check draws `{head}` with mean {drawn}, but `{}` fixes its mean at {stated}", given.name));
            }
        }
    }
    None
}

/// Batches per point, for the batch-means check of the standard error.
const BATCHES: usize = 20;

/// Both sides and their difference at one point, over the sample paths.
#[derive(Default, Clone)]
struct PointStatistics {
    left: Moments,
    right: Moments,
    diff: Moments,
    /// The difference's mean in each batch of consecutive paths.
    batches: Vec<Moments>,
    /// The mean size of the sides, `|a| + |b|`, and the largest relative rounding error of a
    /// side measured on rechecked paths: together, how far rounding alone moves the mean.
    size: Moments,
    rounding: f64,
}

impl PointStatistics {
    /// These paths followed by `other`'s (batches by index).
    fn merge(&mut self, other: PointStatistics) {
        self.left.merge(&other.left);
        self.right.merge(&other.right);
        self.diff.merge(&other.diff);
        self.size.merge(&other.size);
        if self.batches.len() < other.batches.len() {
            self.batches.resize(other.batches.len(), Moments::default());
        }
        for (mine, theirs) in self.batches.iter_mut().zip(&other.batches) {
            mine.merge(theirs);
        }
    }

    fn push(&mut self, a: f64, b: f64, batch: usize) {
        self.left.push(a);
        self.right.push(b);
        self.diff.push(a - b);
        self.size.push(a.abs() + b.abs());
        if self.batches.len() <= batch {
            self.batches.resize(batch + 1, Moments::default());
        }
        self.batches[batch].push(a - b);
    }

    /// How far rounding alone can move the difference's mean: ten times the largest relative
    /// error measured (at least one unit in the last place), at the sides' mean size.
    fn rounding_floor(&self) -> f64 {
        (10.0 * self.rounding).max(f64::EPSILON) * self.size.mean
    }

    /// The difference's mean in standard errors. Rounding alone can make two equal sides
    /// differ by ~1e-16 with a standard error of 0: the error has a floor at the rounding
    /// measured on the rechecked paths.
    fn z(&self) -> f64 {
        let se = self.diff.standard_error().max(self.rounding_floor());
        if self.diff.mean == 0.0 { 0.0 } else { self.diff.mean / se }
    }

    /// Whether a z-test cannot be trusted here: the spread of the batch means says the
    /// standard error is off by more than a factor of two (a rare huge value dominates), or
    /// the kurtosis is too large for this many samples.
    fn tails_too_heavy(&self) -> bool {
        let means: Vec<f64> = self.batches.iter().filter(|b| b.n > 1.0).map(|b| b.mean).collect();
        if self.diff.standard_error() <= self.rounding_floor() {
            return false;
        }
        let mut spread = Moments::default();
        means.iter().for_each(|m| spread.push(*m));
        let batch_se = spread.standard_error();
        let ratio = batch_se / self.diff.standard_error();
        (means.len() >= 10 && !(0.5..=2.0).contains(&ratio)) || self.diff.kurtosis() > self.diff.n / 100.0
    }
}

/// Why one draw per sample path cannot estimate a side, if it cannot: an expectation inside a
/// product or a function (`E[X]*E[Y]`), one inside another (`E[g*E[g]]` is not `E[g^2]`), or
/// a random quantity outside any expectation (`E[g]*g`).
fn unestimable(side: &Expr, random: &std::collections::BTreeSet<String>, plain: bool) -> Option<String> {
    if !linear_in_expectations(side) {
        return Some(
            "an expectation appears inside a product or a function: one draw per sample path cannot estimate it; check each expectation on its own"
                .into(),
        );
    }
    if nested_expectation(side, false) {
        return Some("an expectation inside an expectation: one draw per sample path would read both as the same draw".into());
    }
    if plain && crate::language::elaborate::is_random(side, random) {
        return Some(format!(
            "`{}` is random outside any expectation: one draw per sample path cannot estimate it",
            crate::language::text::expr(side)
        ));
    }
    None
}

fn plain_expectation(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Expect { gaussian: None, .. }) || e.children().into_iter().any(plain_expectation)
}

fn nested_expectation(e: &Expr, inside: bool) -> bool {
    match &e.kind {
        ExprKind::Expect { .. } if inside => true,
        ExprKind::Expect { .. } => e.children().into_iter().any(|c| nested_expectation(c, true)),
        _ => e.children().into_iter().any(|c| nested_expectation(c, inside)),
    }
}

/// Whether every `E[…]` of `e` enters it linearly: through sums, differences, negation and
/// products or quotients with expectation-free factors.
fn linear_in_expectations(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Expect { .. } => true,
        ExprKind::Bin(BinOp::Add | BinOp::Sub, a, b) => linear_in_expectations(a) && linear_in_expectations(b),
        ExprKind::Neg(a) => linear_in_expectations(a),
        ExprKind::Bin(BinOp::Mul, a, b) => match (a.has_expectation(), b.has_expectation()) {
            (true, true) => false,
            (true, false) => linear_in_expectations(a),
            (false, true) => linear_in_expectations(b),
            (false, false) => true,
        },
        ExprKind::Bin(BinOp::Div, a, b) => !b.has_expectation() && linear_in_expectations(a),
        ExprKind::BigOp { op: BigOp::Sum, lo, hi, body, .. } => !lo.has_expectation() && !hi.has_expectation() && linear_in_expectations(body),
        _ => !e.has_expectation(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_moments_equal_the_moments_of_all_the_values() {
        let values: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1013) as f64 / 97.0 - 3.0 + if i % 97 == 0 { 40.0 } else { 0.0 }).collect();
        let mut all = Moments::default();
        values.iter().for_each(|x| all.push(*x));
        let mut merged = Moments::default();
        for chunk in values.chunks(137) {
            let mut part = Moments::default();
            chunk.iter().for_each(|x| part.push(*x));
            merged.merge(&part);
        }
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        assert_eq!(merged.n, all.n);
        assert!(close(merged.mean, all.mean), "{} {}", merged.mean, all.mean);
        assert!(close(merged.variance(), all.variance()));
        assert!(close(merged.kurtosis(), all.kurtosis()), "{} {}", merged.kurtosis(), all.kurtosis());
        assert!(close(merged.m3, all.m3), "{} {}", merged.m3, all.m3);
    }

    /// The ziggurat's draws, as the tapes take them (up to 64 at once), have a standard
    /// normal's moments and tails, each to within 5 standard errors of its estimate at 2^20
    /// draws (fixed seed).
    #[test]
    fn ziggurat_draws_are_standard_normal() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let tables = ziggurat::tables();
        let n = 1 << 20;
        let mut draws = vec![0.0; n];
        // Runs of every length a batch's last lanes may have.
        let mut at = 0;
        for width in (1..=64).cycle() {
            let end = (at + width).min(n);
            ziggurat::fill(tables, &mut rng, &mut draws[at..end]);
            at = end;
            if at == n {
                break;
            }
        }
        let mut moments = Moments::default();
        draws.iter().for_each(|z| moments.push(*z));
        let se = |variance: f64| 5.0 * (variance / n as f64).sqrt();
        assert!(moments.mean.abs() < se(1.0), "mean {}", moments.mean);
        assert!((moments.variance() - 1.0).abs() < se(2.0), "variance {}", moments.variance());
        assert!((moments.kurtosis() - 3.0).abs() < se(96.0), "kurtosis {}", moments.kurtosis());
        // Beyond 1, 2 and past the ziggurat's tail start (3.654): the two-sided tail.
        for z in [1.0, 2.0, 3.8] {
            let p = two_sided_tail(z);
            let seen = draws.iter().filter(|x| x.abs() > z).count() as f64 / n as f64;
            assert!((seen - p).abs() < se(p * (1.0 - p)), "P(|z| > {z}) is {seen}, not {p}");
        }
    }

    #[test]
    fn thresholds_match_the_normal_table() {
        assert!((z_for_tail(0.05) - 1.95996).abs() < 1e-3);
        assert!((bonferroni_z(1) - 4.0).abs() < 1e-3);
        assert!(bonferroni_z(30) > 4.5 && bonferroni_z(30) < 5.0);
    }
}
