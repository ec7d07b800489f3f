//! The `lineage` binary as a command, started through cargo's target runner when the tests run
//! under one (e.g. qemu for aarch64 on an x86 host, which cannot exec the binary itself).

use std::process::Command;

pub fn lineage() -> Command {
    let bin = env!("CARGO_BIN_EXE_lineage");
    let runner = format!("CARGO_TARGET_{}_UNKNOWN_LINUX_GNU_RUNNER", std::env::consts::ARCH.to_uppercase());
    match std::env::var(runner) {
        Ok(runner) if !runner.trim().is_empty() => {
            let mut words = runner.split_whitespace();
            let mut command = Command::new(words.next().unwrap_or_default());
            command.args(words).arg(bin);
            command
        }
        _ => Command::new(bin),
    }
}
