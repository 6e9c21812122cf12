// How a command's failure reaches the page (src-tauri/src/error.rs): an `IpcError` with a kind
// the page branches on, and a message meant for a person (shown, never parsed).
export type { ErrorKind, IpcError } from '../bindings';
import type { ErrorKind, IpcError } from '../bindings';

export function errorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/** The kind of a command's error; `other` for anything that is not an `IpcError`. */
export function errorKind(e: unknown): ErrorKind {
  const kind = e && typeof e === 'object' && 'kind' in e ? (e as { kind: unknown }).kind : null;
  return typeof kind === 'string' ? (kind as ErrorKind) : 'other';
}
