// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// SIROCCO_WRITE_BINDINGS=1 cargo test -p sirocco bindings rewrites it.

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

export type ErrorKind = "cancelled" | "needs_token" | "busy" | "no_room" | "not_found" | "invalid" | "disk_full" | "io" | "network" | "other";

export type IpcError = { kind: ErrorKind, message: string, };

export type DownloadPhase = { "kind": "downloading" } | { "kind": "retrying", attempt: number, delay_ms: number, error: string, } | { "kind": "waiting" } | { "kind": "verifying" } | { "kind": "done" };

export type DownloadProgress = { file: string, 
/**
 * Bytes on disk for the whole item (all files), and its total.
 */
downloaded: number, total: number, bytes_per_second: number, eta_seconds: number | null, phase: DownloadPhase, };

export type RemoteFile = { path: string, size: number, 
/**
 * The Hub's LFS sha256 (`None` for small files kept in git).
 */
sha256: string | null, };

export type GgufEntry = { 
/**
 * The name shown: the file name, or for split models the name without the part suffix.
 */
name: string, 
/**
 * `Q4_K_M`, `IQ3_XS`, `F16`… when the name says.
 */
quant: string | null, 
/**
 * The model's files, part 1 first (the one llama.cpp loads).
 */
parts: Array<RemoteFile>, 
/**
 * Bytes of the model's parts.
 */
total_size: number, 
/**
 * The repository's vision projector, downloaded and verified with the model and loaded
 * with it (the F16 one where the repository has several).
 */
projector: RemoteFile | null, };

export type QueuedState = { "kind": "downloading" } | { "kind": "paused" } | { "kind": "failed", message: string, };

export type QueuedDownload = { 
/**
 * `repo/name`: how the queue's commands name the item.
 */
key: string, repo: string, 
/**
 * The commit every part comes from.
 */
commit: string, entry: GgufEntry, state: QueuedState, 
/**
 * Bytes on disk now, over all parts: read from the cache when listed (what the queue file
 * holds there is ignored).
 */
downloaded: number, };

export type ModelFile = { path: string, file_name: string, size_bytes: number, 
/**
 * Its vocabulary (`GgufSummary::vocabulary`): models with the same one can draft for it.
 */
vocabulary: string | null, };

export type ModelsFolder = { folder: string, models: Array<ModelFile>, };

export type GgufSummary = { path: string, file_size: number, architecture: string, name: string | null, tensor_count: number, 
/**
 * Bytes of tensor data (weights) in this file.
 */
tensor_bytes: number, block_count: number | null, context_length: number | null, embedding_length: number | null, head_count: number | null, head_count_kv: number | null, sliding_window: number | null, expert_count: number | null, expert_used_count: number | null, chat_template: string | null, 
/**
 * Number of files of a split model (`split.count`), 1 for a single file.
 */
split_count: number, feed_forward_length: number | null, 
/**
 * Per-head size of keys and values (`attention.key_length`/`value_length`, else
 * embedding / heads).
 */
key_length: number | null, value_length: number | null, vocab_size: number | null, 
/**
 * Tensor bytes outside the repeating layers: embeddings, output norm and head.
 */
other_bytes: number, 
/**
 * Weights (elements of every tensor): what "7B" or "135M" counts.
 */
parameter_count: number, 
/**
 * Bytes of each layer's mixture-of-experts tensors (`ffn_*_exps`), part of `layer_bytes`:
 * what stays in RAM when the experts are kept on the CPU. Empty for dense models.
 */
expert_bytes: Array<number>, 
/**
 * The output layer's tensors, part of `other_bytes`: the final norm (`output_norm.*`) and
 * the head (`output.*`, absent when the file ties it to the token embeddings —
 * llama.cpp then copies `token_embd.weight` to the output layer's device).
 */
output_norm_bytes: number, output_head_bytes: number, 
/**
 * `token_embd.weight`, part of `other_bytes` (the input layer: always in RAM).
 */
token_embd_bytes: number, 
/**
 * Which vocabulary the model reads: its tokenizer's kind and a hash of its tokens' text
 * (the special first five aside, as llama.cpp's draft check skips them). Two models with
 * the same one can pair as model and draft model.
 */
vocabulary: string | null, };

export type ProjectorSummary = { path: string, file_size: number, 
/**
 * llama.cpp's name for its kind (`pixtral`, `gemma3`, `qwen2.5vl`, …).
 */
projector_type: string | null, vision: boolean, audio: boolean, 
/**
 * The width of what it hands the language model: that model's embedding length.
 */
output_width: number | null, };

