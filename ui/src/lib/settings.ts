import type { Drafting, LoadParams, PresetParams, SamplingParams } from './api';

/** The load settings the page chooses (the engine's `LoadParams` has more: workers, the
 *  template override, where KV state is saved, which the app fills in itself). */
export type PageLoadParams = Pick<
  LoadParams,
  | 'context_length'
  | 'gpu_layers'
  | 'kv_cache_type'
  | 'flash_attention'
  | 'threads'
  | 'batch_size'
  | 'use_mmap'
  | 'use_mlock'
  | 'experts_on_cpu'
  | 'drafting'
>;

/** What the settings panel edits: how the model is loaded, how replies are sampled, the
 *  system prompt and the overflow policy — the fields of a preset. Built from the Rust types'
 *  fields, so a name cannot differ from theirs. `context_length` is always chosen here;
 *  `seed` is `null` for a new random seed every answer (so Regenerate gives another one). */
export type ChatSettings = Omit<PageLoadParams, 'context_length'> &
  Pick<
    SamplingParams,
    'temperature' | 'top_k' | 'top_p' | 'min_p' | 'repeat_penalty' | 'presence_penalty' | 'frequency_penalty' | 'stop' | 'max_tokens'
  > &
  Pick<PresetParams, 'system_prompt' | 'overflow' | 'reasoning_effort' | 'thinking_budget' | 'tools' | 'require_tool'> & {
    context_length: number;
    seed: number | null;
  };

/** The engine's "random seed" (llama.cpp's LLAMA_DEFAULT_SEED). */
export const RANDOM_SEED = 0xffffffff;

/** Drafting from n-grams of the conversation itself (llama-server's `--spec-default`): on
 *  unless the user turns it off. Measured (tests/bench/spec.sh, SmolLM2 on 2 cores): 1.2× the
 *  plain decode on an edit and on code, and 1.02× on a free chat — never slower, since the
 *  engine pauses drafting while its drafts are refused. Answers are the same either way. */
export const NGRAM_DRAFTING: Drafting = { kinds: ['ngram-mod'], draft_model: null, draft_max: null, draft_min: 0, draft_p_min: 0 };
export const NO_DRAFTING: Drafting = { kinds: [], draft_model: null, draft_max: null, draft_min: 0, draft_p_min: 0 };

/** How the settings panel offers drafting: off, n-grams of the conversation, or a draft model. */
export type DraftChoice = 'off' | 'ngrams' | 'model';

export function draftChoiceOf(d: Drafting): DraftChoice {
  if (d.kinds.includes('draft-simple') && d.draft_model) return 'model';
  return d.kinds.length ? 'ngrams' : 'off';
}

/** The drafting a choice means (`draftModel`: the file for 'model'; n-grams stay on beside it). */
export function draftingFor(choice: DraftChoice, draftModel: string | null): Drafting {
  if (choice === 'off') return { ...NO_DRAFTING, kinds: [] };
  if (choice === 'model' && draftModel) {
    return { ...NGRAM_DRAFTING, kinds: ['ngram-mod', 'draft-simple'], draft_model: draftModel, draft_max: 8 };
  }
  return { ...NGRAM_DRAFTING, kinds: [...NGRAM_DRAFTING.kinds] };
}

export const defaultSettings = (): ChatSettings => ({
  context_length: 4096,
  gpu_layers: 0,
  kv_cache_type: 'f16',
  flash_attention: 'auto',
  threads: null,
  batch_size: 512,
  use_mmap: true,
  use_mlock: false,
  experts_on_cpu: false,
  drafting: draftingFor('ngrams', null),
  temperature: 0.7,
  top_k: 40,
  top_p: 0.95,
  min_p: 0.05,
  repeat_penalty: 1.1,
  presence_penalty: 0,
  frequency_penalty: 0,
  seed: null,
  stop: [],
  max_tokens: 1024,
  system_prompt: '',
  overflow: 'stop',
  reasoning_effort: null,
  thinking_budget: null,
  tools: [],
  require_tool: false,
});

