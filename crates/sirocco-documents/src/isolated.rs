//! The reader process: documents are parsed in a child process — this executable again,
//! started with [`READER_ARG`] — that gets the file on stdin and answers one JSON object on
//! stdout. It runs under a memory limit ([`MEMORY_LIMIT`]) and a CPU-time limit, and the parent
//! kills it after [`READ_TIMEOUT`], so a PDF that loops, recurses without end or unpacks to
//! gigabytes costs a clear error, never the app.
//!
//! Invariants:
//! - Every binary that reads documents calls [`run_if_reader`] first thing in `main` (or names
//!   another that does with [`set_reader_program`]).
//! - In the reader, only the answer goes to the pipe the parent reads: file descriptor 1 is
//!   pointed at stderr before parsing starts.

use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::{extract, DocumentError, DocumentText, Kind, Result};

/// The argument that makes a binary a document reader (see [`run_if_reader`]).
pub const READER_ARG: &str = "--sirocco-read-document";
/// The longest a document may take to read.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The address space a reader may use.
pub const MEMORY_LIMIT: u64 = 4 << 30;
/// The largest file a reader takes.
const MAX_INPUT: usize = 64 << 20;
/// A reader's stack: deep enough for any honest document's nesting; a hostile one that
/// recurses without end overflows it and the reader dies alone.
const STACK: usize = 256 << 20;

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// Reads documents with `program` (which calls [`run_if_reader`]) instead of this executable.
pub fn set_reader_program(program: PathBuf) {
    let _ = PROGRAM.set(program);
}

/// The text of a `kind` file, read in a reader process.
pub async fn read(kind: Kind, bytes: Vec<u8>) -> Result<DocumentText> {
    let program = match PROGRAM.get() {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| DocumentError::Reader(format!("the document reader could not start ({e})")))?,
    };
    let mut child = tokio::process::Command::new(&program)
        .arg(READER_ARG)
        .arg(kind.name())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| DocumentError::Reader(format!("the document reader could not start ({e})")))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // A reader that dies early closes the pipe: the write fails and the exit says why.
    let feed = tokio::spawn(async move {
        let _ = stdin.write_all(&bytes).await;
    });
    let finished = tokio::time::timeout(READ_TIMEOUT, child.wait_with_output()).await;
    feed.abort();
    let output = match finished {
        // Dropping the wait dropped the child, which kills it.
        Err(_) => {
            return Err(DocumentError::Reader(format!(
                "reading it took longer than {} s, so it was stopped (is the file damaged?)",
                READ_TIMEOUT.as_secs()
            )))
        }
        Ok(Err(e)) => return Err(DocumentError::Reader(format!("the document reader failed ({e})"))),
        Ok(Ok(output)) => output,
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        tracing::warn!(status = %output.status, stderr = ?tail, "the document reader died");
        return Err(DocumentError::Reader(
            "the document reader stopped on this file (it is damaged, or too large or complex to read)".into(),
        ));
    }
    serde_json::from_slice::<std::result::Result<DocumentText, DocumentError>>(&output.stdout)
        .map_err(|e| DocumentError::Reader(format!("the document reader's answer could not be read ({e})")))?
}

/// When this process was started as a document reader, reads the document on stdin, writes
/// its text to stdout and exits; otherwise returns at once. Call it first in `main`.
pub fn run_if_reader() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some(READER_ARG) {
        let kind = args.next().and_then(|k| Kind::from_name(&k));
        std::process::exit(reader_main(kind));
    }
}

fn reader_main(kind: Option<Kind>) -> i32 {
    // SAFETY: plain descriptor calls on this process's own standard streams, before any
    // other thread runs.
    let answer = unsafe {
        let fd = libc::dup(1);
        if fd < 0 || libc::dup2(2, 1) < 0 {
            return 3;
        }
        limit(libc::RLIMIT_AS, MEMORY_LIMIT);
        limit(libc::RLIMIT_CPU, READ_TIMEOUT.as_secs());
        std::fs::File::from_raw_fd(fd)
    };
    let result = match kind {
        None => Err(DocumentError::Unsupported("this kind of document cannot be read".into())),
        Some(kind) => {
            let mut bytes = Vec::new();
            match std::io::stdin().lock().take(MAX_INPUT as u64 + 1).read_to_end(&mut bytes) {
                Err(e) => Err(DocumentError::Reader(format!("the document could not be read ({e})"))),
                Ok(_) if bytes.len() > MAX_INPUT => Err(DocumentError::Unreadable("the file is too large".into())),
                Ok(_) => std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn(move || extract(kind, &bytes))
                    .map_err(|e| DocumentError::Reader(e.to_string()))
                    .and_then(|t| {
                        t.join().unwrap_or_else(|_| Err(DocumentError::Unreadable("the file is damaged".into())))
                    }),
            }
        }
    };
    let mut answer = std::io::BufWriter::new(answer);
    if serde_json::to_writer(&mut answer, &result).is_err() || answer.flush().is_err() {
        return 4;
    }
    0
}

/// Sets the soft and hard limit of `resource` to `value` (a limit already lower stays).
unsafe fn limit(resource: libc::__rlimit_resource_t, value: u64) {
    let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    if libc::getrlimit(resource, &mut current) == 0 {
        let value = value.min(current.rlim_max);
        let new = libc::rlimit { rlim_cur: value.min(current.rlim_cur), rlim_max: value };
        libc::setrlimit(resource, &new);
    }
}
