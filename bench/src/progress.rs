//! A progress bar on stderr: redrawn in place on a terminal, one line per step otherwise (so a
//! log file shows what ran without carriage returns).

use std::io::{IsTerminal, Write};

pub struct Progress {
    total: usize,
    done: usize,
    terminal: bool,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        Progress { total, done: 0, terminal: std::io::stderr().is_terminal() }
    }

    /// Shows that `what` is starting (after `done` of `total` steps).
    pub fn start(&self, what: &str) {
        let line = bar(self.done, self.total, what);
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal { write!(err, "\r\x1b[2K{line}") } else { writeln!(err, "{line}") };
        let _ = err.flush();
    }

    pub fn finish_step(&mut self) {
        self.done = (self.done + 1).min(self.total);
    }

    /// Clears the bar (on a terminal) so the table starts on a clean line.
    pub fn clear(&self) {
        if self.terminal {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }
}

/// `[########............]  8/22 what`, 20 cells wide.
pub fn bar(done: usize, total: usize, what: &str) -> String {
    const CELLS: usize = 20;
    let filled = (done * CELLS).checked_div(total).unwrap_or(CELLS).min(CELLS);
    let width = total.to_string().len();
    format!("[{}{}] {done:>width$}/{total} {what}", "#".repeat(filled), ".".repeat(CELLS - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_fills_in_proportion() {
        assert_eq!(bar(0, 22, "vgg16"), "[....................]  0/22 vgg16");
        assert_eq!(bar(11, 22, "x"), "[##########..........] 11/22 x");
        assert_eq!(bar(22, 22, "x"), "[####################] 22/22 x");
        assert_eq!(bar(0, 0, "x"), "[####################] 0/0 x");
    }
}
