//! Engines in a process of their own.
//!
//! llama.cpp's RPC backend aborts the process using a worker when that worker goes away
//! (`GGML_ABORT` on a failed send; no callback can return from it). So a model that uses other
//! machines is loaded in a child process — this executable again, started with [`CHILD_ARG`] —
//! and the parent's [`Engine`](crate::Engine) handle forwards every command to it over the
//! child's stdin and reads replies, progress and generation events from its stdout, one JSON
//! object per line. When the child dies, every waiting caller gets a clear error naming the
//! machine that went away, [`Engine::stopped`](crate::Engine::stopped) resolves, and the app
//! keeps running.
//!
//! Invariants:
//! - Every binary that may host models calls [`run_if_child`] first thing in `main`.
//! - In the child, only the protocol writes to the pipe the parent reads: file descriptor 1
//!   is pointed at stderr before anything else runs, so a stray `printf` in C code lands in
//!   the log, not in the protocol.
//! - The child's log (its tracing events and llama.cpp's, to stderr) becomes the parent's log,
//!   line by line, under the target `sirocco_engine::process`.
//! - The child ends when its stdin closes (every handle in the parent is gone, or the parent
//!   died); it saves the conversations it holds first, as an in-process engine does.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc as async_mpsc, oneshot, watch};

use crate::engine::{Command, Progress};
use crate::request::{GenerateRequest, GenerationEvent};
use crate::{Engine, EngineError, Result};
use sirocco_types::LoadParams;

/// The argument that makes a binary an engine process (see [`run_if_child`]).
pub const CHILD_ARG: &str = "--sirocco-engine-process";

/// How often the parent looks for cancelled loads and generations to pass on (a token takes
/// longer than this on every model worth running).
const CANCEL_SCAN: Duration = Duration::from_millis(25);
/// Lines of the child's stderr kept to explain its death.
const STDERR_TAIL: usize = 40;

impl Engine {
    /// The engine for a load with `params`: in this process, or — when the model uses other
    /// machines, whose loss llama.cpp answers by aborting the process using them — in an
    /// engine process of its own.
    pub fn for_load(params: &LoadParams) -> Self {
        if params.workers.is_empty() {
            Self::start()
        } else {
            Self::start_process()
        }
    }

    /// An engine in a child process (this executable again, started with [`CHILD_ARG`]); the
    /// same API, its commands and events sent over pipes.
    pub fn start_process() -> Self {
        let (commands, rx) = mpsc::channel();
        let (stop, stopped) = watch::channel(None);
        spawn_proxy(rx, stop);
        Engine::from_parts(commands, stopped)
    }
}

/// When this process was started as an engine process, serves the parent until it goes and
/// exits; otherwise returns at once. Call it first in `main`.
pub fn run_if_child() {
    if std::env::args_os().nth(1).is_some_and(|a| a == CHILD_ARG) {
        std::process::exit(child_main());
    }
}

// ---------------------------------------------------------------------------------------------
// The wire: one JSON object per line each way.

