//! The report's two plots: latency against MACs on log axes (one labelled point per model and
//! thread count), and each model's run time split by layer kind (stacked bars).

use lineage_nets::StepInfo;

use crate::svg::{tick_label, LogAxis, Svg};
use crate::zoo::report::Row;

/// Layer kinds of the stacked bars, in stacking order, with their colours.
pub const CATEGORIES: [(&str, &str); 12] = [
    ("direct", "#4e79a7"),
    ("pointwise", "#f28e2b"),
    ("factorized", "#59a14f"),
    ("winograd-f2x2", "#76b7b2"),
    ("winograd-f4x4", "#17becf"),
    ("depthwise", "#e15759"),
    ("grouped", "#b07aa1"),
    // Expansion, depthwise and projection fused band by band (MobileNet v2's early blocks).
    ("banded", "#d37295"),
    ("linear", "#edc948"),
    ("pooling", "#9c755f"),
    ("lrn", "#ff9da7"),
    ("other", "#bab0ac"),
];

/// Series colours of the scatter, by position of the thread count.
const SERIES: [&str; 4] = ["#4e79a7", "#e15759", "#59a14f", "#b07aa1"];

/// The category of a plan step: conv steps by the algorithm that runs them.
pub fn category(step: &StepInfo) -> &'static str {
    if let Some(a) = step.algorithm {
        // Grouped convolutions, whichever form runs them, share one colour.
        if a.starts_with("grouped") {
            return "grouped";
        }
        return CATEGORIES.iter().map(|c| c.0).find(|&c| c == a).unwrap_or("other");
    }
    match step.kind {
        "linear" => "linear",
        "maxpool" | "avgpool" | "adaptivepool" | "globalpool" => "pooling",
        "lrn" => "lrn",
        _ => "other",
    }
}

/// Seconds per category (in [`CATEGORIES`] order) of one profiled run.
pub fn seconds_by_category(steps: &[StepInfo], seconds: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; CATEGORIES.len()];
    for (s, t) in steps.iter().zip(seconds) {
        let i = CATEGORIES.iter().position(|c| c.0 == category(s)).expect("category() names a category");
        out[i] += t;
    }
    out
}

/// Median latency against MACs, both on log axes: one point per row, labelled with the model
/// on the first thread count's series; a grey line joins a model's points.
pub fn latency_vs_macs(rows: &[Row]) -> String {
    let (w, h) = (860.0, 600.0);
    let (left, right, top, bottom) = (80.0, 30.0, 60.0, 60.0);
    let mut svg = Svg::new(w, h);
    let gmacs = |r: &Row| r.macs as f64 / 1e9;
    let fold = |f: fn(f64, f64) -> f64, init: f64, v: &dyn Fn(&Row) -> f64| rows.iter().map(v).fold(init, f);
    let x = LogAxis::new(fold(f64::min, f64::INFINITY, &gmacs), fold(f64::max, 0.0, &gmacs), left, w - right);
    let ms = |r: &Row| r.median_ms;
    let y = LogAxis::new(fold(f64::min, f64::INFINITY, &ms), fold(f64::max, 0.0, &ms), h - bottom, top);
    svg.text((w / 2.0, 28.0), 17.0, "middle", "Batch-1 latency against multiply-accumulates (log-log)");
    grid(&mut svg, &x, &y, (left, w - right), (top, h - bottom));
    svg.text(((left + w - right) / 2.0, h - 15.0), 13.0, "middle", "GMAC per image");
    svg.vertical_text((22.0, (top + h - bottom) / 2.0), 13.0, "median latency (ms)");

    let mut threads: Vec<usize> = Vec::new();
    for r in rows {
        if !threads.contains(&r.threads) {
            threads.push(r.threads);
        }
    }
    // A model's points joined, so the multi-thread speed-up reads as a vertical drop.
    for a in rows.iter().filter(|r| r.threads == threads[0]) {
        for b in rows.iter().filter(|b| b.model == a.model && b.threads != a.threads) {
            svg.line(
                (x.pixel(gmacs(a)), y.pixel(a.median_ms)),
                (x.pixel(gmacs(b)), y.pixel(b.median_ms)),
                "#bbbbbb",
                1.0,
            );
        }
    }
    let mut placed: Vec<(f64, f64, f64, f64)> = Vec::new();
    for (i, t) in threads.iter().enumerate() {
        let colour = SERIES[i % SERIES.len()];
        for r in rows.iter().filter(|r| r.threads == *t) {
            let p = (x.pixel(gmacs(r)), y.pixel(r.median_ms));
            svg.circle(
                p,
                5.0,
                colour,
                &format!("{} at {t} thread(s): {:.1} ms, {:.2} GMAC", r.model, r.median_ms, gmacs(r)),
            );
            placed.push((p.0 - 5.0, p.1 - 5.0, 10.0, 10.0));
        }
    }
    for r in rows.iter().filter(|r| r.threads == threads[0]) {
        let p = (x.pixel(gmacs(r)), y.pixel(r.median_ms));
        let pos = place_label(&r.model, p, &mut placed);
        svg.text(pos, 12.0, "start", &r.model);
    }
    // Legend, top left inside the plot.
    for (i, t) in threads.iter().enumerate() {
        let (lx, ly) = (left + 14.0, top + 16.0 + 18.0 * i as f64);
        svg.circle((lx, ly - 4.0), 5.0, SERIES[i % SERIES.len()], "");
        let clock = if *t == 1 { "thread CPU time" } else { "wall time" };
        svg.text((lx + 10.0, ly), 12.0, "start", &format!("{t} thread(s), {clock}"));
    }
    svg.finish()
}

