//! `sirocco`: Sirocco without a window. Builds without WebKit.

mod bench;

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
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench { model, threads, reps, llama_tools } => {
            bench::run(&model, threads, reps.max(1), llama_tools.as_deref()).await
        }
    };
    if let Err(e) = result {
        eprintln!("sirocco: {e}");
        std::process::exit(1);
    }
}
