//! `sirocco service`: the user unit it writes passes `systemd-analyze verify`, and started as
//! systemd starts it (its ExecStart, its Environment) it serves the app's library; uninstall
//! removes it. (No systemd user session runs here, so systemctl's part is only reported.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

mod common;
use common::fixtures;

/// A unit file line's words, as systemd splits them (double quotes, C escapes, `%%`).
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut chars) = (Vec::new(), None::<String>, false, line.chars());
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            '\\' if quoted => word.get_or_insert_with(String::new).extend(chars.next()),
            '%' => {
                chars.next();
                word.get_or_insert_with(String::new).push('%');
            }
            ' ' if !quoted => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

#[test]
fn the_service_unit_verifies_serves_the_apps_library_and_uninstalls() {
    let dir = tempfile::tempdir().unwrap();
    // Folders with a space and a percent sign: the unit must quote them as systemd reads them.
    let data = dir.path().join("my data 100%");
    let models = dir.path().join("my models");
    std::fs::create_dir_all(&models).unwrap();
    let file = "SmolLM2-135M-Instruct.Q4_1.gguf";
    std::os::unix::fs::symlink(fixtures().join(file), models.join(file)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sirocco = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sirocco"))
            .args(args)
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("HOME", dir.path())
            .env("SIROCCO_DATA_DIR", &data)
            .env("SIROCCO_MODELS_DIR", &models)
            .env("HF_HOME", dir.path().join("hf"))
            .output()
            .unwrap()
    };

    let out = sirocco(&["service", "install", "--port", &port.to_string(), "--no-start"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let unit = dir.path().join("config/systemd/user/sirocco.service");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("wrote {}", unit.display())));
    let verify = Command::new("systemd-analyze").arg("verify").arg(&unit).output().expect("systemd-analyze runs");
    let complaints = String::from_utf8_lossy(&verify.stdout).into_owned() + &String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && complaints.trim().is_empty(), "{complaints}");

    // Started as systemd would: its command line and environment, nothing of this shell's.
    let text = std::fs::read_to_string(&unit).unwrap();
    let value = |key: &'static str| text.lines().filter_map(move |l| l.strip_prefix(key)).map(words);
    let command = value("ExecStart=").next().expect("ExecStart");
    let mut child = Command::new(&command[0]);
    child.args(&command[1..]).env_clear().env("HOME", dir.path()).env("HF_HOME", dir.path().join("hf"));
    for assignment in value("Environment=").flatten() {
        let (name, value) = assignment.split_once('=').unwrap();
        child.env(name, value);
    }
    let mut child = child.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), format!("serving the library on http://127.0.0.1:{port}/v1"));
    let tags = Command::new("curl").args(["-s", &format!("http://127.0.0.1:{port}/api/tags")]).output().unwrap();
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    assert!(String::from_utf8_lossy(&tags.stdout).contains("SmolLM2-135M-Instruct.Q4_1:latest"), "the app's library");
    assert!(data.join("sirocco.db").is_file(), "its store is the app's, in the data folder");

    let status = String::from_utf8_lossy(&sirocco(&["service", "status"]).stdout).into_owned();
    assert!(status.contains("installed: ") && status.contains("state: "), "{status}");
    let out = sirocco(&["service", "uninstall"]);
    assert!(out.status.success() && !unit.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let status = String::from_utf8_lossy(&sirocco(&["service", "status"]).stdout).into_owned();
    assert!(status.contains("not installed"), "{status}");
    let this = std::fs::canonicalize(env!("CARGO_BIN_EXE_sirocco")).unwrap();
    assert_eq!(std::fs::canonicalize(&command[0]).unwrap(), this, "the unit runs the sirocco that installed it");
}
