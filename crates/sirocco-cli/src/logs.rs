//! `sirocco logs`: where the app's logs are, and the end of the newest one (what a bug report
//! wants).

use sirocco_folders::AppFolders;

pub fn show(lines: usize, path_only: bool) -> Result<(), String> {
    let dir = AppFolders::resolve().logs();
    match sirocco_logs::tail(&dir, lines) {
        Some((path, _)) if path_only => println!("{}", path.display()),
        Some((path, text)) => {
            eprintln!("{} (the last {lines} lines; the folder keeps a week of logs)", path.display());
            println!("{text}");
        }
        None if path_only => println!("{}", dir.display()),
        None => eprintln!("No logs yet in {} (Sirocco writes them there once it has run).", dir.display()),
    }
    Ok(())
}
