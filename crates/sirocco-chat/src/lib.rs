//! `sirocco-chat`: one turn of a conversation.
//!
//! A turn reads the branch on screen from the store, puts the persona's and the preset's system
//! prompt in front, asks the engine for an answer and saves it as it streams (so a killed app
//! keeps what was shown). Sending, regenerating, editing a question and continuing an answer are
//! all turns; each makes or extends a branch, never overwrites one.
//!
//! With tools ([`run_turn_with_tools`], `tools.rs`) a step's calls are kept with its answer, each
//! approved or denied, run, and the model goes on in a new answer under it
//! ([`TurnEvent::Continued`]), at most [`MAX_TOOL_STEPS`] steps. [`TurnEvent::ToolApproval`] is
//! sent only once the call's wait began, and Stop while it waits runs nothing. Attachments are
//! read and checked before anything is kept: a damaged document fails the turn.
//!
//! No Tauri types: the app forwards [`TurnEvent`]s to the page; tests drive turns directly.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sirocco_engine::{
    ChatMessage, Engine, GenerateRequest, GenerationEvent, OverflowPolicy, ReasoningEffort, SamplingParams, ToolCall,
    ToolChoice, ToolSpec,
};
use sirocco_engine::{Collected, Collector, Ending, FinishReason, ImageInput};
use sirocco_store::{title_from, Message, MessageStatus, Role, Store, ToolCallRecord, ToolCallResult, ToolCallStatus};

mod documents;
mod tools;
pub use documents::Reading;
pub use tools::{Approval, Approver, McpTools, PendingApprovals, ToolHost};

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Store(#[from] sirocco_store::StoreError),
    #[error(transparent)]
    Engine(#[from] sirocco_engine::EngineError),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, ChatError>;

/// What the user did.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Turn {
    /// A new question under `parent_id` (the leaf on screen; `None` starts the conversation),
    /// with the files the user attached (images, documents; the text may then be empty).
    Send {
        parent_id: Option<i64>,
        text: String,
        #[serde(default)]
        attachments: Vec<NewAttachment>,
    },
    /// Another answer to the question `question_id`: a sibling of the answers it has.
    Regenerate { question_id: i64 },
    /// The question `message_id` edited: a sibling question with `text`, then its answer.
    Edit { message_id: i64, text: String },
    /// More of the answer `answer_id`, appended to it.
    Continue { answer_id: i64 },
}

/// A file the user attached to a question, as the page sends it.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct NewAttachment {
    pub name: String,
    pub mime: String,
    /// The bytes, base64.
    pub data: String,
}

/// A turn and how to answer it.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct TurnRequest {
    /// `None`: a new conversation, titled from the first question.
    pub conversation_id: Option<i64>,
    pub turn: Turn,
    /// "Start reply with": the answer begins with this text.
    pub reply_prefix: Option<String>,
    pub sampling: SamplingParams,
    pub overflow: OverflowPolicy,
    /// The preset's system prompt (after the persona's).
    pub system_prompt: String,
    pub preset_id: Option<i64>,
    pub persona_id: Option<i64>,
    /// The model file answering (remembered with the conversation).
    pub model: Option<String>,
    /// What `{{user}}` expands to.
    pub user_name: String,
    /// A new conversation with a persona: which of its greetings opens it (0: the greeting,
    /// 1…: its alternates).
    pub greeting: usize,
    /// How hard a reasoning model thinks (`None`: the model's default).
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Most tokens a reasoning model thinks for before its thought is closed.
    pub thinking_budget: Option<u32>,
    /// The first step must call one of the tools offered (held to their schemas by a grammar).
    pub require_tool: bool,
    /// The MCP servers whose tools the conversation offers (by name in `mcp.json`; kept with
    /// the conversation). Whoever runs the turn offers them through its [`ToolHost`].
    pub tools: Vec<String>,
}

impl Default for TurnRequest {
    fn default() -> Self {
        Self {
            conversation_id: None,
            turn: Turn::Send { parent_id: None, text: String::new(), attachments: Vec::new() },
            reply_prefix: None,
            sampling: SamplingParams::default(),
            overflow: OverflowPolicy::Stop,
            system_prompt: String::new(),
            preset_id: None,
            persona_id: None,
            model: None,
            user_name: "User".into(),
            greeting: 0,
            reasoning_effort: None,
            thinking_budget: None,
            require_tool: false,
            tools: Vec::new(),
        }
    }
}

