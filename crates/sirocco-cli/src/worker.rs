//! `sirocco worker`: this machine's backend (its GPUs, else its CPU) served to other machines
//! through llama.cpp's RPC protocol, until the process is stopped. Another machine's
//! `sirocco serve --worker HOST:PORT --gpu-layers N` (or `sirocco chat`) then puts layers here.
//!
//! ggml-rpc has no authentication and no encryption: anyone who reaches the port can use this
//! machine's memory and compute. It binds 127.0.0.1 unless `--host` says otherwise, and beyond
//! loopback only with `--allow-unauthenticated`, saying plainly what that exposes.

use std::net::IpAddr;

pub fn run(host: IpAddr, port: u16, threads: Option<usize>, allow_unauthenticated: bool) -> Result<(), String> {
    let exposure = format!(
        "anyone who can reach {host} port {port} can use this machine's memory and compute, and read the model \
         and conversations that run on it (llama.cpp's RPC protocol has no authentication or encryption)"
    );
    if !host.is_loopback() {
        if !allow_unauthenticated {
            return Err(format!(
                "not serving on {host}: {exposure}. On a network you trust, run again with --allow-unauthenticated"
            ));
        }
        eprintln!("warning: serving on {host}: {exposure}. Use this on a trusted network only.");
    }
    let threads = threads.unwrap_or_else(|| sirocco_engine::hardware::Hardware::detect().physical_cores as usize);
    let endpoint = std::net::SocketAddr::new(host, port);
    let serving = {
        let endpoint = endpoint.to_string();
        std::thread::spawn(move || sirocco_engine::workers::serve(&endpoint, threads, None))
    };
    // ggml-rpc says nothing a script can wait for (its banner sits in C's stdout buffer when
    // piped): the line below comes once the port accepts connections.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if serving.is_finished() {
            return serving.join().map_err(|_| "the worker stopped".to_string())?.map_err(|e| e.to_string());
        }
        if std::net::TcpStream::connect_timeout(&endpoint, std::time::Duration::from_millis(200)).is_ok() {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("the worker did not start listening on {endpoint}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    println!("sirocco worker listening on {endpoint} ({threads} threads)");
    serving.join().map_err(|_| "the worker stopped".to_string())?.map_err(|e| e.to_string())
}

/// Asks each worker what it offers (without adding it to this process), printing its memory:
/// a clear error for one that is missing or busy before any model is loaded on it. The free
/// memory of every device, in order.
pub fn probe_all(endpoints: &[String]) -> Result<Vec<u64>, String> {
    let mut free = Vec::new();
    for endpoint in endpoints {
        let devices = sirocco_engine::workers::probe(endpoint).map_err(|e| e.to_string())?;
        for (i, d) in devices.iter().enumerate() {
            eprintln!("worker {endpoint}: device {i}, {} MiB free of {} MiB", d.free >> 20, d.total >> 20);
            free.push(d.free);
        }
    }
    Ok(free)
}

/// The layers the planner offloads for `model` across this machine's GPUs and the workers'
/// devices (`workers`: their free memory), at `context` tokens when chosen; said on stderr.
pub fn planned_gpu_layers(model: &std::path::Path, workers: &[u64], context: Option<u32>) -> Result<u32, String> {
    use sirocco_engine::{hardware::Hardware, planner};
    let summary = sirocco_engine::gguf_file::inspect(model).map_err(|e| e.to_string())?;
    let hardware = Hardware::detect();
    let plan = match context {
        Some(c) => planner::fit_at_context(&summary, &hardware, workers, u64::from(c)),
        None => planner::fit_across(&summary, &hardware, workers, None),
    };
    let layers = summary.block_count.unwrap_or(0) + 1;
    if plan.verdict == planner::FitVerdict::TooLarge {
        eprintln!("the planner finds no offload that fits; loading with every layer here");
        return Ok(0);
    }
    eprintln!(
        "planned: {} of {layers} layers offloaded, {} of them to other machines' devices",
        plan.gpu_layers,
        plan.devices
            .iter()
            .skip(plan.devices.len().saturating_sub(workers.len()))
            .map(|d| d.layers() + u32::from(d.output))
            .sum::<u32>()
    );
    Ok(plan.gpu_layers)
}

/// Adds each worker (checked first) to this process, printing what it offers; the loads that
/// follow see its devices beside local GPUs. Only for `sirocco bench`, which measures the
/// in-process engine: a worker lost mid-run aborts the bench.
pub fn add_all(endpoints: &[String]) -> Result<(), String> {
    for endpoint in endpoints {
        let worker = sirocco_engine::workers::add(endpoint).map_err(|e| e.to_string())?;
        for d in &worker.devices {
            eprintln!(
                "worker {}: {} ({}), {} MiB free of {} MiB",
                worker.endpoint,
                d.name,
                d.description,
                d.memory_free / (1 << 20),
                d.memory_total / (1 << 20)
            );
        }
    }
    Ok(())
}