// One message a line, each built to be written and dropped at once: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum ToChild {
    Load {
        id: u64,
        path: PathBuf,
        params: LoadParams,
    },
    /// Cancels the load or generation `id`.
    Cancel {
        id: u64,
    },
    Unload {
        id: u64,
    },
    Generate {
        id: u64,
        request: GenerateRequest,
    },
    PromptTokens {
        id: u64,
        request: GenerateRequest,
    },
    PersistState {
        id: u64,
        key: String,
    },
    Embed {
        id: u64,
        inputs: Vec<String>,
        #[serde(default)]
        truncate: bool,
    },
    InfillTokens {
        id: u64,
        prefix: String,
        suffix: String,
    },
    Tokenize {
        id: u64,
        text: String,
        add_special: bool,
        parse_special: bool,
    },
    Detokenize {
        id: u64,
        tokens: Vec<i32>,
        special: bool,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum FromChild {
    Progress { id: u64, fraction: f32 },
    Event { id: u64, event: GenerationEvent },
    Reply { id: u64, result: WireResult },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireResult {
    Ok(serde_json::Value),
    Err(WireError),
}

/// An [`EngineError`] across the pipe: the kinds callers tell apart, and the message.
#[derive(Debug, Serialize, Deserialize)]
struct WireError {
    kind: ErrorKind,
    message: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ErrorKind {
    LoadCancelled,
    NoModelLoaded,
    ModelUnloaded,
    Worker,
    Other,
}

impl WireError {
    fn from_error(e: &EngineError) -> Self {
        let kind = match e {
            EngineError::LoadCancelled => ErrorKind::LoadCancelled,
            EngineError::NoModelLoaded => ErrorKind::NoModelLoaded,
            EngineError::ModelUnloaded => ErrorKind::ModelUnloaded,
            EngineError::Worker(_) => ErrorKind::Worker,
            _ => ErrorKind::Other,
        };
        Self { kind, message: e.to_string() }
    }

    fn into_error(self) -> EngineError {
        match self.kind {
            ErrorKind::LoadCancelled => EngineError::LoadCancelled,
            ErrorKind::NoModelLoaded => EngineError::NoModelLoaded,
            ErrorKind::ModelUnloaded => EngineError::ModelUnloaded,
            ErrorKind::Worker => EngineError::Worker(self.message),
            ErrorKind::Other => EngineError::Relayed(self.message),
        }
    }
}

fn wire_result<T: Serialize>(result: Result<T>) -> WireResult {
    match result {
        Ok(v) => match serde_json::to_value(v) {
            Ok(v) => WireResult::Ok(v),
            Err(e) => WireResult::Err(WireError { kind: ErrorKind::Other, message: e.to_string() }),
        },
        Err(e) => WireResult::Err(WireError::from_error(&e)),
    }
}

// ---------------------------------------------------------------------------------------------
// The parent's side: a proxy standing where the engine thread would.

/// Hands a reply (its JSON value) to the caller waiting for it, as the type it waits for.
type Answer = Box<dyn FnOnce(Result<serde_json::Value>) + Send>;

fn answer<T: DeserializeOwned + Send + 'static>(tx: oneshot::Sender<Result<T>>) -> Answer {
    Box::new(move |result| {
        let _ = tx.send(result.and_then(|v| {
            serde_json::from_value(v)
                .map_err(|e| EngineError::Relayed(format!("the engine process answered nonsense: {e}")))
        }));
    })
}

/// A caller waiting on the child.
enum Pending {
    Load { progress: Progress, cancel: Arc<AtomicBool>, cancel_sent: bool, reply: Answer },
    Generate { events: async_mpsc::UnboundedSender<GenerationEvent>, cancel: Arc<AtomicBool>, cancel_sent: bool },
    Reply(Answer),
}

impl Pending {
    fn fail(self, error: &EngineError) {
        match self {
            Self::Load { reply, .. } | Self::Reply(reply) => reply(Err(relay(error))),
            Self::Generate { events, .. } => {
                let _ = events.send(GenerationEvent::error(error));
            }
        }
    }

    /// A load or a generation, which a caller may cancel.
    fn cancellable(&self) -> bool {
        !matches!(self, Self::Reply(_))
    }
}

fn relay(e: &EngineError) -> EngineError {
    WireError::from_error(e).into_error()
}

#[derive(Default)]
struct Calls {
    pending: HashMap<u64, Pending>,
    /// Why the child is gone, once it is: later commands get this at once.
    gone: Option<EngineError>,
    /// The parent closed the child's stdin on purpose (every handle dropped).
    closing: bool,
}

/// The machines a load in the child uses, to name the one that went away.
type Workers = Arc<Mutex<Vec<String>>>;

/// Starts the child and the threads that stand for the engine thread: one takes `commands`
/// and writes them to the child, one reads the child's answers, one keeps its stderr.
fn spawn_proxy(commands: mpsc::Receiver<Command>, stop: watch::Sender<Option<String>>) {
    let calls = Arc::new(Mutex::new(Calls::default()));
    let workers: Workers = Arc::default();
    let child = std::env::current_exe().and_then(|exe| {
        std::process::Command::new(exe)
            .arg(CHILD_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    });
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            calls.lock().expect("calls").gone =
                Some(EngineError::Relayed(format!("could not start the engine process: {e}")));
            std::thread::spawn(move || write_commands(&commands, None, &calls, &workers));
            return;
        }
    };
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let stderr_thread = {
        let tail = tail.clone();
        std::thread::Builder::new()
            .name("sirocco-engine-process-log".into())
            .spawn(move || keep_stderr(stderr, &tail))
            .expect("spawn a thread")
    };
    {
        let (calls, workers) = (calls.clone(), workers.clone());
        std::thread::Builder::new()
            .name("sirocco-engine-process-out".into())
            .spawn(move || {
                read_answers(stdout, &calls);
                let _ = stderr_thread.join();
                child_gone(&mut child, &calls, &workers, &tail, &stop);
            })
            .expect("spawn a thread");
    }
    std::thread::Builder::new()
        .name("sirocco-engine-process-in".into())
        .spawn(move || write_commands(&commands, stdin, &calls, &workers))
        .expect("spawn a thread");
}

/// Takes commands until every handle is gone, then closes the child's stdin (it saves its
/// conversations and exits).
fn write_commands(
    commands: &mpsc::Receiver<Command>,
    stdin: Option<ChildStdin>,
    calls: &Mutex<Calls>,
    workers: &Workers,
) {
    let mut stdin = stdin;
    let mut next_id = 0u64;
    loop {
        // Cancel flags are plain atomics: while a load or a generation runs they are looked at
        // every CANCEL_SCAN; otherwise nothing needs waking up for.
        let watching = calls.lock().expect("calls").pending.values().any(Pending::cancellable);
        let next = if watching {
            commands.recv_timeout(CANCEL_SCAN)
        } else {
            commands.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected)
        };
        match next {
            Ok(command) => {
                next_id += 1;
                let (message, pending) = to_wire(next_id, command, workers);
                let mut calls = calls.lock().expect("calls");
                if let Some(gone) = &calls.gone {
                    pending.fail(gone);
                    continue;
                }
                calls.pending.insert(next_id, pending);
                drop(calls);
                send(&mut stdin, &message);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        // Cancels (a flag the caller set, or a generation nobody reads any more) go over.
        let mut cancels = Vec::new();
        for (id, pending) in calls.lock().expect("calls").pending.iter_mut() {
            match pending {
                Pending::Load { cancel, cancel_sent, .. } if !*cancel_sent && cancel.load(Ordering::Relaxed) => {
                    *cancel_sent = true;
                    cancels.push(*id);
                }
                Pending::Generate { events, cancel, cancel_sent }
                    if !*cancel_sent && (cancel.load(Ordering::Relaxed) || events.is_closed()) =>
                {
                    *cancel_sent = true;
                    cancels.push(*id);
                }
                _ => {}
            }
        }
        for id in cancels {
            send(&mut stdin, &ToChild::Cancel { id });
        }
    }
    calls.lock().expect("calls").closing = true;
    drop(stdin);
}

/// Writes one message; a write that fails means the child is dying, which the reader reports.
fn send(stdin: &mut Option<ChildStdin>, message: &ToChild) {
    let Some(pipe) = stdin else { return };
    let mut line = serde_json::to_vec(message).expect("wire types serialize");
    line.push(b'\n');
    if pipe.write_all(&line).and_then(|()| pipe.flush()).is_err() {
        *stdin = None;
    }
}

fn to_wire(id: u64, command: Command, workers: &Workers) -> (ToChild, Pending) {
    match command {
        Command::Load { path, params, progress, cancel, reply } => {
            *workers.lock().expect("workers") = params.workers.clone();
            (
                ToChild::Load { id, path, params },
                Pending::Load { progress, cancel, cancel_sent: false, reply: answer(reply) },
            )
        }
        Command::Unload { reply } => (
            ToChild::Unload { id },
            Pending::Reply(Box::new(move |_| {
                let _ = reply.send(());
            })),
        ),
        Command::Generate { request, events, cancel } => {
            (ToChild::Generate { id, request }, Pending::Generate { events, cancel, cancel_sent: false })
        }
        Command::PromptTokens { request, reply } => {
            (ToChild::PromptTokens { id, request }, Pending::Reply(answer(reply)))
        }
        Command::PersistState { key, reply } => (ToChild::PersistState { id, key }, Pending::Reply(answer(reply))),
        Command::Embed { inputs, truncate, reply } => {
            (ToChild::Embed { id, inputs, truncate }, Pending::Reply(answer(reply)))
        }
        Command::InfillTokens { prefix, suffix, reply } => {
            (ToChild::InfillTokens { id, prefix, suffix }, Pending::Reply(answer(reply)))
        }
        Command::Tokenize { text, add_special, parse_special, reply } => {
            (ToChild::Tokenize { id, text, add_special, parse_special }, Pending::Reply(answer(reply)))
        }
        Command::Detokenize { tokens, special, reply } => {
            (ToChild::Detokenize { id, tokens, special }, Pending::Reply(answer(reply)))
        }
    }
}

/// Hands each answer of the child to its caller, until the child's stdout closes.
fn read_answers(stdout: std::process::ChildStdout, calls: &Mutex<Calls>) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let message: FromChild = match serde_json::from_str(&line) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(%e, "unreadable line from the engine process");
                continue;
            }
        };
        let mut calls = calls.lock().expect("calls");
        match message {
            FromChild::Progress { id, fraction } => {
                if let Some(Pending::Load { progress, .. }) = calls.pending.get_mut(&id) {
                    progress(fraction);
                }
            }
            FromChild::Event { id, event } => {
                let last = matches!(event, GenerationEvent::Done { .. } | GenerationEvent::Error { .. });
                if let Some(Pending::Generate { events, .. }) = calls.pending.get(&id) {
                    let _ = events.send(event);
                }
                if last {
                    calls.pending.remove(&id);
                }
            }
            FromChild::Reply { id, result } => {
                let Some(pending) = calls.pending.remove(&id) else { continue };
                drop(calls);
                if let Pending::Load { reply, .. } | Pending::Reply(reply) = pending {
                    reply(match result {
                        WireResult::Ok(v) => Ok(v),
                        WireResult::Err(e) => Err(e.into_error()),
                    });
                }
            }
        }
    }
}