export type MistralVersion = "v1" | "v3" | "v7" | "v11" | "v13" | "v15";

export type PromptFormatKind = { "kind": "mistral", version: MistralVersion, tekken: boolean, label: string, } | { "kind": "model_template" } | { "kind": "user_template" } | { "kind": "builtin_chatml" };

export type FlashAttention = "auto" | "on" | "off";

export type KvCacheType = "f16" | "q8_0" | "q4_0";

export type LoadParams = { 
/**
 * Context length in tokens; `None` picks a safe default capped by the trained maximum.
 */
context_length: number | null, gpu_layers: number, 
/**
 * Threads for decoding and prefill; `None` uses the machine's cores.
 */
threads: number | null, batch_size: number, flash_attention: FlashAttention, kv_cache_type: KvCacheType, 
/**
 * Map the file instead of reading it (shares pages with the OS cache).
 */
use_mmap: boolean, 
/**
 * Pin the weights in RAM so the OS never swaps them out.
 */
use_mlock: boolean, 
/**
 * A Jinja chat template to use instead of the file's (the user's override per model).
 */
chat_template_override: string | null, 
/**
 * Mixture-of-experts models: keep the expert tensors (most of the weights, each used by
 * a few tokens) in RAM while attention and the rest go to the GPU.
 * (Named `moe_experts_on_cpu` before; that name is still read.)
 */
experts_on_cpu: boolean, 
/**
 * Requests decoded together (continuous batching); the context's cells are shared by
 * them, so one conversation alone can still use the whole context.
 */
parallel: number, 
/**
 * Where conversations' KV state is saved (see the engine's `GenerateRequest::cache_key`); `None`
 * keeps nothing on disk.
 */
state_dir: string | null, 
/**
 * Other machines running `sirocco worker` (`host:port`): their devices take offloaded
 * layers beside local GPUs. A model with workers runs in an engine process of its own
 * (see the engine's `process`), so a worker lost mid-answer ends that process, never the app.
 */
workers: Array<string>, 
/**
 * The model's multimodal projector (`mmproj-*.gguf`), loaded with it through llama.cpp's
 * `mtmd`: the model then sees images in messages.
 */
projector: string | null, 
/**
 * Drafted tokens (see [`crate::drafting`]): n-grams of the conversation, a draft model, MTP.
 */
drafting: Drafting, };

export type Drafting = { 
/**
 * The kinds in use, tried in llama.cpp's order (n-grams first, then models); the first
 * that proposes something drafts that step. `draft-simple` needs [`Self::draft_model`].
 */
kinds: Array<DraftKind>, 
/**
 * The draft model (a GGUF with the model's vocabulary), for `draft-simple`.
 */
draft_model: string | null, 
/**
 * Most tokens a draft model or MTP drafts per step (`None`: llama.cpp's default, 3;
 * n-gram kinds have their own).
 */
draft_max: number | null, 
/**
 * Fewer drafted tokens than this are not verified.
 */
draft_min: number, 
/**
 * A draft model stops drafting where its own top token is less likely than this.
 */
draft_p_min: number, };

export type DraftKind = "draft-simple" | "draft-mtp" | "ngram-simple" | "ngram-map-k" | "ngram-map-k4v" | "ngram-mod";

export type LoadedModel = { summary: GgufSummary, context_length: number, threads: number, 
/**
 * Requests that decode at once; more wait in a queue.
 */
parallel: number, load_ms: number, 
/**
 * How prompts are built for this model.
 */
prompt_format: PromptFormatKind, 
/**
 * The model thinks before it answers (its format marks a thought: Mistral's `[THINK]`
 * tokens, or `<think>` tags in its template), so effort and a thinking budget apply.
 */
thinks: boolean, 
/**
 * The projector loaded with the model: it sees images.
 */
projector: ProjectorSummary | null, 
/**
 * What it drafts tokens with (llama.cpp's names, e.g. `ngram-mod,draft-simple`), if it does.
 */
drafting: string | null, };

export type Gpu = { name: string, backend: string, memory_total: number, memory_free: number, };

export type Hardware = { ram_total: number, 
/**
 * RAM the OS can give a new process now (`MemAvailable`).
 */
ram_available: number, gpus: Array<Gpu>, 
/**
 * Free memory of the GPU(s) llama.cpp can offload to.
 */
vram_free: number, cpu_name: string, physical_cores: number, logical_cores: number, 
/**
 * SIMD features that matter for llama.cpp speed (AVX2, AVX-512, FMA, NEON…).
 */
cpu_features: Array<string>, };

