//! Other machines as devices, through llama.cpp's RPC backend (ggml-rpc): a **worker** serves
//! its machine's backend (CPU, or its GPUs) on a TCP port; a machine that **adds** a worker sees
//! its devices beside local GPUs, and layers offloaded to them (`gpu_layers`) run there exactly
//! as on a local GPU.
//!
//! ggml-rpc has no authentication and no encryption: whoever reaches the port may use the
//! machine's memory and compute. Workers bind 127.0.0.1 unless told otherwise.
//!
//! ggml-rpc aborts the process (GGML_ABORT) when it cannot connect to a worker or the handshake
//! fails, so a worker is checked here first — connected and greeted in ggml-rpc's own protocol
//! (HELLO, protocol major version 7) with a timeout — and only then handed to ggml-rpc. The
//! same is true of a worker that goes away mid-answer: ggml-rpc aborts the process using it.
//! So a process that has added a worker must be one it may take down: models with workers
//! run in an engine process of their own (`process`); the app's own process only [`probe`]s
//! workers, in Rust, and never adds one.
//!
//! The backend is reached through ggml's backend registry (`ggml_backend_reg_by_name("RPC")`
//! and its proc addresses), so a build without `GGML_RPC` gives a clear error, not a link
//! failure.

use std::ffi::{c_char, c_void, CStr, CString};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::{EngineError, Result};

/// ggml-rpc's `RPC_PROTO_MAJOR_VERSION`: a worker speaking another major version is refused.
const RPC_PROTO_MAJOR: u8 = 7;
/// ggml-rpc's `RPC_CMD_HELLO` (fixed at 14 across versions).
const RPC_CMD_HELLO: u8 = 14;
/// `RPC_CMD_GET_DEVICE_MEMORY` and `RPC_CMD_DEVICE_COUNT` in protocol 7.
const RPC_CMD_GET_DEVICE_MEMORY: u8 = 11;
const RPC_CMD_DEVICE_COUNT: u8 = 15;
/// `RPC_CONN_CAPS_SIZE`: the transport capabilities in HELLO (all zero: plain TCP).
const CONN_CAPS: usize = 24;
/// How long a worker has to answer the greeting (it serves one machine at a time).
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

/// A device a worker offers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WorkerDevice {
    /// ggml's name for it here, e.g. `RPC0[127.0.0.1:50052]`.
    pub name: String,
    pub description: String,
    pub memory_free: u64,
    pub memory_total: u64,
}

/// A worker this process uses.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Worker {
    pub endpoint: String,
    pub devices: Vec<WorkerDevice>,
}

type StartServer =
    unsafe extern "C" fn(*const c_char, *const c_char, usize, usize, *mut llama_cpp_sys_2::ggml_backend_dev_t);
type AddServer = unsafe extern "C" fn(*const c_char) -> llama_cpp_sys_2::ggml_backend_reg_t;

/// A function of the RPC backend, by name.
fn rpc_proc(name: &CStr) -> Result<*mut c_void> {
    crate::backend::ensure_backend();
    // SAFETY: plain lookups in ggml's registry with NUL-terminated names.
    let reg = unsafe { llama_cpp_sys_2::ggml_backend_reg_by_name(c"RPC".as_ptr()) };
    if reg.is_null() {
        return Err(EngineError::Worker(
            "workers need llama.cpp's RPC backend, which this build of Sirocco lacks (build it with GGML_RPC=ON)"
                .into(),
        ));
    }
    let f = unsafe { llama_cpp_sys_2::ggml_backend_reg_get_proc_address(reg, name.as_ptr()) };
    if f.is_null() {
        return Err(EngineError::Worker(format!("llama.cpp's RPC backend has no {}", name.to_string_lossy())));
    }
    Ok(f)
}

/// Serves this machine's backend to other machines on `endpoint` (`host:port`) until the
/// process ends: every GPU, or the CPU when there is none. Returns only when the server could
/// not start (the port taken, a bad address).
pub fn serve(endpoint: &str, threads: usize, cache_dir: Option<&Path>) -> Result<()> {
    let start: StartServer = unsafe { std::mem::transmute(rpc_proc(c"ggml_backend_rpc_start_server")?) };
    let mut devices = serving_devices();
    if devices.is_empty() {
        return Err(EngineError::Worker("this machine has no device to serve to others".into()));
    }
    let endpoint_c =
        CString::new(endpoint).map_err(|_| EngineError::Worker(format!("worker {endpoint:?}: not a host:port")))?;
    let cache = cache_dir
        .map(|d| CString::new(d.to_string_lossy().into_owned()))
        .transpose()
        .map_err(|_| EngineError::Worker("the cache folder has a NUL byte".into()))?;
    // SAFETY: the strings and the device list outlive the call (it returns only on failure).
    unsafe {
        start(
            endpoint_c.as_ptr(),
            cache.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            threads.max(1),
            devices.len(),
            devices.as_mut_ptr(),
        );
    }
    Err(EngineError::Worker(format!("could not serve on {endpoint} (is the port in use?)")))
}

