// Typed wrappers over the Tauri commands in src-tauri/src/commands/.
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
  seed: number;
  max_tokens: number;
}

/** The IPC error type carries a message meant for a person. */
export function errorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

export const listModels = () => invoke<ModelsFolder>('list_models');

export type KvCacheType = 'f16' | 'q8_0' | 'q4_0';
export type FlashAttention = 'auto' | 'on' | 'off';

export interface LoadParams {
  context_length: number | null;
  gpu_layers: number;
  kv_cache_type: KvCacheType;
  flash_attention: FlashAttention;
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
  fit: { verdict: FitVerdict; gpu_layers: number; context_length: number; estimate: MemoryEstimate };
}

export const planModel = (path: string) => invoke<ModelPlan>('plan_model', { path });

export interface PlanRequest {
  gpu_layers: number;
  context_length: number;
  kv_cache_type: KvCacheType;
  flash_attention: FlashAttention;
  batch_size: number;
  sequences: number;
}

export const estimateMemory = (path: string, request: PlanRequest) =>
  invoke<MemoryEstimate>('estimate_memory', { path, request });

export const ramOf = (e: MemoryEstimate) => e.weights_ram + e.kv_ram + e.compute_ram + e.runtime_ram;
export const vramOf = (e: MemoryEstimate) => e.weights_vram + e.kv_vram + e.compute_vram;

export const cancelLoad = () => invoke<void>('cancel_load');

export function sendMessage(
  messages: ChatMessage[],
  sampling: Partial<SamplingParams> | null,
  onEvent: (event: GenerationEvent) => void,
) {
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  return invoke<void>('send_message', { messages, sampling, onEvent: channel });
}

export const stopGeneration = () => invoke<void>('stop_generation');

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
export interface RemoteFile {
  path: string;
  size: number;
  sha256: string | null;
}
export interface GgufEntry {
  name: string;
  quant: string | null;
  parts: RemoteFile[];
  total_size: number;
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
export type DownloadPhase =
  | { kind: 'downloading' }
  | { kind: 'retrying'; attempt: number; delay_ms: number; error: string }
  | { kind: 'verifying' }
  | { kind: 'done' };
export interface DownloadProgress {
  file: string;
  downloaded: number;
  total: number;
  bytes_per_second: number;
  eta_seconds: number | null;
  phase: DownloadPhase;
}

export const hubSearch = (query: SearchQuery) => invoke<RepoSummary[]>('hub_search', { query });
export const hubRepo = (id: string) => invoke<RepoPage>('hub_repo', { id });
export const hubFit = (id: string, commit: string, file: RemoteFile) =>
  invoke<RemoteFit>('hub_fit', { id, commit, file });

export function downloadStart(id: string, commit: string, entry: GgufEntry, onProgress: (p: DownloadProgress) => void) {
  const channel = new Channel<DownloadProgress>();
  channel.onmessage = onProgress;
  return invoke<string>('download_start', { id, commit, name: entry.name, onProgress: channel });
}
export const downloadPause = (id: string, entry: GgufEntry) => invoke<void>('download_pause', { id, name: entry.name });
export const downloadCancel = (id: string, commit: string, entry: GgufEntry) =>
  invoke<void>('download_cancel', { id, commit, name: entry.name });

export type ModelSource =
  | { kind: 'hf_cache'; repo: string; commit: string }
  | { kind: 'folder'; folder: string }
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
export const hardware = () => invoke<Hardware>('hardware');
