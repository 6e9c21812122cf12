// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// SIROCCO_WRITE_BINDINGS=1 cargo test -p sirocco bindings rewrites it.

export type ErrorKind = "cancelled" | "needs_token" | "busy" | "no_room" | "not_found" | "invalid" | "disk_full" | "io" | "network" | "other";

export type IpcError = { kind: ErrorKind, message: string, };

export type DownloadPhase = { "kind": "downloading" } | { "kind": "retrying", attempt: number, delay_ms: number, error: string, } | { "kind": "waiting" } | { "kind": "verifying" } | { "kind": "done" };

export type DownloadProgress = { file: string, 
/**
 * Bytes on disk for the whole item (all files), and its total.
 */
downloaded: number, total: number, bytes_per_second: number, eta_seconds: number | null, phase: DownloadPhase, };
