//! Starting Sirocco when the user logs in: an XDG autostart entry
//! (`$XDG_CONFIG_HOME/autostart/sirocco.desktop`, `~/.config` without it), which every Linux
//! desktop session reads. The entry is the setting: there is no other copy to disagree with it.
//! Started "hidden", the app opens no window and starts its server (see `src-tauri`'s
//! `--hidden`).
//!
//! `Exec` is quoted as the Desktop Entry spec says (a path with spaces, quotes, `$` or `%`
//! stays one argument); the test checks the file with `desktop-file-validate` where it is
//! installed.

use std::io;
use std::path::{Path, PathBuf};

/// The entry's file name.
pub const FILE: &str = "sirocco.desktop";
/// The argument that starts the app without its window, serving.
pub const HIDDEN: &str = "--hidden";

/// What the entry says, when there is one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Autostart {
    /// Started without its window, the server on.
    pub hidden: bool,
}

/// Where the entry lives: `autostart/` in `config` (the user's XDG config folder).
pub fn path_in(config: &Path) -> PathBuf {
    config.join("autostart").join(FILE)
}

/// The user's XDG config folder.
pub fn config_dir() -> Option<PathBuf> {
    dirs::config_dir()
}

/// The program a login should start: the AppImage itself when running from one (its mounted
/// files go away), else this executable.
pub fn this_program() -> io::Result<PathBuf> {
    match std::env::var_os("APPIMAGE") {
        Some(image) if Path::new(&image).is_absolute() => Ok(PathBuf::from(image)),
        _ => std::env::current_exe(),
    }
}

/// The entry in `config`, if one is there and names Sirocco (an entry another program wrote
/// under our name is not ours to read as a setting).
pub fn read(config: &Path) -> Option<Autostart> {
    let text = std::fs::read_to_string(path_in(config)).ok()?;
    let exec = text.lines().find_map(|l| l.strip_prefix("Exec="))?;
    if !text.lines().any(|l| l == "X-Sirocco=true") {
        return None;
    }
    // Turned off in the desktop's own settings (GNOME, KDE write these): not started at login.
    if text.lines().any(|l| l == "Hidden=true" || l == "X-GNOME-Autostart-enabled=false") {
        return None;
    }
    Some(Autostart { hidden: exec.split_whitespace().any(|arg| arg == HIDDEN) })
}

/// Writes the entry: `program` started at login, hidden or not. Replaces an earlier one
/// whole (written beside it, then renamed).
pub fn enable(config: &Path, program: &Path, hidden: bool) -> io::Result<()> {
    let path = path_in(config);
    let dir = path.parent().expect("the entry is in a folder");
    std::fs::create_dir_all(dir)?;
    let mut exec = quote(program).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "a program path with a line break cannot start at login")
    })?;
    if hidden {
        exec.push(' ');
        exec.push_str(HIDDEN);
    }
    let entry = format!(
        "[Desktop Entry]\nType=Application\nName=Sirocco\n\
         Comment=Run open-weight language models on your own machine\n\
         Exec={exec}\nIcon=sirocco-app\nTerminal=false\nCategories=Utility;\n\
         X-GNOME-Autostart-enabled=true\nX-Sirocco=true\n"
    );
    let partial = dir.join(format!(".{FILE}.partial"));
    std::fs::write(&partial, entry)?;
    std::fs::rename(&partial, &path)
}

