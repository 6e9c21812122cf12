// How a tool call reads in the chat: its arguments laid out, and where it is in words.
import type { ShownToolCall } from './conversation.svelte';

/** The arguments as the model wrote them, laid out when they are JSON. */
export function prettyArguments(text: string): string {
  if (!text.trim()) return '(none)';
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && Object.keys(value).length === 0) return '(none)';
    return JSON.stringify(value, null, 2);
  } catch {
    return text;
  }
}

export type CallTone = 'muted' | 'accent' | 'ok' | 'warn' | 'danger';

/** Where the call is, in a word or two, and how to colour it. */
export function callStatus(call: ShownToolCall): { label: string; tone: CallTone } {
  switch (call.phase) {
    case 'queued':
      return { label: 'Waiting', tone: 'muted' };
    case 'asking':
      return { label: 'Needs your approval', tone: 'accent' };
    case 'running':
      return { label: 'Running…', tone: 'accent' };
  }
  switch (call.result?.status) {
    case 'done':
      return { label: 'Done', tone: 'ok' };
    case 'tool_error':
      return { label: 'Tool reported an error', tone: 'warn' };
    case 'failed':
      return { label: 'Failed', tone: 'danger' };
    case 'denied':
      return { label: 'Denied', tone: 'muted' };
    case 'stopped':
      return { label: 'Stopped', tone: 'muted' };
    default:
      return { label: 'Did not run', tone: 'muted' };
  }
}

/** A result's note when it was cut to fit the context. */
export function cutNote(call: ShownToolCall): string | null {
  const from = call.result?.cut_from;
  return from ? `Cut to fit the context (the tool returned ${from.toLocaleString('en-US')} characters).` : null;
}
