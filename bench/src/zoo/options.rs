//! The command line of `zoo`.

use std::path::PathBuf;

use crate::zoo::catalog::{default_models, family_of};

pub const USAGE: &str =
    "usage: zoo [--models a,b] [--threads 1,2] [--runs N] [--json FILE] [--csv FILE] [--svg DIR]
  --models   models to run (default: the default model of every family)
  --threads  thread counts (default: 1 and all cores)
  --runs     timed runs per model and thread count (default: as many as fit 3 s, 5 to 30)
  --json     write one record per model and thread count
  --csv      the same records as CSV
  --svg      write latency-vs-MACs.svg and time-by-layer-kind.svg into this directory, and
             visualize.md with alexnet_original's and zfnet's filters and activation maps
  --exact    yes: also time each model's exact plan (no Winograd) at the first thread count,
             and print its cost against the default plan (default: no)";

/// What `zoo` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub models: Vec<String>,
    pub threads: Vec<usize>,
    pub runs: Option<usize>,
    pub json: Option<PathBuf>,
    pub csv: Option<PathBuf>,
    pub svg: Option<PathBuf>,
    /// Also time the exact plans (`PlanOptions::exact`).
    pub exact: bool,
    pub help: bool,
}

impl Options {
    /// Parses the arguments (without the program name); `cores` is the default top thread count.
    pub fn parse(args: &[String], cores: usize) -> Result<Options, String> {
        let mut o = Options {
            models: default_models().into_iter().map(String::from).collect(),
            threads: if cores > 1 { vec![1, cores] } else { vec![1] },
            runs: None,
            json: None,
            csv: None,
            svg: None,
            exact: false,
            help: false,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "--help" || arg == "-h" {
                o.help = true;
                continue;
            }
            let name = arg.strip_prefix("--").ok_or_else(|| format!("unexpected argument {arg:?}"))?;
            let value = it.next().ok_or_else(|| format!("option --{name} needs a value"))?;
            match name {
                "models" => o.models = models(value)?,
                "threads" => o.threads = list(value, "--threads")?,
                "runs" => o.runs = Some(whole(value, "--runs")?),
                "json" => o.json = Some(PathBuf::from(value)),
                "csv" => o.csv = Some(PathBuf::from(value)),
                "svg" => o.svg = Some(PathBuf::from(value)),
                "exact" => {
                    o.exact = match value.as_str() {
                        "yes" => true,
                        "no" => false,
                        _ => return Err(format!("--exact {value:?}: expected yes or no")),
                    }
                }
                other => return Err(format!("unknown option --{other}")),
            }
        }
        Ok(o)
    }
}

fn models(value: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for m in value.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        if !lineage_nets::models::MODELS.contains(&m) || family_of(m).is_none() {
            return Err(format!(
                "--models: unknown model {m:?}; known: {}",
                lineage_nets::models::MODELS.join(", ")
            ));
        }
        if !out.iter().any(|o| o == m) {
            out.push(m.to_string());
        }
    }
    if out.is_empty() {
        return Err(format!("--models {value:?} names no model"));
    }
    Ok(out)
}

fn list(value: &str, option: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for v in value.split(',').map(str::trim) {
        let n = whole(v, option)?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

/// A whole number of at least 1.
fn whole(value: &str, option: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{option}: {value:?} is not a whole number of at least 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>(), 2)
    }

    #[test]
    fn defaults_are_every_family_at_one_and_all_threads() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.models.len(), 12);
        assert_eq!(o.models[0], "alexnet_original");
        assert_eq!(o.threads, vec![1, 2]);
        assert_eq!((o.runs, o.json, o.exact, o.help), (None, None, false, false));
        assert_eq!(Options::parse(&[], 1).unwrap().threads, vec![1]);
    }

    #[test]
    fn options_are_read() {
        let o = parse(&[
            "--models",
            "resnet50, mobilenet_v2,resnet50",
            "--threads",
            "2,1",
            "--runs",
            "7",
            "--json",
            "a.json",
            "--csv",
            "b.csv",
            "--svg",
            "plots",
            "--exact",
            "yes",
        ])
        .unwrap();
        assert_eq!(o.models, vec!["resnet50", "mobilenet_v2"]);
        assert_eq!(o.threads, vec![2, 1]);
        assert_eq!(o.runs, Some(7));
        assert_eq!(o.json, Some(PathBuf::from("a.json")));
        assert_eq!(o.csv, Some(PathBuf::from("b.csv")));
        assert_eq!(o.svg, Some(PathBuf::from("plots")));
        assert!(o.exact);
    }

    #[test]
    fn bad_arguments_are_errors_that_name_them() {
        let err = |args: &[&str]| parse(args).unwrap_err();
        assert!(err(&["--models", "lenet"]).contains("\"lenet\""));
        assert!(err(&["--models", ","]).contains("names no model"));
        assert!(err(&["--threads", "1,x"]).contains("--threads: \"x\""));
        assert!(err(&["--threads", "0"]).contains("at least 1"));
        assert!(err(&["--runs", "-3"]).contains("--runs: \"-3\""));
        assert!(err(&["--runs"]).contains("--runs needs a value"));
        assert!(err(&["--fast", "yes"]).contains("unknown option --fast"));
        assert!(err(&["--exact", "1"]).contains("--exact \"1\": expected yes or no"));
        assert!(err(&["resnet50"]).contains("unexpected argument \"resnet50\""));
    }
}