fn keep_stderr(stderr: std::process::ChildStderr, tail: &Mutex<VecDeque<String>>) {
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        tracing::info!(target: "sirocco_engine::process", "{line}");
        let mut tail = tail.lock().expect("tail");
        if tail.len() == STDERR_TAIL {
            tail.pop_front();
        }
        tail.push_back(line);
    }
}

/// The child's stdout closed: reap it, tell every waiting caller why, and announce it.
fn child_gone(
    child: &mut Child,
    calls: &Mutex<Calls>,
    workers: &Workers,
    tail: &Mutex<VecDeque<String>>,
    stop: &watch::Sender<Option<String>>,
) {
    let status = child.wait();
    let closing = calls.lock().expect("calls").closing;
    let why = if closing && status.as_ref().is_ok_and(|s| s.success()) {
        EngineError::EngineGone
    } else {
        let tail: Vec<String> = tail.lock().expect("tail").iter().cloned().collect();
        let workers = workers.lock().expect("workers").clone();
        EngineError::ProcessStopped(explain(&status, &tail, &workers))
    };
    let pending: Vec<Pending> = {
        let mut calls = calls.lock().expect("calls");
        calls.gone = Some(relay(&why));
        calls.pending.drain().map(|(_, p)| p).collect()
    };
    for p in pending {
        p.fail(&why);
    }
    if let EngineError::ProcessStopped(message) = why {
        tracing::warn!("{message}");
        let _ = stop.send(Some(message));
    }
}