export type PlanRequest = { gpu_layers: number, context_length: number, kv_cache_type: KvCacheType, flash_attention: FlashAttention, 
/**
 * Physical batch (llama.cpp's `n_ubatch`).
 */
batch_size: number, 
/**
 * Parallel sequences sharing the context.
 */
sequences: number, 
/**
 * Mixture-of-experts tensors stay in RAM even in layers on the GPU.
 */
experts_on_cpu: boolean, };

export type MemoryEstimate = { weights_ram: number, weights_vram: number, kv_ram: number, kv_vram: number, 
/**
 * Compute buffers as resident in use (llama.cpp reserves more: logits for a whole batch).
 */
compute_ram: number, compute_vram: number, runtime_ram: number, 
/**
 * A vision projector loaded with the model: its weights and its encoder's buffers (mtmd
 * keeps them in RAM in the builds that have no GPU; counted in RAM here).
 */
projector_ram: number, };

export type DeviceShare = { 
/**
 * Repeating layers on it: `first_layer..end_layer` (none when equal).
 */
first_layer: number, end_layer: number, 
/**
 * The output layer (final norm and head) is on it too.
 */
output: boolean, weights: number, kv: number, compute: number, };

export type FitVerdict = { "kind": "fully_on_gpu" } | { "kind": "partial_offload", gpu_layers: number, total_layers: number, } | { "kind": "cpu_only" } | { "kind": "too_large" };

export type FitPlan = { verdict: FitVerdict, gpu_layers: number, 
/**
 * A mixture-of-experts model that fits more of itself on the GPU with its experts in RAM.
 */
experts_on_cpu: boolean, context_length: number, estimate: MemoryEstimate, 
/**
 * Each offload device's share (local GPUs, then other machines' devices).
 */
devices: Array<DeviceShare>, 
/**
 * Other machines' devices that take part ("fits across this machine and N others").
 */
workers_used: number, };

export type ModelPlan = { summary: GgufSummary, hardware: Hardware, fit: FitPlan, 
/**
 * The other machines a load with GPU layers would use (enabled in "Other machines"); the
 * fit counts the devices of those that answer.
 */
workers: Array<string>, 
/**
 * Free memory of each of their devices that answered, after the local GPUs' in the fit's
 * device order.
 */
worker_memory: Array<number>, };

export type SplitEstimate = { 
/**
 * The offload devices' shares, in `devices`' order (empty without devices).
 */
devices: Array<DeviceShare>, weights_ram: number, weights_vram: number, kv_ram: number, kv_vram: number, 
/**
 * Compute buffers as resident in use (llama.cpp reserves more: logits for a whole batch).
 */
compute_ram: number, compute_vram: number, runtime_ram: number, 
/**
 * A vision projector loaded with the model: its weights and its encoder's buffers (mtmd
 * keeps them in RAM in the builds that have no GPU; counted in RAM here).
 */
projector_ram: number, };

export type LoadedBy = "user" | "server";

export type ModelStatus = "loading" | "loaded" | "unloading";

export type MemoryUse = { ram: number, vram: number, };

export type ResidentModel = { id: string, path: string, status: ModelStatus, loaded_by: LoadedBy, 
/**
 * The planner's estimate for this load.
 */
memory: MemoryUse, 
/**
 * Requests and answers using it now.
 */
in_use: number, 
/**
 * Since when nothing has used it (Unix milliseconds); `None` while in use.
 */
idle_since_ms: number | null, 
/**
 * What the load reported, once loaded.
 */
model: LoadedModel | null, params: LoadParams, };

export type ModelMemory = { 
/**
 * `None`: as many as fit, at most `sirocco_host::DEFAULT_MAX_MODELS`.
 */
max_models: number | null, 
/**
 * RAM left free for everything else, in bytes.
 */
reserve_ram: number, };

export type ModelMemoryView = { settings: ModelMemory, 
/**
 * The most models kept loaded, the default filled in.
 */
max_models: number, 
/**
 * What "as many as fit" stops at.
 */
default_max_models: number, 
/**
 * RAM the models may use together, and the machine's.
 */
budget_ram: number, total_ram: number, };

export type ModelTemplate = { own: string | null, custom: string | null, };

export type DeviceMemory = { free: number, total: number, };

