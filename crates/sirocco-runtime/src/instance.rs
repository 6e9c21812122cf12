//! One Sirocco per data folder. The first launch holds `instance.lock` (an advisory lock the
//! system drops when the process ends, however it ends) and listens on `instance.sock` beside
//! it; a second launch finds the lock taken, asks the first to bring its window forward, and
//! exits instead of opening a second window, loading the last model again and writing the same
//! database and settings. The request carries the files the launch was asked to open (`sirocco-app
//! model.gguf`: absolute paths), one JSON line; the first opens them. A first instance that is
//! closing answers so, and the second waits for the lock instead.
//!
//! Unix only (the data folder's socket); elsewhere every launch is first.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};

/// How long a second launch waits for a closing first one to let go of the lock.
const WAIT_FOR_LOCK: Duration = Duration::from_secs(15);

/// What a launch is.
pub enum Claim {
    /// The only one: it holds the lock and answers later launches.
    First(Instance),
    /// Another one runs and took the request (its window came forward).
    Forwarded,
}

/// The first launch's hold on the data folder, and where later launches reach it.
pub struct Instance {
    _lock: File,
    #[cfg(unix)]
    listener: UnixListener,
    socket: PathBuf,
}

/// A later launch's request, answered once.
pub struct Launch {
    #[cfg(unix)]
    stream: UnixStream,
    /// It asks for the window (a launch at login, "hidden", does not).
    pub show: bool,
    /// The files it was asked to open (absolute paths; not yet checked).
    pub open: Vec<PathBuf>,
}

/// What a launch asks of the first: its window, and these files opened.
#[derive(serde::Serialize, serde::Deserialize)]
struct Request {
    show: bool,
    #[serde(default)]
    open: Vec<PathBuf>,
}

/// The most files one launch passes on.
const MAX_FILES: usize = 64;

/// Claims the data folder `data` (made if missing) for this launch, which was asked to open
/// `open` and, unless `hidden`, to show the window (passed on to the first launch when there
/// is one).
pub fn claim(data: &Path, open: &[PathBuf], hidden: bool) -> std::io::Result<Claim> {
    std::fs::create_dir_all(data)?;
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let lock = options.open(data.join("instance.lock"))?;
    let socket = data.join("instance.sock");
    let deadline = Instant::now() + WAIT_FOR_LOCK;
    loop {
        match lock.try_lock() {
            Ok(()) => return Instance::listen(lock, socket).map(Claim::First),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        if ask_to_show(&socket, open, !hidden) {
            return Ok(Claim::Forwarded);
        }
        if Instant::now() > deadline {
            return Err(std::io::Error::other(
                "another Sirocco holds this data folder and does not answer; close it (or end its process) and start again",
            ));
        }
        // The first one is closing or not listening yet: the lock or its answer comes soon.
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asks the instance at `socket` to show its window (`show`) and open `open`; true when it did.
#[cfg(unix)]
fn ask_to_show(socket: &Path, open: &[PathBuf], show: bool) -> bool {
    let Ok(stream) = UnixStream::connect(socket) else { return false };
    // Paths JSON can carry (a name that is not UTF-8 is left out rather than garbled).
    let open = open.iter().filter(|p| p.to_str().is_some()).take(MAX_FILES).cloned().collect();
    let mut line = serde_json::to_string(&Request { show, open }).unwrap_or_default();
    line.push('\n');
    match ask(stream, &line) {
        Some(answer) => answer == "ok",
        // Hung up without a word: an older Sirocco, which knows only a bare "show".
        None => show && UnixStream::connect(socket).ok().and_then(|s| ask(s, "show\n")).as_deref() == Some("ok"),
    }
}

/// Sends `request` on `stream`; the answer line (`None`: it hung up without one).
#[cfg(unix)]
fn ask(mut stream: UnixStream, request: &str) -> Option<String> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    match BufReader::new(stream).read_line(&mut answer) {
        Ok(n) if n > 0 => Some(answer.trim().to_owned()),
        _ => None,
    }
}

#[cfg(not(unix))]
fn ask_to_show(_socket: &Path, _open: &[PathBuf], _show: bool) -> bool {
    false
}

impl Instance {
    #[cfg(unix)]
    fn listen(lock: File, socket: PathBuf) -> std::io::Result<Self> {
        // Left by an instance that ended without tidying up (the lock is ours, so it is gone).
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket)?;
        // Its owner's alone, as everything in the data folder (a socket is made 0700 by umask).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))?;
        Ok(Self { _lock: lock, listener, socket })
    }

    #[cfg(not(unix))]
    fn listen(lock: File, socket: PathBuf) -> std::io::Result<Self> {
        Ok(Self { _lock: lock, socket })
    }

    /// Waits for the next launch's request.
    #[cfg(unix)]
    pub fn next(&self) -> std::io::Result<Launch> {
        let (stream, _) = self.listener.accept()?;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        // One line, of bounded length (64 KiB), from the user's own processes (the socket is 0600).
        let mut line = String::new();
        std::io::Read::take(BufReader::new(&stream), 64 * 1024).read_line(&mut line)?;
        let not_one = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not a Sirocco launch");
        // A bare "show" is how an older Sirocco asks (after an upgrade, with the old one running).
        let request: Request = match line.trim() {
            "show" => Request { show: true, open: Vec::new() },
            line => serde_json::from_str(line).map_err(|_| not_one())?,
        };
        let open = request.open.into_iter().filter(|p| p.is_absolute()).take(MAX_FILES).collect();
        Ok(Launch { stream, show: request.show, open })
    }

    /// Answers later launches on a thread of its own for as long as the process runs:
    /// `on_launch` brings the window forward (when asked), opens the files given, and says
    /// whether it could (false while closing).
    pub fn serve(self, mut on_launch: impl FnMut(bool, Vec<PathBuf>) -> bool + Send + 'static) {
        #[cfg(unix)]
        std::thread::Builder::new()
            .name("sirocco-instance".into())
            .spawn(move || loop {
                match self.next() {
                    Ok(mut launch) => {
                        let open = std::mem::take(&mut launch.open);
                        let show = launch.show;
                        launch.answer(on_launch(show, open))
                    }
                    Err(e) => tracing::debug!("a launch that was not one: {e}"),
                }
            })
            .expect("a thread starts");
        #[cfg(not(unix))]
        let _ = (self, &mut on_launch);
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Launch {
    /// `taken`: the window came forward (the launch may end); else this instance is closing.
    pub fn answer(self, taken: bool) {
        #[cfg(unix)]
        {
            let mut stream = self.stream;
            let _ = stream.write_all(if taken { b"ok\n" } else { b"closing\n" });
        }
        #[cfg(not(unix))]
        let _ = taken;
    }
}