/// Removes the entry (nothing when there is none).
pub fn disable(config: &Path) -> io::Result<()> {
    match std::fs::remove_file(path_in(config)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// One `Exec` argument: quoted when it holds a reserved character — `"`, `` ` `` and `$`
/// backslash-escaped inside the quotes, a backslash written as two — `%` doubled (a field code
/// otherwise), then every backslash doubled again, as the spec's string values ask. `None` for
/// a path with a line break (no escape keeps it one line).
fn quote(program: &Path) -> Option<String> {
    let raw = program.to_string_lossy().replace('%', "%%");
    if raw.contains(['\n', '\r']) {
        return None;
    }
    let reserved = |c: char| " \t\"'\\><~|&;$*?#()`".contains(c);
    if !raw.chars().any(reserved) {
        return Some(raw);
    }
    let mut quoted = String::from("\"");
    for c in raw.chars() {
        match c {
            // `\\` in the argument, each backslash doubled in the string.
            '\\' => quoted.push_str("\\\\\\\\"),
            // `\"` (and so on) in the argument: its backslash doubled in the string.
            '"' | '`' | '$' => {
                quoted.push_str("\\\\");
                quoted.push(c);
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    Some(quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_is_written_read_back_and_removed() {
        let config = tempfile::tempdir().unwrap();
        assert_eq!(read(config.path()), None);
        enable(config.path(), Path::new("/usr/bin/sirocco-app"), true).unwrap();
        assert_eq!(read(config.path()), Some(Autostart { hidden: true }));
        let text = std::fs::read_to_string(path_in(config.path())).unwrap();
        assert!(text.contains("\nExec=/usr/bin/sirocco-app --hidden\n"), "{text}");
        enable(config.path(), Path::new("/usr/bin/sirocco-app"), false).unwrap();
        assert_eq!(read(config.path()), Some(Autostart { hidden: false }));
        validate(config.path());
        disable(config.path()).unwrap();
        assert_eq!(read(config.path()), None);
        disable(config.path()).expect("removing no entry is no error");
    }

    #[test]
    fn a_path_with_spaces_quotes_and_dollars_stays_one_argument() {
        let config = tempfile::tempdir().unwrap();
        let odd = Path::new("/home/a b/My \"Apps\"/$HOME/100%/sirocco-app");
        enable(config.path(), odd, true).unwrap();
        let text = std::fs::read_to_string(path_in(config.path())).unwrap();
        let exec = text.lines().find_map(|l| l.strip_prefix("Exec=")).unwrap();
        assert_eq!(exec, r#""/home/a b/My \\"Apps\\"/\\$HOME/100%%/sirocco-app" --hidden"#);
        assert_eq!(read(config.path()), Some(Autostart { hidden: true }));
        validate(config.path());
    }

    #[test]
    fn a_backslash_is_escaped_twice_and_a_line_break_refused() {
        let config = tempfile::tempdir().unwrap();
        enable(config.path(), Path::new(r"/opt/my apps\sirocco-app"), false).unwrap();
        let text = std::fs::read_to_string(path_in(config.path())).unwrap();
        let exec = text.lines().find_map(|l| l.strip_prefix("Exec=")).unwrap();
        assert_eq!(exec, r#""/opt/my apps\\\\sirocco-app""#);
        validate(config.path());
        let refused = enable(config.path(), Path::new("/opt/a\nb/sirocco-app"), false).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn an_entry_turned_off_in_the_desktops_settings_is_off() {
        let config = tempfile::tempdir().unwrap();
        enable(config.path(), Path::new("/usr/bin/sirocco-app"), false).unwrap();
        let path = path_in(config.path());
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false"))
            .unwrap();
        assert_eq!(read(config.path()), None);
    }

    #[test]
    fn an_entry_another_program_wrote_under_our_name_is_not_read_as_ours() {
        let config = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(config.path().join("autostart")).unwrap();
        std::fs::write(path_in(config.path()), "[Desktop Entry]\nType=Application\nName=X\nExec=/bin/x --hidden\n")
            .unwrap();
        assert_eq!(read(config.path()), None);
    }

    /// `desktop-file-validate` (desktop-file-utils, installed by `.ci/install-deps.sh`) accepts it.
    fn validate(config: &Path) {
        let out = std::process::Command::new("desktop-file-validate")
            .arg(path_in(config))
            .output()
            .expect("desktop-file-validate runs (desktop-file-utils is installed by .ci/install-deps.sh)");
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "desktop-file-validate: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
