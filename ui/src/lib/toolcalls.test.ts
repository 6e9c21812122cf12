import { describe, expect, it } from 'vitest';
import { callStatus, cutNote, prettyArguments } from './toolcalls';
import type { ShownToolCall } from './conversation.svelte';

const call = (extra: Partial<ShownToolCall> = {}): ShownToolCall => ({
  id: 'c1', name: 'echo', server: 'everything', arguments: '{"message":"hi"}', result: null, phase: 'queued', ...extra,
});

describe('tool calls', () => {
  it('lays JSON arguments out and leaves other text as the model wrote it', () => {
    expect(prettyArguments('{"a":2,"b":[1]}')).toBe('{\n  "a": 2,\n  "b": [\n    1\n  ]\n}');
    expect(prettyArguments('{}')).toBe('(none)');
    expect(prettyArguments('  ')).toBe('(none)');
    expect(prettyArguments('{not json')).toBe('{not json');
  });

  it('says where each call is', () => {
    expect(callStatus(call()).label).toBe('Waiting');
    expect(callStatus(call({ phase: 'asking' }))).toEqual({ label: 'Needs your approval', tone: 'accent' });
    expect(callStatus(call({ phase: 'running' })).label).toBe('Running…');
    const over = (status: NonNullable<ShownToolCall['result']>['status']) =>
      callStatus(call({ phase: 'over', result: { status, text: '', cut_from: null } }));
    expect([over('done'), over('tool_error'), over('failed'), over('denied'), over('stopped')].map((s) => s.tone)).toEqual([
      'ok', 'warn', 'danger', 'muted', 'muted',
    ]);
    expect(callStatus(call({ phase: 'over' })).label).toBe('Did not run');
  });

  it('notes a result cut to fit', () => {
    expect(cutNote(call({ phase: 'over', result: { status: 'done', text: 'x', cut_from: 10000000 } }))).toContain('10,000,000 characters');
    expect(cutNote(call({ phase: 'over', result: { status: 'done', text: 'x', cut_from: null } }))).toBeNull();
  });
});