/// Grid lines and tick labels of both log axes.
fn grid(svg: &mut Svg, x: &LogAxis, y: &LogAxis, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) {
    for (v, decade) in x.ticks() {
        let px = x.pixel(v);
        svg.line((px, y0), (px, y1), if decade { "#bbbbbb" } else { "#e8e8e8" }, 1.0);
        svg.text((px, y1 + 16.0), 11.0, "middle", &tick_label(v));
    }
    for (v, decade) in y.ticks() {
        let py = y.pixel(v);
        svg.line((x0, py), (x1, py), if decade { "#bbbbbb" } else { "#e8e8e8" }, 1.0);
        svg.text((x0 - 6.0, py + 4.0), 11.0, "end", &tick_label(v));
    }
    svg.line((x0, y1), (x1, y1), "black", 1.0);
    svg.line((x0, y0), (x0, y1), "black", 1.0);
}

/// A spot for a label next to point `p` that overlaps no box in `placed` (tried right of the
/// point, then above and below it, then left), recorded in `placed`.
fn place_label(text: &str, p: (f64, f64), placed: &mut Vec<(f64, f64, f64, f64)>) -> (f64, f64) {
    let (tw, th) = (6.8 * text.len() as f64, 12.0);
    let candidates = [
        (p.0 + 8.0, p.1 + 4.0),
        (p.0 + 8.0, p.1 - 9.0),
        (p.0 + 8.0, p.1 + 17.0),
        (p.0 - 8.0 - tw, p.1 + 4.0),
        (p.0 + 8.0, p.1 - 22.0),
        (p.0 + 8.0, p.1 + 30.0),
        (p.0 - 8.0 - tw, p.1 - 9.0),
        (p.0 - 8.0 - tw, p.1 + 17.0),
    ];
    let overlaps = |(x, y): (f64, f64), placed: &[(f64, f64, f64, f64)]| {
        placed.iter().any(|&(bx, by, bw, bh)| x < bx + bw && bx < x + tw && y - th < by + bh && by < y)
    };
    let pos = candidates.iter().copied().find(|&c| !overlaps(c, placed)).unwrap_or(candidates[0]);
    placed.push((pos.0, pos.1 - th, tw, th));
    pos
}

