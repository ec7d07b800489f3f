//! Fully connected throughput at batch 1 (AlexNet/VGG's 9216->4096, the 4096->1000 classifier)
//! in GB/s of packed weights streamed, beside a plain streaming read of the same number of
//! bytes measured in the same run, so the figure is a ratio and not only a noisy absolute.
//!
//! `cargo run --release -p lineage-bench --bin fc_bandwidth [threads]`

use std::hint::black_box;
use std::time::Instant;

use lineage_kernels::{Activation, FullyConnected, Isa};

/// Sums `data` with four vector accumulators, compiled for the machine's best ISA as the FC
/// kernel is: the read-only bandwidth probe.
struct StreamSum<'a>(&'a [f32]);

impl pulp::WithSimd for StreamSum<'_> {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> f32 {
        let (vectors, _) = S::as_simd_f32s(self.0);
        let mut acc = [simd.splat_f32s(0.0); 4];
        for quad in vectors.chunks_exact(4) {
            for (a, &v) in acc.iter_mut().zip(quad) {
                *a = simd.add_f32s(*a, v);
            }
        }
        simd.reduce_sum_f32s(simd.add_f32s(simd.add_f32s(acc[0], acc[1]), simd.add_f32s(acc[2], acc[3])))
    }
}

/// Seconds of one call of `f`.
fn time(mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let threads: usize = std::env::args().nth(1).map_or(Ok(1), |s| s.parse())?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    println!("threads: {threads}");
    for (inf, outf) in [(9216usize, 4096usize), (4096, 1000)] {
        let weights: Vec<f32> = (0..inf * outf).map(|i| ((i % 97) as f32 - 48.0) * 1e-3).collect();
        let bias = vec![0.1f32; outf];
        let x: Vec<f32> = (0..inf).map(|i| (i % 13) as f32 * 0.1).collect();
        let mut y = vec![0.0f32; outf];
        let reps = if inf * outf > 10_000_000 { 20 } else { 200 };
        let probe = aligned_vec::avec![1.0f32; inf * outf];
        let mut read = || {
            black_box(pulp::Arch::new().dispatch(StreamSum(black_box(&probe))));
        };
        // The scalar kernel is the tests' fallback, not a contender.
        for isa in Isa::available().into_iter().filter(|&isa| isa != Isa::Scalar) {
            let fc = FullyConnected::new(isa, inf, outf, &weights, Some(&bias))?;
            let mut run = || fc.run(black_box(&x), &mut y, Activation::Relu).unwrap();
            // Alternate the probe and the kernel and keep the best of each, so that both see
            // the same (shared, noisy) machine.
            let (mut best_read, mut best_fc) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..=reps {
                best_read = best_read.min(pool.install(|| time(&mut read)));
                best_fc = best_fc.min(pool.install(|| time(&mut run)));
            }
            let read_gbs = (probe.len() * 4) as f64 / best_read / 1e9;
            let fc_gbs = fc.packed_bytes() as f64 / best_fc / 1e9;
            println!(
                "{inf}->{outf} {}: {:.3} ms, {fc_gbs:.1} GB/s of weights; streaming read of as many bytes {read_gbs:.1} GB/s ({:.0}%)",
                isa.name(),
                best_fc * 1e3,
                100.0 * fc_gbs / read_gbs
            );
        }
    }
    Ok(())
}
