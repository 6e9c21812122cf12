//! The contract between the page and Rust: every type a command takes or returns, written as
//! TypeScript into `ui/src/lib/bindings.ts` (one file, so the types name each other without
//! imports). The test below fails when that file is stale; `SIROCCO_WRITE_BINDINGS=1 cargo test
//! -p sirocco bindings` rewrites it.
//!
//! ts-rs rather than tauri-specta: ts-rs 12 is a stable release that only derives types, so the
//! domain crates can derive them without knowing Tauri, and the commands stay plain
//! `#[tauri::command]`s; tauri-specta's Tauri 2 line is still a release candidate and would
//! generate the invoke layer too.

use ts_rs::{Config, TS};

/// Appends `export type …` for each type, in order.
macro_rules! declare {
    ($out:ident, $cfg:ident; $($ty:ty),* $(,)?) => {
        $( $out.push_str("export "); $out.push_str(&<$ty as TS>::decl($cfg)); $out.push_str("\n\n"); )*
    };
}

/// The whole generated file.
pub fn typescript() -> String {
    // u64 and i64 cross as JSON numbers (serde_json writes them so); sizes stay below 2^53.
    let cfg = &Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.\n\
         // SIROCCO_WRITE_BINDINGS=1 cargo test -p sirocco bindings rewrites it.\n\n",
    );
    declare!(out, cfg;
        crate::error::ErrorKind,
        crate::error::IpcError,
        sirocco_hub::download::Phase,
        sirocco_hub::DownloadProgress,
        sirocco_hub::RemoteFile,
        sirocco_hub::GgufEntry,
        sirocco_hub::queue::State,
        sirocco_hub::QueuedDownload,
    );
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn bindings_ts_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings.ts");
        let want = super::typescript();
        if std::env::var_os("SIROCCO_WRITE_BINDINGS").is_some() {
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is stale: run `SIROCCO_WRITE_BINDINGS=1 cargo test -p sirocco bindings` and commit it",
            path.display()
        );
    }
}