/// Why the child died, for the person using the app: the worker that no longer answers,
/// when one does not; else how it ended and its last words.
fn explain(status: &std::io::Result<std::process::ExitStatus>, tail: &[String], workers: &[String]) -> String {
    let lost: Vec<&str> = workers.iter().filter(|w| crate::workers::check(w).is_err()).map(String::as_str).collect();
    if !lost.is_empty() {
        let which = lost.join(", ");
        let machines = if lost.len() == 1 { "The machine" } else { "The machines" };
        return format!(
            "{machines} at {which} stopped answering, and the model that used {} was unloaded. Load it again \
             once {} back, or without {}.",
            if lost.len() == 1 { "it" } else { "them" },
            if lost.len() == 1 { "it is" } else { "they are" },
            if lost.len() == 1 { "it" } else { "them" },
        );
    }
    let how = match status {
        Ok(s) => describe_status(s),
        Err(e) => format!("could not be waited for ({e})"),
    };
    let last = tail
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(" Its last message: {}", l.trim()))
        .unwrap_or_default();
    if tail.iter().any(|l| l.contains("RPC")) && !workers.is_empty() {
        return format!(
            "A machine the model used ({}) failed mid-answer, and the model was unloaded.{last}",
            workers.join(", ")
        );
    }
    format!("The model's engine process {how}, and the model was unloaded.{last}")
}

