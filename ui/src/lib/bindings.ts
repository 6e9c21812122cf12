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

export type RemoteFile = { path: string, size: number, 
/**
 * The Hub's LFS sha256 (`None` for small files kept in git).
 */
sha256: string | null, };

export type GgufEntry = { 
/**
 * The name shown: the file name, or for split models the name without the part suffix.
 */
name: string, 
/**
 * `Q4_K_M`, `IQ3_XS`, `F16`… when the name says.
 */
quant: string | null, 
/**
 * Every file to download, part 1 first (the one llama.cpp loads).
 */
parts: Array<RemoteFile>, total_size: number, };

export type QueuedState = { "kind": "downloading" } | { "kind": "paused" } | { "kind": "failed", message: string, };

export type QueuedDownload = { 
/**
 * `repo/name`: how the queue's commands name the item.
 */
key: string, repo: string, 
/**
 * The commit every part comes from.
 */
commit: string, entry: GgufEntry, state: QueuedState, 
/**
 * Bytes on disk now, over all parts: read from the cache when listed (what the queue file
 * holds there is ignored).
 */
downloaded: number, };