/// What the page sees of a turn, in order: `Started`, a reasoning model's `Reasoning`… and
/// `ThoughtEnded`, `Text`…, then `Done` or `Error`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TurnEvent {
    /// The stored messages the turn made: the conversation, the messages added before the
    /// answer (a greeting, the question), and the answer's id.
    Started {
        conversation_id: i64,
        title: String,
        added: Vec<Message>,
        answer_id: i64,
    },
    /// A piece of a reasoning model's thought (saved apart from the answer).
    Reasoning {
        text: String,
    },
    /// The thought is over (the answer starts, or the turn ends): it took `ms`, as saved.
    ThoughtEnded {
        #[ts(type = "number")]
        ms: i64,
    },
    Text {
        text: String,
        /// Tokens of the context in use once this text is out (the prompt and the answer so
        /// far; `None` for text the engine did not make: "Start reply with").
        context_used: Option<usize>,
    },
    /// The answer's step is over (with tools, more steps may follow: `ToolCalls`, then
    /// `Continued`).
    Done {
        stats: sirocco_engine::GenerationStats,
    },
    /// The answer `answer_id` called tools: each waits for the user's approval, then runs.
    ToolCalls {
        answer_id: i64,
        calls: Vec<ToolCallRecord>,
    },
    /// The call waits for the user: allow once, always, or deny.
    ToolApproval {
        call_id: String,
    },
    /// The call was allowed and runs now.
    ToolRunning {
        call_id: String,
    },
    /// What the call came to (it ran, failed, or was denied or stopped).
    ToolResult {
        call_id: String,
        result: ToolCallResult,
    },
    /// Passages of document `name` embedded so far, of `total` (for retrieval; kept, so each
    /// document is embedded once per embedding model).
    Reading {
        name: String,
        done: u32,
        total: u32,
    },
    /// What of its documents question `question_id` gave the model (shown under the answer).
    Sources {
        question_id: i64,
        sources: Vec<sirocco_store::DocumentSource>,
    },
    /// The model goes on from the results in a new answer, `answer_id`, under the one that called.
    Continued {
        answer_id: i64,
    },
    Error {
        message: String,
    },
}

/// The engine's name for a conversation's cache (its KV state is saved under it).
pub fn cache_key(conversation_id: i64) -> String {
    format!("conversation-{conversation_id}")
}

/// The user left the conversation: its cache is saved to disk (when the engine holds it), so
/// coming back — even after a restart — does not read the whole history again. True when a
/// state was written.
pub async fn leave(engine: &Engine, conversation_id: i64) -> sirocco_engine::Result<bool> {
    engine.persist_state(cache_key(conversation_id)).await
}

/// Runs one turn. `on_cancel` receives the flag that stops it (within one token); `emit` gets
/// every event and returns `false` when nobody listens any more (the turn then stops, and what
/// was generated is kept). Errors before the answer starts are returned; errors after it are
/// saved with the answer and emitted.
pub async fn run_turn(
    store: &Store,
    engine: &Engine,
    request: TurnRequest,
    on_cancel: impl FnOnce(Arc<AtomicBool>),
    emit: impl FnMut(TurnEvent) -> bool,
) -> Result<i64> {
    run_turn_with_tools(store, engine, request, None, None, on_cancel, emit).await
}

