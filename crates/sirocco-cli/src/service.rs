//! `sirocco service install|uninstall|start|stop|status`: the local server as a systemd user
//! service — `sirocco serve` on the app's library and settings (its data folder, its port),
//! started at login and restarted if it fails, with no window. The unit goes to
//! `$XDG_CONFIG_HOME/systemd/user/sirocco.service`; `systemctl --user` runs it. Where no user
//! session answers (a container, SSH without lingering) the unit is still written, and the
//! command says how to start it.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const UNIT: &str = "sirocco.service";

/// Where the unit file goes.
pub fn unit_path() -> PathBuf {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"));
    config.join("systemd/user").join(UNIT)
}

/// The unit: this executable's `serve` on `port` (loopback), with the data and models folders
/// this command sees (so the service serves the app's library and keeps its answers).
pub fn unit(program: &Path, port: u16) -> String {
    let folders = sirocco_folders::AppFolders::resolve();
    // systemd's quoting: a double-quoted word with C escapes, and `%` doubled (its specifiers).
    let quoted = |text: String| format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"").replace('%', "%%"));
    let quote = |p: &Path| quoted(p.display().to_string());
    let env = |name: &str, p: &Path| quoted(format!("{name}={}", p.display()));
    format!(
        "# Written by `sirocco service install`; `sirocco service uninstall` removes it.\n\
         [Unit]\n\
         Description=Sirocco: local language models for your tools (OpenAI, Anthropic and Ollama APIs)\n\
         After=network.target\n\
         \n\
         [Service]\n\
         Type=simple\n\
         ExecStart={} serve --port {port}\n\
         Environment={}\n\
         Environment={}\n\
         Restart=on-failure\n\
         RestartSec=5\n\
         NoNewPrivileges=true\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        quote(program),
        env("SIROCCO_DATA_DIR", &folders.data),
        env("SIROCCO_MODELS_DIR", &folders.models),
    )
}

/// `systemctl --user <args>`; its output, or why it could not run.
fn systemctl(args: &[&str]) -> Result<String, String> {
    let out = Command::new("systemctl")
        .arg("--user")
        .args(args)
        .output()
        .map_err(|e| format!("systemctl could not run ({e}); is this a systemd system?"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Ok(text)
    } else {
        Err(text.trim().to_owned())
    }
}

/// The port: the one asked for, else the one the app's server last used, else 1234.
fn port(asked: Option<u16>) -> u16 {
    asked.or_else(|| sirocco_runtime::Settings::of_app().server.map(|s| s.port)).unwrap_or(1234)
}

pub fn install(asked_port: Option<u16>, start: bool) -> Result<(), String> {
    let program = std::env::current_exe().map_err(|e| format!("where this program is: {e}"))?;
    let port = port(asked_port);
    let path = unit_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&path, unit(&program, port)).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    let managed = systemctl(&["daemon-reload"])
        .and_then(|_| systemctl(&if start { vec!["enable", "--now", UNIT] } else { vec!["enable", UNIT] }));
    match managed {
        Ok(_) if start => println!("the service runs now and at each login: http://127.0.0.1:{port}/v1"),
        Ok(_) => println!("the service starts at the next login (or: sirocco service start)"),
        Err(why) => println!(
            "systemctl --user did not answer ({why}); in a desktop session run: systemctl --user enable --now {UNIT}"
        ),
    }
    Ok(())
}

pub fn uninstall() -> Result<(), String> {
    let path = unit_path();
    // Stopped and disabled first where a user session answers; the file goes either way.
    let _ = systemctl(&["disable", "--now", UNIT]);
    match std::fs::remove_file(&path) {
        Ok(()) => println!("removed {}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => println!("no service is installed ({})", path.display()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    }
    let _ = systemctl(&["daemon-reload"]);
    Ok(())
}

pub fn start() -> Result<(), String> {
    require_installed()?;
    systemctl(&["start", UNIT]).map(|_| println!("started"))
}

pub fn stop() -> Result<(), String> {
    require_installed()?;
    systemctl(&["stop", UNIT]).map(|_| println!("stopped"))
}

pub fn status() -> Result<(), String> {
    let path = unit_path();
    if !path.is_file() {
        println!("not installed (sirocco service install)");
        return Ok(());
    }
    println!("installed: {}", path.display());
    match systemctl(&["is-active", UNIT]) {
        Ok(state) => println!("state: {}", state.trim()),
        Err(state) if !state.is_empty() && !state.contains("bus") => println!("state: {}", state.trim()),
        Err(why) => println!("state: unknown (systemctl --user did not answer: {why})"),
    }
    Ok(())
}

fn require_installed() -> Result<(), String> {
    if unit_path().is_file() {
        Ok(())
    } else {
        Err("no service is installed: sirocco service install".into())
    }
}