/// What a worker serves: the GPUs, else the CPU (as llama.cpp's `rpc-server` does).
fn serving_devices() -> Vec<llama_cpp_sys_2::ggml_backend_dev_t> {
    crate::backend::ensure_backend();
    let mut gpus = Vec::new();
    let mut cpu = None;
    // SAFETY: indices below the registry's count; devices live as long as the process.
    for i in 0..unsafe { llama_cpp_sys_2::ggml_backend_dev_count() } {
        let dev = unsafe { llama_cpp_sys_2::ggml_backend_dev_get(i) };
        match unsafe { llama_cpp_sys_2::ggml_backend_dev_type(dev) } {
            llama_cpp_sys_2::GGML_BACKEND_DEVICE_TYPE_GPU => gpus.push(dev),
            llama_cpp_sys_2::GGML_BACKEND_DEVICE_TYPE_CPU if cpu.is_none() => cpu = Some(dev),
            _ => {}
        }
    }
    if gpus.is_empty() {
        gpus.extend(cpu);
    }
    gpus
}

/// Greets the worker at `endpoint` in ggml-rpc's protocol: reachable, free, the same major
/// version. Anything else is a clear error (ggml-rpc itself would abort the process).
pub fn check(endpoint: &str) -> Result<()> {
    greet(endpoint).map(drop)
}

/// What a worker offers, asked in ggml-rpc's protocol without adding it to this process
/// (a process that adds a worker aborts when the worker goes away): each device's memory.
pub fn probe(endpoint: &str) -> Result<Vec<DeviceMemory>> {
    let fail = |why: String| EngineError::Worker(format!("worker {endpoint}: {why}"));
    let mut socket = greet(endpoint)?;
    let count = u32::from_le_bytes(ask(&mut socket, RPC_CMD_DEVICE_COUNT, &[]).map_err(&fail)?);
    if count > 64 {
        return Err(fail(format!("it claims {count} devices")));
    }
    (0..count)
        .map(|device| {
            let answer: [u8; 16] = ask(&mut socket, RPC_CMD_GET_DEVICE_MEMORY, &device.to_le_bytes()).map_err(&fail)?;
            let free = u64::from_le_bytes(answer[..8].try_into().expect("8 bytes"));
            let total = u64::from_le_bytes(answer[8..].try_into().expect("8 bytes"));
            Ok(DeviceMemory { free, total })
        })
        .collect()
}

/// One device's memory as a worker reports it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct DeviceMemory {
    pub free: u64,
    pub total: u64,
}

/// One request in ggml-rpc's framing: command byte, u64 size, payload.
fn send_command(socket: &mut TcpStream, cmd: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut request = vec![cmd];
    request.extend((payload.len() as u64).to_le_bytes());
    request.extend(payload);
    socket.write_all(&request)
}

/// The size of the answer that follows (a u64 before its bytes).
fn answer_size(socket: &mut TcpStream) -> std::io::Result<u64> {
    let mut size = [0u8; 8];
    socket.read_exact(&mut size)?;
    Ok(u64::from_le_bytes(size))
}

/// A request with a fixed-size answer.
fn ask<const N: usize>(socket: &mut TcpStream, cmd: u8, payload: &[u8]) -> std::result::Result<[u8; N], String> {
    send_command(socket, cmd, payload).map_err(|e| format!("the request failed ({e})"))?;
    let size = answer_size(socket).map_err(|e| format!("no answer ({e})"))?;
    if size != N as u64 {
        return Err(format!("it answered command {cmd} with {size} bytes, not {N}"));
    }
    let mut answer = [0u8; N];
    socket.read_exact(&mut answer).map_err(|e| format!("the answer was cut ({e})"))?;
    Ok(answer)
}

/// Connects and greets; the socket is ready for commands.
fn greet(endpoint: &str) -> Result<TcpStream> {
    let fail = |why: String| EngineError::Worker(format!("worker {endpoint}: {why}"));
    let addr = endpoint
        .to_socket_addrs()
        .map_err(|e| fail(format!("not a host:port ({e})")))?
        .next()
        .ok_or_else(|| fail("the name resolves to no address".into()))?;
    let mut socket = TcpStream::connect_timeout(&addr, HELLO_TIMEOUT)
        .map_err(|e| fail(format!("cannot connect ({e}); is `sirocco worker` running there?")))?;
    socket
        .set_read_timeout(Some(HELLO_TIMEOUT))
        .and_then(|()| socket.set_write_timeout(Some(HELLO_TIMEOUT)))
        .map_err(|e| fail(e.to_string()))?;
    send_command(&mut socket, RPC_CMD_HELLO, &[0u8; CONN_CAPS])
        .map_err(|e| fail(format!("the greeting failed ({e})")))?;
    let size = answer_size(&mut socket).map_err(|e| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            fail("no answer; it may be serving another machine (a worker serves one at a time)".into())
        }
        _ => fail(format!("it closed the connection ({e}); is it a Sirocco or llama.cpp RPC worker?")),
    })?;
    if !(3..=1024).contains(&size) {
        return Err(fail(format!("it answered the greeting with {size} bytes; not a ggml-rpc worker")));
    }
    let mut answer = vec![0u8; size as usize];
    socket.read_exact(&mut answer).map_err(|e| fail(format!("the answer was cut ({e})")))?;
    let (major, minor, patch) = (answer[0], answer[1], answer[2]);
    if major != RPC_PROTO_MAJOR {
        return Err(fail(format!(
            "it speaks RPC protocol {major}.{minor}.{patch}; this build speaks {RPC_PROTO_MAJOR}.x"
        )));
    }
    Ok(socket)
}

