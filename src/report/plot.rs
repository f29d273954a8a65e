//! Figures: a checker's [`Plot`] drawn as a standalone SVG (inline in `report.html`, a file
//! beside `report.md`) and as pgfplots code for `report.tex`. Both read the same plot, so
//! the three formats show the same curves, intervals and axes.
//!
//! Points that cannot be drawn (not finite, or not positive on a log axis) are left out;
//! an interval whose low end cannot be drawn on a log axis keeps only its high end.

use std::fmt::Write;

use crate::verdict::{Curve, Plot};

/// Curve colours, distinguishable in colour and in grey.
const COLORS: [&str; 6] = ["#1f5fa8", "#c0392b", "#2a8a3e", "#d4800b", "#7a4fa0", "#6b4c3b"];
/// The same colours by name for pgfplots (defined in the LaTeX template's preamble).
const TEX_COLORS: [&str; 6] = ["dcblue", "dcred", "dcgreen", "dcorange", "dcpurple", "dcbrown"];

/// Curves with more points than this show their intervals as a band, fewer as error bars.
const BAND_ABOVE: usize = 12;

const WIDTH: f64 = 640.0;
const PLOT_HEIGHT: f64 = 330.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 34.0;
const LEGEND_ROW: f64 = 18.0;

/// The plot as a standalone SVG document (no XML prolog, so it can also sit inline in HTML).
pub fn svg(plot: &Plot) -> String {
    let x_axis = Axis::fit(plot.curves.iter().flat_map(|c| drawable(c, plot)).map(|p| p.x), plot.log_x);
    let y_axis = Axis::fit(plot.curves.iter().flat_map(|c| drawable(c, plot)).flat_map(|p| [p.y, p.low, p.high]), plot.log_y);
    let legend = legend_rows(plot);
    let bottom = 52.0 + LEGEND_ROW * legend.len() as f64;
    let height = TOP + PLOT_HEIGHT + bottom;
    let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, TOP + PLOT_HEIGHT, TOP);
    let px = |x: f64| x0 + (x1 - x0) * x_axis.fraction(x);
    let py = |y: f64| y0 + (y1 - y0) * y_axis.fraction(y);

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{title}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<title>{title}</title>
<rect width="100%" height="100%" fill="white"/>
"#,
        title = xml(&plot.title)
    );
    let _ = writeln!(s, r#"<text x="{}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{}</text>"#, (x0 + x1) / 2.0, xml(&plot.title));
    // Grid and tick labels.
    for t in &x_axis.ticks {
        let x = px(t.value);
        let _ = writeln!(s, r##"<line x1="{x:.1}" y1="{y1}" x2="{x:.1}" y2="{y0}" stroke="#e3e3e3"/>"##);
        let _ = writeln!(s, r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, y0 + 16.0, t.svg_label());
    }
    for t in &y_axis.ticks {
        let y = py(t.value);
        let _ = writeln!(s, r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#e3e3e3"/>"##);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, x0 - 6.0, y + 4.0, t.svg_label());
    }
    let _ = writeln!(s, r##"<rect x="{x0}" y="{y1}" width="{}" height="{PLOT_HEIGHT}" fill="none" stroke="#444"/>"##, x1 - x0);
    let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, (x0 + x1) / 2.0, y0 + 36.0, xml(&plot.x_label));
    let _ = writeln!(s, r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#, (y0 + y1) / 2.0, xml(&plot.y_label));
    // Curves: bands first, then error bars, lines and markers on top.
    for (i, curve) in plot.curves.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points = drawable(curve, plot);
        let has_intervals = curve.intervals.is_some();
        if has_intervals && points.len() > BAND_ABOVE {
            let upper = points.iter().map(|p| format!("{:.1},{:.1}", px(p.x), py(p.high)));
            let lower = points.iter().rev().map(|p| format!("{:.1},{:.1}", px(p.x), py(p.low)));
            let all: Vec<String> = upper.chain(lower).collect();
            let _ = writeln!(s, r#"<polygon points="{}" fill="{color}" fill-opacity="0.18" stroke="none"/>"#, all.join(" "));
        } else if has_intervals {
            for p in &points {
                let (x, lo, hi) = (px(p.x), py(p.low), py(p.high));
                let _ = writeln!(
                    s,
                    r#"<path d="M{x:.1} {lo:.1}V{hi:.1}M{:.1} {lo:.1}H{:.1}M{:.1} {hi:.1}H{:.1}" stroke="{color}" stroke-width="1.2" fill="none"/>"#,
                    x - 3.5,
                    x + 3.5,
                    x - 3.5,
                    x + 3.5
                );
            }
        }
        let line: Vec<String> = points.iter().map(|p| format!("{:.1},{:.1}", px(p.x), py(p.y))).collect();
        let _ = writeln!(s, r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="1.8"{}/>"#, line.join(" "), dash(i));
        if points.len() <= 40 {
            for p in &points {
                let _ = writeln!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="2.6" fill="{color}"/>"#, px(p.x), py(p.y));
            }
        }
    }
    // Legend, below the axis label.
    for (row, entries) in legend.iter().enumerate() {
        let y = y0 + 56.0 + LEGEND_ROW * row as f64;
        for &(i, x) in entries {
            let color = COLORS[i % COLORS.len()];
            let _ = writeln!(
                s,
                r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="1.8"{}/>"#,
                y - 4.0,
                x + 22.0,
                y - 4.0,
                dash(i)
            );
            let _ = writeln!(s, r#"<text x="{:.1}" y="{y:.1}">{}</text>"#, x + 28.0, xml(&plot.curves[i].label));
        }
    }
    s.push_str("</svg>\n");
    s
}

/// The plot as a pgfplots `axis` inside a `tikzpicture`; needs `\usepackage{pgfplots}` and
/// the colours `dcblue`, … that the built-in LaTeX template defines.
pub fn pgfplots(plot: &Plot) -> String {
    let tex = super::latex::escape;
    let mut s = String::new();
    s.push_str("\\begin{tikzpicture}\n\\begin{axis}[\n");
    let _ = writeln!(s, "  width=0.82\\linewidth, height=0.5\\linewidth,");
    let _ = writeln!(s, "  title={{{}}},", tex(&plot.title));
    let _ = writeln!(s, "  xlabel={{{}}}, ylabel={{{}}},", tex(&plot.x_label), tex(&plot.y_label));
    if plot.log_x {
        s.push_str("  xmode=log,\n");
    }
    if plot.log_y {
        s.push_str("  ymode=log,\n");
    }
    s.push_str("  grid=major, grid style={gray!20}, tick label style={font=\\footnotesize},\n");
    s.push_str("  legend cell align=left, legend columns=2,\n");
    s.push_str("  legend style={at={(0.5,-0.2)}, anchor=north, draw=none, font=\\footnotesize, /tikz/every even column/.append style={column sep=1em}},\n]\n");
    for (i, curve) in plot.curves.iter().enumerate() {
        let points = drawable(curve, plot);
        let color = TEX_COLORS[i % TEX_COLORS.len()];
        let dashed = if i % 2 == 1 { ", dashed" } else { "" };
        let marks = if points.len() <= 40 { "mark=*, mark size=1.3pt, mark options={solid}" } else { "no marks" };
        if curve.intervals.is_some() {
            let _ = writeln!(s, "\\addplot[color={color}, thick{dashed}, {marks}, error bars/.cd, y dir=both, y explicit] coordinates {{");
            for p in &points {
                let _ = writeln!(s, "  ({}, {}) += (0, {}) -= (0, {})", number(p.x), number(p.y), number(p.high - p.y), number(p.y - p.low));
            }
        } else {
            let _ = writeln!(s, "\\addplot[color={color}, thick{dashed}, {marks}] coordinates {{");
            for p in &points {
                let _ = writeln!(s, "  ({}, {})", number(p.x), number(p.y));
            }
        }
        s.push_str("};\n");
        let _ = writeln!(s, "\\addlegendentry{{{}}}", tex(&curve.label));
    }
    s.push_str("\\end{axis}\n\\end{tikzpicture}\n");
    s
}

/// A point that can be drawn, with its interval (`low == high == y` without one).
#[derive(Clone, Copy)]
struct Point {
    x: f64,
    y: f64,
    low: f64,
    high: f64,
}

fn drawable(curve: &Curve, plot: &Plot) -> Vec<Point> {
    let ok_x = |v: f64| v.is_finite() && (!plot.log_x || v > 0.0);
    let ok_y = |v: f64| v.is_finite() && (!plot.log_y || v > 0.0);
    curve
        .points
        .iter()
        .enumerate()
        .filter(|(_, (x, y))| ok_x(*x) && ok_y(*y))
        .map(|(i, &(x, y))| {
            let (low, high) = curve.intervals.as_ref().and_then(|iv| iv.get(i)).copied().unwrap_or((y, y));
            let low = if ok_y(low) { low.min(y) } else { y };
            let high = if ok_y(high) { high.max(y) } else { y };
            Point { x, y, low, high }
        })
        .collect()
}

/// Legend entries laid out in rows across the width: `(curve index, x)` per entry.
fn legend_rows(plot: &Plot) -> Vec<Vec<(usize, f64)>> {
    let mut rows: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut x = LEFT;
    for (i, curve) in plot.curves.iter().enumerate() {
        let width = 28.0 + 7.0 * curve.label.chars().count() as f64 + 24.0;
        if rows.is_empty() || (x + width > WIDTH - RIGHT && x > LEFT) {
            rows.push(Vec::new());
            x = LEFT;
        }
        rows.last_mut().expect("a row").push((i, x));
        x += width;
    }
    rows
}

fn dash(curve: usize) -> &'static str {
    if curve % 2 == 1 { r#" stroke-dasharray="6 3""# } else { "" }
}

/// A number as pgfplots reads it: plain decimals in the usual range, else scientific.
fn number(v: f64) -> String {
    if v == 0.0 || (1e-4..1e6).contains(&v.abs()) { format!("{v}") } else { format!("{v:e}") }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One axis: its drawn range (in log10 units on a log axis) and its ticks.
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
    ticks: Vec<Tick>,
}

struct Tick {
    value: f64,
    /// On a log axis, the power of ten.
    exponent: Option<i32>,
    step: f64,
}

impl Axis {
    fn fit(values: impl Iterator<Item = f64>, log: bool) -> Axis {
        let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if !lo.is_finite() {
            (lo, hi) = if log { (1.0, 10.0) } else { (0.0, 1.0) };
        }
        if log {
            let (mut a, mut b) = (lo.log10().floor(), hi.log10().ceil());
            if a == b {
                (a, b) = (a - 1.0, b + 1.0);
            }
            let every = ((b - a) / 8.0).ceil().max(1.0);
            let ticks = (a as i32..=b as i32)
                .filter(|k| (k - a as i32) % every as i32 == 0)
                .map(|k| Tick { value: 10f64.powi(k), exponent: Some(k), step: 1.0 })
                .collect();
            return Axis { log, lo: a, hi: b, ticks };
        }
        if lo == hi {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo, hi) = (lo - pad, hi + pad);
        }
        let step = nice_step((hi - lo) / 5.0);
        let (a, b) = ((lo / step).floor() * step, (hi / step).ceil() * step);
        let count = ((b - a) / step).round() as i64;
        let ticks = (0..=count).map(|k| Tick { value: a + k as f64 * step, exponent: None, step }).collect();
        Axis { log, lo: a, hi: b, ticks }
    }

    /// Where `v` falls on the axis, 0 at the low end and 1 at the high end.
    fn fraction(&self, v: f64) -> f64 {
        let v = if self.log { v.log10() } else { v };
        (v - self.lo) / (self.hi - self.lo)
    }
}

impl Tick {
    fn svg_label(&self) -> String {
        match self.exponent {
            Some(k) if (-2..=3).contains(&k) => format!("{}", 10f64.powi(k)),
            Some(k) => format!(r#"10<tspan dy="-6" font-size="9">{k}</tspan>"#),
            None => {
                let v = if self.value.abs() < self.step * 1e-9 { 0.0 } else { self.value };
                if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
                    format!("{v:.1e}")
                } else {
                    let decimals = (-self.step.log10().floor()).max(0.0) as usize;
                    format!("{v:.decimals$}")
                }
            }
        }
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let power = 10f64.powf(raw.log10().floor());
    let m = raw / power;
    power
        * if m <= 1.0 {
            1.0
        } else if m <= 2.0 {
            2.0
        } else if m <= 5.0 {
            5.0
        } else {
            10.0
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(label: &str, points: Vec<(f64, f64)>, intervals: Option<Vec<(f64, f64)>>) -> Curve {
        Curve { label: label.into(), points, intervals }
    }

    fn plot(log: bool, curves: Vec<Curve>) -> Plot {
        Plot { title: "RMSE & m < 10".into(), x_label: "m".into(), y_label: "RMSE".into(), log_x: log, log_y: log, curves }
    }

    #[test]
    fn linear_ticks_are_round_numbers_covering_the_data() {
        let axis = Axis::fit([0.13, 0.87].into_iter(), false);
        let labels: Vec<String> = axis.ticks.iter().map(Tick::svg_label).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert!((axis.fraction(0.5) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn log_ticks_are_decades() {
        let axis = Axis::fit([3.0, 2500.0].into_iter(), true);
        let labels: Vec<String> = axis.ticks.iter().map(Tick::svg_label).collect();
        assert_eq!(labels, ["1", "10", "100", "1000", "10<tspan dy=\"-6\" font-size=\"9\">4</tspan>"]);
        assert!((axis.fraction(100.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn svg_has_escaped_text_error_bars_and_a_legend_entry_per_curve() {
        let p = plot(
            false,
            vec![
                curve("E[v_t] (estimate)", vec![(1.0, 0.5), (2.0, 0.75), (3.0, 0.9)], Some(vec![(0.4, 0.6), (0.7, 0.8), (0.85, 0.95)])),
                curve("(1-β^t)μ", vec![(1.0, 0.5), (2.0, 0.75), (3.0, 0.875)], None),
            ],
        );
        let s = svg(&p);
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.contains("<title>RMSE &amp; m &lt; 10</title>"), "{s}");
        assert_eq!(s.matches("<polyline").count(), 2);
        assert_eq!(s.matches("<path d=\"M").count(), 3, "one error bar per point with an interval");
        assert!(s.contains(">E[v_t] (estimate)</text>") && s.contains(">(1-β^t)μ</text>"));
        assert!(!s.contains("NaN") && !s.contains("inf"));
    }

    #[test]
    fn many_points_show_their_intervals_as_a_band_and_bad_points_are_skipped() {
        let points: Vec<(f64, f64)> = (1..=20).map(|m| (m as f64 * 10.0, 1.0 / (m as f64).sqrt())).chain([(0.0, 1.0), (5.0, f64::NAN)]).collect();
        let intervals = points.iter().map(|&(_, y)| (y * 0.9, y * 1.1)).collect();
        let s = svg(&plot(true, vec![curve("rmse", points, Some(intervals))]));
        assert_eq!(s.matches("<polygon").count(), 1);
        assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
        let line = s.lines().find(|l| l.starts_with("<polyline")).unwrap();
        assert_eq!(line.matches(',').count(), 20, "x = 0 cannot sit on a log axis, NaN nowhere");
    }

    #[test]
    fn pgfplots_has_log_modes_error_bars_and_escaped_labels() {
        let p = plot(true, vec![curve("rmse_m", vec![(10.0, 0.3), (1e7, 1e-5)], Some(vec![(0.25, 0.35), (-1.0, 2e-5)]))]);
        let t = pgfplots(&p);
        assert!(t.contains("xmode=log,\n  ymode=log,"), "{t}");
        assert!(t.contains("title={RMSE \\& m \\textless{} 10}"), "{t}");
        assert!(t.contains("y explicit] coordinates {"));
        assert!(t.contains("(1e7, 1e-5) += (0, 1e-5) -= (0, 0)"), "an interval below 0 keeps its high end only: {t}");
        assert!(t.contains("\\addlegendentry{rmse\\_m}"));
        assert!(t.trim_end().ends_with("\\end{tikzpicture}"));
    }

    #[test]
    fn an_empty_plot_still_draws_axes() {
        let s = svg(&plot(false, vec![]));
        assert!(s.contains("</svg>") && !s.contains("NaN"));
    }
}
