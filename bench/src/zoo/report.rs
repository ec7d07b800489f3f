//! The report's rows and their three renderings: the evolution table (stdout), JSON and CSV
//! (one record per model x thread count), all written by hand.

use std::fmt::Write;

use crate::json::{number, string};
use crate::zoo::measure::{Model, Timing};

/// One model at one thread count.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub model: String,
    pub family: &'static str,
    pub year: u16,
    pub introduced: &'static str,
    pub input_size: usize,
    pub depth: usize,
    pub params: usize,
    pub macs: u64,
    pub receptive_field: usize,
    pub arena_bytes: usize,
    /// `pointwise 36, direct 17`: the conv algorithms the planner chose, with counts.
    pub algorithms: String,
    pub threads: usize,
    pub clock: &'static str,
    pub runs: usize,
    pub median_ms: f64,
    pub p99_ms: f64,
    pub best_ms: f64,
    pub gflops: f64,
    /// The single-thread peak-FMA probe of this run.
    pub peak_gflops: f64,
    /// GFLOP/s over `threads` x the single-thread peak.
    pub percent_of_peak: f64,
}

impl Row {
    pub fn new(model: &Model, t: &Timing, peak_gflops: f64) -> Row {
        let median_ms = t.median.as_secs_f64() * 1e3;
        let gflops = 2.0 * model.macs as f64 / (median_ms * 1e-3).max(1e-12) / 1e9;
        Row {
            model: model.name.clone(),
            family: model.family.name,
            year: model.family.year,
            introduced: model.family.introduced,
            input_size: model.input_size,
            depth: model.depth,
            params: model.params,
            macs: model.macs,
            receptive_field: model.receptive_field,
            arena_bytes: model.arena_bytes,
            algorithms: model
                .algorithms
                .iter()
                .map(|(a, n)| format!("{a} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            threads: t.threads,
            clock: t.clock.name(),
            runs: t.runs,
            median_ms,
            p99_ms: t.p99.as_secs_f64() * 1e3,
            best_ms: t.best.as_secs_f64() * 1e3,
            gflops,
            peak_gflops,
            percent_of_peak: 100.0 * gflops / (peak_gflops * t.threads as f64),
        }
    }
}

/// The evolution table: one line per model with its latency at every thread count, then the
/// conv algorithms of each model.
pub fn table(rows: &[Row]) -> String {
    let mut threads: Vec<usize> = Vec::new();
    let mut models: Vec<&str> = Vec::new();
    for r in rows {
        if !threads.contains(&r.threads) {
            threads.push(r.threads);
        }
        if !models.contains(&r.model.as_str()) {
            models.push(&r.model);
        }
    }
    let mut out = String::new();
    let _ = write!(
        out,
        "{:<4} {:<16} {:<38} {:>5} {:>7} {:>6} {:>4} {:>7}",
        "year", "model", "introduced", "depth", "params", "GMAC", "RF", "arena"
    );
    for t in &threads {
        let _ = write!(out, " | {:>17} {:>6} {:>5}", format!("{t} thr ms med/p99"), "GF/s", "%peak");
    }
    out.push('\n');
    for m in &models {
        let mine: Vec<&Row> = rows.iter().filter(|r| r.model == *m).collect();
        let r = mine[0];
        let _ = write!(
            out,
            "{:<4} {:<16} {:<38} {:>5} {:>6.1}M {:>6.2} {:>4} {:>5.1}MB",
            r.year,
            r.model,
            r.introduced,
            r.depth,
            r.params as f64 / 1e6,
            r.macs as f64 / 1e9,
            r.receptive_field,
            r.arena_bytes as f64 / 1e6
        );
        for t in &threads {
            match mine.iter().find(|r| r.threads == *t) {
                Some(r) => {
                    let lat = format!("{:.1}/{:.1}", r.median_ms, r.p99_ms);
                    let _ = write!(out, " | {lat:>17} {:>6.1} {:>4.0}%", r.gflops, r.percent_of_peak);
                }
                None => {
                    let _ = write!(out, " | {:>17} {:>6} {:>5}", "-", "-", "-");
                }
            }
        }
        out.push('\n');
    }
    out.push_str("\nconv algorithms the planner chose (number of convolutions):\n");
    for m in &models {
        let r = rows.iter().find(|r| r.model == *m).expect("every model has a row");
        let _ = writeln!(out, "  {:<16} {}", r.model, r.algorithms);
    }
    out
}

/// The rows as a JSON array, one object per line.
pub fn to_json(rows: &[Row]) -> String {
    let mut out = String::from("[\n");
    for (i, r) in rows.iter().enumerate() {
        let sep = if i + 1 < rows.len() { "," } else { "" };
        let _ = writeln!(
            out,
            "  {{\"model\": {}, \"family\": {}, \"year\": {}, \"threads\": {}, \"clock\": {}, \"runs\": {}, \"input_size\": {}, \"depth\": {}, \"params\": {}, \"macs\": {}, \"receptive_field\": {}, \"arena_bytes\": {}, \"median_ms\": {}, \"p99_ms\": {}, \"best_ms\": {}, \"gflops\": {}, \"peak_gflops\": {}, \"percent_of_peak\": {}, \"algorithms\": {}}}{sep}",
            string(&r.model),
            string(r.family),
            r.year,
            r.threads,
            string(r.clock),
            r.runs,
            r.input_size,
            r.depth,
            r.params,
            r.macs,
            r.receptive_field,
            r.arena_bytes,
            number(r.median_ms),
            number(r.p99_ms),
            number(r.best_ms),
            number(r.gflops),
            number(r.peak_gflops),
            number(r.percent_of_peak),
            string(&r.algorithms),
        );
    }
    out.push_str("]\n");
    out
}

const CSV_HEADER: &str = "model,family,year,threads,clock,runs,input_size,depth,params,macs,receptive_field,arena_bytes,median_ms,p99_ms,best_ms,gflops,peak_gflops,percent_of_peak,algorithms";

/// The rows as CSV with a header line (RFC 4180 quoting where a field needs it).
pub fn to_csv(rows: &[Row]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for r in rows {
        let fields = [
            csv_field(&r.model),
            csv_field(r.family),
            r.year.to_string(),
            r.threads.to_string(),
            csv_field(r.clock),
            r.runs.to_string(),
            r.input_size.to_string(),
            r.depth.to_string(),
            r.params.to_string(),
            r.macs.to_string(),
            r.receptive_field.to_string(),
            r.arena_bytes.to_string(),
            format!("{:.3}", r.median_ms),
            format!("{:.3}", r.p99_ms),
            format!("{:.3}", r.best_ms),
            format!("{:.3}", r.gflops),
            format!("{:.3}", r.peak_gflops),
            format!("{:.3}", r.percent_of_peak),
            csv_field(&r.algorithms),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(model: &str, threads: usize, median_ms: f64) -> Row {
        Row {
            model: model.into(),
            family: "ResNet",
            year: 2015,
            introduced: "residual connections",
            input_size: 224,
            depth: 54,
            params: 25_557_032,
            macs: 4_089_184_256,
            receptive_field: 427,
            arena_bytes: 12_845_056,
            algorithms: "pointwise 36, direct 17".into(),
            threads,
            clock: if threads == 1 { "thread CPU time" } else { "wall time" },
            runs: 5,
            median_ms,
            p99_ms: median_ms + 1.0,
            best_ms: median_ms - 1.0,
            gflops: 8_178_368_512.0 / (median_ms * 1e-3) / 1e9,
            peak_gflops: 100.0,
            percent_of_peak: 8_178_368_512.0 / (median_ms * 1e-3) / 1e9 / threads as f64,
        }
    }

    #[test]
    fn json_records_are_exact() {
        assert_eq!(
            to_json(&[row("resnet50", 1, 100.0), row("a\"b", 2, 50.0)]),
            "[\n  {\"model\": \"resnet50\", \"family\": \"ResNet\", \"year\": 2015, \"threads\": 1, \"clock\": \"thread CPU time\", \"runs\": 5, \"input_size\": 224, \"depth\": 54, \"params\": 25557032, \"macs\": 4089184256, \"receptive_field\": 427, \"arena_bytes\": 12845056, \"median_ms\": 100.000, \"p99_ms\": 101.000, \"best_ms\": 99.000, \"gflops\": 81.784, \"peak_gflops\": 100.000, \"percent_of_peak\": 81.784, \"algorithms\": \"pointwise 36, direct 17\"},\n  {\"model\": \"a\\\"b\", \"family\": \"ResNet\", \"year\": 2015, \"threads\": 2, \"clock\": \"wall time\", \"runs\": 5, \"input_size\": 224, \"depth\": 54, \"params\": 25557032, \"macs\": 4089184256, \"receptive_field\": 427, \"arena_bytes\": 12845056, \"median_ms\": 50.000, \"p99_ms\": 51.000, \"best_ms\": 49.000, \"gflops\": 163.567, \"peak_gflops\": 100.000, \"percent_of_peak\": 81.784, \"algorithms\": \"pointwise 36, direct 17\"}\n]\n"
        );
        assert_eq!(to_json(&[]), "[\n]\n");
    }

    #[test]
    fn csv_is_exact_and_quotes_fields_with_commas() {
        let mut r = row("resnet50", 2, 50.0);
        r.model = "x\"y".into();
        assert_eq!(
            to_csv(&[r]),
            format!("{CSV_HEADER}\n\"x\"\"y\",ResNet,2015,2,wall time,5,224,54,25557032,4089184256,427,12845056,50.000,51.000,49.000,163.567,100.000,81.784,\"pointwise 36, direct 17\"\n")
        );
    }

    #[test]
    fn table_has_one_line_per_model_with_every_thread_count() {
        let t = table(&[row("resnet50", 1, 100.0), row("resnet50", 2, 50.0), row("resnet18", 1, 40.0)]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("year model            introduced"), "{}", lines[0]);
        assert!(lines[0].contains("1 thr ms med/p99") && lines[0].contains("2 thr ms med/p99"));
        assert_eq!(
            lines[1],
            "2015 resnet50         residual connections                      54   25.6M   4.09  427  12.8MB |       100.0/101.0   81.8   82% |         50.0/51.0  163.6   82%"
        );
        // resnet18 was not timed at 2 threads: dashes, and the columns stay aligned.
        assert!(lines[2].ends_with("|                 -      -     -"), "{}", lines[2]);
        assert_eq!(lines[1].len(), lines[2].len());
        assert_eq!(lines[0].len(), lines[1].len());
        assert!(t.contains("\n  resnet50         pointwise 36, direct 17\n  resnet18 "));
    }
}