export function loadParamsOf(s: ChatSettings): PageLoadParams {
  return {
    context_length: s.context_length,
    gpu_layers: s.gpu_layers,
    kv_cache_type: s.kv_cache_type,
    // A quantized cache needs flash attention; with f16 it is the user's choice.
    flash_attention: s.kv_cache_type === 'f16' ? s.flash_attention : 'on',
    threads: s.threads,
    batch_size: s.batch_size,
    use_mmap: s.use_mmap,
    use_mlock: s.use_mlock,
    experts_on_cpu: s.experts_on_cpu,
    drafting: s.drafting,
  };
}

export function samplingOf(s: ChatSettings): Partial<SamplingParams> {
  return {
    temperature: s.temperature,
    top_k: s.top_k,
    top_p: s.top_p,
    min_p: s.min_p,
    repeat_penalty: s.repeat_penalty,
    presence_penalty: s.presence_penalty,
    frequency_penalty: s.frequency_penalty,
    seed: s.seed ?? RANDOM_SEED,
    stop: s.stop,
    max_tokens: s.max_tokens,
  };
}

/** True when the loaded model must be reloaded for `next` to take effect. */
export function needsReload(loaded: PageLoadParams | null, next: ChatSettings): boolean {
  if (!loaded) return false;
  const want = loadParamsOf(next);
  return (Object.keys(want) as (keyof PageLoadParams)[]).some((k) => !sameValue(loaded[k], want[k]));
}

/** Equal values; arrays and objects (stop strings, drafting) by content. */
function sameValue(x: unknown, y: unknown): boolean {
  return typeof x === 'object' && x !== null ? JSON.stringify(x) === JSON.stringify(y) : x === y;
}

/** The settings with a preset applied: its sampling, system prompt and overflow policy, and the
 *  load fields it sets (the others keep what the planner chose for this machine). */
export function applyPreset(current: ChatSettings, p: PresetParams): ChatSettings {
  return {
    ...current,
    temperature: p.sampling.temperature,
    top_k: p.sampling.top_k,
    top_p: p.sampling.top_p,
    min_p: p.sampling.min_p,
    repeat_penalty: p.sampling.repeat_penalty,
    presence_penalty: p.sampling.presence_penalty,
    frequency_penalty: p.sampling.frequency_penalty,
    seed: p.sampling.seed === RANDOM_SEED ? null : p.sampling.seed,
    stop: [...p.sampling.stop],
    max_tokens: p.sampling.max_tokens,
    system_prompt: p.system_prompt,
    overflow: p.overflow,
    reasoning_effort: p.reasoning_effort,
    thinking_budget: p.thinking_budget,
    tools: [...p.tools],
    require_tool: p.require_tool,
    context_length: p.context_length ?? current.context_length,
    gpu_layers: p.gpu_layers ?? current.gpu_layers,
    kv_cache_type: p.kv_cache_type ?? current.kv_cache_type,
    flash_attention: p.flash_attention ?? current.flash_attention,
    drafting: p.drafting ? { ...p.drafting, kinds: [...p.drafting.kinds] } : current.drafting,
  };
}

/** A preset's params from the settings on screen, keeping `base`'s other fields (penalties,
 *  stop strings…) and not pinning load fields `base` left to the planner. */
export function presetParamsOf(s: ChatSettings, base: PresetParams): PresetParams {
  return {
    ...base,
    system_prompt: s.system_prompt,
    overflow: s.overflow,
    reasoning_effort: s.reasoning_effort,
    thinking_budget: s.thinking_budget,
    tools: [...s.tools],
    require_tool: s.require_tool,
    sampling: { ...base.sampling, ...samplingOf(s) },
    context_length: base.context_length === null ? null : s.context_length,
    gpu_layers: base.gpu_layers === null ? null : s.gpu_layers,
    kv_cache_type: base.kv_cache_type === null ? null : s.kv_cache_type,
    flash_attention: base.flash_attention === null ? null : s.flash_attention,
    drafting: { ...s.drafting, kinds: [...s.drafting.kinds] },
  };
}

/** True when the settings on screen differ from the preset's. */
export function differsFromPreset(s: ChatSettings, p: PresetParams): boolean {
  const a = applyPreset(s, p);
  return (Object.keys(a) as (keyof ChatSettings)[]).some((k) => !sameValue(a[k], s[k]));
}
