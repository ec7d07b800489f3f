//! `lineage`: list the models, print a model's layer table, run one on an image (PNG or JPEG,
//! preprocessed as the model's preset does) or a `.npy` tensor, time it, draw its filters and
//! activation maps, or inspect a checkpoint. Errors are one line on stderr and a non-zero exit code (a checkpoint that does
//! not fit gets one error listing every tensor to fix, one per line).

// The subcommands' parts live beside this file (`path`: a binary's root looks for modules in
// its own directory).
#[path = "lineage/checkpoint.rs"]
mod checkpoint;
#[path = "lineage/features.rs"]
mod features;
#[path = "lineage/inspect.rs"]
mod inspect;
#[path = "lineage/labels.rs"]
mod labels;
#[path = "lineage/visualize.rs"]
mod visualize;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use lineage_kernels::cpu::Cpu;
use lineage_kernels::Shape;
use lineage_nets::image::{self, Format};
use lineage_nets::{
    models, npy, preprocess, Input, NetError, NormalRng, Op, Plan, PlanOptions, Threads, Workspace,
};

use checkpoint::Model;
use labels::Labels;

const USAGE: &str = "usage:
  lineage list
  lineage info <model> [MODEL OPTIONS] [PLAN OPTIONS] [--size N]
  lineage run <model> [MODEL OPTIONS] [PLAN OPTIONS] --input IMAGE|X.npy [--output Y.npy]
              [--threads N] [--top K] [--labels FILE] [--features NAME[,NAME...]] [--features-dir DIR]
  lineage bench <model> [MODEL OPTIONS] [PLAN OPTIONS] [--threads N] [--runs R] [--size N]
              [--profile yes|no]
  lineage inspect W.safetensors
  lineage visualize <model> [MODEL OPTIONS] --input IMAGE --out DIR [--layers NAME[,NAME...]] [--top K]
              PNGs of the first layer's filters and the image's top-K (default 16) activation
              maps at each stage (or each --layers name)
plan options:
  --max-arena-mb M         most megabytes (10^6 bytes) a plan's workspace may take (default 4295, 4 GiB)
  --exact yes|no           yes: no Winograd, for the error of direct convolution (default no)
model options:
  --weights W.safetensors  a checkpoint (without it: random weights, and a warning)
  --classes N              classifier size (default: the checkpoint's, else 1000); 0 for features
  --strip-prefix P         remove P from every tensor name (repeatable), e.g. module.
  --transform-input yes|no googlenet, inception_v3: torchvision's input re-normalization
                           (default: yes with --weights, as torchvision's pretrained weights
                           use it; no with random weights)";

/// The options [`Args::model`] reads.
const MODEL_OPTIONS: [&str; 4] = ["weights", "classes", "strip-prefix", "transform-input"];

/// The plan options [`Args::plan_options`] reads.
const PLAN_OPTIONS: [&str; 2] = ["max-arena-mb", "exact"];

/// Options that may be given more than once (the others: once at most).
const REPEATABLE: [&str; 1] = ["strip-prefix"];

/// Most bytes `--input` may hold (a batch of 400 224x224 images as `.npy`): `/dev/zero` or a
/// mistaken multi-gigabyte file is an error, not a read until memory runs out.
const MAX_INPUT_BYTES: u64 = 256 << 20;

/// A command line checked against what its command takes: every option known to the command,
/// given a value (never another `--option`), and no positional argument left over.
struct Args {
    positional: Vec<String>,
    options: Vec<(String, String)>,
}

/// `-h`, `--help` or `help` as the first argument, or `--help` / `-h` where an option may stand.
fn wants_help(raw: &[String]) -> bool {
    let mut it = raw.iter().enumerate();
    while let Some((i, a)) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return true,
            "help" if i == 0 => return true,
            a if a.starts_with("--") => {
                it.next();
            }
            _ => {}
        }
    }
    false
}

