//! Replays every committed corpus file through its target body (CI runs this on stable).

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("readable corpus entry").path();
        body(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
        count += 1;
    }
    assert!(count > 0, "no corpus files in {}", dir.display());
}

#[test]
fn conv_differential_corpus() {
    replay("conv_differential", lineage_fuzz::conv_differential);
}

#[test]
fn ops_differential_corpus() {
    replay("ops_differential", lineage_fuzz::ops_differential);
}

#[test]
fn weights_corpus() {
    replay("weights", lineage_fuzz::weights);
}

#[test]
fn inputs_corpus() {
    replay("inputs", lineage_fuzz::inputs);
}

#[test]
fn planner_corpus() {
    replay("planner", lineage_fuzz::planner);
}