export type WorkerReach = { "state": "ready", devices: Array<DeviceMemory>, } | { "state": "in_use", model: string, } | { "state": "unreachable", message: string, };

export type WorkerView = { endpoint: string, enabled: boolean, } & ({ "state": "ready", devices: Array<DeviceMemory>, } | { "state": "in_use", model: string, } | { "state": "unreachable", message: string, });

export type Role = "system" | "user" | "assistant" | "tool";

export type ToolCall = { id: string, name: string, 
/**
 * The arguments as JSON text.
 */
arguments: string, };

export type ChatMessage = { role: Role, content: string, 
/**
 * An assistant message's calls to tools.
 */
tool_calls?: Array<ToolCall>, 
/**
 * A tool message: the call it answers.
 */
tool_call_id?: string | null, 
/**
 * An assistant message's thought (a reasoning model's), apart from its content. Formats
 * that keep earlier thoughts write it back (Mistral v13 and later); others leave it out.
 */
reasoning_content?: string | null, };

export type SamplingParams = { 
/**
 * 0 means greedy decoding.
 */
temperature: number, 
/**
 * 0 disables top-k.
 */
top_k: number, 
/**
 * 1 disables top-p.
 */
top_p: number, 
/**
 * 0 disables min-p.
 */
min_p: number, 
/**
 * 1 disables the repeat penalty.
 */
repeat_penalty: number, 
/**
 * 0 disables the presence penalty.
 */
presence_penalty: number, 
/**
 * 0 disables the frequency penalty.
 */
frequency_penalty: number, 
/**
 * How many recent tokens the penalties look at.
 */
penalty_last_n: number, 
/**
 * The sampler's seed; [`RANDOM_SEED`] (the default) draws a new one per request, so a
 * regenerated answer differs. A fixed seed repeats an answer exactly.
 */
seed: number, max_tokens: number, 
/**
 * Keep generating past end-of-turn tokens (benchmarks; llama.cpp's `ignore_eos`).
 */
ignore_eos: boolean, 
/**
 * Generation stops before any of these strings; they are not part of the reply.
 */
stop: Array<string>, 
/**
 * Constrain the output with a GBNF grammar (root rule `root`).
 */
grammar: string | null, 
/**
 * Constrain the output to JSON matching this schema (converted to a grammar).
 */
json_schema: JsonValue | null, };

export type ReasoningEffort = "none" | "minimal" | "low" | "medium" | "high";

export type OverflowPolicy = "stop" | "drop_middle" | "rolling_window";

export type FinishReason = "stop" | "length" | "context_full" | "cancelled" | "tool_calls";

export type GenerationStats = { prompt_tokens: number, 
/**
 * Prompt tokens whose KV cache was kept from the previous turn (not computed again).
 */
cached_tokens: number, generated_tokens: number, 
/**
 * Of `generated_tokens`, those of the model's thought (with its markers).
 */
reasoning_tokens: number, time_to_first_token_ms: number, prefill_tokens_per_second: number, decode_tokens_per_second: number, context_used: number, context_length: number, finish_reason: FinishReason, 
/**
 * The request's stop string that ended the answer (`finish_reason` is then `stop`).
 */
stop_sequence?: string, 
/**
 * Messages the overflow policy left out so the conversation fits.
 */
dropped_messages: number, 
/**
 * Tokens drafted (see [`crate::drafting`]) and verified, and of those, kept: each kept one is a
 * token the model did not need a step of its own for (llama-server's `draft_n`,
 * `draft_n_accepted`).
 */
draft_tokens: number, draft_accepted_tokens: number, 
/**
 * Why this answer decoded without drafts although its model drafts.
 */
draft_off?: string, };

export type TokenAlternative = { token: string, bytes: Array<number>, logprob: number, };

export type TokenLogprob = { token: string, bytes: Array<number>, logprob: number, 
/**
 * The `n` likeliest tokens at this step, likeliest first (`n`: the request's).
 */
top: Array<TokenAlternative>, };

