//! A process that logs and then panics, as the app would: this test runs itself again as that
//! process (`SIROCCO_LOGS_CHILD`), then reads what it left: the log with the panic and its
//! backtrace, and the report the next start takes once.

use std::process::Command;

#[test]
fn a_panic_is_in_the_log_and_reported_to_the_next_start_once() {
    if let Some(dir) = std::env::var_os("SIROCCO_LOGS_CHILD") {
        let dir = std::path::PathBuf::from(dir);
        sirocco_logs::init(&dir, "info", sirocco_logs::Echo::Stderr).unwrap();
        sirocco_logs::install_panic_hook(dir, sirocco_logs::Program::App);
        tracing::info!("working normally");
        panic!("the test asked for a panic");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_panic_is_in_the_log_and_reported_to_the_next_start_once", "--nocapture"])
        .env("SIROCCO_LOGS_CHILD", dir.path())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the child panicked");
    let (path, text) = sirocco_logs::tail(dir.path(), 400).expect("a log file was written");
    assert!(path.file_name().unwrap().to_str().unwrap().starts_with("sirocco."), "{}", path.display());
    assert!(text.contains("working normally"), "{text}");
    assert!(text.contains("the test asked for a panic") && text.contains("tests/panic.rs"), "{text}");
    assert!(text.contains("stack backtrace") || text.contains("panic::"), "the backtrace is there: {text}");
    assert_eq!(
        sirocco_logs::take_crash_report(dir.path(), sirocco_logs::Program::Cli),
        None,
        "the app's, not the CLI's"
    );
    let report =
        sirocco_logs::take_crash_report(dir.path(), sirocco_logs::Program::App).expect("the next start is told");
    assert!(report.message.starts_with("the test asked for a panic at "), "{}", report.message);
    assert_eq!(report.log.as_deref(), Some(path.as_path()));
    assert_eq!(sirocco_logs::take_crash_report(dir.path(), sirocco_logs::Program::App), None, "told once");
}
