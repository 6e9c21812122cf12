//! `sirocco chat`: a conversation in the terminal. The model is a file or a library model's
//! name; its saved settings (the app's default preset for it: system prompt, sampling, context)
//! apply unless flags say otherwise (and the template the user keeps for it in the app). Each
//! line read is a turn; the answer streams to stdout as it is written, a reasoning model's
//! thought before it to stderr (dimmed on a terminal), so a script reading stdout gets answers
//! only. `/reset` starts over, `/exit` (or end of input) leaves, Ctrl+C stops an answer.
//! With `--mcp mcp.json` the model is offered those servers' tools: each call is shown on
//! stderr and asked about at the prompt (yes, always for that tool, no) before it runs, and
//! its result goes back to the model, which goes on (sirocco-chat's `McpTools` run them).

use crate::terminal::safe;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use std::collections::HashSet;

use sirocco_chat::{Approval, McpTools, ToolHost, MAX_TOOL_STEPS};
use sirocco_engine::{
    ChatMessage, Collector, Engine, GenerateRequest, GenerationEvent, LoadParams, ReasoningEffort, Role, ToolChoice,
    ToolSpec,
};
use sirocco_host::{LoadedBy, ModelHost, ModelSpec};
use sirocco_store::PresetParams;
use sirocco_store::ToolCallRecord;
use tokio::io::{AsyncBufReadExt, BufReader};

