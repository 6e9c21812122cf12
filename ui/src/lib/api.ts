// Typed wrappers over the Tauri commands in src-tauri/src/commands/.
import type {
  DownloadPhase,
  DownloadProgress,
  ErrorKind,
  GgufEntry,
  IpcError,
  QueuedDownload,
  QueuedState,
  RemoteFile,
} from './bindings';
export type { DownloadPhase, DownloadProgress, ErrorKind, GgufEntry, IpcError, QueuedDownload, QueuedState, RemoteFile };
import { Channel, invoke } from '@tauri-apps/api/core';

export type Role = 'system' | 'user' | 'assistant';
export interface ChatMessage {
  role: Role;
  content: string;
}

export interface ModelFile {
  path: string;
  file_name: string;
  size_bytes: number;
}
export interface ModelsFolder {
  folder: string;
  models: ModelFile[];
}

export interface GgufSummary {
  architecture: string;
  name: string | null;
  file_size: number;
  block_count: number | null;
  context_length: number | null;
  head_count: number | null;
  head_count_kv: number | null;
  expert_count: number | null;
  expert_used_count: number | null;
  chat_template: string | null;
  /** Weights in the whole model (every part of a split model). */
  parameter_count: number;
}
export interface LoadedModel {
  summary: GgufSummary;
  context_length: number;
  threads: number;
  load_ms: number;
}

export type FinishReason = 'stop' | 'length' | 'context_full' | 'cancelled';
export interface GenerationStats {
  prompt_tokens: number;
  /** Prompt tokens kept from the previous turn's KV cache. */
  cached_tokens: number;
  generated_tokens: number;
  time_to_first_token_ms: number;
  prefill_tokens_per_second: number;
  decode_tokens_per_second: number;
  context_used: number;
  context_length: number;
  finish_reason: FinishReason;
}
export type GenerationEvent =
  | { kind: 'text'; text: string }
  | { kind: 'done'; stats: GenerationStats }
  | { kind: 'error'; message: string };

export interface SamplingParams {
  temperature: number;
  top_k: number;
  top_p: number;
  min_p: number;
  repeat_penalty: number;
  presence_penalty: number;
  frequency_penalty: number;
  penalty_last_n: number;
  seed: number;
  max_tokens: number;
  ignore_eos: boolean;
  stop: string[];
  grammar: string | null;
  json_schema: unknown;
}
export type OverflowPolicy = 'stop' | 'drop_middle' | 'rolling_window';

/** Every command fails with an `IpcError`: a kind the page branches on, and a message meant
 *  for a person (shown, never parsed). */
export function errorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/** The kind of a command's error; `other` for anything that is not an `IpcError`. */
export function errorKind(e: unknown): ErrorKind {
  const kind = e && typeof e === 'object' && 'kind' in e ? (e as { kind: unknown }).kind : null;
  return typeof kind === 'string' ? (kind as ErrorKind) : 'other';
}

export const listModels = () => invoke<ModelsFolder>('list_models');

export type KvCacheType = 'f16' | 'q8_0' | 'q4_0';
export type FlashAttention = 'auto' | 'on' | 'off';

export interface LoadParams {
  context_length: number | null;
  gpu_layers: number;
  kv_cache_type: KvCacheType;
  flash_attention: FlashAttention;
  /** `null`: the machine's physical cores. */
  threads: number | null;
  batch_size: number;
  use_mmap: boolean;
  use_mlock: boolean;
  /** Mixture-of-experts models: experts in RAM, the rest on the GPU. */
  moe_experts_on_cpu: boolean;
}

export function loadModel(path: string, params: Partial<LoadParams>, onProgress: (fraction: number) => void) {
  const channel = new Channel<number>();
  channel.onmessage = onProgress;
  return invoke<LoadedModel>('load_model', { path, params, onProgress: channel });
}

export interface Hardware {
  ram_total: number;
  ram_available: number;
  vram_free: number;
  gpus: { name: string; backend: string; memory_total: number; memory_free: number }[];
  cpu_name: string;
  physical_cores: number;
  logical_cores: number;
  cpu_features: string[];
}

