import { describe, expect, it } from 'vitest';
import { defaultSettings, loadParamsOf, needsReload, samplingOf } from './settings';

describe('settings', () => {
  it('turns flash attention on for a quantized KV cache', () => {
    expect(loadParamsOf({ ...defaultSettings(), kv_cache_type: 'q8_0' }).flash_attention).toBe('on');
    expect(loadParamsOf(defaultSettings()).flash_attention).toBe('auto');
  });

  it('asks for a reload only when load parameters change', () => {
    const s = defaultSettings();
    const loaded = loadParamsOf(s);
    expect(needsReload(loaded, { ...s, temperature: 1.3 })).toBe(false);
    expect(needsReload(loaded, { ...s, context_length: 8192 })).toBe(true);
    expect(needsReload(loaded, { ...s, kv_cache_type: 'q4_0' })).toBe(true);
    expect(needsReload(null, s)).toBe(false);
  });

  it('sends the sampling fields the panel edits', () => {
    expect(samplingOf({ ...defaultSettings(), temperature: 0 })).toEqual({ temperature: 0, top_p: 0.95, max_tokens: 1024 });
  });
});