export type GenerationEvent = { "kind": "reasoning", text: string, } | { "kind": "text", text: string, 
/**
 * Tokens of the context the request fills once this text is out (its prompt and the
 * reply so far): what a context meter shows while the answer streams.
 */
context_used: number, 
/**
 * With [`GenerateRequest::logprobs`]: the tokens generated since the last text event
 * (this text's, and a thought's before it), each with its log-probability.
 */
logprobs?: Array<TokenLogprob>, } | { "kind": "tool_calls", calls: Array<ToolCall>, } | { "kind": "done", stats: GenerationStats, } | { "kind": "error", message: string, 
/**
 * The engine's state, not the request, is at fault (no model, the context busy with
 * other requests): the same request may succeed later.
 */
busy: boolean, 
/**
 * The prompt does not fit the model's context at all (OpenAI's
 * `context_length_exceeded`: a client may shorten the conversation and retry).
 */
overflow: boolean, };

export type ToolCallStatus = "done" | "tool_error" | "failed" | "denied" | "stopped";

export type ToolCallResult = { status: ToolCallStatus, 
/**
 * What the model is given back: the tool's text (cut with a note when it was too long),
 * or why there is none.
 */
text: string, 
/**
 * The result's full length in characters, when it was cut.
 */
cut_from: number | null, };

export type ToolCallRecord = { 
/**
 * The call's id (the model's format's), which its result answers.
 */
id: string, name: string, 
/**
 * The MCP server that has the tool.
 */
server: string | null, 
/**
 * The arguments as the model wrote them (JSON text).
 */
arguments: string, 
/**
 * `None` while it waits for the user or runs.
 */
result: ToolCallResult | null, };

export type Attachment = { 
/**
 * The SHA-256 of its bytes (hex): how the store finds them.
 */
hash: string, 
/**
 * The file's name as the user attached it (`pasted image` for a paste).
 */
name: string, 
/**
 * Its media type (`image/png`, …).
 */
mime: string, size: number, };

export type DocumentSource = { 
/**
 * The attachment's hash.
 */
hash: string, name: string, 
/**
 * Given whole (it fitted the context); else only `passages`.
 */
whole: boolean, 
/**
 * Pages in the file (PDF).
 */
pages: number | null, 
/**
 * What reading left out, if anything.
 */
note: string | null, 
/**
 * Passages the document was split into.
 */
passage_count: number, 
/**
 * The passages retrieved for the question, in the document's order (none when whole).
 */
passages: Array<SourcePassage>, };

export type SourcePassage = { number: number, text: string, };

export type Approval = "once" | "always" | "deny";

export type Turn = { "kind": "send", parent_id: number | null, text: string, attachments: Array<NewAttachment>, } | { "kind": "regenerate", question_id: number, } | { "kind": "edit", message_id: number, text: string, } | { "kind": "continue", answer_id: number, };

export type TurnRequest = { 
/**
 * `None`: a new conversation, titled from the first question.
 */
conversation_id: number | null, turn: Turn, 
/**
 * "Start reply with": the answer begins with this text.
 */
reply_prefix: string | null, sampling: SamplingParams, overflow: OverflowPolicy, 
/**
 * The preset's system prompt (after the persona's).
 */
system_prompt: string, preset_id: number | null, persona_id: number | null, 
/**
 * The model file answering (remembered with the conversation).
 */
model: string | null, 
/**
 * What `{{user}}` expands to.
 */
user_name: string, 
/**
 * A new conversation with a persona: which of its greetings opens it (0: the greeting,
 * 1…: its alternates).
 */
greeting: number, 
/**
 * How hard a reasoning model thinks (`None`: the model's default).
 */
reasoning_effort: ReasoningEffort | null, 
/**
 * Most tokens a reasoning model thinks for before its thought is closed.
 */
thinking_budget: number | null, 
/**
 * The first step must call one of the tools offered (held to their schemas by a grammar).
 */
require_tool: boolean, 
/**
 * The MCP servers whose tools the conversation offers (by name in `mcp.json`; kept with
 * the conversation). Whoever runs the turn offers them through its [`ToolHost`].
 */
tools: Array<string>, };

export type NewAttachment = { name: string, mime: string, 
/**
 * The bytes, base64.
 */
data: string, };

export type TurnEvent = { "kind": "started", conversation_id: number, title: string, added: Array<StoredMessage>, answer_id: number, } | { "kind": "reasoning", text: string, } | { "kind": "thought_ended", ms: number, } | { "kind": "text", text: string, 
/**
 * Tokens of the context in use once this text is out (the prompt and the answer so
 * far; `None` for text the engine did not make: "Start reply with").
 */
context_used: number | null, } | { "kind": "done", stats: GenerationStats, } | { "kind": "tool_calls", answer_id: number, calls: Array<ToolCallRecord>, } | { "kind": "tool_approval", call_id: string, } | { "kind": "tool_running", call_id: string, } | { "kind": "tool_result", call_id: string, result: ToolCallResult, } | { "kind": "reading", name: string, done: number, total: number, } | { "kind": "sources", question_id: number, sources: Array<DocumentSource>, } | { "kind": "continued", answer_id: number, } | { "kind": "error", message: string, };

