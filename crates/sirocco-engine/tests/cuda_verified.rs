//! The `cuda` feature cannot rot unseen: CI machines have no CUDA toolkit and building it takes
//! half an hour, so `.ci/build-cuda.sh` (its own command) records the llama.cpp it compiled in
//! `.ci/cuda-verified`, and this test fails once `Cargo.lock` moves to another llama-cpp-sys-2
//! without that build being run (and the record committed) again.

#[test]
fn the_cuda_build_was_verified_on_the_llama_cpp_in_use() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    let in_use = lock
        .split("[[package]]")
        .find(|p| p.contains("\nname = \"llama-cpp-sys-2\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"')))
        .expect("Cargo.lock names llama-cpp-sys-2");
    let record = std::fs::read_to_string(root.join(".ci/cuda-verified"))
        .expect(".ci/cuda-verified: run `bash .ci/build-cuda.sh`");
    let verified = record.split_whitespace().nth(1).unwrap_or_default();
    assert_eq!(
        verified, in_use,
        "the CUDA build was last verified on llama-cpp-sys-2 {verified}, the lock file has {in_use}: \
         run `bash .ci/build-cuda.sh` and commit .ci/cuda-verified ({record})"
    );
}
