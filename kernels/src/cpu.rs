//! The CPU models whose convolution rules were measured apart (`conv::select`): the ISA alone
//! does not say how fast Winograd's transforms run beside the FMA peak.

use std::sync::OnceLock;

/// The kinds of CPU that [`select`](crate::conv::select::select) tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cpu {
    /// AMD Zen 4 (family 19h with AVX-512F): it runs 512-bit instructions as two 256-bit
    /// halves, so AVX-512 brings it wider registers but little more FMA throughput.
    Zen4,
    /// Every other CPU: the rules measured on a Zen 3 EPYC and a Sapphire-Rapids-class Xeon.
    Other,
}

impl Cpu {
    /// This machine's kind (cached for the life of the program).
    pub fn detect() -> Cpu {
        static KIND: OnceLock<Cpu> = OnceLock::new();
        *KIND.get_or_init(probe)
    }

    pub fn name(self) -> &'static str {
        match self {
            Cpu::Zen4 => "zen4",
            Cpu::Other => "other",
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn probe() -> Cpu {
    use std::arch::x86_64::__cpuid;
    // "AuthenticAMD" in ebx, edx, ecx of leaf 0.
    let vendor = __cpuid(0);
    let amd = (vendor.ebx, vendor.edx, vendor.ecx) == (0x6874_7541, 0x6974_6e65, 0x444d_4163);
    // Leaf 1: the family is the base family plus the extended one when the base is 0xf.
    let eax = __cpuid(1).eax;
    let base = (eax >> 8) & 0xf;
    let family = if base == 0xf { base + ((eax >> 20) & 0xff) } else { base };
    if amd && family == 0x19 && std::arch::is_x86_feature_detected!("avx512f") {
        Cpu::Zen4
    } else {
        Cpu::Other
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn probe() -> Cpu {
    Cpu::Other
}

// x86 only: under qemu-user an aarch64 test would read the x86 host's /proc/cpuinfo.
#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::Cpu;

    /// The CPUID probe against the kernel's own reading of the CPU, where Linux gives one.
    #[test]
    fn detect_agrees_with_proc_cpuinfo() {
        let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else { return };
        let field = |name: &str| {
            info.lines()
                .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
                .and_then(|l| l.split(':').nth(1))
                .map(str::trim)
                .unwrap_or("")
        };
        let avx512 = field("flags").split_whitespace().any(|f| f == "avx512f");
        let zen4 = field("vendor_id") == "AuthenticAMD" && field("cpu family") == "25" && avx512;
        assert_eq!(
            Cpu::detect() == Cpu::Zen4,
            zen4,
            "vendor {:?}, family {:?}",
            field("vendor_id"),
            field("cpu family")
        );
    }
}
