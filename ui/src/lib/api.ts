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

export function loadModel(path: string, onProgress: (fraction: number) => void) {
  const channel = new Channel<number>();
  channel.onmessage = onProgress;
  return invoke<LoadedModel>('load_model', { path, params: null, onProgress: channel });
}

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