export type FitVerdict =
  | { kind: 'fully_on_gpu' }
  | { kind: 'partial_offload'; gpu_layers: number; total_layers: number }
  | { kind: 'cpu_only' }
  | { kind: 'too_large' };

export interface MemoryEstimate {
  weights_ram: number;
  weights_vram: number;
  kv_ram: number;
  kv_vram: number;
  compute_ram: number;
  compute_vram: number;
  runtime_ram: number;
}

export interface ModelPlan {
  summary: GgufSummary;
  hardware: Hardware;
  fit: {
    verdict: FitVerdict; gpu_layers: number; experts_on_cpu: boolean; context_length: number; estimate: MemoryEstimate;
    /** Other machines' devices that take part ("fits across this machine and N others"). */
    workers_used: number;
  };
  /** Other machines a load with GPU layers would use (enabled under "Other machines"). */
  workers: string[];
  /** Free memory of each of their devices that answered (after the local GPUs, in the fit's order). */
  worker_memory: number[];
}

/** One offload device's share of a load (sirocco-engine's planner::DeviceShare). */
export interface DeviceShare {
  first_layer: number;
  end_layer: number;
  output: boolean;
  weights: number;
  kv: number;
  compute: number;
}
export type SplitEstimate = MemoryEstimate & { devices: DeviceShare[] };

export const planModel = (path: string) => invoke<ModelPlan>('plan_model', { path });

export interface PlanRequest {
  gpu_layers: number;
  context_length: number;
  kv_cache_type: KvCacheType;
  flash_attention: FlashAttention;
  batch_size: number;
  sequences: number;
  experts_on_cpu: boolean;
}

/** `devices`: each offload device's free memory (local GPUs, then other machines' devices):
 *  the estimate then gives each one's share. */
export const estimateMemory = (path: string, request: PlanRequest, devices: number[] | null = null) =>
  invoke<SplitEstimate>('estimate_memory', { path, request, devices });

export const ramOf = (e: MemoryEstimate) => e.weights_ram + e.kv_ram + e.compute_ram + e.runtime_ram;
export const vramOf = (e: MemoryEstimate) => e.weights_vram + e.kv_vram + e.compute_vram;

export const cancelLoad = () => invoke<void>('cancel_load');

/** Stops the answer streaming under `stream` (`chat`, `arena-0`…; every answer when absent). */
export const stopGeneration = (stream?: string) => invoke<void>('stop_generation', { stream: stream ?? null });

/** A model the app holds (src-tauri/src/commands/models.rs, sirocco-host's ResidentModel). */
export interface ResidentModel {
  id: string;
  path: string;
  status: 'loading' | 'loaded' | 'unloading';
  /** `user`: loaded in the app; `server`: a request named it (idleness and other requests may unload it). */
  loaded_by: 'user' | 'server';
  memory: { ram: number; vram: number };
  in_use: number;
  /** Unix milliseconds since nothing has used it; null while in use. */
  idle_since_ms: number | null;
  model: LoadedModel | null;
}
export const loadedModels = () => invoke<ResidentModel[]>('loaded_models');
/** Ejects a model once the answers using it are done. */
export const unloadModel = (id: string) => invoke<void>('unload_model', { id });

/** The limits on models kept loaded (src-tauri/src/settings.rs ModelMemory). */
export interface ModelMemory {
  /** null: as many as fit, at most 4. */
  max_models: number | null;
  /** RAM left free for other apps, in bytes. */
  reserve_ram: number;
}
export interface ModelMemoryView {
  settings: ModelMemory;
  /** The most models kept loaded, the default filled in. */
  max_models: number;
  /** What "as many as fit" stops at. */
  default_max_models: number;
  budget_ram: number;
  total_ram: number;
}
export const modelMemory = () => invoke<ModelMemoryView>('model_memory');
/** Applies from the next load; saved for the next start. */
export const setModelMemory = (settings: ModelMemory) => invoke<ModelMemoryView>('set_model_memory', { settings });

