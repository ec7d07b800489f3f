//! Instruction sets, their runtime detection, and dispatch of a `pulp::WithSimd` op onto one.

use std::sync::OnceLock;

use crate::error::{KernelError, Result};

/// The instruction sets the kernels are written for, from least to most capable on each
/// architecture. All of them run the same pulp-generic source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    Scalar,
    Avx2,
    Avx512,
    Neon,
    /// AVX-512's 16-lane layout run on AVX2 hardware (pulp's `V3_512b`: each vector a pair of
    /// ymm registers). Never detected or used for speed: it lets machines without AVX-512 test
    /// the 16-lane tiles, masks and tails that AVX-512 runs, from the same generic source.
    Avx2As512,
}

/// The environment variable that caps the ISA for a whole program, e.g. `LINEAGE_ISA=avx2`.
pub const ISA_ENV: &str = "LINEAGE_ISA";

impl Isa {
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
            Isa::Avx2As512 => "avx2-as-512",
        }
    }

    pub fn parse(s: &str) -> Result<Isa> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" => Ok(Isa::Scalar),
            "avx2" => Ok(Isa::Avx2),
            "avx512" => Ok(Isa::Avx512),
            "neon" => Ok(Isa::Neon),
            "avx2-as-512" => Ok(Isa::Avx2As512),
            other => Err(KernelError::InvalidParams(format!(
                "unknown ISA {other:?}: expected scalar, avx2, avx512 or neon"
            ))),
        }
    }

    /// f32 lanes of one vector register.
    pub fn lanes(self) -> usize {
        match self {
            Isa::Scalar => 1,
            Isa::Avx2 => 8,
            Isa::Avx512 | Isa::Avx2As512 => 16,
            Isa::Neon => 4,
        }
    }

    /// Whether this machine can run the ISA (ignoring the environment cap).
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx2As512 => pulp::x86::V3::try_new().is_some(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => pulp::x86::V4::try_new().is_some(),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => pulp::aarch64::Neon::try_new().is_some(),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Every ISA this machine supports, below the `LINEAGE_ISA` cap, scalar first.
    pub fn available() -> Vec<Isa> {
        let cap = env_cap();
        [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon]
            .into_iter()
            .filter(|isa| isa.is_supported() && cap.is_none_or(|c| isa.within_cap(c)))
            .collect()
    }

    /// Whether a `cap` (`LINEAGE_ISA`) allows this ISA. The cap is a vector width, not the
    /// enum's order (which puts Neon last): `avx2` allows NEON's 128-bit vectors on aarch64,
    /// so a script written for x86 does not drop NEON to scalar.
    pub fn within_cap(self, cap: Isa) -> bool {
        let width = |isa: Isa| match isa {
            Isa::Scalar => 0,
            Isa::Neon | Isa::Avx2 => 1,
            Isa::Avx512 | Isa::Avx2As512 => 2,
        };
        width(self) <= width(cap)
    }

    /// What tests should run every kernel on: the available ISAs, plus [`Isa::Avx2As512`]
    /// when AVX-512 itself is not available but AVX2 is.
    pub fn test_targets() -> Vec<Isa> {
        let mut isas = Isa::available();
        if !isas.contains(&Isa::Avx512) && isas.contains(&Isa::Avx2) {
            isas.push(Isa::Avx2As512);
        }
        isas
    }

    /// The best available ISA (cached for the life of the program).
    pub fn detect() -> Isa {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| Isa::available().into_iter().last().unwrap_or(Isa::Scalar))
    }

    /// An error unless this machine (and the cap) allows the ISA.
    pub fn ensure_available(self) -> Result<()> {
        if Isa::test_targets().contains(&self) {
            Ok(())
        } else {
            Err(KernelError::Unsupported(format!(
                "ISA {} is not available on this machine (available: {:?})",
                self.name(),
                Isa::available()
            )))
        }
    }

    /// Runs `op` with the pulp SIMD token of this ISA, so its body is compiled with the ISA's
    /// target features.
    pub fn dispatch<Op: pulp::WithSimd>(self, op: Op) -> Result<Op::Output> {
        use pulp::Simd;
        match self {
            Isa::Scalar => Ok(Simd::vectorize(pulp::Scalar::new(), op)),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => match pulp::x86::V3::try_new() {
                Some(simd) => Ok(Simd::vectorize(simd, op)),
                None => Err(self.missing()),
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => match pulp::x86::V4::try_new() {
                Some(simd) => Ok(Simd::vectorize(simd, op)),
                None => Err(self.missing()),
            },
            #[cfg(target_arch = "x86_64")]
            // pulp's own `V3_512b::vectorize` hands the op the 8-lane V3 token, so wrap it here.
            Isa::Avx2As512 => match pulp::x86::V3::try_new() {
                Some(simd) => Ok(simd.vectorize(|| op.with_simd(pulp::x86::V3_512b(simd)))),
                None => Err(self.missing()),
            },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => match pulp::aarch64::Neon::try_new() {
                Some(simd) => Ok(Simd::vectorize(simd, op)),
                None => Err(self.missing()),
            },
            #[allow(unreachable_patterns)]
            _ => Err(self.missing()),
        }
    }

    fn missing(self) -> KernelError {
        KernelError::Unsupported(format!("ISA {} is not supported by this CPU", self.name()))
    }
}

/// The ISA cap from `LINEAGE_ISA`; an unparsable value is reported once on stderr and ignored.
fn env_cap() -> Option<Isa> {
    static CAP: OnceLock<Option<Isa>> = OnceLock::new();
    *CAP.get_or_init(|| {
        let value = std::env::var(ISA_ENV).ok()?;
        match Isa::parse(&value) {
            Ok(isa) => Some(isa),
            Err(e) => {
                eprintln!("lineage: ignoring {ISA_ENV}: {e}");
                None
            }
        }
    })
}

/// Runs `op` with `simd`'s target features enabled, e.g. on a rayon worker thread inside a
/// kernel. Use this instead of `simd.vectorize(op)`: pulp's `V3_512b` (the token of
/// [`Isa::Avx2As512`]) would hand the op the 8-lane V3 token.
#[inline(always)]
pub(crate) fn vectorize<S: pulp::Simd, Op: pulp::WithSimd>(simd: S, op: Op) -> Op::Output {
    #[cfg(target_arch = "x86_64")]
    {
        let emulated = std::any::TypeId::of::<S>() == std::any::TypeId::of::<pulp::x86::V3_512b>();
        if let (true, Some(v3)) = (emulated, pulp::x86::V3::try_new()) {
            return v3.vectorize(|| op.with_simd(simd));
        }
    }
    simd.vectorize(op)
}

#[cfg(test)]
mod tests {
    use super::Isa;

    #[test]
    fn an_x86_cap_keeps_neon_vectors() {
        // LINEAGE_ISA=avx2 on aarch64 used to cap NEON down to scalar (Neon sorts last).
        assert!(Isa::Neon.within_cap(Isa::Avx2));
        assert!(Isa::Neon.within_cap(Isa::Avx512));
        assert!(!Isa::Neon.within_cap(Isa::Scalar));
        assert!(!Isa::Avx512.within_cap(Isa::Avx2));
        assert!(Isa::Avx2.within_cap(Isa::Neon));
        assert!(Isa::Scalar.within_cap(Isa::Scalar));
    }
}