/// [`run_turn`] with `tools` offered to the model: each call it makes is kept with its answer,
/// approved (or not) by the host, run, and its result given back; the model goes on in a new
/// answer under it, until it answers in words (at most [`MAX_TOOL_STEPS`] steps of calls).
/// Attached documents are read with `reading` (a turn without it cannot carry documents).
/// Returns the last answer's id.
pub async fn run_turn_with_tools(
    store: &Store,
    engine: &Engine,
    request: TurnRequest,
    tools: Option<&dyn ToolHost>,
    reading: Option<&Reading<'_>>,
    on_cancel: impl FnOnce(Arc<AtomicBool>),
    mut emit: impl FnMut(TurnEvent) -> bool,
) -> Result<i64> {
    // One flag stops the whole turn: the step generating, a call running, the steps after.
    let stop = Arc::new(AtomicBool::new(false));
    on_cancel(stop.clone());
    // Attached files are read and checked before anything is kept: a bad one fails the turn whole.
    let files = match &request.turn {
        Turn::Send { attachments, .. } => read_attachments(attachments, reading.is_some()).await?,
        _ => Vec::new(),
    };
    let persona = match request.persona_id {
        Some(id) => Some(store.persona(id).await?),
        None => None,
    };
    let (conversation_id, title) = open_conversation(store, &request).await?;
    let Written { parent, mut stream, added, mut prefix } =
        write_question(store, &request, conversation_id, persona.as_ref(), &files).await?;
    let answer_id = stream.id();
    if !emit(TurnEvent::Started { conversation_id, title, added, answer_id }) {
        stream.finish(MessageStatus::Stopped).await?;
        return Ok(answer_id);
    }
    // "Start reply with" text is part of the answer; a continued answer's text is there already.
    if let Some(p) = request.reply_prefix.as_deref().filter(|p| !p.is_empty()) {
        stream.push(p).await?;
        emit(TurnEvent::Text { text: p.to_string(), context_used: None });
    }
    let mut messages =
        conversation_for_model(store, engine, reading, &request, persona.as_ref(), parent, &mut emit).await?;

    let tool_list = tools.map(|t| t.tools()).unwrap_or_default();
    let mut answer_id = answer_id;
    for step in 0..=MAX_TOOL_STEPS {
        // Tools are offered while steps remain; the last step must answer in words.
        let offered = (!tool_list.is_empty() && step < MAX_TOOL_STEPS).then(|| ToolSpec {
            tools: tool_list.clone(),
            choice: if step == 0 && request.require_tool { ToolChoice::Required } else { ToolChoice::Auto },
            parallel: true,
        });
        let generation = GenerateRequest {
            reply_prefix: prefix.take(),
            overflow: request.overflow,
            // The conversation's cache is kept (and saved) under its id.
            cache_key: Some(cache_key(conversation_id)),
            // A reasoning model's thought is shown and saved apart from its answer.
            separate_reasoning: true,
            reasoning_effort: request.reasoning_effort,
            thinking_budget: request.thinking_budget,
            tools: offered,
            ..GenerateRequest::new(messages.clone(), request.sampling.clone())
        };
        let Some(StepCalls { calls, stats, content, reasoning }) =
            generate_step(store, engine, generation, stream, &stop, &mut emit).await?
        else {
            return Ok(answer_id);
        };
        // The calls: kept with the answer, shown, each approved (or not) and run in turn.
        let host = tools.expect("calls come only when tools were offered");
        let mut records: Vec<ToolCallRecord> = calls
            .iter()
            .map(|c| ToolCallRecord {
                id: c.id.clone(),
                name: c.name.clone(),
                server: host.server_of(&c.name),
                arguments: c.arguments.clone(),
                result: None,
            })
            .collect();
        store.set_tool_calls(answer_id, &records).await?;
        emit(TurnEvent::ToolCalls { answer_id, calls: records.clone() });
        // What each result may take: the context left after the answer, shared by the calls.
        let max_chars = result_budget(&stats, records.len());
        for i in 0..records.len() {
            let result = run_call(host, &records[i], max_chars, &stop, &mut emit).await;
            records[i].result = Some(result.clone());
            store.set_tool_calls(answer_id, &records).await?;
            emit(TurnEvent::ToolResult { call_id: records[i].id.clone(), result });
        }
        // The model goes on from the results, in a new answer under this one.
        messages.push(ChatMessage {
            tool_calls: calls,
            reasoning_content: reasoning,
            ..ChatMessage::new(Role::Assistant, content)
        });
        messages.extend(records.iter().map(tool_message));
        if stop.load(Ordering::Relaxed) {
            return Ok(answer_id);
        }
        stream = store.stream_message(conversation_id, Some(answer_id)).await?;
        answer_id = stream.id();
        if !emit(TurnEvent::Continued { answer_id }) {
            stream.finish(MessageStatus::Stopped).await?;
            return Ok(answer_id);
        }
    }
    unreachable!("the last step offers no tools, so it ends the turn")
}