export type SortBy = "downloads" | "likes" | "recently_updated";

export type SearchQuery = { text: string, sort: SortBy, 
/**
 * Zero-based page of `page_size` results (pages load as the user scrolls).
 */
page: number, page_size: number, };

export type RepoSummary = { id: string, author: string, name: string, downloads: number, likes: number, last_modified: string | null, tags: Array<string>, 
/**
 * Access must be requested on the Hub (and a token set) before downloading.
 */
gated: boolean, };

export type RepoPage = { id: string, commit: string, readme: string, entries: Array<GgufEntry>, };

export type RemoteFit = { summary: GgufSummary, fit: FitPlan, };

export type TokenSource = "keyring" | "session" | "environment" | "none";

export type HubSettings = { 
/**
 * The endpoint in use.
 */
endpoint: string, 
/**
 * The endpoint saved in the settings (empty: the default, or `HF_ENDPOINT`).
 */
saved_endpoint: string, 
/**
 * Where the token in use comes from.
 */
token: TokenSource, 
/**
 * Whose token it is, when the Hub says so (`None` without a token or when unreachable).
 */
account: string | null, 
/**
 * Why the account is unknown (the Hub refused the token, or could not be reached).
 */
account_error: string | null, };

export type ModelSource = { "kind": "hf_cache", repo: string, commit: string, } | { "kind": "folder", folder: string, } | { "kind": "imported" } | { "kind": "lm_studio" } | { "kind": "ollama", model: string, };

export type LibraryModel = { 
/**
 * What the user sees: the file name (split suffix removed) or Ollama's `name:tag`.
 */
name: string, 
/**
 * The file llama.cpp loads (part 1 of a split model).
 */
path: string, parts: Array<string>, 
/**
 * Bytes of all parts.
 */
size: number, quant: string | null, source: ModelSource, 
/**
 * The header as the engine's validator reads it; `None` with `error` set when the file is
 * not a usable GGUF (it is still listed, so the user can see why and delete it).
 */
summary: GgufSummary | null, error: string | null, 
/**
 * The vision projector beside it (`mmproj-*.gguf` in its folder), loaded with it: the
 * model then sees images.
 */
projector: string | null, 
/**
 * An embedding model (bert, nomic-bert…): it searches attached documents, it does not chat.
 */
embedding: boolean, };

export type MessageStatus = "complete" | "streaming" | "stopped" | "error" | "interrupted";

export type ConversationInfo = { id: number, title: string, created_at: number, updated_at: number, pinned: boolean, current_leaf_id: number | null, 
/**
 * The model file it was last used with.
 */
model: string | null, preset_id: number | null, persona_id: number | null, 
/**
 * The MCP servers whose tools it offers (by name in `mcp.json`).
 */
tools: Array<string>, };

export type StoredMessage = { id: number, conversation_id: number, parent_id: number | null, role: Role, content: string, status: MessageStatus, created_at: number, 
/**
 * The generation's figures (time to first token, tokens/s…) as the engine reported them.
 */
stats: GenerationStats | null, 
/**
 * Why the answer failed, if it did.
 */
error: string | null, 
/**
 * A reasoning model's thought before this answer, kept apart from its text.
 */
reasoning: string | null, 
/**
 * How long the model thought (from its first thought to its answer's first words).
 */
reasoning_ms: number | null, 
/**
 * The tools this answer called, each with its result once it ran.
 */
tool_calls: Array<ToolCallRecord>, 
/**
 * Files the user attached to this message (images, documents), by reference.
 */
attachments: Array<Attachment>, 
/**
 * A question's documents as the model was given them: whole, or the passages retrieved.
 */
sources: Array<DocumentSource>, };