/** Another machine running `sirocco worker` (src-tauri/src/commands/workers.rs). */
export type WorkerView = { endpoint: string; enabled: boolean } & (
  | { state: 'ready'; devices: { free: number; total: number }[] }
  /** A loaded model uses it (a worker serves one machine at a time). */
  | { state: 'in_use'; model: string }
  | { state: 'unreachable'; message: string }
);
export const workersList = () => invoke<WorkerView[]>('workers_list');
/** Checks the machine first: one that does not answer as a worker is not added. */
export const workerAdd = (endpoint: string) => invoke<WorkerView[]>('worker_add', { endpoint });
export const workerRemove = (endpoint: string) => invoke<WorkerView[]>('worker_remove', { endpoint });
/** From the next load on. */
export const workerSetEnabled = (endpoint: string, enabled: boolean) =>
  invoke<WorkerView[]>('worker_set_enabled', { endpoint, enabled });

// ---- Model hub (src-tauri/src/commands/hub.rs) and library (library.rs) ----

export type SortBy = 'downloads' | 'likes' | 'recently_updated';
export interface SearchQuery {
  text: string;
  sort: SortBy;
  page: number;
  page_size: number;
}
export interface RepoSummary {
  id: string;
  author: string;
  name: string;
  downloads: number;
  likes: number;
  last_modified: string | null;
  tags: string[];
  gated: boolean;
}
export interface RepoPage {
  id: string;
  commit: string;
  readme: string;
  entries: GgufEntry[];
}
export interface RemoteFit {
  summary: GgufSummary;
  fit: ModelPlan['fit'];
}

export const hubSearch = (query: SearchQuery) => invoke<RepoSummary[]>('hub_search', { query });
export const hubRepo = (id: string) => invoke<RepoPage>('hub_repo', { id });
/** `parts`: every file of the model (a split model's parts, part 1 first). */
export const hubFit = (id: string, commit: string, parts: RemoteFile[]) =>
  invoke<RemoteFit>('hub_fit', { id, commit, parts });

function progressChannel(onProgress: (p: DownloadProgress) => void) {
  const channel = new Channel<DownloadProgress>();
  channel.onmessage = onProgress;
  return channel;
}
/** The download queue (kept by Rust in the HF cache, shared with `sirocco pull`). */
export const downloadList = () => invoke<QueuedDownload[]>('download_list');
/** Queues `entry` of `id` and downloads it; resolves with the path to load once verified. */
export const downloadStart = (id: string, commit: string, entry: GgufEntry, onProgress: (p: DownloadProgress) => void) =>
  invoke<string>('download_start', { id, commit, name: entry.name, onProgress: progressChannel(onProgress) });
/** Resumes a queued download from what is on disk. */
export const downloadResume = (key: string, onProgress: (p: DownloadProgress) => void) =>
  invoke<string>('download_resume', { key, onProgress: progressChannel(onProgress) });
export const downloadPause = (key: string) => invoke<void>('download_pause', { key });
/** Takes `key` out of the queue and deletes what it fetched. */
export const downloadCancel = (key: string) => invoke<void>('download_cancel', { key });

export type ModelSource =
  | { kind: 'hf_cache'; repo: string; commit: string }
  | { kind: 'folder'; folder: string }
  | { kind: 'imported' }
  | { kind: 'lm_studio' }
  | { kind: 'ollama'; model: string };
export interface LibraryModel {
  name: string;
  path: string;
  parts: string[];
  size: number;
  quant: string | null;
  source: ModelSource;
  summary: GgufSummary | null;
  error: string | null;
}
export const libraryList = () => invoke<LibraryModel[]>('library_list');
export const libraryDelete = (path: string) => invoke<number>('library_delete', { path });
/** Folders and single GGUF files added to the library (used where they are). */
export const libraryLocations = () => invoke<string[]>('library_locations');
export const libraryAdd = (path: string) => invoke<string[]>('library_add', { path });
export const libraryRemoveLocation = (path: string) => invoke<string[]>('library_remove_location', { path });
export const libraryReveal = (path: string) => invoke<void>('library_reveal', { path });

