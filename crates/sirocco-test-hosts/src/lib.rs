//! Tests only: another host on this machine — a network namespace joined to this one by a veth
//! pair, with addresses of its own — and programs run inside it. Needs root and iproute2.
//!
//! Its addresses come from TEST-NET-3 (203.0.113.0/24), a documentation block: to Sirocco's
//! guarded fetcher they are public addresses (it refuses loopback and private ones), so a test
//! can stand up a "web server" that the fetcher may reach, beside loopback ones it must not.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A network namespace with `203.0.113.<2n>` here and `203.0.113.<2n+1>` there (a /31 each,
/// so tests in parallel use different `n`). Removed when dropped.
pub struct Netns {
    pub name: String,
    /// This side's address (what the other host sees a connection from).
    pub here: String,
    /// The other host's address.
    pub there: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("the ip command (iproute2) runs");
    assert!(
        out.status.success(),
        "ip {args:?}: {} (network namespaces need root)",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Netns {
    /// `n` in 1..=100, distinct among the tests of one process.
    pub fn new(n: u8) -> Self {
        assert!((1..=100).contains(&n));
        let pid = std::process::id();
        let name = format!("sirocco-host-{pid}-{n}");
        let (here_if, there_if) = (format!("sh{n}h{}", pid % 10000), format!("sh{n}t{}", pid % 10000));
        let (here, there) = (format!("203.0.113.{}", 2 * n), format!("203.0.113.{}", 2 * n + 1));
        ip(&["netns", "add", &name]);
        let ns = Self { name, here, there };
        ip(&["link", "add", &here_if, "type", "veth", "peer", "name", &there_if]);
        ip(&["link", "set", &there_if, "netns", &ns.name]);
        ip(&["addr", "add", &format!("{}/31", ns.here), "dev", &here_if]);
        ip(&["link", "set", &here_if, "up"]);
        ip(&["-n", &ns.name, "addr", "add", &format!("{}/31", ns.there), "dev", &there_if]);
        ip(&["-n", &ns.name, "link", "set", &there_if, "up"]);
        ip(&["-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    /// `program args…` run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes its end of the pair, and with it ours.
        let _ = Command::new("ip").args(["netns", "delete", &self.name]).status();
    }
}

/// `tests/server/image_host.py` serving on the other host; killed when dropped.
pub struct ImageHost {
    child: Child,
    /// `http://203.0.113.x:8080`
    pub base: String,
}

impl ImageHost {
    /// Starts the image host in `ns` with `python` and waits for its "ready" line.
    pub fn start(ns: &Netns, python: &std::path::Path) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/server/image_host.py");
        let mut child = ns
            .command(python.to_str().expect("a UTF-8 path"))
            .arg(script)
            .arg(&ns.there)
            .arg("8080")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the image host did not start");
        Self { child, base: format!("http://{}:8080", ns.there) }
    }
}

impl Drop for ImageHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server on every interface of this machine that counts the connections it accepts and
/// answers each with a tiny PNG (so a fetch that got there would succeed): what a guarded
/// fetch must never reach.
pub struct Recorder {
    pub port: u16,
    reached: Arc<AtomicUsize>,
}

impl Recorder {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let reached = Arc::new(AtomicUsize::new(0));
        let counted = reached.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counted.fetch_add(1, Ordering::SeqCst);
                use std::io::Write;
                let _ =
                    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 4\r\n\r\n\x89PNG");
            }
        });
        Self { port, reached }
    }

    /// Connections accepted so far.
    pub fn reached(&self) -> usize {
        self.reached.load(Ordering::SeqCst)
    }
}
