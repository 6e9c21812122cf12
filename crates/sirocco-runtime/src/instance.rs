//! One Sirocco per data folder. The first launch holds `instance.lock` (an advisory lock the
//! system drops when the process ends, however it ends) and listens on `instance.sock` beside
//! it; a second launch finds the lock taken, asks the first to bring its window forward, and
//! exits instead of opening a second window, loading the last model again and writing the same
//! database and settings. A first instance that is closing answers so, and the second waits for
//! the lock instead.
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
}

/// Claims the data folder `data` (made if missing) for this launch.
pub fn claim(data: &Path) -> std::io::Result<Claim> {
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
        if ask_to_show(&socket) {
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

/// Asks the instance at `socket` to show its window; true when it did.
#[cfg(unix)]
fn ask_to_show(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream.write_all(b"show\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).is_ok() && answer.trim() == "ok"
}

#[cfg(not(unix))]
fn ask_to_show(_socket: &Path) -> bool {
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
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line)?;
        if line.trim() != "show" {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not a Sirocco launch"));
        }
        Ok(Launch { stream })
    }

    /// Answers later launches on a thread of its own for as long as the process runs:
    /// `on_show` brings the window forward and says whether it could (false while closing).
    pub fn serve(self, mut on_show: impl FnMut() -> bool + Send + 'static) {
        #[cfg(unix)]
        std::thread::Builder::new()
            .name("sirocco-instance".into())
            .spawn(move || loop {
                match self.next() {
                    Ok(launch) => launch.answer(on_show()),
                    Err(e) => tracing::debug!("a launch that was not one: {e}"),
                }
            })
            .expect("a thread starts");
        #[cfg(not(unix))]
        let _ = (self, &mut on_show);
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
