//! Bytes → a file → `gguf_file::inspect`. It must return (Ok or a clear error): llama.cpp's own
//! reader runs inside it, and an abort there is exactly what this target is looking for.

#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use sirocco_engine::gguf_file::inspect;

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile_in_shm();
    file.1.write_all(data).expect("the fuzz input is written");
    drop(file.1);
    if let Ok(summary) = inspect(&file.0) {
        // What the validator accepts, it has checked: every tensor inside the file.
        assert!(summary.tensor_bytes <= summary.file_size, "{summary:?}");
    }
    let _ = std::fs::remove_file(&file.0);
});

/// A fresh file under /dev/shm (in memory: the fuzzer writes one per input).
fn tempfile_in_shm() -> (std::path::PathBuf, std::fs::File) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let path = std::path::PathBuf::from(format!("{dir}/sirocco-fuzz-{}-{}.gguf", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    let file = std::fs::File::create(&path).expect("a temporary file");
    (path, file)
}
