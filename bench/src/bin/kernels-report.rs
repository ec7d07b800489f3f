//! `kernels-report`: GFLOP/s of every layer of the table on every ISA and algorithm that supports
//! it, as a percent of the peak-FMA probe measured in the same run, with each algorithm's speedup
//! over direct on the same layer, its ratio to the same algorithm on the first ISA listed, the
//! planner's choice per ISA marked, and, for Winograd, its measured error against the f64
//! reference.
//! GFLOP/s always counts the direct convolution's 2 x MACs ("direct-equivalent").
//!
//! ```text
//! cargo run --release -p lineage-bench --bin kernels-report -- [--isa avx2,scalar]
//!     [--filter SUBSTR] [--threads N] [--json FILE]
//! ```

use std::process::ExitCode;

use lineage_bench::clock::Clock;
use lineage_bench::json::{to_json, Record};
use lineage_bench::timing::{measure, Budget};
use lineage_bench::{isa_list, peak_gflops, ConvCase, LAYERS};
use lineage_kernels::conv::select::select;
use lineage_kernels::Algorithm;

const USAGE: &str = "usage: kernels-report [--isa LIST] [--filter SUBSTR] [--threads N] [--json FILE]
  --isa LIST       comma-separated ISAs to measure (default: every available one but scalar;
                   avx2-as-512, the 16-lane layout on AVX2, only when asked)
  --filter SUBSTR  only the layers whose name contains SUBSTR
  --threads N      rayon threads for the convolutions (default 1); percent of peak is then
                   relative to N x the single-thread peak
  --json FILE      also write one record per layer x ISA x algorithm to FILE";

struct Options {
    isas: Option<String>,
    filter: Option<String>,
    threads: usize,
    json: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut opts = Options { isas: None, filter: None, threads: 1, json: None };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--isa" => opts.isas = Some(value("--isa")?),
            "--filter" => opts.filter = Some(value("--filter")?),
            "--json" => opts.json = Some(value("--json")?),
            "--threads" => {
                let v = value("--threads")?;
                opts.threads = match v.parse() {
                    Ok(n) if n >= 1 => n,
                    _ => return Err(format!("--threads {v:?}: expected a positive integer")),
                };
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(opts))
}

fn run(opts: &Options) -> Result<Vec<Record>, String> {
    let isas = isa_list(opts.isas.as_deref()).map_err(|e| e.to_string())?;
    let layers: Vec<_> =
        LAYERS.iter().filter(|l| opts.filter.as_deref().is_none_or(|f| l.name.contains(f))).collect();
    if layers.is_empty() {
        return Err(format!("--filter {:?} matches no layer", opts.filter.as_deref().unwrap_or("")));
    }
    // One thread does all the work of a single-threaded run, so its CPU time excludes the slices
    // other processes take on a shared machine; with more threads only wall time adds up.
    let clock = if opts.threads == 1 { Clock::single_thread() } else { Clock::Wall };
    let mut peaks = Vec::new();
    for &isa in &isas {
        let peak = peak_gflops(isa).map_err(|e| e.to_string())?;
        println!("{}: peak-FMA probe {peak:.1} GFLOP/s (1 thread)", isa.name());
        peaks.push(peak);
    }
    // Every ISA's rows of a layer are measured one after the other, so the ratio between ISAs
    // compares figures taken within seconds of each other.
    let base = isas[0];
    println!(
        "convolutions on {} thread(s), median {}; * marks the algorithm the planner selects on that \
         ISA; x {} is GFLOP/s over the same algorithm's on {}\n",
        opts.threads,
        clock.name(),
        base.name(),
        base.name()
    );
    println!(
        "{:<28} {:<11} {:<15} {:>7} {:>9} {:>5} {:>8} {:>7} {:>8} {:>8} {:>9}",
        "layer",
        "isa",
        "algorithm",
        "GFLOP",
        "ms",
        "runs",
        "GFLOP/s",
        "% peak",
        "x direct",
        format!("x {}", base.name()),
        "max err"
    );
    let mut records = Vec::new();
    for layer in &layers {
        let mut base_gflops: Vec<(Algorithm, f64)> = Vec::new();
        for (&isa, &peak) in isas.iter().zip(&peaks) {
            let selected = select(isa, &layer.params, layer.input).ok();
            // Direct runs first (it supports every dense layer), so the others compare with it.
            let mut direct_ms = None;
            for &algorithm in Algorithm::ALL.iter().filter(|a| a.supports(&layer.params).is_ok()) {
                let fail = |e: lineage_kernels::KernelError| {
                    format!("{} {} {}: {e}", layer.name, isa.name(), algorithm.name())
                };
                let mut case = ConvCase::new(layer, isa, algorithm).map_err(fail)?;
                let m = measure(clock, Budget::default(), || case.run()).map_err(fail)?;
                let gflops = m.gflops(case.flops());
                let percent = 100.0 * gflops / (peak * opts.threads as f64);
                let ms = m.median.as_secs_f64() * 1e3;
                if algorithm == Algorithm::Direct {
                    direct_ms = Some(ms);
                }
                let speedup = direct_ms.map(|d| d / ms);
                if isa == base {
                    base_gflops.push((algorithm, gflops));
                }
                let vs_base = base_gflops.iter().find(|(a, _)| *a == algorithm).map(|(_, g)| gflops / g);
                let winograd = matches!(
                    algorithm,
                    Algorithm::Winograd2x2
                        | Algorithm::Winograd4x4
                        | Algorithm::GroupedWinograd2x2
                        | Algorithm::GroupedWinograd4x4
                );
                let error = if winograd { Some(case.max_relative_error().map_err(fail)?) } else { None };
                let mark = if selected == Some(algorithm) { "*" } else { "" };
                println!(
                    "{:<28} {:<11} {:<15} {:>7.3} {:>9.3} {:>5} {:>8.1} {:>6.1}% {:>8} {:>8} {:>9}",
                    layer.name,
                    isa.name(),
                    format!("{}{mark}", algorithm.name()),
                    case.flops() as f64 / 1e9,
                    ms,
                    m.runs,
                    gflops,
                    percent,
                    speedup.map_or("-".to_string(), |s| format!("{s:.2}x")),
                    vs_base.map_or("-".to_string(), |s| format!("{s:.2}x")),
                    error.map_or("-".to_string(), |e| format!("{e:.1e}")),
                );
                records.push(Record {
                    layer: layer.name.to_string(),
                    isa: isa.name().to_string(),
                    algorithm: algorithm.name().to_string(),
                    selected: selected == Some(algorithm),
                    gflops,
                    peak_gflops: peak,
                    percent_of_peak: percent,
                    speedup_vs_direct: speedup,
                    vs_first_isa: vs_base,
                    max_rel_error: error,
                });
            }
        }
    }
    Ok(records)
}

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("kernels-report: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| format!("cannot start {} threads: {e}", opts.threads))
        .and_then(|pool| pool.install(|| run(&opts)))
        .and_then(|records| match &opts.json {
            Some(path) => std::fs::write(path, to_json(&records)).map_err(|e| format!("--json {path}: {e}")),
            None => Ok(()),
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kernels-report: {e}");
            ExitCode::FAILURE
        }
    }
}