export type BranchMessage = { 
/**
 * 1-based position among the messages with the same parent, oldest first.
 */
sibling_index: number, sibling_count: number, id: number, conversation_id: number, parent_id: number | null, role: Role, content: string, status: MessageStatus, created_at: number, 
/**
 * The generation's figures (time to first token, tokens/s…) as the engine reported them.
 */
stats: GenerationStats | null, 
/**
 * Why the answer failed, if it did.
 */
error: string | null, 
/**
 * A reasoning model's thought before this answer, kept apart from its text.
 */
reasoning: string | null, 
/**
 * How long the model thought (from its first thought to its answer's first words).
 */
reasoning_ms: number | null, 
/**
 * The tools this answer called, each with its result once it ran.
 */
tool_calls: Array<ToolCallRecord>, 
/**
 * Files the user attached to this message (images, documents), by reference.
 */
attachments: Array<Attachment>, 
/**
 * A question's documents as the model was given them: whole, or the passages retrieved.
 */
sources: Array<DocumentSource>, };

export type BranchPage = { messages: Array<BranchMessage>, has_more: boolean, };

export type ConversationView = { conversation: ConversationInfo, messages: Array<BranchMessage>, has_more: boolean, };

export type SearchHit = { conversation_id: number, conversation_title: string, message_id: number, snippet: string, };

export type PresetParams = { system_prompt: string, sampling: SamplingParams, overflow: OverflowPolicy, context_length: number | null, gpu_layers: number | null, kv_cache_type: KvCacheType | null, flash_attention: FlashAttention | null, 
/**
 * How hard a reasoning model thinks (`None`: the model's default).
 */
reasoning_effort: ReasoningEffort | null, 
/**
 * Most tokens a reasoning model thinks for before its thought is closed.
 */
thinking_budget: number | null, 
/**
 * The MCP servers whose tools the chat offers (by name in `mcp.json`).
 */
tools: Array<string>, 
/**
 * The model must call one of the tools first (for models that do not on their own).
 */
require_tool: boolean, 
/**
 * Drafted tokens (`None`: the load's own choice).
 */
drafting: Drafting | null, };

export type Preset = { id: number, name: string, 
/**
 * Built-ins are read-only (duplicate one to change it).
 */
builtin: boolean, params: PresetParams, };

export type LoreEntry = { 
/**
 * Any of these in the latest messages brings the entry in.
 */
keys: Array<string>, content: string, enabled: boolean, 
/**
 * Always in, keywords or not.
 */
constant: boolean, case_sensitive: boolean, 
/**
 * Lower first.
 */
insertion_order: number, };

export type PersonaDraft = { name: string, 
/**
 * An emoji or short text, or a `data:image/(png|jpeg|webp);base64,…` URL; never a remote
 * address (nothing is fetched) and never SVG (it can carry script).
 */
avatar: string, description: string, system_prompt: string, greeting: string, 
/**
 * Other openings the user can pick instead of `greeting` (‹ › on the greeting).
 */
alternate_greetings: Array<string>, example_dialogue: string, 
/**
 * Facts told to the model when the conversation mentions their keywords.
 */
lorebook: Array<LoreEntry>, };

export type Persona = { id: number, name: string, 
/**
 * An emoji or short text, or a `data:image/(png|jpeg|webp);base64,…` URL; never a remote
 * address (nothing is fetched) and never SVG (it can carry script).
 */
avatar: string, description: string, system_prompt: string, greeting: string, 
/**
 * Other openings the user can pick instead of `greeting` (‹ › on the greeting).
 */
alternate_greetings: Array<string>, example_dialogue: string, 
/**
 * Facts told to the model when the conversation mentions their keywords.
 */
lorebook: Array<LoreEntry>, };

export type ServerEntry = { command: string, args?: Array<string>, env?: { [key in string]: string }, cwd?: string | null, } | { url: string, headers?: { [key in string]: string }, };

export type McpTool = { name: string, description: string, 
/**
 * The JSON schema of its arguments.
 */
input_schema: Record<string, unknown>, };

export type McpServerView = { name: string, entry: ServerEntry, 
/**
 * What it runs or where it is (header values left out).
 */
description: string, 
/**
 * Switched on: started for the chat and checked on the page.
 */
enabled: boolean, };

export type AllowedTool = { 
/**
 * The MCP server's name in `mcp.json`.
 */
server: string, tool: string, 
/**
 * The server's [`fingerprint`] when it was allowed. Empty in what older versions saved:
 * such an allowance holds for no server (its tools are asked about again).
 */
fingerprint: string, };

export type AppInfo = { version: string, 
/**
 * The llama.cpp (ggml) the engine was built from.
 */
ggml_version: string, ggml_commit: string, 
/**
 * The CPU features llama.cpp's CPU backend uses (its system info line).
 */
cpu_features: string, 
/**
 * Which CPU backend runs: `native` (built for this machine) or the package's variant
 * picked for this CPU (`haswell`, `sse42`, …).
 */
cpu_backend: string, 
/**
 * The backend files loaded (a package), file names only.
 */
backend_files: Array<string>, data_dir: string, logs_dir: string, };

