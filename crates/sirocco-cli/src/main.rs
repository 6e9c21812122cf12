//! `sirocco`: Sirocco without a window. Builds without WebKit.

mod bench;
mod bench_models;
mod bench_server;
mod bench_spec;
mod bench_store;
mod chat;
mod format;
mod logs;
mod mcp;
mod models;
mod paths;
mod ps;
mod pull;
mod serve;
mod service;
mod terminal;
mod worker;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "sirocco", version, about = "Run open-weight language models on your own machine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure the engine against llama.cpp's own tools (llama-bench, llama-completion) on the
    /// same model and threads.
    Bench {
        /// The GGUF model to measure.
        #[arg(long)]
        model: PathBuf,
        /// Threads for both (default: physical cores).
        #[arg(long)]
        threads: Option<u32>,
        /// Repetitions; medians are reported.
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Folder with llama-bench and llama-completion built from the same llama.cpp sources
        /// (tests/bench/build-llama-tools.sh prints it).
        #[arg(long)]
        llama_tools: Option<PathBuf>,
        /// Layers on the GPU or workers, for both (a GPU build: `--features cuda`).
        #[arg(long, default_value_t = 0)]
        gpu_layers: u32,
        /// A `sirocco worker` for Sirocco's offloaded layers.
        #[arg(long)]
        worker: Option<String>,
        /// Another worker for llama.cpp's tools (`--rpc`): a worker serves one machine at a time.
        #[arg(long)]
        llama_rpc: Option<String>,
    },
    /// Drafted tokens against llama.cpp's own speculative decoding (llama-speculative-simple)
    /// on the same model, drafting and prompts — an edit, a code continuation, a free chat —
    /// with each side's plain decode beside.
    BenchSpec {
        /// The model to answer with.
        #[arg(long)]
        model: PathBuf,
        #[command(flatten)]
        drafting: DraftArgs,
        /// Threads for both (default: physical cores).
        #[arg(long)]
        threads: Option<u32>,
        /// Most tokens each answer generates.
        #[arg(long, default_value_t = 256)]
        tokens: u32,
        /// Rounds; medians are reported.
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// Folder with llama-speculative-simple and llama-completion built from the same
        /// llama.cpp (tests/bench/build-llama-tools.sh prints it).
        #[arg(long, env = "SIROCCO_LLAMA_TOOLS")]
        llama_tools: Option<PathBuf>,
    },
    /// Measure the conversation store at scale: full-text search over many messages (against
    /// the sqlite3 command on the same file) and opening a long conversation.
    BenchStore {
        /// Where to write the benchmark database (a new file; kept for the UI benchmark).
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        messages: usize,
        /// Messages in the one long conversation among them.
        #[arg(long, default_value_t = 5_000)]
        long: usize,
        #[arg(long, default_value_t = 21)]
        reps: usize,
    },
    /// Measure decode speed over the OpenAI API (SSE, one client) against the same generation
    /// in-process.
    BenchServer {
        #[arg(long)]
        model: PathBuf,
        #[arg(long, default_value_t = 256)]
        tokens: u32,
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Also run llama.cpp's llama-batched-bench from this folder (tests/bench/build-llama-tools.sh).
        #[arg(long, env = "SIROCCO_LLAMA_TOOLS")]
        llama_tools: Option<PathBuf>,
    },
    /// Continue's day: chat requests to one model interleaved with fill-in-the-middle requests
    /// to another, both resident, against each model alone and against a reload per switch.
    BenchModels {
        #[arg(long)]
        chat: PathBuf,
        #[arg(long)]
        coder: PathBuf,
        /// Requests of each kind.
        #[arg(long, default_value_t = 20)]
        requests: usize,
    },
    /// Serve models over an OpenAI-compatible HTTP API (the same server as the app's toggle):
    /// the one given, and any library model a request names (loaded on demand).
    Serve {
        /// A GGUF model file to load first.
        #[arg(long)]
        model: Option<PathBuf>,
        /// With --api-key every request must send `Authorization: Bearer <key>`.
        #[command(flatten)]
        address: ServerAddress,
        /// Context length (default: what fits, capped at 4,096); the parallel requests share it.
        #[arg(long)]
        context: Option<u32>,
        /// Requests decoded together (continuous batching); more wait in a queue.
        #[arg(long, default_value_t = sirocco_engine::DEFAULT_PARALLEL)]
        parallel: u32,
        /// Unload a model loaded on demand after this many seconds without requests (0: never).
        #[arg(long, default_value_t = 900)]
        idle_unload: u64,
        /// Most models kept loaded at once (default: the app's setting; as many as fit, at most
        /// 4, until changed there); the least recently used idle one loaded on demand makes
        /// room for another.
        #[arg(long)]
        max_models: Option<usize>,
        /// More folders to find models in.
        #[arg(long = "dir")]
        dirs: Vec<PathBuf>,
        #[command(flatten)]
        offload: Offload,
        #[command(flatten)]
        drafting: DraftArgs,
        /// Fetch images that requests name by a web address (http/https, public addresses only;
        /// at most 8 a request, 20 MB each). Without it such requests are refused and nothing is
        /// fetched.
        #[arg(long)]
        fetch_images: bool,
        /// A host name clients may name this server by, beyond 127.0.0.1, localhost and [::1]
        /// (and, with --host, this machine's addresses and name): a reverse proxy's, an alias.
        /// `*.example.com` allows its subdomains. Other names are refused (DNS rebinding).
        #[arg(long = "trusted-host", value_name = "NAME")]
        trusted_hosts: Vec<String>,
        /// A web page (origin, e.g. https://app.example.com) allowed to call this server from a
        /// browser; pages on this machine always may, others are refused.
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// Also serve on Ollama's port, where its clients look by default (11434 without a
        /// value), when it is free.
        #[arg(long, value_name = "PORT", num_args = 0..=1, default_missing_value = "11434")]
        ollama_port: Option<u16>,
    },
    /// What a running `sirocco serve` (or the app's server) has loaded: each model, who loaded
    /// it, its memory, the requests using it and how long it has been idle.
    Ps {
        #[command(flatten)]
        address: ServerAddress,
    },
    /// Download a GGUF model from the Hugging Face Hub (resumable, sha256-verified) into the
    /// Hugging Face cache. Honours HF_ENDPOINT, HF_TOKEN and HF_HOME.
    Pull {
        /// The repository, e.g. bartowski/Mistral-7B-Instruct-v0.3-GGUF.
        repo: String,
        /// The quantization to fetch (Q4_K_M, Q8_0…); default: the largest that fits this machine.
        #[arg(long)]
        quant: Option<String>,
    },
    /// Chat with a model in the terminal (a file, or a library model's name from `sirocco models`).
    Chat {
        /// The GGUF file or library model to chat with.
        #[arg(long)]
        model: String,
        /// The system prompt (default: the model's saved preset's).
        #[arg(long)]
        system: Option<String>,
        #[arg(long)]
        temperature: Option<f32>,
        #[arg(long)]
        max_tokens: Option<u32>,
        /// Context length (default: the model's saved settings, else what fits).
        #[arg(long)]
        context: Option<u32>,
        /// More folders to find models in.
        #[arg(long = "dir")]
        dirs: Vec<PathBuf>,
        /// How hard a reasoning model thinks: none, minimal, low, medium or high.
        #[arg(long, value_parser = chat::parse_effort)]
        reasoning_effort: Option<sirocco_engine::ReasoningEffort>,
        /// Most tokens a reasoning model thinks for before its thought is closed.
        #[arg(long)]
        thinking_budget: Option<u32>,
        /// Offer the tools of the MCP servers in this mcp.json (each call is asked about at the
        /// prompt before it runs).
        #[arg(long, value_name = "MCP_JSON")]
        mcp: Option<PathBuf>,
        /// Each question's first step must call one of the tools (as tool_choice "required").
        #[arg(long, requires = "mcp")]
        require_tool: bool,
        #[command(flatten)]
        offload: Offload,
    },
    /// Serve this machine's backend (its GPUs, else its CPU) to other machines through
    /// llama.cpp's RPC protocol, for their `--worker HOST:PORT`. No authentication: it binds
    /// 127.0.0.1 unless --host says otherwise; use it on trusted networks only.
    Worker {
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        #[arg(long, default_value_t = 50052)]
        port: u16,
        /// Required with a --host beyond loopback: you understand that anyone who can reach the
        /// port can use this machine's memory and compute, and read what runs on it.
        #[arg(long)]
        allow_unauthenticated: bool,
        /// Threads for the CPU (default: physical cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// MCP servers: the tools they offer the chat.
    Mcp {
        #[command(subcommand)]
        action: McpAction,
    },
    /// The local server as a systemd user service: started at login, no window needed.
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// The app's log: where it is and its last lines (for a bug report).
    Logs {
        /// How many of the newest log's last lines to print.
        #[arg(long, short = 'n', default_value_t = 60)]
        lines: usize,
        /// Print only the newest log file's path (the folder's when there is none).
        #[arg(long)]
        path: bool,
    },
    /// List the models on this machine: downloads, the models folder, LM Studio and Ollama.
    Models {
        /// More folders to look in.
        #[arg(long = "dir")]
        dirs: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum McpAction {
    /// Each configured server's status and tools.
    List {
        /// An mcp.json (LM Studio's and Cursor's format); default: the app's.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ServiceAction {
    /// Writes the user unit (`sirocco serve` on the app's library and settings) and enables it.
    Install {
        /// The port (default: the one the app's server last used, else 1234).
        #[arg(long)]
        port: Option<u16>,
        /// Enable it for the next login without starting it now.
        #[arg(long)]
        no_start: bool,
    },
    /// Stops, disables and removes it.
    Uninstall,
    Start,
    Stop,
    /// Whether it is installed and running.
    Status,
}

/// Drafted tokens, named as llama-server names them.
#[derive(clap::Args)]
struct DraftArgs {
    /// Kinds of drafting, comma-separated, as llama-server's --spec-type: ngram-simple,
    /// ngram-map-k, ngram-map-k4v, ngram-mod (n-grams of the conversation itself),
    /// draft-simple (a draft model), draft-mtp (the model's MTP heads), or none.
    #[arg(long = "spec-type", value_name = "KINDS", value_parser = parse_spec_kinds)]
    spec_type: Option<String>,
    /// A draft model with the model's vocabulary (implies draft-simple) — for --model only.
    #[arg(long = "draft-model", alias = "spec-draft-model", value_name = "GGUF")]
    draft_model: Option<PathBuf>,
    /// Most tokens a draft model drafts per step (llama.cpp's default: 3).
    #[arg(long = "draft-max", alias = "spec-draft-n-max")]
    draft_max: Option<u32>,
    /// Fewer drafted tokens than this are not verified.
    #[arg(long = "draft-min", alias = "spec-draft-n-min", default_value_t = 0)]
    draft_min: u32,
    /// A draft model stops where its top token is less likely than this.
    #[arg(long = "draft-p-min", alias = "spec-draft-p-min", default_value_t = 0.0)]
    draft_p_min: f32,
}

fn parse_spec_kinds(list: &str) -> Result<String, String> {
    sirocco_engine::speculative::Drafting::parse_kinds(list).map(|_| list.to_owned())
}

impl DraftArgs {
    /// The drafting a load gets; `with_model` adds the draft model (the named model's load).
    fn drafting(&self, with_model: bool) -> sirocco_engine::speculative::Drafting {
        use sirocco_engine::speculative::{DraftKind, Drafting};
        let mut kinds = Drafting::parse_kinds(self.spec_type.as_deref().unwrap_or(""))
            .expect("checked when the arguments were read");
        let draft_model = self.draft_model.clone().filter(|_| with_model);
        if draft_model.is_some() && !kinds.contains(&DraftKind::DraftSimple) {
            kinds.push(DraftKind::DraftSimple);
        }
        if draft_model.is_none() {
            kinds.retain(|k| *k != DraftKind::DraftSimple);
        }
        Drafting {
            kinds,
            draft_model,
            draft_max: self.draft_max,
            draft_min: self.draft_min,
            draft_p_min: self.draft_p_min,
        }
    }
}

/// Layers on GPUs and other machines.
#[derive(clap::Args)]
struct Offload {
    /// A machine running `sirocco worker` (repeatable): its devices join this machine's, and
    /// offloaded layers may go there.
    #[arg(long = "worker", value_name = "HOST:PORT")]
    workers: Vec<String>,
    /// Layers to offload, as llama.cpp's -ngl: to local GPUs and workers (0: all on the CPU).
    /// Default with workers: the planner's fit across this machine and them.
    #[arg(long)]
    gpu_layers: Option<u32>,
    /// Mixture-of-experts models: keep the expert tensors in RAM here while attention and the
    /// rest go to the GPUs or workers (llama.cpp's --cpu-moe).
    #[arg(long)]
    cpu_moe: bool,
}

/// Where a server listens (`serve`) or is found (`ps`), and its API key.
#[derive(clap::Args)]
struct ServerAddress {
    #[arg(long, default_value_t = 1234)]
    port: u16,
    /// The address; `serve` on anything but loopback requires a strong API key.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// A file holding the API key (its first line; it wins over the others). The key can also
    /// come from $SIROCCO_API_KEY; either keeps it out of the process list, which --api-key
    /// does not.
    #[arg(long, value_name = "FILE")]
    api_key_file: Option<PathBuf>,
    /// The API key (default: $SIROCCO_API_KEY). Visible to every user of this machine in the
    /// process list: prefer --api-key-file or the variable.
    #[arg(long, env = "SIROCCO_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

impl ServerAddress {
    fn socket(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::new(self.host, self.port)
    }

    /// The key from the file, the variable or the command line (with a warning for the last).
    fn key(&self) -> Result<Option<String>, String> {
        if let Some(path) = &self.api_key_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("could not read the API key file {}: {e}", path.display()))?;
            let key = text.lines().next().unwrap_or("").trim().to_string();
            if key.is_empty() {
                return Err(format!("the API key file {} is empty", path.display()));
            }
            return Ok(Some(key));
        }
        let on_command_line = std::env::args().any(|a| a == "--api-key" || a.starts_with("--api-key="));
        if on_command_line && self.api_key.is_some() {
            eprintln!(
                "warning: a key given with --api-key is visible to every user of this machine (ps, /proc); \
                 use --api-key-file or $SIROCCO_API_KEY instead"
            );
        }
        Ok(self.api_key.clone())
    }
}

/// `main`'s runtime has one worker thread: HTTP and the terminal need little, and on a machine with few cores every
/// extra busy thread preempts llama.cpp's, whose threads wait for each other at every step
/// (measured on 2 cores: 4 SSE streams at 0.94× one stream with two workers, 1.46× with one).
fn main() {
    // What Sirocco writes is its user's alone (0600/0700), from the first file on.
    sirocco_folders::make_private_by_default();
    // A model on other machines runs in a child: this binary again (see sirocco_engine::process).
    sirocco_engine::process::run_if_child();
    // Attached documents are parsed in a child too (see sirocco_documents::isolated).
    sirocco_documents::run_if_reader();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a tokio runtime");
    runtime.block_on(run(Cli::parse()));
}

async fn run(cli: Cli) {
    // Every command but `logs` (which shows the log) writes to the app's log file: which
    // llama.cpp backend runs, what failed. The terminal stays the user's.
    if !matches!(cli.command, Command::Logs { .. }) {
        let folders = sirocco_folders::AppFolders::resolve();
        if let Err(e) = folders.secure() {
            eprintln!("sirocco: the data folder {} could not be made private: {e}", folders.data.display());
        }
        let logs = folders.logs();
        if let Err(e) = sirocco_logs::init(&logs, "info,llama_cpp_2=warn", sirocco_logs::Echo::FileOnly) {
            eprintln!("sirocco: {e}");
        }
        let command = std::env::args().nth(1).unwrap_or_default();
        tracing::info!(version = env!("CARGO_PKG_VERSION"), command, "sirocco (the command line) starts");
        if let Some(crash) = sirocco_logs::take_crash_report(&logs, sirocco_logs::Program::Cli) {
            let log = crash.log.map(|p| format!(": {}", p.display())).unwrap_or_default();
            eprintln!(
                "sirocco: the last run stopped on an internal error ({}); the details are in the log{log}",
                crash.message
            );
        }
        sirocco_logs::install_panic_hook(logs, sirocco_logs::Program::Cli);
        // Test builds only: a panic on request, to test what a crash leaves behind.
        if cfg!(debug_assertions) && std::env::var_os("SIROCCO_PANIC_AT_START").is_some() {
            panic!("SIROCCO_PANIC_AT_START asked for a panic");
        }
    }
    let result = match cli.command {
        Command::Bench { model, threads, reps, llama_tools, gpu_layers, worker, llama_rpc } => {
            let offload = bench::Offload { gpu_layers, worker, llama_rpc };
            bench::run(&model, threads, offload, reps.max(1), llama_tools.as_deref()).await
        }
        Command::BenchStore { db, messages, long, reps } => {
            bench_store::run(&db, messages.max(long), long, reps.max(1)).await
        }
        Command::BenchServer { model, tokens, reps, llama_tools } => {
            bench_server::run(&model, tokens.max(8), reps.max(1), llama_tools.as_deref()).await
        }
        Command::BenchSpec { model, drafting, threads, tokens, reps, llama_tools } => {
            let drafting = drafting.drafting(true);
            if drafting.is_on() {
                bench_spec::run(bench_spec::SpecBench {
                    model,
                    drafting,
                    threads: threads.unwrap_or_else(sirocco_engine::hardware::default_threads),
                    tokens: tokens.max(8),
                    reps: reps.max(1),
                    llama_tools,
                })
                .await
            } else {
                Err("say how to draft: --spec-type and/or --draft-model".into())
            }
        }
        Command::BenchModels { chat, coder, requests } => bench_models::run(&chat, &coder, requests.max(1)).await,
        Command::Serve {
            model,
            address,
            context,
            parallel,
            idle_unload,
            max_models,
            dirs,
            offload,
            drafting,
            fetch_images,
            trusted_hosts,
            cors_origins,
            ollama_port,
        } => match address.key() {
            Err(e) => Err(e),
            Ok(api_key) => {
                let (addr, idle_unload_secs) = (address.socket(), idle_unload);
                let Offload { workers, gpu_layers, cpu_moe } = offload;
                serve::run(serve::ServeArgs {
                    drafting: drafting.drafting(false),
                    model_drafting: drafting.drafting(true),
                    model,
                    addr,
                    api_key,
                    context,
                    parallel,
                    idle_unload_secs,
                    max_models,
                    dirs,
                    workers,
                    gpu_layers,
                    cpu_moe,
                    fetch_images,
                    trusted_hosts,
                    cors_origins,
                    ollama_port,
                })
                .await
            }
        },
        Command::Ps { address } => match address.key() {
            Ok(key) => ps::run(address.socket(), key).await,
            Err(e) => Err(e),
        },
        Command::Pull { repo, quant } => pull::run(&repo, quant.as_deref()).await,
        Command::Chat {
            model,
            system,
            temperature,
            max_tokens,
            context,
            dirs,
            reasoning_effort,
            thinking_budget,
            mcp,
            require_tool,
            offload,
        } => {
            let Offload { workers, gpu_layers, cpu_moe } = offload;
            chat::run(chat::ChatArgs {
                model,
                system,
                temperature,
                max_tokens,
                context,
                dirs,
                workers,
                gpu_layers,
                cpu_moe,
                reasoning_effort,
                thinking_budget,
                mcp,
                require_tool,
            })
            .await
        }
        Command::Worker { host, port, threads, allow_unauthenticated } => {
            worker::run(host, port, threads, allow_unauthenticated)
        }
        Command::Models { dirs } => models::run(dirs),
        Command::Mcp { action: McpAction::List { config } } => mcp::list(config).await,
        Command::Logs { lines, path } => logs::show(lines, path),
        Command::Service { action } => match action {
            ServiceAction::Install { port, no_start } => service::install(port, !no_start),
            ServiceAction::Uninstall => service::uninstall(),
            ServiceAction::Start => service::start(),
            ServiceAction::Stop => service::stop(),
            ServiceAction::Status => service::status(),
        },
    };
    if let Err(e) = result {
        eprintln!("sirocco: {e}");
        std::process::exit(1);
    }
}
