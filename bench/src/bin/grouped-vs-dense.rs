//! `grouped-vs-dense`: each two-tower convolution of `alexnet_grouped` (groups = 2) against
//! twice the dense convolution of one tower, per ISA, in one run on one thread:
//! `ratio = grouped / (2 x dense)`, below 1 when the grouped kernel runs its two large groups
//! faster than two dense convolutions would. Dense is timed with direct (the grouped kernel's
//! own engine) and with the algorithm the planner picks for the dense half, when that differs.
//! The figures of a pair are taken in alternating rounds, so a slow phase of a shared machine
//! hits both.
//!
//! ```text
//! cargo run --release -p lineage-bench --bin grouped-vs-dense -- [--isa avx2,avx512] [--rounds N]
//! ```

use std::process::ExitCode;

use lineage_bench::clock::Clock;
use lineage_bench::timing::{measure, Budget};
use lineage_bench::{isa_list, ConvCase, Layer, LAYERS};
use lineage_kernels::conv::select::select;
use lineage_kernels::{Algorithm, Isa};

const USAGE: &str = "usage: grouped-vs-dense [--isa LIST] [--rounds N]
  --isa LIST   comma-separated ISAs (default: every available one but scalar)
  --rounds N   alternating rounds per pair (default 5); each figure is the median of its rounds";

/// Per timed figure of one round: short, as the rounds give the repetitions.
const ROUND: Budget = Budget { time: std::time::Duration::from_millis(150), min_runs: 3, max_runs: 40 };

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut isas, mut rounds) = (None, 5usize);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value) {
            ("-h" | "--help", _) => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            ("--isa", Some(v)) => isas = Some(v),
            ("--rounds", Some(v)) => match v.parse() {
                Ok(n) if n >= 1 => rounds = n,
                _ => return usage_error(&format!("--rounds {v:?}: expected a positive integer")),
            },
            (name @ ("--isa" | "--rounds"), None) => return usage_error(&format!("{name} needs a value")),
            (other, _) => return usage_error(&format!("unknown argument {other:?}")),
        }
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build();
    let result = pool.map_err(|e| e.to_string()).and_then(|p| p.install(|| run(isas.as_deref(), rounds)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("grouped-vs-dense: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("grouped-vs-dense: {message}\n{USAGE}");
    ExitCode::from(2)
}

/// The dense half of a grouped layer: one group's channels, groups = 1.
fn tower(grouped: &Layer) -> Result<&'static Layer, String> {
    let p = &grouped.params;
    LAYERS
        .iter()
        .find(|l| {
            let q = &l.params;
            q.groups == 1
                && (q.c_in, q.c_out) == (p.c_in / p.groups, p.c_out / p.groups)
                && (q.kh, q.kw, q.stride_h, q.pad) == (p.kh, p.kw, p.stride_h, p.pad)
                && (l.input.h, l.input.w) == (grouped.input.h, grouped.input.w)
        })
        .ok_or_else(|| format!("{}: no dense layer of one tower in the layer table", grouped.name))
}

/// Median time in ms of `case` over `rounds` rounds, interleaved with the other cases.
fn rounds_ms(cases: &mut [ConvCase], rounds: usize, clock: Clock) -> Result<Vec<f64>, String> {
    let mut times = vec![Vec::new(); cases.len()];
    for _ in 0..rounds {
        for (case, t) in cases.iter_mut().zip(&mut times) {
            let m = measure(clock, ROUND, || case.run()).map_err(|e| e.to_string())?;
            t.push(m.median.as_secs_f64() * 1e3);
        }
    }
    Ok(times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect())
}

fn run(isas: Option<&str>, rounds: usize) -> Result<(), String> {
    let isas = isa_list(isas).map_err(|e| e.to_string())?;
    let clock = Clock::single_thread();
    println!("{}, 1 thread, {}, median of {rounds} alternating rounds", cpu(), clock.name());
    println!(
        "{:<28} {:<8} {:>11} {:>21} {:>8} {:>26} {:>8}",
        "grouped layer (g=2)",
        "isa",
        "grouped ms",
        "2 x dense direct ms",
        "ratio",
        "2 x dense planner's ms",
        "ratio"
    );
    let grouped: Vec<&Layer> = LAYERS.iter().filter(|l| l.name.starts_with("alexnet/g2")).collect();
    for layer in grouped {
        let half = tower(layer)?;
        for &isa in &isas {
            let fail = |e: lineage_kernels::KernelError| format!("{} {}: {e}", layer.name, isa.name());
            let chosen = select(isa, &half.params, half.input).map_err(fail)?;
            let mut cases = vec![
                ConvCase::new(layer, isa, Algorithm::Grouped).map_err(fail)?,
                ConvCase::new(half, isa, Algorithm::Direct).map_err(fail)?,
            ];
            let planner_grouped = select(isa, &layer.params, layer.input).map_err(fail)?;
            cases.push(ConvCase::new(half, isa, chosen).map_err(fail)?);
            cases.push(ConvCase::new(layer, isa, planner_grouped).map_err(fail)?);
            let ms = rounds_ms(&mut cases, rounds, clock)?;
            let planner = ms[2];
            println!(
                "{:<28} {:<8} {:>11.3} {:>21.3} {:>8.2} {:>26} {:>8.2}",
                layer.name,
                isa.name(),
                ms[0],
                2.0 * ms[1],
                ms[0] / (2.0 * ms[1]),
                format!("{:.3} ({})", 2.0 * planner, chosen.name()),
                ms[0] / (2.0 * planner),
            );
            println!(
                "{:<28} {:<8} planner's grouped ({}): {:.3} ms, vs 2 x dense planner's: {:.2}",
                "",
                isa.name(),
                planner_grouped.name(),
                ms[3],
                ms[3] / (2.0 * planner),
            );
        }
    }
    Ok(())
}

/// The CPU's model name from /proc/cpuinfo, and the ISAs this build can run.
fn cpu() -> String {
    let model = lineage_bench::machine::cpu_model();
    let isas: Vec<&str> = Isa::available().iter().map(|i| i.name()).collect();
    format!("{model} (ISAs: {})", isas.join(", "))
}
