//! `sirocco-logs`: the app's log files and what a panic leaves behind.
//!
//! [`init`] sends every `tracing` event at the chosen level to stderr and to a file in the logs
//! folder, a new file each day (`sirocco.YYYY-MM-DD.log`), the last [`KEPT_FILES`] kept. Writes
//! are not buffered in another thread, so what was logged before a crash is on disk.
//! [`install_panic_hook`] writes a panic (message, place, backtrace) to the log and leaves a
//! report beside it; the next start takes it ([`take_crash_report`]) and tells the user.
//!
//! Secrets never reach a log: the app's commands record no arguments (`skip_all`), and tokens
//! are shown only redacted.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Daily files kept (a week).
pub const KEPT_FILES: usize = 7;
const PREFIX: &str = "sirocco";
const SUFFIX: &str = "log";

/// Which program a crash report is about: each is told of its own at its next start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// The desktop app (a banner in its window).
    App,
    /// The `sirocco` command line (a line on stderr).
    Cli,
}

impl Program {
    fn report_file(self) -> &'static str {
        match self {
            Program::App => "last-crash.json",
            Program::Cli => "last-crash-cli.json",
        }
    }
}

/// What a panic left for the next start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CrashReport {
    /// The panic's message and where it happened.
    pub message: String,
    /// When (milliseconds since the Unix epoch).
    #[ts(type = "number")]
    pub at_ms: i64,
    /// The log file it was written to.
    pub log: Option<PathBuf>,
}

#[derive(Debug)]
pub struct LogError(String);

impl std::fmt::Display for LogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the log file could not be opened: {}", self.0)
    }
}

impl std::error::Error for LogError {}

/// Where log lines go besides the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Also to stderr (the app: a terminal that started it sees them).
    Stderr,
    /// Only to the file (the CLI: its terminal is the user's chat or its output).
    FileOnly,
}

/// Logs to the logs folder `dir` (created), and to stderr as `echo` says, at `RUST_LOG`'s
/// levels or `default_filter`. Once per process; a second call changes nothing.
pub fn init(dir: &Path, default_filter: &str, echo: Echo) -> Result<(), LogError> {
    std::fs::create_dir_all(dir).map_err(|e| LogError(format!("{}: {e}", dir.display())))?;
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEPT_FILES)
        .build(dir)
        .map_err(|e| LogError(format!("{}: {e}", dir.display())))?;
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::registry()
        .with(
            (echo == Echo::Stderr)
                .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter())),
        )
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(file).with_filter(filter()))
        .try_init();
    Ok(())
}

/// The newest log file in `dir`.
pub fn newest_log(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .max()
}

/// On a panic: its message, place and backtrace go to the log, and a [`CrashReport`] is left
/// in `dir` for `program`'s next start; then the usual panic handling goes on.
pub fn install_panic_hook(dir: PathBuf, program: Program) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
        let message = format!("{payload}{place} (thread {thread})");
        let backtrace = std::backtrace::Backtrace::force_capture();
        tracing::error!(target: "panic", "{message}\n{backtrace}");
        let at_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        let report = CrashReport { message, at_ms, log: newest_log(&dir) };
        let file = program.report_file();
        let partial = dir.join(format!("{file}.part"));
        if std::fs::write(&partial, serde_json::to_vec(&report).expect("reports serialise")).is_ok() {
            let _ = std::fs::rename(&partial, dir.join(file));
        }
        previous(info);
    }));
}

/// The report a panic of `program` left in `dir`, taken (its next start tells the user once).
pub fn take_crash_report(dir: &Path, program: Program) -> Option<CrashReport> {
    let path = dir.join(program.report_file());
    let text = std::fs::read(&path).ok()?;
    let _ = std::fs::remove_file(&path);
    serde_json::from_slice(&text).ok()
}

/// The last `lines` lines of the newest log in `dir`, and its path.
pub fn tail(dir: &Path, lines: usize) -> Option<(PathBuf, String)> {
    let path = newest_log(dir)?;
    let text = std::fs::read_to_string(&path).ok()?;
    let all: Vec<&str> = text.lines().collect();
    let shown = all[all.len().saturating_sub(lines)..].join("\n");
    Some((path, shown))
}