pub struct ChatArgs {
    pub model: String,
    pub system: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub context: Option<u32>,
    pub dirs: Vec<PathBuf>,
    /// `sirocco worker`s whose devices join this machine's (checked first; the model then runs
    /// in an engine process of its own).
    pub workers: Vec<String>,
    /// Layers offloaded (to local GPUs and workers); `None`: with workers the planner's fit
    /// across this machine and them, else the saved settings'.
    pub gpu_layers: Option<u32>,
    /// Mixture-of-experts tensors stay in RAM here (else the saved settings say).
    pub cpu_moe: bool,
    /// How hard a reasoning model thinks (else the saved settings', else its default).
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Most tokens of thought (else the saved settings').
    pub thinking_budget: Option<u32>,
    /// An mcp.json whose servers' tools the model is offered.
    pub mcp: Option<PathBuf>,
    /// Each question's first step must call a tool.
    pub require_tool: bool,
}

/// `--reasoning-effort`'s values, as the API names them.
pub fn parse_effort(value: &str) -> Result<ReasoningEffort, String> {
    serde_json::from_value(serde_json::Value::String(value.to_lowercase()))
        .map_err(|_| format!("`{value}`: one of none, minimal, low, medium, high"))
}

/// The file to load, its library id, its saved settings and the template the user keeps for it.
async fn resolve(model: &str, dirs: Vec<PathBuf>) -> Result<(PathBuf, String, PresetParams, Option<String>), String> {
    let store = crate::paths::app_store().await?;
    let path = PathBuf::from(model);
    let hub = sirocco_runtime::hub_of(&sirocco_runtime::Settings::of_app(), None).map_err(|e| e.to_string())?;
    let roots = crate::paths::library_roots(hub.cache_dir().to_path_buf(), dirs);
    let path = if path.is_file() {
        path
    } else {
        let catalog = sirocco_server::library_catalog(roots.clone(), None, &LoadParams::default()).await;
        match catalog.into_iter().find(|m| m.id == model || m.id.eq_ignore_ascii_case(model)) {
            Some(m) => m.path,
            None => return Err(format!("no model file or library model named `{model}` (see `sirocco models`)")),
        }
    };
    let preset = match &store {
        Some(store) => match store.model_preset(&path.to_string_lossy()).await.map_err(|e| e.to_string())? {
            Some(id) => store.preset(id).await.map_err(|e| e.to_string())?.params,
            None => PresetParams::default(),
        },
        None => PresetParams::default(),
    };
    let template = match &store {
        Some(store) => store.model_template(&sirocco_store::template_key(&path)).await.map_err(|e| e.to_string())?,
        None => None,
    };
    let id = sirocco_hub::library::id_of(&roots, &path);
    Ok((path, id, preset, template))
}

pub async fn run(args: ChatArgs) -> Result<(), String> {
    let worker_memory = crate::worker::probe_all(&args.workers)?;
    let (path, id, preset, template) = resolve(&args.model, args.dirs).await?;
    let params = preset.apply_to(LoadParams { context_length: args.context, parallel: 1, ..LoadParams::default() });
    let gpu_layers = match args.gpu_layers {
        Some(n) => n,
        None if !args.workers.is_empty() => crate::worker::planned_gpu_layers(&path, &worker_memory, args.context)?,
        None => params.gpu_layers,
    };
    let params = LoadParams {
        context_length: args.context.or(params.context_length),
        gpu_layers,
        workers: args.workers.clone(),
        experts_on_cpu: args.cpu_moe || params.experts_on_cpu,
        chat_template_override: template,
        ..params
    };
    let host = ModelHost::default();
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let interactive = std::io::stdin().is_terminal();
    let progress = {
        let name = name.clone();
        move |f: f32| {
            if interactive {
                eprint!("\rloading {name}… {:>3.0}%", f * 100.0);
            }
        }
    };
    let spec = ModelSpec { id: id.clone(), path: path.clone(), params };
    host.load(spec, LoadedBy::User, progress, Arc::new(AtomicBool::new(false))).await.map_err(|e| e.to_string())?;
    // Held for the whole conversation.
    let lease = host.lease(&id).await.map_err(|e| e.to_string())?;
    let loaded = lease.model().clone();
    if interactive {
        eprintln!("\r{name} · {} tokens of context · /reset starts over, /exit leaves", loaded.context_length);
    }

    let mut sampling = preset.sampling.clone();
    if let Some(t) = args.temperature {
        sampling.temperature = t;
    }
    if let Some(m) = args.max_tokens {
        sampling.max_tokens = m;
    }
    let system = args.system.unwrap_or(preset.system_prompt);
    let tools = match &args.mcp {
        Some(path) => Some(connect_tools(path).await?),
        None => None,
    };
    let offered = tools.as_ref().map(|t| t.tools()).unwrap_or_default();
    let mut always: HashSet<String> = HashSet::new();
    let mut history: Vec<ChatMessage> = Vec::new();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        if interactive {
            eprint!("> ");
        }
        let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? else { break };
        let line = line.trim();
        match line {
            "" => continue,
            "/exit" | "/quit" => break,
            "/reset" => {
                history.clear();
                eprintln!("(a new conversation)");
                continue;
            }
            _ => {}
        }
        let asked_at = history.len();
        history.push(ChatMessage::new(Role::User, line));
        for step in 0..=MAX_TOOL_STEPS {
            let mut messages = Vec::with_capacity(history.len() + 1);
            if !system.trim().is_empty() {
                messages.push(ChatMessage::new(Role::System, system.clone()));
            }
            messages.extend(history.iter().cloned());
            let tool_spec = (!offered.is_empty() && step < MAX_TOOL_STEPS).then(|| ToolSpec {
                tools: offered.clone(),
                choice: if step == 0 && args.require_tool { ToolChoice::Required } else { ToolChoice::Auto },
                parallel: true,
            });
            let request = GenerateRequest {
                cache_key: Some("cli-chat".into()),
                separate_reasoning: true,
                reasoning_effort: args.reasoning_effort.or(preset.reasoning_effort),
                thinking_budget: args.thinking_budget.or(preset.thinking_budget),
                tools: tool_spec,
                ..GenerateRequest::new(messages, sampling.clone())
            };
            let reply = match answer(lease.engine(), request).await {
                Ok(reply) => reply,
                Err(e) => {
                    history.truncate(asked_at);
                    eprintln!("error: {}", crate::terminal::safe(&e.to_string()));
                    break;
                }
            };
            let reasoning_content = (!reply.thought.is_empty()).then_some(reply.thought);
            let calls = reply.calls;
            history.push(ChatMessage {
                reasoning_content,
                tool_calls: calls.clone(),
                ..ChatMessage::new(Role::Assistant, reply.text)
            });
            let Some(tools) = tools.as_ref().filter(|_| !calls.is_empty()) else { break };
            // Each call asked about at the prompt, run, and its result given back.
            let max_chars = sirocco_chat::result_budget(&reply.stats, calls.len());
            for call in calls {
                let record = ToolCallRecord {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    server: tools.server_of(&call.name),
                    arguments: call.arguments.clone(),
                    result: None,
                };
                let server = record.server.as_deref().unwrap_or("?");
                eprintln!(
                    "tool call: {} ({}) {}",
                    safe(&record.name),
                    safe(server),
                    safe(&record.arguments.to_string())
                );
                let allowed = always.contains(&record.name) || {
                    eprint!("allow it? [y]es, [a]lways for {}, [n]o: ", safe(&record.name));
                    let reply = lines.next_line().await.map_err(|e| e.to_string())?.unwrap_or_default();
                    match reply.trim().to_lowercase().as_str() {
                        "y" | "yes" => true,
                        "a" | "always" => {
                            always.insert(record.name.clone());
                            true
                        }
                        _ => false,
                    }
                };
                let text = if allowed {
                    let result = tools.run(&record, max_chars, Arc::new(AtomicBool::new(false))).await;
                    let shown: String = result.text.chars().take(300).collect();
                    eprintln!("  → {}{}", safe(&shown), if result.text.chars().count() > 300 { "…" } else { "" });
                    result.text
                } else {
                    eprintln!("  → denied");
                    "The user did not allow this call.".to_string()
                };
                history.push(ChatMessage { tool_call_id: Some(call.id), ..ChatMessage::new(Role::Tool, text) });
            }
        }
    }
    if let Some(tools) = tools {
        tools.close().await;
    }
    drop(lease);
    host.unload_all().await;
    Ok(())
}

