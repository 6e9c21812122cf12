import { describe, expect, it } from 'vitest';
import { Conversation } from './conversation.svelte';
import type { BranchMessage, GenerationStats } from './api';

const stats = (finish_reason: GenerationStats['finish_reason']): GenerationStats => ({
  prompt_tokens: 5, cached_tokens: 0, generated_tokens: 3, time_to_first_token_ms: 10, prefill_tokens_per_second: 1,
  decode_tokens_per_second: 2, context_used: 8, context_length: 64, finish_reason, dropped_messages: 0, reasoning_tokens: 0, draft_tokens: 0, draft_accepted_tokens: 0,
});

const stored = (id: number, parent: number | null, role: 'user' | 'assistant', content: string, extra: Partial<BranchMessage> = {}): BranchMessage => ({
  id, conversation_id: 1, parent_id: parent, role, content, status: 'complete', created_at: 0, stats: null, error: null,
  reasoning: null, reasoning_ms: null, tool_calls: [], attachments: [], sources: [], sibling_index: 1, sibling_count: 1, ...extra,
});

describe('Conversation', () => {
  it('tokens between two frames change the answer once, and nothing is lost at the end', () => {
    const frames: (() => void)[] = [];
    const c = new Conversation((f) => frames.push(f));
    c.beginTurn(0);
    c.apply({ kind: 'started', conversation_id: 1, title: 'Q', added: [stored(1, null, 'user', 'Q')], answer_id: 2 });
    c.apply({ kind: 'text', text: 'a', context_used: null });
    c.apply({ kind: 'text', text: 'b', context_used: null });
    c.apply({ kind: 'text', text: '', context_used: 9 });
    expect(frames.length).toBe(1);
    // The meter waits for the frame that draws the text it counts.
    expect([c.messages[1].content, c.contextUsed]).toEqual(['', null]);
    frames.shift()!();
    expect([c.messages[1].content, c.contextUsed]).toEqual(['ab', 9]);
    c.apply({ kind: 'text', text: 'c', context_used: null });
    c.apply({ kind: 'done', stats: stats('stop') });
    expect(c.messages[1].content).toBe('abc');
  });

  it('keeps a thought apart from the answer, with its clock while it lasts and its time after', () => {
    const frames: (() => void)[] = [];
    const c = new Conversation((f) => frames.push(f));
    c.beginTurn(0);
    c.apply({ kind: 'started', conversation_id: 1, title: 'Q', added: [stored(1, null, 'user', 'Q')], answer_id: 2 });
    c.apply({ kind: 'reasoning', text: 'Let me ' });
    expect(c.messages[1].thinking_since).not.toBeNull();
    c.apply({ kind: 'reasoning', text: 'see.' });
    c.apply({ kind: 'thought_ended', ms: 2400 });
    c.apply({ kind: 'text', text: 'Yes.', context_used: 12 });
    frames.shift()!();
    const answer = c.messages[1];
    expect([answer.reasoning, answer.content, answer.reasoning_ms, answer.thinking_since]).toEqual(['Let me see.', 'Yes.', 2400, null]);
    // Stored: the same, read back.
    c.setBranch({ messages: [stored(1, null, 'user', 'Q'), stored(2, 1, 'assistant', 'Yes.', { reasoning: 'Let me see.', reasoning_ms: 2400 })], has_more: false });
    expect([c.messages[1].reasoning, c.messages[1].reasoning_ms]).toEqual(['Let me see.', 2400]);
    expect(c.messages[0].reasoning).toBe('');
  });

  it('a thought cut short by an error stops its clock', () => {
    const c = new Conversation((f) => f());
    c.beginTurn(0);
    c.apply({ kind: 'reasoning', text: 'Hmm' });
    c.apply({ kind: 'error', message: 'the engine stopped' });
    expect([c.messages[0].reasoning, c.messages[0].thinking_since]).toEqual(['Hmm', null]);
  });

  it('streams a new answer after the stored question the turn added', () => {
    const c = new Conversation((f) => f());
    c.beginTurn(0);
    expect(c.generating).toBe(true);
    c.apply({ kind: 'started', conversation_id: 7, title: 'Hi', added: [stored(1, null, 'user', 'Hi')], answer_id: 2 });
    c.apply({ kind: 'text', text: 'Hel', context_used: null });
    c.apply({ kind: 'text', text: 'lo 🙂', context_used: null });
    expect(c.id).toBe(7);
    expect(c.messages.map((m) => [m.id, m.role, m.content])).toEqual([[1, 'user', 'Hi'], [2, 'assistant', 'Hello 🙂']]);
    expect(c.messages[1].parent_id).toBe(1);
    c.apply({ kind: 'done', stats: stats('stop') });
    expect(c.generating).toBe(false);
    expect(c.leafId).toBe(2);
    expect(c.messages[1].unfinished).toBe(false);
  });

  it('an answer the app was killed in is marked interrupted and can be continued', () => {
    const c = new Conversation((f) => f());
    c.setBranch({ messages: [stored(1, null, 'user', 'Q'), stored(2, 1, 'assistant', 'Half an ans', { status: 'interrupted' })], has_more: false });
    expect(c.messages[1].interrupted).toBe(true);
    expect(c.messages[1].unfinished).toBe(true);
    c.beginTurn(1, c.messages[1]);
    expect(c.messages[1].interrupted).toBe(false);
  });

  it('marks stopped answers as unfinished and shows errors on the answer', () => {
    const c = new Conversation((f) => f());
    c.setBranch({ messages: [stored(1, null, 'user', 'Q'), stored(2, 1, 'assistant', 'A', { sibling_count: 2, sibling_index: 2 })], has_more: false });
    expect(c.messages[1].sibling_count).toBe(2);
    // Regenerate: the question stays, the answer is replaced by the new one.
    c.beginTurn(1);
    c.apply({ kind: 'started', conversation_id: 1, title: 'Q', added: [], answer_id: 3 });
    c.apply({ kind: 'text', text: 'partial', context_used: null });
    c.apply({ kind: 'done', stats: stats('cancelled') });
    expect(c.messages.map((m) => m.id)).toEqual([1, 3]);
    expect(c.messages[1].unfinished).toBe(true);
    c.beginTurn(1, c.messages[1]);
    c.apply({ kind: 'error', message: 'no model is loaded' });
    expect(c.messages[1].error).toBe('no model is loaded');
    expect(c.messages[1].content).toBe('partial');
    expect(c.generating).toBe(false);
  });

  it('a saved answer that was cut short by a crash can be continued', () => {
    const c = new Conversation((f) => f());
    c.setBranch({ messages: [stored(1, null, 'user', 'Q'), stored(2, 1, 'assistant', 'half', { status: 'streaming' })], has_more: false });
    expect(c.messages[1].unfinished).toBe(true);
  });

  it('older pages go in front of what is shown, once', () => {
    const c = new Conversation((f) => f());
    c.setBranch({ messages: [stored(3, 2, 'user', 'Q2'), stored(4, 3, 'assistant', 'A2')], has_more: true });
    expect(c.hasOlder).toBe(true);
    c.prepend({ messages: [stored(1, null, 'user', 'Q1'), stored(2, 1, 'assistant', 'A1'), stored(3, 2, 'user', 'Q2')], has_more: false });
    expect(c.messages.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect(c.hasOlder).toBe(false);
  });

  it('the context meter counts the answer as it streams, then reads the stored figures', () => {
    const c = new Conversation((f) => f());
    c.setBranch({ messages: [stored(1, null, 'user', 'Q'), stored(2, 1, 'assistant', 'A', { stats: stats('stop') })], has_more: false });
    expect(c.contextUsed).toBe(8);
    c.beginTurn(2);
    expect(c.contextUsed).toBe(8);
    c.apply({ kind: 'started', conversation_id: 1, title: 'Q', added: [stored(3, 2, 'user', 'Q2')], answer_id: 4 });
    c.apply({ kind: 'text', text: 'Sure', context_used: 21 });
    expect(c.contextUsed).toBe(21);
    c.apply({ kind: 'text', text: '!', context_used: 22 });
    // "Start reply with" text carries no count: the meter keeps the last one.
    c.apply({ kind: 'text', text: '', context_used: null });
    expect(c.contextUsed).toBe(22);
    c.apply({ kind: 'done', stats: { ...stats('stop'), context_used: 23 } });
    expect([c.contextUsed, c.lastStats?.context_used]).toEqual([23, 23]);
  });

  it('a turn with tools: the calls on the answer that made them, asked, run, and the answer after it', () => {
    const c = new Conversation((f) => f());
    c.beginTurn(0);
    c.apply({ kind: 'started', conversation_id: 1, title: 'Q', added: [stored(1, null, 'user', 'Add 2 and 3')], answer_id: 2 });
    c.apply({ kind: 'done', stats: stats('tool_calls') });
    // Between steps nothing streams, yet the turn goes on.
    expect(c.generating).toBe(true);
    const call = { id: 'c1', name: 'get-sum', server: 'everything', arguments: '{"a":2,"b":3}', result: null };
    c.apply({ kind: 'tool_calls', answer_id: 2, calls: [call, { ...call, id: 'c2' }] });
    expect(c.messages[1].tool_calls.map((t) => t.phase)).toEqual(['queued', 'queued']);
    c.apply({ kind: 'tool_approval', call_id: 'c1' });
    expect(c.asking?.id).toBe('c1');
    c.apply({ kind: 'tool_running', call_id: 'c1' });
    expect(c.asking).toBeNull();
    c.apply({ kind: 'tool_result', call_id: 'c1', result: { status: 'done', text: 'The sum is 5.', cut_from: null } });
    c.apply({ kind: 'tool_result', call_id: 'c2', result: { status: 'denied', text: 'The user did not allow this call.', cut_from: null } });
    expect(c.messages[1].tool_calls.map((t) => [t.phase, t.result?.status])).toEqual([['over', 'done'], ['over', 'denied']]);
    c.apply({ kind: 'continued', answer_id: 3 });
    expect(c.messages.map((m) => [m.id, m.parent_id])).toEqual([[1, null], [2, 1], [3, 2]]);
    c.apply({ kind: 'text', text: 'It is 5.', context_used: 40 });
    c.apply({ kind: 'done', stats: stats('stop') });
    expect([c.messages[2].content, c.messages[1].content]).toEqual(['It is 5.', '']);
    expect(c.generating).toBe(false);
    // A step that called tools that were then stopped: the turn ends when its command returns.
    c.beginTurn(3);
    c.apply({ kind: 'done', stats: stats('tool_calls') });
    expect(c.generating).toBe(true);
    c.endTurn();
    expect(c.generating).toBe(false);
    // Read back from the store: results kept, nothing waiting.
    c.setBranch({ messages: [stored(2, 1, 'assistant', '', { tool_calls: [{ ...call, result: { status: 'done', text: '5', cut_from: null } }] })], has_more: false });
    expect(c.messages[0].tool_calls[0].phase).toBe('over');
  });

  it('a turn that cannot start is over', () => {
    const c = new Conversation((f) => f());
    c.beginTurn(0);
    expect(c.generating).toBe(true);
    c.fail('The tool server everything did not start: no such file');
    expect([c.generating, c.messages[0].error]).toEqual([false, 'The tool server everything did not start: no such file']);
  });
});
