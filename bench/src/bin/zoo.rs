//! `zoo`: the case study measured on this machine. Runs the default model of every family (or
//! `--models`) on random weights at batch 1 and prints the evolution table: what each family
//! introduced, its depth, parameters, MACs, receptive field and activation memory, and its
//! latency at 1 thread and at all threads against the peak-FMA probe of the same run.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use lineage_bench::clock::Clock;
use lineage_bench::peak_gflops;
use lineage_bench::progress::Progress;
use lineage_bench::zoo::measure::{Model, Runs};
use lineage_bench::zoo::options::{Options, USAGE};
use lineage_bench::zoo::pictures::{self, VISUALIZED};
use lineage_bench::zoo::plots::{latency_vs_macs, seconds_by_category, time_by_kind};
use lineage_bench::zoo::report::{table, to_csv, to_json, Row};
use lineage_kernels::cpu::Cpu;
use lineage_kernels::Isa;
use lineage_nets::PlanOptions;

/// Without `--runs`: as many runs as fit 3 s per model and thread count, 5 to 30.
const DEFAULT_RUNS: Runs = Runs::Budget { time: Duration::from_secs(3), min: 5, max: 30 };
/// Profiled runs per model for the time-by-layer-kind plot.
const PROFILE_RUNS: usize = 2;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let options = match Options::parse(&args, cores) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("zoo: error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zoo: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(o: &Options) -> Result<(), String> {
    let runs = o.runs.map_or(DEFAULT_RUNS, Runs::Fixed);
    let isa = Isa::detect();
    let per_model = 1 + o.threads.len() + usize::from(o.svg.is_some()) + usize::from(o.exact);
    let mut progress = Progress::new(1 + o.models.len() * per_model);
    let load_before = load_average();

    progress.start(&format!("peak-FMA probe ({})", isa.name()));
    let peak = peak_gflops(isa).map_err(|e| e.to_string())?;
    progress.finish_step();

    let mut rows = Vec::new();
    let mut profiles = Vec::new();
    let mut exact_costs = Vec::new();
    for name in &o.models {
        progress.start(&format!("{name}: building and planning"));
        let model = Model::new(name).map_err(|e| format!("{name}: {e}"))?;
        progress.finish_step();
        for &t in &o.threads {
            progress.start(&format!("{name}: timing at {t} thread(s)"));
            let timing = model.time(t, runs).map_err(|e| format!("{name} at {t} threads: {e}"))?;
            rows.push(Row::new(&model, &timing, peak));
            progress.finish_step();
        }
        if o.svg.is_some() {
            progress.start(&format!("{name}: profiling steps"));
            let seconds = model.profile(o.threads[0], PROFILE_RUNS).map_err(|e| format!("{name}: {e}"))?;
            profiles.push((model.name.clone(), seconds_by_category(&model.plan.steps(), &seconds)));
            progress.finish_step();
        }
        if o.exact {
            progress.start(&format!("{name}: timing the exact plan at {} thread(s)", o.threads[0]));
            let default = model.time(o.threads[0], runs).map_err(|e| format!("{name}: {e}"))?;
            drop(model);
            let options = PlanOptions { exact: true, ..PlanOptions::default() };
            let exact = Model::with_options(name, &options).and_then(|m| m.time(o.threads[0], runs));
            let exact = exact.map_err(|e| format!("{name}, exact plan: {e}"))?;
            exact_costs.push((name.clone(), default.median, exact.median));
            progress.finish_step();
        }
        // The model (and its packed weights, 0.5 GB for VGG-16) is dropped before the next.
    }
    progress.clear();

    println!("lineage zoo: batch 1, random weights, {}", machine());
    println!(
        "load average {} before, {} after (the machine may be shared: compare figures of one run)",
        load_before,
        load_average()
    );
    println!(
        "clocks: 1 thread = {} of the pool's only worker; more threads = wall time, which also\n\
         counts other processes' slices (on a loaded machine it can exceed the 1-thread figure)",
        Clock::single_thread().name()
    );
    println!(
        "peak-FMA probe: {peak:.1} GFLOP/s on one core ({}); %peak = GFLOP/s / (threads x probe);\n\
         GF/s = 2 x MACs / median: effective, so Winograd (fewer multiplies) can pass 100%",
        isa.name()
    );
    println!("p99 = nearest-rank 99th percentile: the slowest run when there are fewer than 100 runs");
    println!("{}", runs_note(runs, &rows));
    println!(
        "depth = convolutions + fully connected layers; RF = receptive field (input rows) of the last conv;"
    );
    println!("arena = the plan's activation memory; input 224x224 except Inception v3/v4 at 299x299");
    println!();
    print!("{}", table(&rows));
    if o.exact {
        println!(
            "\nexact plans (no Winograd), {} thread(s): medians timed back to back with the default plan",
            o.threads[0]
        );
        print!("{}", exact_table(&exact_costs));
    }

    if let Some(path) = &o.json {
        write(path, &to_json(&rows))?;
    }
    if let Some(path) = &o.csv {
        write(path, &to_csv(&rows))?;
    }
    if let Some(dir) = &o.svg {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        write(&dir.join("latency-vs-macs.svg"), &latency_vs_macs(&rows))?;
        write(&dir.join("time-by-layer-kind.svg"), &time_by_kind(&profiles, o.threads[0]))?;
        let drawn: Vec<&str> = VISUALIZED.into_iter().filter(|m| o.models.iter().any(|n| n == m)).collect();
        if !drawn.is_empty() {
            let index = pictures::write(dir, &drawn)?;
            println!(
                "\nfirst-layer filters and stage activation maps of {} (RANDOM weights: filter sizes and \
                 strides, not learned features): {}",
                drawn.join(", "),
                index.display()
            );
        }
    }
    Ok(())
}

/// Model, default and exact medians, and their ratio: what the exact plan costs.
fn exact_table(costs: &[(String, Duration, Duration)]) -> String {
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let mut out = String::from("| model | default ms | exact ms | exact / default |\n|---|---|---|---|\n");
    for (name, default, exact) in costs {
        let ratio = ms(exact) / ms(default);
        out.push_str(&format!("| {name} | {:.2} | {:.2} | {ratio:.2} |\n", ms(default), ms(exact)));
    }
    out
}

/// How many runs each figure got, naming the models whose runs were cut to save time.
fn runs_note(runs: Runs, rows: &[Row]) -> String {
    match runs {
        Runs::Fixed(n) => format!("runs: {n} timed runs per model and thread count (after one warm-up)"),
        Runs::Budget { time, min, max } => {
            let cut: Vec<String> = rows
                .iter()
                .filter(|r| r.runs < runs.most())
                .map(|r| format!("{}@{}t {}", r.model, r.threads, r.runs))
                .collect();
            let mut note = format!(
                "runs: as many as fit {:.0} s per model and thread count, {min} to {max}, after one warm-up",
                time.as_secs_f64()
            );
            if !cut.is_empty() {
                note.push_str(&format!(
                    ";\n  fewer runs to save time (a noisier p99) for: {} (--runs N for more)",
                    cut.join(", ")
                ));
            }
            note
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    eprintln!("zoo: wrote {}", path.display());
    Ok(())
}

/// CPU model and core count, from /proc/cpuinfo where there is one.
fn machine() -> String {
    let cpu = lineage_bench::machine::cpu_model();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores, convolution rules for {}", Cpu::detect().name())
}

/// The 1, 5 and 15 minute load averages, or `unknown`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}
