import { describe, expect, it } from 'vitest';
import {
  applyPreset,
  defaultSettings,
  differsFromPreset,
  draftChoiceOf,
  draftingFor,
  loadParamsOf,
  needsReload,
  presetParamsOf,
  RANDOM_SEED,
  samplingOf,
} from './settings';
import type { PresetParams } from './api';

describe('settings', () => {
  it('turns flash attention on for a quantized KV cache', () => {
    expect(loadParamsOf({ ...defaultSettings(), kv_cache_type: 'q8_0' }).flash_attention).toBe('on');
    expect(loadParamsOf(defaultSettings()).flash_attention).toBe('auto');
    expect(loadParamsOf({ ...defaultSettings(), flash_attention: 'off' }).flash_attention).toBe('off');
    expect(loadParamsOf({ ...defaultSettings(), kv_cache_type: 'q4_0', flash_attention: 'off' }).flash_attention).toBe('on');
    expect(loadParamsOf({ ...defaultSettings(), threads: 2, experts_on_cpu: true })).toMatchObject({ threads: 2, experts_on_cpu: true });
  });

  it('asks for a reload only when load parameters change', () => {
    const s = defaultSettings();
    const loaded = loadParamsOf(s);
    expect(needsReload(loaded, { ...s, temperature: 1.3 })).toBe(false);
    expect(needsReload(loaded, { ...s, context_length: 8192 })).toBe(true);
    expect(needsReload(loaded, { ...s, kv_cache_type: 'q4_0' })).toBe(true);
    expect(needsReload(loaded, { ...s, threads: 1 })).toBe(true);
    expect(needsReload(loaded, { ...s, batch_size: 128 })).toBe(true);
    expect(needsReload(loaded, { ...s, flash_attention: 'off' })).toBe(true);
    expect(needsReload(loaded, { ...s, experts_on_cpu: true })).toBe(true);
    expect(needsReload(loaded, { ...s, use_mmap: false })).toBe(true);
    expect(needsReload(null, s)).toBe(false);
  });

  it('sends the sampling fields the panel edits', () => {
    expect(samplingOf({ ...defaultSettings(), temperature: 0 })).toEqual({
      temperature: 0, top_k: 40, top_p: 0.95, min_p: 0.05, repeat_penalty: 1.1, presence_penalty: 0, frequency_penalty: 0,
      seed: RANDOM_SEED, stop: [], max_tokens: 1024,
    });
    const fixed = samplingOf({ ...defaultSettings(), seed: 42, stop: ['###', '\nUser:'], presence_penalty: 0.5 });
    expect([fixed.seed, fixed.stop, fixed.presence_penalty]).toEqual([42, ['###', '\nUser:'], 0.5]);
  });

  const code: PresetParams = {
    system_prompt: 'You are an expert programmer.',
    sampling: {
      temperature: 0.15, top_k: 40, top_p: 0.9, min_p: 0.05, repeat_penalty: 1, presence_penalty: 0, frequency_penalty: 0,
      penalty_last_n: 64, seed: 1, max_tokens: 2048, ignore_eos: false, stop: ['###'], grammar: null, json_schema: null,
    },
    overflow: 'drop_middle',
    context_length: null,
    gpu_layers: null,
    kv_cache_type: 'q8_0',
    flash_attention: null,
    reasoning_effort: 'high',
    thinking_budget: 2048,
    tools: ['everything'],
    require_tool: true,
    drafting: null,
  };

  it('applies a preset but keeps the planner’s load choices the preset leaves open', () => {
    const s = { ...defaultSettings(), context_length: 3072, gpu_layers: 12 };
    const applied = applyPreset(s, code);
    expect(applied).toMatchObject({ temperature: 0.15, max_tokens: 2048, system_prompt: 'You are an expert programmer.', overflow: 'drop_middle' });
    expect([applied.context_length, applied.gpu_layers, applied.kv_cache_type]).toEqual([3072, 12, 'q8_0']);
    expect([applied.seed, applied.stop]).toEqual([1, ['###']]);
    expect([applied.reasoning_effort, applied.thinking_budget]).toEqual(['high', 2048]);
    expect(differsFromPreset({ ...applied, reasoning_effort: 'none' }, code)).toBe(true);
    expect(applyPreset(s, { ...code, sampling: { ...code.sampling, seed: RANDOM_SEED } }).seed).toBeNull();
    expect(differsFromPreset(applied, code)).toBe(false);
    expect(differsFromPreset({ ...applied, temperature: 0.5 }, code)).toBe(true);
    expect(differsFromPreset({ ...applied, stop: ['###', 'END'] }, code)).toBe(true);
    // The tools it offers come with it, and choosing others differs from it.
    expect([applied.tools, applied.require_tool]).toEqual([['everything'], true]);
    expect(differsFromPreset({ ...applied, tools: [] }, code)).toBe(true);
  });

  it('keeps drafting in presets and reloads when it changes', () => {
    const s = defaultSettings();
    expect(draftChoiceOf(s.drafting)).toBe('ngrams');
    const withDraft = { ...s, drafting: draftingFor('model', '/m/small.gguf') };
    expect(withDraft.drafting).toMatchObject({ kinds: ['ngram-mod', 'draft-simple'], draft_model: '/m/small.gguf' });
    expect(draftChoiceOf(withDraft.drafting)).toBe('model');
    const saved = presetParamsOf(withDraft, code);
    expect(saved.drafting).toEqual(withDraft.drafting);
    const applied = applyPreset(s, saved);
    expect(applied.drafting).toEqual(withDraft.drafting);
    expect(differsFromPreset(applied, saved)).toBe(false);
    expect(differsFromPreset({ ...applied, drafting: draftingFor('off', null) }, saved)).toBe(true);
    // A preset that says nothing of drafting keeps the screen's.
    expect(applyPreset(withDraft, code).drafting).toEqual(withDraft.drafting);
    // Another drafting needs a reload; the same one, even as another object, does not.
    const loaded = loadParamsOf(s);
    expect(needsReload(loaded, { ...s, drafting: { ...s.drafting, kinds: [...s.drafting.kinds] } })).toBe(false);
    expect(needsReload(loaded, { ...s, drafting: draftingFor('off', null) })).toBe(true);
  });

  it('saves the screen into a preset without losing fields the panel does not show', () => {
    const s = { ...applyPreset(defaultSettings(), code), temperature: 0.3, context_length: 8192 };
    const saved = presetParamsOf(s, code);
    expect(saved.sampling.temperature).toBe(0.3);
    expect(saved.sampling.stop).toEqual(['###']);
    expect(saved.context_length).toBeNull();
    expect(saved.kv_cache_type).toBe('q8_0');
    const thinking = presetParamsOf({ ...s, reasoning_effort: 'low', thinking_budget: null }, code);
    expect([thinking.reasoning_effort, thinking.thinking_budget]).toEqual(['low', null]);
    const tools = presetParamsOf({ ...s, tools: ['files', 'everything'], require_tool: false }, code);
    expect([tools.tools, tools.require_tool]).toEqual([['files', 'everything'], false]);
  });
});
