//! `sirocco pull` and `sirocco models` from a terminal, against the fake hub, with the
//! Hugging Face environment variables other HF tools use.

#[path = "../../../tests/fakehub/harness.rs"]
mod fake_hub;

use std::process::Command;

use fake_hub::*;

/// `sirocco <args>` against the fake hub, with `home` as its home and Hugging Face home.
fn command(fake: &FakeHub, home: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sirocco"));
    command
        .args(args)
        .current_dir(home)
        .env("HF_ENDPOINT", &fake.api)
        .env("HF_HOME", home.join("hf"))
        .env("HOME", home)
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_TOKEN")
        .env_remove("XDG_DATA_HOME")
        .env_remove("SIROCCO_DATA_DIR")
        .env_remove("SIROCCO_MODELS_DIR");
    command
}

fn sirocco(fake: &FakeHub, home: &std::path::Path, args: &[&str]) -> std::process::Output {
    command(fake, home, args).output().unwrap()
}

#[test]
fn pull_downloads_verified_into_hf_home_and_models_lists_it() {
    let fake = FakeHub::start();
    let home = tempfile::tempdir().unwrap();

    let out = sirocco(&fake, home.path(), &["pull", SMOL_REPO, "--quant", "q4_1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        path.starts_with(home.path().join("hf/hub/models--bartowski--SmolLM2-135M-Instruct-GGUF/snapshots")),
        "{path:?}"
    );
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

/// A connection dropped while a header is read is retried, as a download is; when it keeps
/// failing, the error says the files could not be judged, never that none fits.
#[test]
fn pull_without_a_quant_retries_a_dropped_header_read_and_says_what_failed() {
    let fake = FakeHub::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let home = tempfile::tempdir().unwrap();
    let reset = |times: i32| serde_json::json!([{ "file": "Mixtral-8x7B-shape-F16.gguf", "kind": "reset", "after_bytes": 1000, "times": times }]);
    runtime.block_on(fake.faults(reset(1)));
    let out = sirocco(&fake, home.path(), &["pull", MIXTRAL_REPO]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).trim().ends_with("Mixtral-8x7B-shape-F16.gguf"));
    let log = runtime.block_on(fake.log());
    assert_eq!(log.iter().filter(|r| r["fault"] == "reset").count(), 1, "the reset happened: {log:?}");

    let home = tempfile::tempdir().unwrap();
    runtime.block_on(fake.faults(reset(-1)));
    let out = sirocco(&fake, home.path(), &["pull", MIXTRAL_REPO]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("fits this machine's memory"), "no false verdict: {err}");
    assert!(
        err.contains("could not judge") && err.contains("reading the header of Mixtral-8x7B-shape-F16.gguf"),
        "{err}"
    );
}

/// Two terminals pull the same file at once: the second waits for the first (a lock on the
/// file, as huggingface_hub takes it) and then uses what it fetched; both print the same path
/// and the file crossed the network once.
/// The fake hub's Mixtral file a chunk per 10 ms: slow enough to act while it downloads.
fn slow_mixtral() -> serde_json::Value {
    serde_json::json!([{ "file": "Mixtral-8x7B-shape-F16.gguf", "kind": "drip", "delay": 0.01, "times": -1 }])
}

/// `sirocco pull` of the Mixtral file, running, its output piped.
fn spawn_mixtral_pull(fake: &FakeHub, home: &std::path::Path) -> std::process::Child {
    command(fake, home, &["pull", MIXTRAL_REPO, "--quant", "F16"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads `from` (a pull's progress on stderr) until `needle` has appeared; what was read.
fn read_until(from: &mut impl std::io::Read, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = from.read(&mut byte).unwrap();
        assert_eq!(n, 1, "the pull ended before printing {needle:?}: {}", String::from_utf8_lossy(&seen));
        seen.push(byte[0]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// Ctrl-C leaves the pull paused in the download queue the app reads (with its bytes); the same
/// command again resumes from them.
#[test]
fn an_interrupted_pull_is_paused_in_the_shared_queue_and_the_next_pull_resumes_it() {
    use std::io::Read;
    let fake = FakeHub::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(fake.faults(slow_mixtral()));
    let home = tempfile::tempdir().unwrap();
    let mut pull = spawn_mixtral_pull(&fake, home.path());
    let mut progress = pull.stderr.take().unwrap();
    // A time left is shown once bytes are flowing.
    read_until(&mut progress, " left");
    let interrupt = Command::new("kill").args(["-INT", &pull.id().to_string()]).status().unwrap();
    assert!(interrupt.success());
    let mut rest = String::new();
    progress.read_to_string(&mut rest).unwrap();
    assert!(!pull.wait().unwrap().success());
    assert!(rest.contains("paused: run the same command again"), "{rest}");

    let hub = sirocco_hub::Hub::new(sirocco_hub::HubConfig {
        endpoint: Some(fake.api.clone()),
        cache_dir: Some(home.path().join("hf/hub")),
        ..sirocco_hub::HubConfig::default()
    })
    .unwrap();
    let queued = sirocco_hub::DownloadQueue::default().list(&hub).unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].state, sirocco_hub::queue::State::Paused);
    let kept = queued[0].downloaded;
    assert!(kept > 0 && kept < queued[0].entry.total_size, "{kept}");

    runtime.block_on(fake.faults(serde_json::json!([])));
    let out = sirocco(&fake, home.path(), &["pull", MIXTRAL_REPO, "--quant", "F16"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let gets: Vec<_> = runtime.block_on(fake.log()).into_iter().filter(|r| r["method"] == "GET").collect();
    assert_eq!(gets.last().unwrap()["start"].as_u64().unwrap(), kept, "resumed where it stopped: {gets:?}");
    assert!(sirocco_hub::DownloadQueue::default().list(&hub).unwrap().is_empty());
}

#[test]
fn two_pulls_of_the_same_file_at_once_both_succeed_and_fetch_it_once() {
    use std::io::Read;
    let fake = FakeHub::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Slow enough that the second starts while the first is still fetching.
    runtime.block_on(fake.faults(slow_mixtral()));
    let home = tempfile::tempdir().unwrap();
    let pull = || spawn_mixtral_pull(&fake, home.path());
    let mut first = pull();
    // The first has bytes on disk (its progress bar shows a percentage) before the second starts.
    let mut first_err = first.stderr.take().unwrap();
    let seen = read_until(&mut first_err, "%");
    let second = pull();
    let second = second.wait_with_output().unwrap();
    let mut rest = String::new();
    first_err.read_to_string(&mut rest).unwrap();
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "the first: {seen}{rest}");
    let second_err = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "the second: {second_err}");
    assert!(second_err.contains("waiting for another download of this file"), "it said it waited: {second_err}");
    assert_eq!(first.stdout, second.stdout, "the same file");
    let path = std::path::PathBuf::from(String::from_utf8(first.stdout).unwrap().trim());
    assert_eq!(sha256_file(&path), sha256_file(&fixture("tiny-mixtral-8x7b-shape.gguf")));
    let sent: u64 = runtime
        .block_on(fake.log())
        .iter()
        .filter(|r| r["method"] == "GET")
        .map(|r| r["sent"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(sent, std::fs::metadata(&path).unwrap().len(), "fetched once");
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
    std::fs::write(
        data.join("settings.json"),
        serde_json::json!({"theme": "dark", "libraryLocations": [added]}).to_string(),
    )
    .unwrap();

    let out = sirocco(&fake, home.path(), &["models"]);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(listing.contains("Added-Mistral-Q8_0.gguf"), "{listing}");
    assert!(!listing.contains("Not-Added"), "{listing}");
}

/// The CLI's library is the app's (its models folder, downloads, what the user added): a
/// `models/` folder wherever the command happens to start is not part of it unless named.
#[test]
fn models_lists_the_apps_library_not_the_models_folder_of_the_working_directory() {
    let fake = FakeHub::start();
    let home = tempfile::tempdir().unwrap();
    let apps = home.path().join(".local/share/dev.sirocco.app/models");
    let stray = home.path().join("models");
    // Two different files: the library lists a file once, by the path it resolves to.
    for (dir, name, file) in [
        (&apps, "Mine.gguf", "SmolLM2-135M-Instruct.Q4_1.gguf"),
        (&stray, "Stray.gguf", "vision/Tiny-Pixtral-F16.gguf"),
    ] {
        std::fs::create_dir_all(dir).unwrap();
        std::os::unix::fs::symlink(fixture(file), dir.join(name)).unwrap();
    }
    let out = sirocco(&fake, home.path(), &["models"]);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(listing.contains("Mine.gguf") && !listing.contains("Stray.gguf"), "{listing}");

    let out = sirocco(&fake, home.path(), &["models", "--dir", "models"]);
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(listing.contains("Mine.gguf") && listing.contains("Stray.gguf"), "a folder named is listed: {listing}");
}