export type CrashReport = { 
/**
 * The panic's message and where it happened.
 */
message: string, 
/**
 * When (milliseconds since the Unix epoch).
 */
at_ms: number, 
/**
 * The log file it was written to.
 */
log: string | null, };

export type BackgroundSettings = { 
/**
 * Closing the window while the server is on, an answer streams or a download runs keeps
 * Sirocco running in the tray (off: closing quits).
 */
keepRunning: boolean, 
/**
 * The first close that kept Sirocco running said so (once).
 */
told: boolean, };

export type Autostart = { 
/**
 * Started without its window, the server on.
 */
hidden: boolean, };

export type KeepRunning = { 
/**
 * The server's address, while it runs.
 */
serving: string | null, answers: number, downloads: number, 
/**
 * A tray icon is shown (else the window comes back by launching Sirocco again).
 */
tray: boolean, };

export type ServerSettings = { port: number, 
/**
 * Listen on every interface (requires `api_key`).
 */
lan: boolean, api_key: string | null, 
/**
 * Web pages allowed to call the server from a browser (CORS), beyond pages on this
 * machine; none by default.
 */
cors_origins: Array<string>, 
/**
 * Host names requests may name the server by, beyond 127.0.0.1, localhost and [::1] (and,
 * on the network, this machine's addresses and name); none by default.
 */
trusted_hosts: Array<string>, 
/**
 * Requests may name any library model; it is loaded with its own saved settings.
 */
on_demand: boolean, 
/**
 * A model loaded on demand is unloaded after this many idle minutes (0: never).
 */
idle_minutes: number, 
/**
 * Start the server when Sirocco opens, with these settings.
 */
start_at_launch: boolean, 
/**
 * Fetch images that requests name by a web address (off: refused, nothing fetched).
 */
fetch_images: boolean, 
/**
 * Also serve on Ollama's port (11434), where its clients look by default, when it is free.
 */
ollama_port: boolean, };

export type ServerStatus = { running: boolean, 
/**
 * The address clients use, e.g. `http://127.0.0.1:1234/v1`.
 */
base_url: string | null, 
/**
 * The models loaded now (each answers under this id).
 */
models: Array<string>, 
/**
 * Where Ollama's clients reach it too (`http://127.0.0.1:11434`), when it serves there.
 */
ollama_url: string | null, 
/**
 * Another Sirocco (the background service, a `sirocco serve`) serves the saved port while
 * this one does not: its address. The app uses it instead of starting a second server.
 */
elsewhere: string | null, };

export type RequestLogEntry = { method: string, path: string, status: number, millis: number, };

export type AttachableKind = { 
/**
 * What a person calls it (`PNG`, `Word`…).
 */
label: string, 
/**
 * An image (for vision models); else a document whose text the model reads.
 */
image: boolean, 
/**
 * The media types it comes with, the one kept first.
 */
mimes: Array<string>, 
/**
 * File name extensions, lower case, without the dot.
 */
extensions: Array<string>, };

export type AttachmentRules = { 
/**
 * The largest file, in bytes (the store's limit).
 */
max_bytes: number, 
/**
 * Images first, then documents.
 */
kinds: Array<AttachableKind>, };

export const ATTACHMENT_RULES: AttachmentRules = {"max_bytes":20971520,"kinds":[{"label":"PNG","image":true,"mimes":["image/png"],"extensions":["png"]},{"label":"JPEG","image":true,"mimes":["image/jpeg"],"extensions":["jpg","jpeg"]},{"label":"WebP","image":true,"mimes":["image/webp"],"extensions":["webp"]},{"label":"GIF","image":true,"mimes":["image/gif"],"extensions":["gif"]},{"label":"BMP","image":true,"mimes":["image/bmp"],"extensions":["bmp"]},{"label":"PDF","image":false,"mimes":["application/pdf"],"extensions":["pdf"]},{"label":"Word","image":false,"mimes":["application/vnd.openxmlformats-officedocument.wordprocessingml.document"],"extensions":["docx"]},{"label":"Markdown","image":false,"mimes":["text/markdown","text/x-markdown"],"extensions":["md","markdown"]},{"label":"Text","image":false,"mimes":["text/plain"],"extensions":["txt","text","log","csv"]}]};
