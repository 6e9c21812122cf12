//! `sirocco logs`: the app's newest log (written here by the same code the app logs with) and
//! its last lines; `--path` for scripts; a clear line when there is none yet.

use std::process::Command;

#[test]
fn logs_prints_the_newest_logs_path_and_last_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sirocco = |args: &[&str]| {
        let out =
            Command::new(env!("CARGO_BIN_EXE_sirocco")).args(args).env("SIROCCO_DATA_DIR", &data).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (out, err) = sirocco(&["logs"]);
    assert!(out.is_empty() && err.contains("No logs yet in") && err.contains("logs"), "{err}");

    sirocco_logs::init(&data.join("logs"), "info", sirocco_logs::Echo::FileOnly).unwrap();
    for i in 0..100 {
        tracing::info!("line {i} of the app's log");
    }
    let (out, err) = sirocco(&["logs", "-n", "3"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[2].ends_with("line 99 of the app's log") && lines[0].ends_with("line 97 of the app's log"), "{out}");
    let (path, _) = sirocco(&["logs", "--path"]);
    assert!(path.trim().starts_with(data.join("logs/sirocco.").to_str().unwrap()), "{path}");
    assert!(err.starts_with(path.trim()), "{err}");
}

/// A panic of the command line (a test build panics on request) is in the log with its place,
/// and its next run says so once on stderr, naming the log; the app's notice is not taken.
#[test]
fn a_panic_is_logged_and_the_next_run_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |panic: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sirocco"));
        command.args(["models"]).env("SIROCCO_DATA_DIR", &data).env_remove("RUST_LOG");
        if panic {
            command.env("SIROCCO_PANIC_AT_START", "1");
        }
        let out = command.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, err) = run(true);
    assert!(!ok && err.contains("SIROCCO_PANIC_AT_START asked for a panic"), "{err}");
    let (path, text) = sirocco_logs::tail(&data.join("logs"), 400).expect("a log file was written");
    assert!(text.contains("SIROCCO_PANIC_AT_START asked for a panic") && text.contains("main.rs"), "{text}");

    let (ok, err) = run(false);
    assert!(ok, "{err}");
    assert!(
        err.contains("the last run stopped on an internal error (SIROCCO_PANIC_AT_START asked for a panic at "),
        "{err}"
    );
    assert!(err.contains(path.to_str().unwrap()), "the log is named: {err}");
    let (ok, err) = run(false);
    assert!(ok && !err.contains("internal error"), "told once: {err}");
    assert_eq!(sirocco_logs::take_crash_report(&data.join("logs"), sirocco_logs::Program::App), None);
}
