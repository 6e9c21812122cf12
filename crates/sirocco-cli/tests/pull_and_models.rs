//! `sirocco pull` and `sirocco models` from a terminal, against the fake hub, with the
//! Hugging Face environment variables other HF tools use.

#[path = "../../../tests/fakehub/harness.rs"]
mod fake_hub;

use std::process::Command;

use fake_hub::*;

fn sirocco(fake: &FakeHub, home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sirocco"))
        .args(args)
        .current_dir(home)
        .env("HF_ENDPOINT", &fake.api)
        .env("HF_HOME", home.join("hf"))
        .env("HOME", home)
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_TOKEN")
        .env_remove("XDG_DATA_HOME")
        .env_remove("SIROCCO_DATA_DIR")
        .env_remove("SIROCCO_MODELS_DIR")
        .output()
        .unwrap()
}

#[test]
fn pull_downloads_verified_into_hf_home_and_models_lists_it() {
    let fake = FakeHub::start();
    let home = tempfile::tempdir().unwrap();

    let out = sirocco(&fake, home.path(), &["pull", SMOL_REPO, "--quant", "q4_1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(path.starts_with(home.path().join("hf/hub/models--bartowski--SmolLM2-135M-Instruct-GGUF/snapshots")), "{path:?}");
    assert_eq!(sha256_file(&path), sha256_file(&fixture("SmolLM2-135M-Instruct.Q4_1.gguf")));
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("100.0%") && progress.contains("done, verified"), "{progress}");

    let out = sirocco(&fake, home.path(), &["models"]);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(listing.contains("SmolLM2-135M-Instruct-Q4_1.gguf") && listing.contains(SMOL_REPO), "{listing}");
    assert!(listing.contains("Q4_1") && listing.contains("llama"), "{listing}");
}

#[test]
fn pull_without_a_quant_picks_what_fits_and_unknown_quants_are_explained() {
    let fake = FakeHub::start();
    let home = tempfile::tempdir().unwrap();
    let out = sirocco(&fake, home.path(), &["pull", MIXTRAL_REPO]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).trim().ends_with("Mixtral-8x7B-shape-F16.gguf"));

    let out = sirocco(&fake, home.path(), &["pull", SMOL_REPO, "--quant", "Q8_0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has no Q8_0 file") && err.contains("Q4_1"), "{err}");

    let out = sirocco(&fake, home.path(), &["pull", "nobody/nothing"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not found"));
}

#[test]
fn models_with_nothing_says_how_to_get_one() {
    let fake = FakeHub::start();
    let home = tempfile::tempdir().unwrap();
    let out = sirocco(&fake, home.path(), &["models"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("sirocco pull"));
}

#[test]
fn models_lists_what_was_added_in_the_app() {
    let fake = FakeHub::start();
    let home = tempfile::tempdir().unwrap();
    let elsewhere = home.path().join("Downloads");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let added = elsewhere.join("Added-Mistral-Q8_0.gguf");
    std::fs::copy(fixture("tiny-mistral-7b-shape.gguf"), &added).unwrap();
    std::fs::copy(fixture("tiny-mistral-7b-shape.gguf"), elsewhere.join("Not-Added-Q8_0.gguf")).unwrap();
    // The app's settings file, as tauri-plugin-store writes it in the app's data folder.
    let data = home.path().join(".local/share/dev.sirocco.app");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("settings.json"), serde_json::json!({"theme": "dark", "libraryLocations": [added]}).to_string()).unwrap();

    let out = sirocco(&fake, home.path(), &["models"]);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(listing.contains("Added-Mistral-Q8_0.gguf"), "{listing}");
    assert!(!listing.contains("Not-Added"), "{listing}");
}