fn describe_status(status: &std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was stopped by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "ended".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// The child's side.

type Out = Arc<Mutex<Box<dyn Write + Send>>>;

fn write_out(out: &Out, message: &FromChild) {
    let mut line = serde_json::to_vec(message).expect("wire types serialize");
    line.push(b'\n');
    let mut out = out.lock().expect("out");
    // The parent is gone when this fails; stdin closes next and the child ends.
    let _ = out.write_all(&line).and_then(|()| out.flush());
}

/// The protocol's pipe: the stdout this process was given. Descriptor 1 then points at
/// stderr, so nothing else can write into the protocol.
fn protocol_pipe() -> Box<dyn Write + Send> {
    #[cfg(unix)]
    {
        use std::os::fd::FromRawFd;
        // SAFETY: plain descriptor calls on this process's own standard streams.
        let fd = unsafe { libc::dup(1) };
        if fd >= 0 && unsafe { libc::dup2(2, 1) } >= 0 {
            return Box::new(unsafe { std::fs::File::from_raw_fd(fd) });
        }
    }
    Box::new(std::io::stdout())
}

fn child_main() -> i32 {
    let out: Out = Arc::new(Mutex::new(protocol_pipe()));
    // The engine's and llama.cpp's log lines go to stderr, which the parent logs as its own.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,llama_cpp_2=warn".into()),
        )
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("engine process: no runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(serve_parent(out));
    0
}

/// Answers request `id` with what `call` gives, when it has it (requests run side by side).
fn reply<T: Serialize>(out: Out, id: u64, call: impl std::future::Future<Output = Result<T>> + Send + 'static) {
    tokio::spawn(async move {
        let result = call.await;
        write_out(&out, &FromChild::Reply { id, result: wire_result(result) });
    });
}

async fn serve_parent(out: Out) {
    let engine = Engine::start();
    let cancels: Arc<Mutex<HashMap<u64, Arc<AtomicBool>>>> = Arc::default();
    let mut added: HashSet<String> = HashSet::new();
    let (lines_tx, mut lines) = async_mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = lines.recv().await {
        let message: ToChild = match serde_json::from_str(&line) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("engine process: unreadable command ({e})");
                continue;
            }
        };
        let (engine, out) = (engine.clone(), out.clone());
        match message {
            ToChild::Load { id, path, params } => {
                let cancel = Arc::new(AtomicBool::new(false));
                cancels.lock().expect("cancels").insert(id, cancel.clone());
                // Workers join this process's devices once, before the load that uses them.
                let new: Vec<String> = params.workers.iter().filter(|w| !added.contains(*w)).cloned().collect();
                added.extend(new.iter().cloned());
                let (cancels, progress_out) = (cancels.clone(), out.clone());
                reply(out, id, async move {
                    let joined = tokio::task::spawn_blocking(move || {
                        new.iter().try_for_each(|w| crate::workers::add(w).map(drop))
                    })
                    .await
                    .unwrap_or(Err(EngineError::EngineGone));
                    let progress = move |fraction| write_out(&progress_out, &FromChild::Progress { id, fraction });
                    let result = match joined {
                        Ok(()) => engine.load(&path, params, progress, cancel).await,
                        Err(e) => Err(e),
                    };
                    cancels.lock().expect("cancels").remove(&id);
                    result
                });
            }
            ToChild::Cancel { id } => {
                if let Some(flag) = cancels.lock().expect("cancels").get(&id) {
                    flag.store(true, Ordering::Relaxed);
                }
            }
            ToChild::Generate { id, request } => match engine.generate(request) {
                Ok(mut generation) => {
                    cancels.lock().expect("cancels").insert(id, generation.cancel_handle());
                    let cancels = cancels.clone();
                    tokio::spawn(async move {
                        while let Some(event) = generation.events.recv().await {
                            let last = matches!(event, GenerationEvent::Done { .. } | GenerationEvent::Error { .. });
                            write_out(&out, &FromChild::Event { id, event });
                            if last {
                                break;
                            }
                        }
                        cancels.lock().expect("cancels").remove(&id);
                    });
                }
                Err(e) => write_out(&out, &FromChild::Event { id, event: GenerationEvent::error(&e) }),
            },
            ToChild::Unload { id } => reply(out, id, async move { engine.unload().await }),
            ToChild::PromptTokens { id, request } => {
                reply(out, id, async move { engine.prompt_tokens_for(request).await })
            }
            ToChild::PersistState { id, key } => reply(out, id, async move { engine.persist_state(key).await }),
            ToChild::Embed { id, inputs, truncate } => {
                reply(out, id, async move { engine.embed_with(inputs, truncate).await })
            }
            ToChild::InfillTokens { id, prefix, suffix } => {
                reply(out, id, async move { engine.infill_tokens(prefix, suffix).await })
            }
            ToChild::Tokenize { id, text, add_special, parse_special } => {
                reply(out, id, async move { engine.tokenize(text, add_special, parse_special).await })
            }
            ToChild::Detokenize { id, tokens, special } => {
                reply(out, id, async move { engine.detokenize(tokens, special).await })
            }
        }
    }
    // The parent closed the pipe: keep the conversations, as an engine thread does when its
    // last handle goes.
    let _ = engine.unload().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_their_kind_across_the_pipe() {
        for e in [EngineError::LoadCancelled, EngineError::NoModelLoaded, EngineError::ModelUnloaded] {
            let line = serde_json::to_string(&WireError::from_error(&e)).unwrap();
            let back = serde_json::from_str::<WireError>(&line).unwrap().into_error();
            assert_eq!(std::mem::discriminant(&back), std::mem::discriminant(&e), "{line}");
        }
        let worker =
            WireError::from_error(&EngineError::Worker("worker 10.0.0.2:50052: cannot connect".into())).into_error();
        assert!(matches!(&worker, EngineError::Worker(m) if m.contains("10.0.0.2:50052")), "{worker:?}");
        let other = WireError::from_error(&EngineError::ContextOverflow { prompt_tokens: 9000, context_size: 4096 })
            .into_error();
        assert_eq!(
            other.to_string(),
            EngineError::ContextOverflow { prompt_tokens: 9000, context_size: 4096 }.to_string()
        );
    }

    #[test]
    fn a_generation_event_crosses_the_pipe_whole() {
        let event = GenerationEvent::Text { text: "héllo ✓\n".into(), context_used: 42, logprobs: Vec::new() };
        let line = serde_json::to_string(&FromChild::Event { id: 7, event }).unwrap();
        assert!(!line.contains('\n'), "one message is one line: {line}");
        match serde_json::from_str::<FromChild>(&line).unwrap() {
            FromChild::Event { id: 7, event: GenerationEvent::Text { text, context_used, .. } } => {
                assert_eq!((text.as_str(), context_used), ("héllo ✓\n", 42))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_dead_worker_is_named() {
        // A port nothing listens on: bind, note it, let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let endpoint = format!("127.0.0.1:{port}");
        let why = explain(
            &Ok(exit_signal(6)),
            &["Remote RPC server crashed or returned malformed response".into()],
            std::slice::from_ref(&endpoint),
        );
        assert!(why.contains(&endpoint) && why.contains("stopped answering"), "{why}");
        let why = explain(&Ok(exit_signal(9)), &["something".into()], &[]);
        assert!(why.contains("signal 9") && why.contains("something"), "{why}");
    }

    #[cfg(unix)]
    fn exit_signal(signal: i32) -> std::process::ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        std::process::ExitStatus::from_raw(signal)
    }
}
