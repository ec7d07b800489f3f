//! The clocks figures are timed with. On a shared machine wall time counts the slices other
//! processes run in, so a single-threaded figure is best timed with this thread's CPU time:
//! the probe and the kernels are then both measured on-CPU and their ratio stays meaningful.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A monotonic clock read as a duration since an arbitrary origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Elapsed real time: right for multi-threaded runs, inflated by other processes.
    Wall,
    /// CPU time of the calling thread (Linux `CLOCK_THREAD_CPUTIME_ID`): only what this thread
    /// ran, so it must be read on the thread that does all the work.
    ThreadCpu,
}

impl Clock {
    /// Thread CPU time if this platform has it, wall time otherwise.
    pub fn single_thread() -> Clock {
        if thread_cpu_time().is_some() {
            Clock::ThreadCpu
        } else {
            Clock::Wall
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Clock::Wall => "wall time",
            Clock::ThreadCpu => "thread CPU time",
        }
    }

    /// The current reading. (`ThreadCpu` is only chosen where it works, so its failure, which
    /// `clock_gettime` documents only for bad arguments, would read as zero.)
    pub fn now(self) -> Duration {
        match self {
            Clock::Wall => {
                static ORIGIN: OnceLock<Instant> = OnceLock::new();
                ORIGIN.get_or_init(Instant::now).elapsed()
            }
            Clock::ThreadCpu => thread_cpu_time().unwrap_or_default(),
        }
    }
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_time() -> Option<Duration> {
    /// `struct timespec` on 64-bit Linux (glibc and musl): 64-bit `time_t` and `long`.
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime (from the C library std already links) writes one timespec through
    // the pointer, which is valid and has the platform's layout (see Timespec).
    if unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return None;
    }
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec).ok().filter(|&n| n < 1_000_000_000)?;
    Some(Duration::new(secs, nanos))
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_time_counts_work_and_not_sleep() {
        let clock = Clock::single_thread();
        if cfg!(target_os = "linux") {
            assert_eq!(clock, Clock::ThreadCpu);
        }
        if clock != Clock::ThreadCpu {
            return;
        }
        let start = clock.now();
        std::thread::sleep(Duration::from_millis(100));
        let slept = clock.now() - start;
        assert!(slept < Duration::from_millis(50), "sleeping used {slept:?} of CPU");

        // The wall interval starts first and ends last, so it contains the CPU-time interval.
        let wall = Instant::now();
        let start = clock.now();
        let mut x = 1u64;
        while wall.elapsed() < Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_mul(3));
        }
        let busy = clock.now() - start;
        // On-CPU time of a busy loop is at most its wall time; any share of it shows it counts.
        assert!(busy > Duration::from_millis(1) && busy <= wall.elapsed(), "{busy:?}");
    }

    #[test]
    fn wall_clock_counts_sleep() {
        let start = Clock::Wall.now();
        std::thread::sleep(Duration::from_millis(20));
        assert!(Clock::Wall.now() - start >= Duration::from_millis(20));
    }
}