/// Checks the worker at `endpoint` and adds its devices to this process's backend registry,
/// where loads find them beside local GPUs: `gpu_layers` offloads to them.
pub fn add(endpoint: &str) -> Result<Worker> {
    let add_server: AddServer = unsafe { std::mem::transmute(rpc_proc(c"ggml_backend_rpc_add_server")?) };
    check(endpoint)?;
    let endpoint_c =
        CString::new(endpoint).map_err(|_| EngineError::Worker(format!("worker {endpoint:?}: not a host:port")))?;
    // SAFETY: the worker answered its greeting just now; the registry keeps the returned reg.
    let reg = unsafe { add_server(endpoint_c.as_ptr()) };
    if reg.is_null() {
        return Err(EngineError::Worker(format!("worker {endpoint}: llama.cpp's RPC backend refused it")));
    }
    unsafe { llama_cpp_sys_2::ggml_backend_register(reg) };
    let mut devices = Vec::new();
    for i in 0..unsafe { llama_cpp_sys_2::ggml_backend_reg_dev_count(reg) } {
        let dev = unsafe { llama_cpp_sys_2::ggml_backend_reg_dev_get(reg, i) };
        let (mut free, mut total) = (0usize, 0usize);
        unsafe { llama_cpp_sys_2::ggml_backend_dev_memory(dev, &mut free, &mut total) };
        let text = |p: *const c_char| {
            if p.is_null() {
                String::new()
            } else {
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        };
        devices.push(WorkerDevice {
            name: text(unsafe { llama_cpp_sys_2::ggml_backend_dev_name(dev) }),
            description: text(unsafe { llama_cpp_sys_2::ggml_backend_dev_description(dev) }),
            memory_free: free as u64,
            memory_total: total as u64,
        });
    }
    tracing::info!(endpoint, devices = devices.len(), "added a worker");
    Ok(Worker { endpoint: endpoint.to_owned(), devices })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn nothing_listening_is_a_clear_error() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = check(&format!("127.0.0.1:{port}")).unwrap_err().to_string();
        assert!(e.contains("cannot connect") && e.contains("sirocco worker"), "{e}");
    }

    #[test]
    fn not_an_address_is_a_clear_error() {
        let e = check("no-port-here").unwrap_err().to_string();
        assert!(e.contains("not a host:port"), "{e}");
    }

    /// A peer that is not a worker: answers nonsense, or closes at once.
    #[test]
    fn a_server_that_is_not_a_worker_is_refused_without_an_abort() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut http, _) = listener.accept().unwrap();
            let mut request = [0u8; 33];
            http.read_exact(&mut request).unwrap();
            assert_eq!(request[0], RPC_CMD_HELLO);
            http.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap();
            let (closing, _) = listener.accept().unwrap();
            drop(closing);
        });
        let e = check(&addr).unwrap_err().to_string();
        assert!(e.contains("not a ggml-rpc worker"), "{e}");
        let e = check(&addr).unwrap_err().to_string();
        assert!(e.contains("closed the connection"), "{e}");
        server.join().unwrap();
    }

    /// A worker busy with another machine accepts the connection but answers nobody else.
    #[test]
    fn a_worker_that_does_not_answer_is_reported_busy_after_the_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let server = std::thread::spawn(move || {
            let (_peer, _) = listener.accept().unwrap();
            // Hold the connection, silent, until the check has given up.
            let _ = finished.recv();
        });
        let e = check(&addr).unwrap_err().to_string();
        assert!(e.contains("serving another machine"), "{e}");
        done.send(()).unwrap();
        server.join().unwrap();
    }

    #[test]
    fn another_protocol_version_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut peer, _) = listener.accept().unwrap();
            let mut request = [0u8; 33];
            peer.read_exact(&mut request).unwrap();
            let mut answer = 28u64.to_le_bytes().to_vec();
            answer.extend([6, 1, 0, 0]);
            answer.extend([0u8; CONN_CAPS]);
            peer.write_all(&answer).unwrap();
        });
        let e = check(&addr).unwrap_err().to_string();
        assert!(e.contains("protocol 6.1.0"), "{e}");
        server.join().unwrap();
    }
}
