import type { KvCacheType, LoadParams, SamplingParams } from './api';

/** What the settings panel edits: how the model is loaded, and how replies are sampled. */
export interface ChatSettings {
  context_length: number;
  gpu_layers: number;
  kv_cache_type: KvCacheType;
  temperature: number;
  top_p: number;
  max_tokens: number;
}

export const defaultSettings = (): ChatSettings => ({
  context_length: 4096,
  gpu_layers: 0,
  kv_cache_type: 'f16',
  temperature: 0.7,
  top_p: 0.95,
  max_tokens: 1024,
});

export function loadParamsOf(s: ChatSettings): LoadParams {
  return {
    context_length: s.context_length,
    gpu_layers: s.gpu_layers,
    kv_cache_type: s.kv_cache_type,
    // A quantized cache needs flash attention; f16 lets llama.cpp decide.
    flash_attention: s.kv_cache_type === 'f16' ? 'auto' : 'on',
  };
}

export function samplingOf(s: ChatSettings): Partial<SamplingParams> {
  return { temperature: s.temperature, top_p: s.top_p, max_tokens: s.max_tokens };
}

/** True when the loaded model must be reloaded for `next` to take effect. */
export function needsReload(loaded: LoadParams | null, next: ChatSettings): boolean {
  if (!loaded) return false;
  const want = loadParamsOf(next);
  return (
    loaded.context_length !== want.context_length ||
    loaded.gpu_layers !== want.gpu_layers ||
    loaded.kv_cache_type !== want.kv_cache_type
  );
}
