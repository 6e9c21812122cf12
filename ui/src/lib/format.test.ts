import { describe, expect, it } from 'vitest';
import { describeModelFile, formatBytes, formatParameters, formatStats } from './format';
import type { GenerationStats } from './api';

describe('describeModelFile', () => {
  it('splits the quant off common file names', () => {
    expect(describeModelFile('SmolLM2-135M-Instruct.Q4_1.gguf')).toEqual({ name: 'SmolLM2-135M-Instruct', quant: 'Q4_1' });
    expect(describeModelFile('mistral-7b-instruct-v0.2.Q4_K_M.gguf')).toEqual({ name: 'mistral-7b-instruct-v0.2', quant: 'Q4_K_M' });
    expect(describeModelFile('Codestral-22B-v0.1-IQ3_XS.gguf')).toEqual({ name: 'Codestral-22B-v0.1', quant: 'IQ3_XS' });
    expect(describeModelFile('model-bf16.gguf')).toEqual({ name: 'model', quant: 'BF16' });
  });
  it('keeps names without a quant whole', () => {
    expect(describeModelFile('tiny-mistral-7b-shape.gguf')).toEqual({ name: 'tiny-mistral-7b-shape', quant: null });
  });
});

describe('formatBytes', () => {
  it('uses decimal units like download sites do', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(98_362_432)).toBe('98.4 MB');
    expect(formatBytes(4_368_439_584)).toBe('4.4 GB');
    expect(formatBytes(-1)).toBe('—');
  });
});

describe('formatStats', () => {
  const stats: GenerationStats = {
    prompt_tokens: 30, cached_tokens: 0, generated_tokens: 48, time_to_first_token_ms: 212.4,
    prefill_tokens_per_second: 300, decode_tokens_per_second: 61.25,
    context_used: 78, context_length: 4096, finish_reason: 'stop', dropped_messages: 0, reasoning_tokens: 0, draft_tokens: 0, draft_accepted_tokens: 0,
  };
  it('summarises speed and size', () => {
    expect(formatStats(stats)).toBe('61.3 tok/s · 48 tokens · 212 ms to first token');
  });
  it('says why a reply ended early', () => {
    expect(formatStats({ ...stats, finish_reason: 'cancelled' })).toMatch(/stopped$/);
    expect(formatStats({ ...stats, finish_reason: 'length' })).toMatch(/reached max tokens$/);
  });
  it('says how many drafted tokens were kept', () => {
    expect(formatStats({ ...stats, draft_tokens: 40, draft_accepted_tokens: 30 })).toBe(
      '61.3 tok/s · 75% of drafts kept · 48 tokens · 212 ms to first token',
    );
  });
});

describe('formatParameters', () => {
  it('says sizes the way model names do', () => {
    expect(formatParameters(134_515_008)).toBe('135M');
    expect(formatParameters(7_241_732_096)).toBe('7.2B');
    expect(formatParameters(46_702_792_704)).toBe('46.7B');
    expect(formatParameters(122_610_069_504)).toBe('123B');
    expect(formatParameters(8_000_000_000)).toBe('8B');
    expect(formatParameters(0)).toBe('');
  });
});

describe('formatThoughtTime', () => {
  it('says how long a thought took in words', async () => {
    const { formatThoughtTime } = await import('./format');
    expect([0, 400, 1000, 2400, 59_600, 64_000].map(formatThoughtTime)).toEqual([
      'less than a second', 'less than a second', '1 second', '2 seconds', '1 min 0 s', '1 min 4 s',
    ]);
  });
});