/** The Hub's endpoint and token (src-tauri/src/commands/hub_settings.rs); never the token itself. */
export interface HubSettings {
  endpoint: string;
  saved_endpoint: string;
  token: 'keyring' | 'session' | 'environment' | 'none';
  account: string | null;
  account_error: string | null;
}
export const hubSettings = () => invoke<HubSettings>('hub_settings');
export const hubSetEndpoint = (endpoint: string) => invoke<HubSettings>('hub_set_endpoint', { endpoint });
export const hubSetToken = (token: string) => invoke<HubSettings>('hub_set_token', { token });
export const hubClearToken = () => invoke<HubSettings>('hub_clear_token');
export const hardware = () => invoke<Hardware>('hardware');

// ---- Conversations, presets, personas (commands/conversations.rs, presets.rs, personas.rs, chat.rs) ----

export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'error' | 'interrupted';
export interface StoredMessage {
  id: number;
  conversation_id: number;
  parent_id: number | null;
  role: Role;
  content: string;
  status: MessageStatus;
  created_at: number;
  stats: GenerationStats | null;
  error: string | null;
}
export interface BranchMessage extends StoredMessage {
  sibling_index: number;
  sibling_count: number;
}
export interface ConversationInfo {
  id: number;
  title: string;
  created_at: number;
  updated_at: number;
  pinned: boolean;
  current_leaf_id: number | null;
  model: string | null;
  preset_id: number | null;
  persona_id: number | null;
}
export interface BranchPage {
  messages: BranchMessage[];
  /** Older messages of the branch exist above these. */
  has_more: boolean;
}
export interface ConversationView extends BranchPage {
  conversation: ConversationInfo;
}
export interface SearchHit {
  conversation_id: number;
  conversation_title: string;
  message_id: number;
  snippet: string;
}

export type Turn =
  | { kind: 'send'; parent_id: number | null; text: string }
  | { kind: 'regenerate'; question_id: number }
  | { kind: 'edit'; message_id: number; text: string }
  | { kind: 'continue'; answer_id: number };
export interface TurnRequest {
  conversation_id: number | null;
  turn: Turn;
  reply_prefix?: string | null;
  sampling?: Partial<SamplingParams>;
  overflow?: OverflowPolicy;
  system_prompt?: string;
  preset_id?: number | null;
  persona_id?: number | null;
  model?: string | null;
  user_name?: string;
  /** A new conversation with a persona: which greeting opens it (0: the greeting, 1…: alternates). */
  greeting?: number;
}
export type TurnEvent =
  | { kind: 'started'; conversation_id: number; title: string; added: StoredMessage[]; answer_id: number }
  | { kind: 'text'; text: string }
  | { kind: 'done'; stats: GenerationStats }
  | { kind: 'error'; message: string };

export function chatTurn(request: TurnRequest, onEvent: (event: TurnEvent) => void) {
  const channel = new Channel<TurnEvent>();
  channel.onmessage = onEvent;
  return invoke<number>('chat_turn', { request, onEvent: channel });
}

export const conversationsList = () => invoke<ConversationInfo[]>('conversations_list');
/** Opens a conversation; `through` (a search hit's message) picks the branch that holds it. */
/** The user left a conversation: its cache is saved so coming back is fast, even after a restart. */
export const conversationLeave = (id: number) => invoke<boolean>('conversation_leave', { id });
export const conversationOpen = (id: number, through: number | null = null) =>
  invoke<ConversationView>('conversation_open', { id, through });
export const conversationRename = (id: number, title: string) => invoke<void>('conversation_rename', { id, title });
export const conversationPin = (id: number, pinned: boolean) => invoke<void>('conversation_pin', { id, pinned });
export const conversationDelete = (id: number) => invoke<void>('conversation_delete', { id });
export const conversationsSearch = (text: string) => invoke<SearchHit[]>('conversations_search', { text });
export const conversationExportReveal = (path: string) => invoke<void>('conversation_export_reveal', { path });
export const conversationExport = (id: number | null, markdown: boolean) =>
  invoke<string>('conversation_export', { id, markdown });