/// The turn's conversation: the one asked for, or a new one titled from the question; its
/// model, preset, persona and tools are recorded for the next time it opens.
async fn open_conversation(store: &Store, request: &TurnRequest) -> Result<(i64, String)> {
    let (conversation_id, title) = match request.conversation_id {
        Some(id) => (id, store.conversation(id).await?.title),
        None => {
            let title = match &request.turn {
                Turn::Send { text, attachments, .. } if text.trim().is_empty() && !attachments.is_empty() => {
                    title_from(&attachments[0].name)
                }
                Turn::Send { text, .. } => title_from(text),
                _ => return Err(ChatError::Invalid("a new conversation starts with a question".into())),
            };
            (store.create_conversation(&title).await?, title)
        }
    };
    store
        .set_conversation_setup(conversation_id, request.model.as_deref(), request.preset_id, request.persona_id)
        .await?;
    store.set_conversation_tools(conversation_id, &request.tools).await?;
    Ok((conversation_id, title))
}

/// What a turn wrote before the model answers.
struct Written {
    /// The message the answer goes under (the question; a continued answer's own parent).
    parent: i64,
    /// The answer being written.
    stream: sirocco_store::MessageStream,
    /// The messages added (a persona's greeting, the question), for the page.
    added: Vec<Message>,
    /// The text the answer starts with ("Start reply with", or a continued answer's text).
    prefix: Option<String>,
}

/// Writes the turn's question (with its files and, in a new conversation, a persona's
/// greetings), or finds the one answered again, edited or continued; opens the answer.
async fn write_question(
    store: &Store,
    request: &TurnRequest,
    conversation_id: i64,
    persona: Option<&sirocco_store::Persona>,
    files: &[NewFile],
) -> Result<Written> {
    let mut added = Vec::new();
    let mut prefix = request.reply_prefix.clone().filter(|p| !p.is_empty());
    let (parent, stream) = match &request.turn {
        Turn::Send { parent_id, text, attachments } => {
            let mut kept = Vec::new();
            for (a, file) in attachments.iter().zip(files) {
                let kept_file = store.add_attachment(&a.name, &file.mime, &file.bytes).await?;
                if let Some(text) = &file.text {
                    store.set_document_text(&kept_file.hash, text).await?;
                }
                kept.push(kept_file);
            }
            let text = if kept.is_empty() { non_empty(text)? } else { text.as_str() };
            let mut parent = *parent_id;
            if parent.is_none() {
                // A persona greets first: every opening it has is a first message (‹ › between
                // them), and the question answers the one the user picked.
                if let Some(p) = persona {
                    let greetings = p.draft.greetings();
                    let chosen = request.greeting.min(greetings.len().saturating_sub(1));
                    for (i, text) in greetings.iter().enumerate() {
                        let greeting = sirocco_store::expand_macros(text, &p.draft.name, &request.user_name);
                        let id = store
                            .add_message(conversation_id, None, Role::Assistant, &greeting, MessageStatus::Complete)
                            .await?;
                        if i == chosen {
                            added.push(store.message(id).await?);
                            parent = Some(id);
                        }
                    }
                }
            } else if let Some(parent) = parent {
                check_in(store, conversation_id, parent).await?;
            }
            let q = store.add_message(conversation_id, parent, Role::User, text, MessageStatus::Complete).await?;
            store.set_attachments(q, &kept).await?;
            added.push(store.message(q).await?);
            (q, store.stream_message(conversation_id, Some(q)).await?)
        }
        Turn::Regenerate { question_id } => {
            let q = check_in(store, conversation_id, *question_id).await?;
            if q.role != Role::User {
                return Err(ChatError::Invalid("only a question can be answered again".into()));
            }
            (q.id, store.stream_message(conversation_id, Some(q.id)).await?)
        }
        Turn::Edit { message_id, text } => {
            let old = check_in(store, conversation_id, *message_id).await?;
            if old.role != Role::User {
                return Err(ChatError::Invalid("edit an answer with the answer editor".into()));
            }
            // The edited question keeps the files of the one it replaces (its documents are
            // looked through again for the new text).
            let text = if old.attachments.is_empty() { non_empty(text)? } else { text.as_str() };
            let q =
                store.add_message(conversation_id, old.parent_id, Role::User, text, MessageStatus::Complete).await?;
            store.set_attachments(q, &old.attachments).await?;
            added.push(store.message(q).await?);
            (q, store.stream_message(conversation_id, Some(q)).await?)
        }
        Turn::Continue { answer_id } => {
            let a = check_in(store, conversation_id, *answer_id).await?;
            let parent = a.parent_id.ok_or_else(|| ChatError::Invalid("a greeting cannot be continued".into()))?;
            let stream = store.continue_message(a.id).await?;
            prefix = Some(format!("{}{}", a.content, prefix.unwrap_or_default()));
            (parent, stream)
        }
    };
    Ok(Written { parent, stream, added, prefix })
}

