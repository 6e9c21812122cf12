//! What this machine has: RAM, GPUs with their memory, CPU cores and features.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Gpu {
    pub name: String,
    pub backend: String,
    pub memory_total: u64,
    pub memory_free: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Hardware {
    pub ram_total: u64,
    /// RAM the OS can give a new process now (`MemAvailable`).
    pub ram_available: u64,
    pub gpus: Vec<Gpu>,
    /// Free memory of the GPU(s) llama.cpp can offload to.
    pub vram_free: u64,
    pub cpu_name: String,
    pub physical_cores: u32,
    pub logical_cores: u32,
    /// SIMD features that matter for llama.cpp speed (AVX2, AVX-512, FMA, NEON…).
    pub cpu_features: Vec<String>,
}

impl Hardware {
    pub fn detect() -> Self {
        crate::backend::ensure_backend();
        let gpus: Vec<Gpu> = llama_cpp_2::list_llama_ggml_backend_devices()
            .into_iter()
            .filter(|d| !d.backend.eq_ignore_ascii_case("CPU") && d.memory_total > 0)
            .map(|d| Gpu {
                name: d.description,
                backend: d.backend,
                memory_total: d.memory_total as u64,
                memory_free: d.memory_free as u64,
            })
            .collect();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let logical = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let (cpu_name, physical_cores, cpu_features) = parse_cpuinfo(&cpuinfo);
        Self {
            ram_total: meminfo_kib(&meminfo, "MemTotal") * 1024,
            ram_available: meminfo_kib(&meminfo, "MemAvailable") * 1024,
            vram_free: gpus.iter().map(|g| g.memory_free).sum(),
            gpus,
            cpu_name,
            physical_cores: physical_cores.clamp(1, logical),
            logical_cores: logical,
            cpu_features,
        }
    }

    /// A machine with the given free RAM and VRAM, for planning tests.
    #[doc(hidden)]
    pub fn test(ram_available: u64, vram_free: u64) -> Self {
        Self {
            ram_total: ram_available,
            ram_available,
            gpus: Vec::new(),
            vram_free,
            cpu_name: "test".into(),
            physical_cores: 4,
            logical_cores: 8,
            cpu_features: Vec::new(),
        }
    }
}

fn meminfo_kib(meminfo: &str, key: &str) -> u64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// (model name, physical cores, notable features) from `/proc/cpuinfo`.
fn parse_cpuinfo(cpuinfo: &str) -> (String, u32, Vec<String>) {
    let mut cores = std::collections::HashSet::new();
    let (mut physical_id, mut name, mut flags) = ("0", String::new(), String::new());
    for line in cpuinfo.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "physical id" => physical_id = value,
            "core id" => {
                cores.insert((physical_id.to_owned(), value.to_owned()));
            }
            "model name" if name.is_empty() => name = value.to_owned(),
            "flags" | "Features" if flags.is_empty() => flags = value.to_owned(),
            _ => {}
        }
    }
    let wanted = ["avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "neon", "asimd"];
    let features =
        flags.split_whitespace().filter(|f| wanted.contains(f)).map(|f| f.to_uppercase().replace('_', "-")).collect();
    let physical = if cores.is_empty() { 0 } else { cores.len() as u32 };
    (name, physical.max(1), features)
}

/// Physical cores: hyper-threads only add contention to llama.cpp's matrix kernels.
pub fn default_threads() -> u32 {
    static CORES: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| Hardware::detect().physical_cores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_cores_count_unique_core_ids() {
        let info = "processor: 0\nmodel name: Test CPU\nphysical id: 0\ncore id: 0\nflags: fpu avx avx2 fma\n\
                    processor: 1\nphysical id: 0\ncore id: 0\n\
                    processor: 2\nphysical id: 0\ncore id: 1\n";
        let (name, cores, features) = parse_cpuinfo(info);
        assert_eq!((name.as_str(), cores), ("Test CPU", 2));
        assert_eq!(features, ["AVX", "AVX2", "FMA"]);
    }

    #[test]
    fn this_machine_is_detected() {
        let hw = Hardware::detect();
        assert!(hw.ram_total > 0 && hw.ram_available > 0 && hw.ram_available <= hw.ram_total);
        assert!(hw.physical_cores >= 1 && hw.physical_cores <= hw.logical_cores);
    }
}