export const conversationsImport = (json: string) => invoke<number[]>('conversations_import', { json });
export const conversationOlder = (id: number, before: number) => invoke<BranchPage>('conversation_older', { id, before });
export const messageShowSibling = (id: number, step: -1 | 1) => invoke<BranchPage>('message_show_sibling', { id, step });
export const messageDelete = (id: number) => invoke<BranchPage>('message_delete', { id });
export const messageEditAnswer = (id: number, text: string) => invoke<BranchPage>('message_edit_answer', { id, text });

export interface PresetParams {
  system_prompt: string;
  sampling: SamplingParams;
  overflow: OverflowPolicy;
  context_length: number | null;
  gpu_layers: number | null;
  kv_cache_type: KvCacheType | null;
  flash_attention: FlashAttention | null;
}
export interface Preset {
  id: number;
  name: string;
  builtin: boolean;
  params: PresetParams;
}
export const presetsList = () => invoke<Preset[]>('presets_list');
export const presetSave = (id: number | null, name: string, params: PresetParams) =>
  invoke<number>('preset_save', { id, name, params });
export const presetDuplicate = (id: number) => invoke<number>('preset_duplicate', { id });
export const presetDelete = (id: number) => invoke<void>('preset_delete', { id });
export const modelPresetGet = (path: string) => invoke<number | null>('model_preset_get', { path });
export const modelPresetSet = (path: string, presetId: number) => invoke<void>('model_preset_set', { path, presetId });

export interface PersonaDraft {
  name: string;
  avatar: string;
  description: string;
  system_prompt: string;
  greeting: string;
  /** Other openings (‹ › on the greeting). */
  alternate_greetings: string[];
  example_dialogue: string;
  /** Facts told to the model when the latest messages mention a keyword (from a card). */
  lorebook?: LoreEntry[];
}
export interface LoreEntry {
  keys: string[];
  content: string;
  enabled: boolean;
  constant: boolean;
  case_sensitive: boolean;
  insertion_order: number;
}
export interface Persona extends PersonaDraft {
  id: number;
}
export const personasList = () => invoke<Persona[]>('personas_list');
export const personaSave = (id: number | null, draft: PersonaDraft) => invoke<number>('persona_save', { id, draft });
export const personaDelete = (id: number) => invoke<void>('persona_delete', { id });
export const personaImportCard = (base64: string) => invoke<Persona>('persona_import_card', { base64 });


/** Arena: an answer that is not saved. */
export function arenaGenerate(
  messages: ChatMessage[],
  sampling: SamplingParams,
  model: string | null,
  stream: string,
  onEvent: (e: GenerationEvent) => void,
) {
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  return invoke<void>('arena_generate', { messages, sampling, model, stream, onEvent: channel });
}

// ---- Local server (commands/server.rs) ----
export interface ServerStatus {
  running: boolean;
  base_url: string | null;
  /** The models loaded now; each answers under its id. */
  models: string[];
}
export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  millis: number;
}
export interface ServerSettings {
  port: number;
  lan: boolean;
  api_key: string | null;
  cors_origins: string[];
  /** Requests may name any library model: it is loaded with its own saved settings. */
  on_demand: boolean;
  /** A model loaded that way is unloaded after this many idle minutes (0: never). */
  idle_minutes: number;
}
export function serverStart(settings: ServerSettings, onRequest: (e: RequestLogEntry) => void) {
  const channel = new Channel<RequestLogEntry>();
  channel.onmessage = onRequest;
  return invoke<ServerStatus>('server_start', { settings, onRequest: channel });
}
export const serverStop = () => invoke<ServerStatus>('server_stop');
export const serverStatus = () => invoke<ServerStatus>('server_status');