/// The servers of `path` (an mcp.json) that start, each one's status on stderr; their tools.
async fn connect_tools(path: &std::path::Path) -> Result<McpTools, String> {
    let config = crate::mcp::load(path)?;
    let started =
        futures_util::future::join_all(config.enabled().map(|(name, entry)| crate::mcp::connect(name, entry))).await;
    let mut servers = Vec::new();
    for ((name, _), result) in config.enabled().zip(started) {
        match result {
            Ok(server) => {
                eprintln!("mcp: {} ready, {} tools", safe(name), server.tools().len());
                servers.push(std::sync::Arc::new(server));
            }
            Err(e) => eprintln!("mcp: {} failed: {}", safe(name), safe(&e.to_string())),
        }
    }
    // Approval is asked at the prompt here, not through the host.
    Ok(McpTools::new(servers, Box::new(|_| Box::pin(std::future::ready(Approval::Deny)))))
}

/// One step of an answer.
struct Reply {
    text: String,
    thought: String,
    calls: Vec<sirocco_engine::ToolCall>,
    stats: sirocco_engine::GenerationStats,
}

/// Streams one answer to stdout (its thought to stderr); Ctrl+C stops it (what was written
/// stays in the history).
async fn answer(engine: &Engine, request: GenerateRequest) -> Result<Reply, String> {
    let mut generation = engine.generate(request).map_err(|e| e.to_string())?;
    let cancel = generation.cancel_handle();
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    let (dim, plain) = if stderr.is_terminal() { ("\x1b[2m", "\x1b[0m") } else { ("", "") };
    let mut collector = Collector::default();
    loop {
        let event = tokio::select! {
            event = generation.events.recv() => event,
            _ = tokio::signal::ctrl_c() => {
                cancel.store(true, Ordering::Relaxed);
                continue;
            }
        };
        let Some(event) = event else { break };
        let so_far = collector.collected();
        match &event {
            GenerationEvent::Reasoning { text } => {
                if so_far.reasoning.is_empty() {
                    let _ = write!(stderr, "{dim}thinking: ");
                }
                let _ = write!(stderr, "{dim}{}{plain}", safe(text));
                let _ = stderr.flush();
            }
            GenerationEvent::Text { text, .. } => {
                if !so_far.reasoning.is_empty() && so_far.text.is_empty() {
                    let _ = writeln!(stderr, "{plain}");
                }
                let _ = stdout.write_all(safe(text).as_bytes());
                let _ = stdout.flush();
            }
            GenerationEvent::ToolCalls { .. } | GenerationEvent::Done { .. } | GenerationEvent::Error { .. } => {}
        }
        if collector.add(&event) {
            break;
        }
    }
    let answer = collector.finish();
    let stats = answer.result()?.clone();
    if !answer.text.is_empty() {
        println!();
    }
    let thinking = match stats.reasoning_tokens {
        0 => String::new(),
        n => format!(" ({n} thinking)"),
    };
    eprintln!(
        "  · {} tokens{thinking} · {:.1} tok/s · first token {:.0} ms",
        stats.generated_tokens, stats.decode_tokens_per_second, stats.time_to_first_token_ms
    );
    Ok(Reply { text: answer.text, thought: answer.reasoning, calls: answer.tool_calls, stats })
}
