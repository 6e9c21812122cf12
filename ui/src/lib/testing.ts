// Values the state modules' unit tests build on: whole objects of the generated types, with the
// fields a test cares about given.
import type { GgufSummary, LoadedModel, ModelPlan, Persona, Preset, PresetParams, ResidentModel } from './api';

export function summary(extra: Partial<GgufSummary> = {}): GgufSummary {
  return {
    path: '/m/a.gguf', file_size: 1000, architecture: 'llama', name: null, tensor_count: 1, tensor_bytes: 900,
    block_count: 30, context_length: 8192, embedding_length: 576, head_count: 9, head_count_kv: 3,
    sliding_window: null, expert_count: null, expert_used_count: null, chat_template: null, split_count: 1,
    feed_forward_length: 1536, key_length: null, value_length: null, vocab_size: 49152, other_bytes: 0,
    parameter_count: 135_000_000, expert_bytes: [], output_norm_bytes: 0, output_head_bytes: 0, token_embd_bytes: 0,
    vocabulary: null, ...extra,
  };
}

export function loadedModel(extra: Partial<LoadedModel> = {}): LoadedModel {
  return {
    summary: summary(), context_length: 4096, threads: 2, parallel: 4, load_ms: 50,
    prompt_format: { kind: 'model_template' }, thinks: false, projector: null, drafting: null, ...extra,
  };
}

export function resident(path: string, status: ResidentModel['status'], model: LoadedModel | null = loadedModel()): ResidentModel {
  return {
    id: path, path, status, loaded_by: 'user', memory: { ram: 1, vram: 0 }, in_use: 0, idle_since_ms: null, model,
    params: {
      context_length: null, gpu_layers: 0, threads: null, batch_size: 512, flash_attention: 'auto', kv_cache_type: 'f16',
      use_mmap: true, use_mlock: false, chat_template_override: null, experts_on_cpu: false, parallel: 4, state_dir: null,
      workers: [], projector: null, drafting: { kinds: [], draft_model: null, draft_max: null, draft_min: 0, draft_p_min: 0 },
    },
  };
}

export function plan(fit: Partial<ModelPlan['fit']>, contextLength: number | null = 8192): ModelPlan {
  return {
    summary: summary({ context_length: contextLength }),
    fit: { verdict: { kind: 'cpu_only' }, gpu_layers: 0, experts_on_cpu: false, context_length: 4096, devices: [], workers_used: 0, ...fit },
  } as ModelPlan;
}

export function presetParams(extra: Partial<PresetParams> = {}, sampling: Partial<PresetParams['sampling']> = {}): PresetParams {
  return {
    system_prompt: '', overflow: 'stop', context_length: null, gpu_layers: null, kv_cache_type: null, flash_attention: null,
    reasoning_effort: null, thinking_budget: null, tools: [], require_tool: false, drafting: null,
    sampling: {
      temperature: 0.7, top_k: 40, top_p: 0.95, min_p: 0.05, repeat_penalty: 1.1, presence_penalty: 0, frequency_penalty: 0,
      penalty_last_n: 64, seed: 0xffffffff, max_tokens: 1024, ignore_eos: false, stop: [], grammar: null, json_schema: null,
      ...sampling,
    },
    ...extra,
  };
}

export const preset = (id: number, name: string, params: PresetParams = presetParams()): Preset =>
  ({ id, name, builtin: false, params });

export function persona(id: number, name: string, extra: Partial<Persona> = {}): Persona {
  return {
    id, name, avatar: '', description: '', system_prompt: '', greeting: '', alternate_greetings: [], example_dialogue: '',
    lorebook: [], ...extra,
  };
}