/// The conversation as the model reads it: the system message (persona, lorebook when nothing
/// is asked, the preset's prompt), the branch up to `parent` with its thoughts, calls, images
/// and documents, new documents whole or by their passages, and lorebook entries with the
/// question.
async fn conversation_for_model(
    store: &Store,
    engine: &Engine,
    reading: Option<&Reading<'_>>,
    request: &TurnRequest,
    persona: Option<&sirocco_store::Persona>,
    parent: i64,
    emit: &mut impl FnMut(TurnEvent) -> bool,
) -> Result<Vec<ChatMessage>> {
    let history: Vec<_> = store
        .path_to(parent)
        .await?
        .into_iter()
        .filter(|m| {
            m.status != MessageStatus::Error
                && (!m.content.is_empty() || !m.tool_calls.is_empty() || !m.attachments.is_empty())
        })
        .collect();
    // The persona's lorebook entries the latest messages mention. They go with the question
    // being answered, not into the system message: a system message that changes whenever an
    // entry comes up or drops out would make the engine read the whole conversation again,
    // while this way only the last exchange is read again (the question no longer carries them).
    let recent: Vec<&str> =
        history.iter().rev().take(sirocco_store::lorebook::SCAN_DEPTH).map(|m| m.content.as_str()).collect();
    let mut lore = persona.and_then(|p| p.draft.lore(&recent, &request.user_name));
    let asked = history.last().is_some_and(|m| m.role == Role::User);
    let mut messages = Vec::new();
    let system = [
        persona.map(|p| p.draft.system_message(&request.user_name)).unwrap_or_default(),
        if asked { String::new() } else { lore.take().unwrap_or_default() },
        request.system_prompt.trim().to_string(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join("\n\n");
    if !system.is_empty() {
        messages.push(ChatMessage::new(Role::System, system));
    }
    // Where each history message is in `messages`.
    let mut at = Vec::with_capacity(history.len());
    for m in &history {
        // An earlier thought goes with its answer; the format decides whether the model sees
        // it again (Mistral v13+ keep it, most templates drop it).
        let reasoning_content = m.reasoning.clone().filter(|_| m.role == Role::Assistant);
        // An answer that called tools: its calls, then each result as the tool's message.
        let tool_calls = m
            .tool_calls
            .iter()
            .map(|c| ToolCall { id: c.id.clone(), name: c.name.clone(), arguments: c.arguments.clone() })
            .collect();
        // A question's images, read back from the store.
        let mut images = Vec::new();
        for a in m.attachments.iter().filter(|a| a.is_image() && m.role == Role::User) {
            images.push(ImageInput::new(store.attachment_bytes(&a.hash).await?));
        }
        // A question's documents go before its text, as its sources say.
        let content = documents::with_documents(store, m).await?;
        at.push(messages.len());
        messages.push(ChatMessage { reasoning_content, tool_calls, images, ..ChatMessage::new(m.role, content) });
        messages.extend(m.tool_calls.iter().map(tool_message));
    }
    // Documents not yet given to the model (the new question's): whole if they fit, else the
    // passages the question needs.
    for (i, m) in history.iter().enumerate() {
        if m.role != Role::User || !m.sources.is_empty() || !m.attachments.iter().any(|a| a.is_document()) {
            continue;
        }
        let reading = reading.ok_or_else(|| ChatError::Invalid("documents cannot be read in this chat".into()))?;
        let prompt = engine.prompt_tokens(messages.clone(), None, None).await?.len();
        let sources = documents::sources_for(store, engine, reading, m, prompt, emit).await?;
        store.set_sources(m.id, &sources).await?;
        emit(TurnEvent::Sources { question_id: m.id, sources: sources.clone() });
        let m = Message { sources, ..m.clone() };
        messages[at[i]].content = documents::with_documents(store, &m).await?;
    }
    if let (Some(lore), Some(question)) = (lore, messages.last_mut()) {
        question.content = format!("[{lore}]\n\n{}", question.content);
    }
    Ok(messages)
}

/// One call of the model's: asked about once (an answer given before comes at once; else the
/// page is told the call waits — after the wait began, so an answer cannot come too early),
/// then run, unless the turn was stopped.
async fn run_call(
    host: &dyn ToolHost,
    record: &ToolCallRecord,
    max_chars: usize,
    stop: &Arc<AtomicBool>,
    emit: &mut impl FnMut(TurnEvent) -> bool,
) -> ToolCallResult {
    let stopped = || ToolCallResult {
        status: ToolCallStatus::Stopped,
        text: "The user stopped the turn before this call ran.".into(),
        cut_from: None,
    };
    if stop.load(Ordering::Relaxed) {
        return stopped();
    }
    let mut approving = host.approve(record);
    let approval = match std::future::poll_fn(|cx| Poll::Ready(approving.as_mut().poll(cx))).await {
        Poll::Ready(approval) => Some(approval),
        Poll::Pending => {
            emit(TurnEvent::ToolApproval { call_id: record.id.clone() });
            // Stop while the user is asked: the call does not run.
            tokio::select! {
                approval = approving => Some(approval),
                _ = tools::stopped(stop) => None,
            }
        }
    };
    match approval {
        None => stopped(),
        Some(Approval::Deny) => ToolCallResult {
            status: ToolCallStatus::Denied,
            text: "The user did not allow this call.".into(),
            cut_from: None,
        },
        Some(Approval::Once | Approval::Always) => {
            emit(TurnEvent::ToolRunning { call_id: record.id.clone() });
            host.run(record, max_chars, stop.clone()).await
        }
    }
}

/// Tool-calling steps in one turn before the model must answer in words.
pub const MAX_TOOL_STEPS: usize = 8;
/// The characters each of `calls` results may take: what the context has left after the step
/// that called (`stats`), less room for the answer, shared by the calls, at most
/// [`sirocco_mcp::MAX_RESULT_CHARS`].
pub fn result_budget(stats: &sirocco_engine::GenerationStats, calls: usize) -> usize {
    let left = stats.context_length.saturating_sub(stats.context_used + RESERVED_FOR_ANSWER);
    (left * CHARS_PER_TOKEN / calls.max(1)).min(sirocco_mcp::MAX_RESULT_CHARS)
}

/// Context tokens kept for the answer after tool results.
const RESERVED_FOR_ANSWER: usize = 512;
/// A cautious count of characters per token for sizing results.
const CHARS_PER_TOKEN: usize = 3;

/// A step that ended in calls to tools.
struct StepCalls {
    calls: Vec<ToolCall>,
    stats: sirocco_engine::GenerationStats,
    content: String,
    reasoning: Option<String>,
}

/// A call's result as the model reads it: a tool message answering the call.
fn tool_message(record: &ToolCallRecord) -> ChatMessage {
    let text = record.result.as_ref().map_or_else(|| "The call did not run.".to_string(), |r| r.text.clone());
    ChatMessage { tool_call_id: Some(record.id.clone()), ..ChatMessage::new(Role::Tool, text) }
}

/// One generation into `stream`, its events saved and emitted, stopped by `stop`. `None` when
/// the turn ends here (the answer done, an error, nobody listening, the engine gone); else
/// the calls the model made, with the step's stats, text and thought.
async fn generate_step(
    store: &Store,
    engine: &Engine,
    generation: GenerateRequest,
    mut stream: sirocco_store::MessageStream,
    stop: &Arc<AtomicBool>,
    emit: &mut impl FnMut(TurnEvent) -> bool,
) -> Result<Option<StepCalls>> {
    let mut generation = match engine.generate_with_cancel(generation, stop.clone()) {
        Ok(g) => g,
        Err(e) => {
            let message = e.to_string();
            stream.fail(&message).await?;
            emit(TurnEvent::Error { message });
            return Ok(None);
        }
    };
    let cancel = generation.cancel_handle();
    // When the thought began, until it ends (the answer's first words, or the turn's end).
    let mut thinking_since: Option<Instant> = None;
    // The answer is saved and shown as it streams; what it was is the collector's.
    let mut collector = Collector::default();
    while let Some(event) = generation.events.recv().await {
        match &event {
            GenerationEvent::Reasoning { text } => {
                thinking_since.get_or_insert_with(Instant::now);
                stream.push_reasoning(text).await?;
                if !emit(TurnEvent::Reasoning { text: text.clone() }) {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            GenerationEvent::Text { text, context_used, .. } => {
                end_thought(&mut thinking_since, &mut stream, emit);
                stream.push(text).await?;
                if !emit(TurnEvent::Text { text: text.clone(), context_used: Some(*context_used) }) {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            GenerationEvent::ToolCalls { .. } | GenerationEvent::Done { .. } | GenerationEvent::Error { .. } => {}
        }
        if collector.add(&event) {
            break;
        }
    }
    end_thought(&mut thinking_since, &mut stream, emit);
    let Collected { text: content, reasoning, tool_calls: calls, ending, .. } = collector.finish();
    match ending {
        Ending::Done(stats) => {
            let status = if stats.finish_reason == FinishReason::Cancelled {
                MessageStatus::Stopped
            } else {
                MessageStatus::Complete
            };
            let id = stream.finish(status).await?;
            store.set_message_stats(id, &serde_json::to_value(&stats).expect("stats serialise")).await?;
            emit(TurnEvent::Done { stats: stats.clone() });
            if calls.is_empty() || status == MessageStatus::Stopped {
                return Ok(None);
            }
            let reasoning = (!reasoning.is_empty()).then_some(reasoning);
            Ok(Some(StepCalls { calls, stats, content, reasoning }))
        }
        ending => {
            let message = match ending {
                Ending::Failed { message, .. } => message,
                // The engine went away mid-answer: keep what came.
                _ => sirocco_engine::collect::CUT.to_string(),
            };
            stream.fail(&message).await?;
            emit(TurnEvent::Error { message });
            Ok(None)
        }
    }
}

/// Ends the thought that began at `since` (if one did): its time is saved with the answer (added
/// to an earlier thought's, for an answer continued) and the page is told.
fn end_thought(
    since: &mut Option<Instant>,
    stream: &mut sirocco_store::MessageStream,
    emit: &mut impl FnMut(TurnEvent) -> bool,
) {
    if let Some(since) = since.take() {
        let ms = since.elapsed().as_millis() as i64 + stream.reasoning_ms().unwrap_or(0);
        stream.set_reasoning_ms(ms);
        emit(TurnEvent::ThoughtEnded { ms });
    }
}

/// An attached file, read and checked: its media type, bytes, and a document's text.
struct NewFile {
    mime: String,
    bytes: Vec<u8>,
    text: Option<sirocco_store::DocumentText>,
}

/// Each attached file, an image or a document within the store's size limit; a document's
/// text read (only when the turn can read documents: `documents`).
async fn read_attachments(attachments: &[NewAttachment], documents: bool) -> Result<Vec<NewFile>> {
    use base64::Engine as _;
    let mut files = Vec::with_capacity(attachments.len());
    for a in attachments {
        let kind = sirocco_documents::Kind::of(&a.name, &a.mime);
        if !a.mime.starts_with("image/") && kind.is_none() {
            return Err(ChatError::Invalid(format!(
                "{}: only images and documents (.txt, .md, .pdf, .docx) can be attached",
                a.name
            )));
        }
        if kind.is_some() && !documents {
            return Err(ChatError::Invalid(format!("{}: documents cannot be read in this chat", a.name)));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a.data.as_bytes())
            .map_err(|_| ChatError::Invalid(format!("{}: the attached file could not be read", a.name)))?;
        if bytes.is_empty() || bytes.len() > sirocco_store::MAX_ATTACHMENT_BYTES {
            return Err(ChatError::Invalid(format!(
                "{}: an attachment must hold 1 byte to {} MB",
                a.name,
                sirocco_store::MAX_ATTACHMENT_BYTES / 1024 / 1024
            )));
        }
        files.push(match kind {
            Some(kind) if !a.mime.starts_with("image/") => NewFile {
                mime: kind.mime().to_string(),
                text: Some(documents::read(&a.name, kind.mime(), bytes.clone()).await?),
                bytes,
            },
            _ => NewFile { mime: a.mime.clone(), bytes, text: None },
        });
    }
    Ok(files)
}

fn non_empty(text: &str) -> Result<&str> {
    if text.trim().is_empty() {
        return Err(ChatError::Invalid("the message is empty".into()));
    }
    Ok(text)
}

/// The message, checked to belong to the conversation.
async fn check_in(store: &Store, conversation_id: i64, id: i64) -> Result<Message> {
    let m = store.message(id).await?;
    if m.conversation_id != conversation_id {
        return Err(ChatError::Invalid(format!("message {id} is not in this conversation")));
    }
    Ok(m)
}
