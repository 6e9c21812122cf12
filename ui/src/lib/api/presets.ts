// Presets: saved parameter bundles, and each model's default (src-tauri/src/commands/presets.rs).
import { invoke } from '@tauri-apps/api/core';
export type { Preset, PresetParams } from '../bindings';
import type { Preset, PresetParams } from '../bindings';

export const presetsList = () => invoke<Preset[]>('presets_list');
export const presetSave = (id: number | null, name: string, params: PresetParams) =>
  invoke<number>('preset_save', { id, name, params });
export const presetDuplicate = (id: number) => invoke<number>('preset_duplicate', { id });
export const presetDelete = (id: number) => invoke<void>('preset_delete', { id });
export const modelPresetGet = (path: string) => invoke<number | null>('model_preset_get', { path });
export const modelPresetSet = (path: string, presetId: number) => invoke<void>('model_preset_set', { path, presetId });
