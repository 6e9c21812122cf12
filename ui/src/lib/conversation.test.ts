import { describe, expect, it } from 'vitest';
import { Conversation } from './conversation.svelte';

describe('Conversation', () => {
  it('streams text into the reply and records its stats', () => {
    const c = new Conversation();
    const reply = c.ask('Hi');
    expect(c.generating).toBe(true);
    c.apply(reply, { kind: 'text', text: 'Hel' });
    c.apply(reply, { kind: 'text', text: 'lo 🙂' });
    expect(c.messages[1].content).toBe('Hello 🙂');
    c.apply(reply, {
      kind: 'done',
      stats: {
        prompt_tokens: 5, cached_tokens: 0, generated_tokens: 3, time_to_first_token_ms: 10, prefill_tokens_per_second: 1,
        decode_tokens_per_second: 2, context_used: 8, context_length: 64, finish_reason: 'stop',
      },
    });
    expect(c.generating).toBe(false);
    expect(c.history()).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello 🙂' },
    ]);
  });

  it('keeps failed replies out of the history the model sees', () => {
    const c = new Conversation();
    const reply = c.ask('Hi');
    c.apply(reply, { kind: 'error', message: 'no model is loaded' });
    expect(c.messages[1].error).toBe('no model is loaded');
    expect(c.generating).toBe(false);
    expect(c.history()).toEqual([{ role: 'user', content: 'Hi' }]);
  });
});
