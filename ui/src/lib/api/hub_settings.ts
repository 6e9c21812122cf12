// The Hub's endpoint and token (src-tauri/src/commands/hub_settings.rs); never the token itself.
import { invoke } from '@tauri-apps/api/core';
export type { HubSettings, TokenSource } from '../bindings';
import type { HubSettings } from '../bindings';

export const hubSettings = () => invoke<HubSettings>('hub_settings');
export const hubSetEndpoint = (endpoint: string) => invoke<HubSettings>('hub_set_endpoint', { endpoint });
export const hubSetToken = (token: string) => invoke<HubSettings>('hub_set_token', { token });
export const hubClearToken = () => invoke<HubSettings>('hub_clear_token');
