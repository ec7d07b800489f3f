//! `lineage run --features NAME[,NAME...]`: the kept activations of a run, each written as
//! `NAME.npy` (float32 NCHW, as PyTorch would give them) into `--features-dir`.

use std::path::Path;

use lineage_kernels::nhwc_to_nchw;
use lineage_nets::{npy, NetError, Plan, Workspace};

/// The names of `--features a,b`: comma-separated, none empty.
pub fn names(list: Option<&str>) -> Result<Vec<String>, NetError> {
    let Some(list) = list else { return Ok(Vec::new()) };
    let names: Vec<String> = list.split(',').map(|n| n.trim().to_string()).collect();
    if names.iter().any(String::is_empty) {
        return Err(NetError::Input(format!("--features {list:?} has an empty name")));
    }
    Ok(names)
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
