// A model's chat template: view its own, keep the user's (checked first), reset
// (src-tauri/src/commands/templates.rs).
import { invoke } from '@tauri-apps/api/core';
export type { ModelTemplate } from '../bindings';
import type { ModelTemplate } from '../bindings';

export const modelTemplate = (path: string) => invoke<ModelTemplate>('model_template', { path });
/** The template rendered over a sample conversation (rejects with why it does not render). */
export const templatePreview = (template: string) => invoke<string>('template_preview', { template });
export const templateSave = (path: string, template: string) => invoke<string>('template_save', { path, template });
export const templateReset = (path: string) => invoke<void>('template_reset', { path });