/// One bar per model: the shares of its profiled run time by layer kind, with the total in ms.
/// `profiles` holds each model's name and its seconds per category ([`seconds_by_category`]).
pub fn time_by_kind(profiles: &[(String, Vec<f64>)], threads: usize) -> String {
    let (left, bar_w, right) = (150.0, 600.0, 90.0);
    let (top, row_h, bar_h) = (96.0, 30.0, 20.0);
    let w = left + bar_w + right;
    let h = top + row_h * profiles.len() as f64 + 50.0;
    let mut svg = Svg::new(w, h);
    svg.text(
        (w / 2.0, 28.0),
        17.0,
        "middle",
        &format!("Where the time goes: share of run time by layer kind ({threads} thread(s))"),
    );
    // Legend in rows of six, only the kinds that occur.
    let used: Vec<usize> =
        (0..CATEGORIES.len()).filter(|&i| profiles.iter().any(|(_, s)| s[i] > 0.0)).collect();
    for (k, &i) in used.iter().enumerate() {
        let (lx, ly) = (left + 110.0 * (k % 6) as f64, 50.0 + 20.0 * (k / 6) as f64);
        svg.rect((lx, ly - 10.0), (12.0, 12.0), CATEGORIES[i].1, None);
        svg.text((lx + 16.0, ly), 11.0, "start", CATEGORIES[i].0);
    }
    for (row, (model, seconds)) in profiles.iter().enumerate() {
        let y = top + row_h * row as f64;
        let total: f64 = seconds.iter().sum();
        svg.text((left - 8.0, y + bar_h * 0.7), 12.0, "end", model);
        let mut x = left;
        for (i, &s) in seconds.iter().enumerate() {
            if s <= 0.0 || total <= 0.0 {
                continue;
            }
            let share = s / total;
            let width = share * bar_w;
            let title = format!("{model}: {} {:.2} ms ({:.1}%)", CATEGORIES[i].0, s * 1e3, 100.0 * share);
            svg.rect((x, y), (width, bar_h), CATEGORIES[i].1, Some(&title));
            if width >= 34.0 {
                svg.text(
                    (x + width / 2.0, y + bar_h * 0.7),
                    10.0,
                    "middle",
                    &format!("{:.0}%", 100.0 * share),
                );
            }
            x += width;
        }
        svg.text((left + bar_w + 8.0, y + bar_h * 0.7), 12.0, "start", &format!("{:.1} ms", total * 1e3));
    }
    svg.text(
        (left, h - 18.0),
        11.0,
        "start",
        "Step times from Plan::run_profiled (wall clock), averaged over the profiled runs.",
    );
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lineage_kernels::Shape;

    fn step(kind: &'static str, algorithm: Option<&'static str>) -> StepInfo {
        StepInfo { name: "s".into(), kind, algorithm, output: Shape::new(1, 1, 1, 1) }
    }

    fn row(model: &str, threads: usize, macs: u64, median_ms: f64) -> Row {
        Row {
            model: model.into(),
            family: "F",
            year: 2000,
            introduced: "",
            input_size: 224,
            depth: 1,
            params: 1,
            macs,
            receptive_field: 1,
            arena_bytes: 1,
            algorithms: String::new(),
            threads,
            clock: "",
            runs: 1,
            median_ms,
            p99_ms: median_ms,
            best_ms: median_ms,
            gflops: 1.0,
            peak_gflops: 1.0,
            percent_of_peak: 1.0,
        }
    }

    #[test]
    fn steps_fall_into_their_category() {
        let steps = [
            step("conv+add", Some("pointwise")),
            step("conv", Some("winograd-f4x4")),
            step("maxpool", None),
            step("globalpool", None),
            step("linear", None),
            step("copy", None),
        ];
        let got = seconds_by_category(&steps, &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0]);
        let at = |name: &str| got[CATEGORIES.iter().position(|c| c.0 == name).unwrap()];
        assert_eq!(
            (at("pointwise"), at("winograd-f4x4"), at("pooling"), at("linear"), at("other")),
            (1.0, 2.0, 12.0, 16.0, 32.0)
        );
        assert_eq!(got.iter().sum::<f64>(), 63.0);
    }

    #[test]
    fn scatter_labels_every_model_once_and_escapes() {
        let rows = [
            row("resnet50", 1, 4_000_000_000, 160.0),
            row("resnet50", 2, 4_000_000_000, 90.0),
            row("a&b", 1, 300_000_000, 9.0),
        ];
        let doc = latency_vs_macs(&rows);
        assert_eq!(doc.matches(">resnet50</text>").count(), 1);
        assert_eq!(doc.matches(">a&amp;b</text>").count(), 1);
        assert_eq!(doc.matches("<circle").count(), 3 + 2, "three points and two legend markers");
        assert!(doc.contains(">2 thread(s), wall time</text>"));
        // Both axes span whole decades around the data: 0.1..10 GMAC and 1..1000 ms.
        assert!(doc.contains(">0.1</text>") && doc.contains(">10</text>") && doc.contains(">1000</text>"));
        well_formed(&doc);
    }

    #[test]
    fn stacked_bars_show_shares_and_totals() {
        let mut a = vec![0.0; CATEGORIES.len()];
        let at = |name: &str| CATEGORIES.iter().position(|c| c.0 == name).unwrap();
        a[at("direct")] = 0.075;
        a[at("linear")] = 0.025;
        let doc = time_by_kind(&[("vgg16".into(), a)], 1);
        assert!(
            doc.contains(">75%</text>") && doc.contains(">25%</text>") && doc.contains(">100.0 ms</text>")
        );
        assert!(doc.contains("<title>vgg16: direct 75.00 ms (75.0%)</title>"));
        // Only the kinds that occur are in the legend.
        assert!(doc.contains(">linear</text>") && !doc.contains(">depthwise</text>"));
        well_formed(&doc);
    }

    /// Every element opened is closed, in order (a small XML nesting check).
    fn well_formed(doc: &str) {
        let body = doc.split_once("?>").unwrap().1;
        let mut stack: Vec<String> = Vec::new();
        let mut rest = body;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').unwrap() + start;
            let tag = &rest[start + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "closing {name}");
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap().to_string());
            }
            assert!(!rest[start + 1..end].contains('<'));
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed {stack:?}");
    }
}
