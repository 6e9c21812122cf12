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