impl Args {
    /// Splits `raw` into positional arguments and `--name value` options; [`Args::check`]
    /// then holds them to what the command takes.
    fn parse(raw: Vec<String>) -> Result<Args, String> {
        let (mut positional, mut options): (Vec<String>, Vec<(String, String)>) = (Vec::new(), Vec::new());
        let mut it = raw.into_iter();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                let value = match it.next() {
                    Some(v) if !v.starts_with("--") => v,
                    Some(v) => return Err(format!("option --{name} needs a value, got the option {v}")),
                    None => return Err(format!("option --{name} needs a value")),
                };
                if !REPEATABLE.contains(&name) && options.iter().any(|(n, _)| n == name) {
                    return Err(format!("option --{name} is given twice"));
                }
                options.push((name.to_string(), value));
            } else {
                positional.push(a);
            }
        }
        Ok(Args { positional, options })
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.options.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.options.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn number(&self, name: &str, default: usize) -> Result<usize, String> {
        Ok(self.optional_number(name)?.unwrap_or(default))
    }

    fn optional_number(&self, name: &str) -> Result<Option<usize>, String> {
        self.get(name)
            .map(|v| v.parse().map_err(|_| format!("--{name} {v:?} is not a whole number")))
            .transpose()
    }

    /// `--name yes|no`, `None` when not given.
    fn yes_no(&self, name: &str) -> Result<Option<bool>, String> {
        match self.get(name) {
            None => Ok(None),
            Some("yes") => Ok(Some(true)),
            Some("no") => Ok(Some(false)),
            Some(v) => Err(format!("--{name} {v:?}: expected yes or no")),
        }
    }

    /// The model options (`--weights`, `--classes`, `--strip-prefix`, `--transform-input`)
    /// for `model`.
    fn model(&self, model: &str) -> Result<Model, String> {
        Ok(Model {
            name: model.to_string(),
            weights: self.get("weights").map(PathBuf::from),
            classes: self.optional_number("classes")?,
            strip: self.all("strip-prefix").into_iter().map(str::to_string).collect(),
            transform_input: self.yes_no("transform-input")?,
        })
    }

    /// The plan options (`--max-arena-mb`, `--exact`) over [`PlanOptions::default`].
    fn plan_options(&self) -> Result<PlanOptions, String> {
        let mut options = PlanOptions::default();
        options.exact = self.yes_no("exact")?.unwrap_or(options.exact);
        if let Some(mb) = self.optional_number("max-arena-mb")? {
            options.max_arena_bytes = match mb.checked_mul(1_000_000) {
                Some(bytes) if mb > 0 => bytes,
                _ => return Err(format!("--max-arena-mb {mb}: must be 1 to {} MB", usize::MAX / 1_000_000)),
            };
        }
        Ok(options)
    }

    /// An error unless every option is in `known` and there are exactly `count` positional
    /// arguments (the command included).
    fn check(&self, known: &[&str], count: usize) -> Result<(), String> {
        for (n, _) in &self.options {
            if !known.contains(&n.as_str()) {
                return Err(format!("unknown option --{n} for {}", self.positional[0]));
            }
        }
        if let Some(extra) = self.positional.get(count) {
            return Err(format!("{}: unexpected argument {extra:?}\n{USAGE}", self.positional[0]));
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if wants_help(&raw) {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(raw) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lineage: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(raw: Vec<String>) -> Result<(), String> {
    let args = Args::parse(raw)?;
    let command = args.positional.first().map(String::as_str).ok_or(USAGE)?;
    let model = || {
        args.positional.get(1).map(String::as_str).ok_or_else(|| format!("{command}: which model?\n{USAGE}"))
    };
    match command {
        "list" => {
            args.check(&[], 1)?;
            for name in models::MODELS {
                println!("{name}");
            }
            Ok(())
        }
        "info" => {
            args.check(&[&MODEL_OPTIONS[..], &PLAN_OPTIONS, &["size"]].concat(), 2)?;
            info(&args.model(model()?)?, args.number("size", 224)?, &args.plan_options()?)
                .map_err(|e| e.to_string())
        }
        "run" => {
            args.check(
                &[
                    &MODEL_OPTIONS[..],
                    &PLAN_OPTIONS,
                    &["input", "output", "threads", "top", "labels", "features", "features-dir"],
                ]
                .concat(),
                2,
            )?;
            let model = args.model(model()?)?;
            let options = args.plan_options()?;
            let input = args.get("input").ok_or("run: --input IMAGE.png|IMAGE.jpg|X.npy is required")?;
            let output = args.get("output").map(PathBuf::from);
            let kept = features::Request::parse(args.get("features"), args.get("features-dir"))?;
            check_writable(output.as_deref(), &kept)?;
            let report =
                Report { output, top: args.number("top", 5)?, labels: args.get("labels").map(Path::new) };
            infer(&model, PathBuf::from(input), args.number("threads", 1)?, &report, &kept, options)
                .map_err(|e| e.to_string())
        }
        "bench" => {
            args.check(
                &[&MODEL_OPTIONS[..], &PLAN_OPTIONS, &["threads", "runs", "size", "profile"]].concat(),
                2,
            )?;
            bench(
                &args.model(model()?)?,
                &args.plan_options()?,
                args.number("threads", 1)?,
                args.number("runs", 10)?,
                args.number("size", 224)?,
                args.yes_no("profile")?.unwrap_or(false),
            )
            .map_err(|e| e.to_string())
        }
        "visualize" => {
            args.check(&[&MODEL_OPTIONS[..], &["input", "out", "layers", "top"]].concat(), 2)?;
            let model = args.model(model()?)?;
            let input = args.get("input").ok_or("visualize: --input IMAGE.png|IMAGE.jpg is required")?;
            let out = args.get("out").ok_or("visualize: --out DIR is required")?;
            let request = visualize::Request::parse(args.get("layers"), args.number("top", 16)?)?;
            visualize::run(&model, Path::new(input), Path::new(out), &request).map_err(|e| e.to_string())
        }
        "inspect" => {
            args.check(&[], 2)?;
            let file = args.positional.get(1).ok_or_else(|| format!("inspect: which file?\n{USAGE}"))?;
            inspect::inspect(Path::new(file)).map_err(|e| e.to_string())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    }
}

/// An error, before any inference, unless `--output`'s directory and `--features-dir` exist.
fn check_writable(output: Option<&Path>, kept: &features::Request) -> Result<(), String> {
    if let Some(path) = output {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(format!("--output {}: directory {} does not exist", path.display(), dir.display()));
        }
        if path.is_dir() {
            return Err(format!("--output {} is a directory; give a file name", path.display()));
        }
    }
    if !kept.names.is_empty() && !kept.dir.is_dir() {
        return Err(format!("--features-dir {} is not an existing directory", kept.dir.display()));
    }
    Ok(())
}

/// The bytes of `path`, at most [`MAX_INPUT_BYTES`] of them.
fn read_input(path: &Path) -> Result<Vec<u8>, NetError> {
    use std::io::Read;
    let io = |e: std::io::Error| NetError::Io(format!("reading {}: {e}", path.display()));
    let mut bytes = Vec::new();
    std::fs::File::open(path).map_err(io)?.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(NetError::Input(format!(
            "{}: more than {} MiB; an input image or tensor is at most that",
            path.display(),
            MAX_INPUT_BYTES >> 20
        )));
    }
    Ok(bytes)
}

fn info(model: &Model, size: usize, options: &PlanOptions) -> Result<(), NetError> {
    let input = Shape::new(1, size, size, 3);
    let (net, weights) = model.open(input, options)?;
    print!("{}", net.summary(input)?);
    let plan = Plan::from_weights_with(&net, weights, input, options)?;
    println!(
        "plan: {} steps, activation arena {:.2} MB, packed weights {:.2} MB, ISA {}, convolution rules for {}",
        plan.steps().len(),
        plan.arena_bytes() as f64 / 1e6,
        plan.packed_weight_bytes() as f64 / 1e6,
        plan.isa().name(),
        Cpu::detect().name()
    );
    Ok(())
}

/// What `run` does with the logits: print the `top` classes named by `labels`, and write them
/// to `output`.
struct Report<'a> {
    output: Option<PathBuf>,
    top: usize,
    labels: Option<&'a Path>,
}

fn infer(
    model: &Model,
    input: PathBuf,
    threads: usize,
    report: &Report<'_>,
    kept: &features::Request,
    options: PlanOptions,
) -> Result<(), NetError> {
    let Report { output, top, labels } = report;
    let top = *top;
    let bytes = read_input(&input)?;
    let named = |e: NetError| match e {
        NetError::Input(m) => NetError::Input(format!("{}: {m}", input.display())),
        other => other,
    };
    let (data, shape) = match Format::sniff(&bytes) {
        Some(Format::Npy) => npy_input(&bytes).map_err(named)?,
        Some(Format::Png | Format::Jpeg) => {
            let preset = preprocess::preset(&model.name)?;
            let rgb = image::decode(&bytes).map_err(named)?;
            (
                preprocess::preprocess(&rgb, &preset).map_err(named)?,
                Shape::new(1, preset.crop, preset.crop, 3),
            )
        }
        None => {
            return Err(NetError::Input(format!(
                "{}: not a PNG, JPEG or .npy file (it starts with bytes {:02x?})",
                input.display(),
                &bytes[..bytes.len().min(8)]
            )))
        }
    };
    let options = PlanOptions { outputs: kept.names.clone(), ..options };
    let (net, weights) = model.open(shape, &options)?;
    let plan = Plan::from_weights_with(&net, weights, shape, &options)?;
    let mut ws = Workspace::new(&plan, Threads::Count(threads))?;
    let y = plan.run(Input::Nchw(&data), &mut ws)?;
    let out = y.shape();
    let classes = out.c;
    let logits: Vec<f32> = (0..out.pixels().unwrap_or(0)).flat_map(|p| y.pixel(p).to_vec()).collect();
    let headless = !matches!(net.node(net.output())?.op(), Op::Linear { .. });
    let labels = if headless { Labels::Indices } else { Labels::new(*labels, classes)? };
    for (n, row) in logits.chunks(classes).enumerate() {
        if headless {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            println!("image {n}: {classes} features, L2 norm {norm:.4}");
            continue;
        }
        let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
        let mut order: Vec<usize> = (0..classes).collect();
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
        println!("image {n}: top {}", top.min(classes));
        for &c in order.iter().take(top) {
            let name = labels.name(c);
            println!("  class {c:>4}  logit {:>9.4}  p {:.4}  {name}", row[c], (row[c] - max).exp() / sum);
        }
    }
    if let Some(path) = output {
        let bytes = npy::encode(&[out.n, classes], &logits);
        std::fs::write(path, bytes).map_err(|e| NetError::Io(format!("writing {}: {e}", path.display())))?;
    }
    features::write(&plan, &ws, &kept.dir)
}

/// A `.npy` NCHW (or CHW) float32 tensor, taken as it is.
fn npy_input(bytes: &[u8]) -> Result<(Vec<f32>, Shape), NetError> {
    let x = npy::parse(bytes)?;
    let shape = match x.shape[..] {
        [n, c, h, w] => Shape::new(n, h, w, c),
        [c, h, w] => Shape::new(1, h, w, c),
        _ => return Err(NetError::Input(format!("shape {:?}, expected NCHW or CHW", x.shape))),
    };
    Ok((x.data, shape))
}

fn bench(
    model: &Model,
    options: &PlanOptions,
    threads: usize,
    runs: usize,
    size: usize,
    profile: bool,
) -> Result<(), NetError> {
    let shape = Shape::new(1, size, size, 3);
    let (net, weights) = model.open(shape, options)?;
    let plan = Plan::from_weights_with(&net, weights, shape, options)?;
    let mut ws = Workspace::new(&plan, Threads::Count(threads))?;
    let mut rng = NormalRng::new(7);
    let x: Vec<f32> = (0..3 * size * size).map(|_| rng.next_normal() as f32).collect();
    let pool = ws.pool();
    let mut times = pool.install(|| -> Result<Vec<f64>, NetError> {
        for _ in 0..2 {
            plan.run(Input::Nchw(&x), &mut ws)?;
        }
        (0..runs.max(1))
            .map(|_| {
                let t = Instant::now();
                plan.run(Input::Nchw(&x), &mut ws)?;
                Ok(t.elapsed().as_secs_f64() * 1e3)
            })
            .collect()
    })?;
    times.sort_by(f64::total_cmp);
    println!(
        "{}{} {size}x{size} batch 1, {threads} thread(s), {} runs: median {:.2} ms, min {:.2} ms, max {:.2} ms",
        model.name,
        if options.exact { " (exact)" } else { "" },
        times.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    if profile {
        print_profile(&plan, &mut ws, &x, runs.max(1))?;
    }
    Ok(())
}

/// Shares of the run time by step kind and algorithm, and the slowest steps: each step's median
/// over `runs` runs, so that an interrupted run (a shared machine, a descheduled thread) does not
/// move the profile, and profiles at 1 and 2 threads compare step by step.
fn print_profile(plan: &Plan, ws: &mut Workspace, x: &[f32], runs: usize) -> Result<(), NetError> {
    let steps = plan.steps();
    let mut samples = vec![vec![0.0; runs]; steps.len()];
    let mut one = vec![0.0; steps.len()];
    let pool = ws.pool();
    pool.install(|| -> Result<(), NetError> {
        for r in 0..runs {
            one.fill(0.0);
            plan.run_profiled(Input::Nchw(x), ws, &mut one)?;
            samples.iter_mut().zip(&one).for_each(|(s, t)| s[r] = *t);
        }
        Ok(())
    })?;
    let seconds: Vec<f64> = samples
        .iter_mut()
        .map(|s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect();
    let total: f64 = seconds.iter().sum();
    let mut groups: Vec<(String, f64, usize)> = Vec::new();
    for (s, t) in steps.iter().zip(&seconds) {
        let key = match s.algorithm {
            Some(a) => format!("{} ({a})", s.kind),
            None => s.kind.to_string(),
        };
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => {
                g.1 += t;
                g.2 += 1;
            }
            None => groups.push((key, *t, 1)),
        }
    }
    groups.sort_by(|a, b| b.1.total_cmp(&a.1));
    // Milliseconds as well as shares, so that profiles at 1 and 2 threads compare kind by kind.
    println!("time by kind, step medians over {runs} profiled runs (share, ms; sum {:.3} ms):", 1e3 * total);
    for (key, t, n) in &groups {
        println!("  {:>5.1}% {:>8.3}  {n:>3} x {key}", 100.0 * t / total, 1e3 * t);
    }
    let mut order: Vec<usize> = (0..steps.len()).collect();
    order.sort_by(|&a, &b| seconds[b].total_cmp(&seconds[a]));
    println!("slowest steps:");
    for &i in order.iter().take(8) {
        let s = &steps[i];
        let o = s.output;
        println!(
            "  {:>5.1}% {:>8.3}  {:<28} {:<10} -> {}x{}x{}",
            100.0 * seconds[i] / total,
            1e3 * seconds[i],
            s.name,
            s.algorithm.unwrap_or(s.kind),
            o.c,
            o.h,
            o.w
        );
    }
    Ok(())
}
