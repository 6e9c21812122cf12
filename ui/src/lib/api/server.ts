// The local OpenAI-compatible server (src-tauri/src/commands/server.rs).
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
export type { RequestLogEntry, ServerSettings, ServerStatus } from '../bindings';
import type { RequestLogEntry, ServerSettings, ServerStatus } from '../bindings';

export function serverStart(settings: ServerSettings, onRequest: (e: RequestLogEntry) => void) {
  const channel = new Channel<RequestLogEntry>();
  channel.onmessage = onRequest;
  return invoke<ServerStatus>('server_start', { settings, onRequest: channel });
}
/** Whether the server starts when Sirocco opens (kept at once). */
export const serverSetStartAtLaunch = (on: boolean) => invoke<void>('server_set_start_at_launch', { on });
/** Requests to a server started at launch (one the page started reports on its own channel). */
export function onServerRequest(handler: (e: RequestLogEntry) => void): Promise<() => void> {
  return listen<RequestLogEntry>('server-request', (event) => handler(event.payload));
}
export const serverStop = () => invoke<ServerStatus>('server_stop');
export const serverStatus = () => invoke<ServerStatus>('server_status');
/** The settings the server was last started with (its API key apart: `serverApiKey`). */
export const serverSettings = () => invoke<ServerSettings>('server_settings');
/** The server's API key from the system keyring (may take a while where none answers). */
export const serverApiKey = () => invoke<string | null>('server_api_key');
export const serverGenerateKey = () => invoke<string>('server_generate_key');
/** The server started or stopped (the tray's switch, a start at launch, this page). */
export function onServerChanged(handler: () => void): Promise<() => void> {
  return listen('server-changed', () => handler());
}
