//! `lineage run --features NAME[,NAME...]`: the kept activations of a run, each written as
//! `NAME.npy` (float32 NCHW, as PyTorch would give them) into `--features-dir`.

use std::path::{Path, PathBuf};

use lineage_kernels::nhwc_to_nchw;
use lineage_nets::{npy, NetError, Plan, Workspace};

/// `--features a,b` and `--features-dir DIR`.
pub struct Request {
    pub names: Vec<String>,
    pub dir: PathBuf,
}

impl Request {
    /// The comma-separated names of `list` (none empty), to be written into `dir` (default:
    /// the current directory).
    pub fn parse(list: Option<&str>, dir: Option<&str>) -> Result<Request, String> {
        let names: Vec<String> =
            list.map_or(Vec::new(), |l| l.split(',').map(|n| n.trim().to_string()).collect());
        if names.iter().any(String::is_empty) {
            return Err(format!("--features {:?} has an empty name", list.unwrap_or("")));
        }
        Ok(Request { names, dir: PathBuf::from(dir.unwrap_or(".")) })
    }
}

/// Writes every kept activation of the last run of `plan` on `workspace` into `dir`.
pub fn write(plan: &Plan, workspace: &Workspace, dir: &Path) -> Result<(), NetError> {
    for name in plan.kept_names() {
        let view = plan.kept(workspace, name)?;
        let s = view.shape();
        let mut nchw = vec![0.0; s.elements().map_err(NetError::kernel(name))?];
        nhwc_to_nchw(&view, &mut nchw).map_err(NetError::kernel(name))?;
        let path = dir.join(format!("{name}.npy"));
        std::fs::write(&path, npy::encode(&[s.n, s.c, s.h, s.w], &nchw))
            .map_err(|e| NetError::Io(format!("writing {}: {e}", path.display())))?;
        println!("{name}: {}x{}x{}x{} (NCHW) -> {}", s.n, s.c, s.h, s.w, path.display());
    }
    Ok(())
}
