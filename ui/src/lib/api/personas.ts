// Personas and character cards (src-tauri/src/commands/personas.rs).
import { invoke } from '@tauri-apps/api/core';
export type { LoreEntry, Persona, PersonaDraft } from '../bindings';
import type { Persona, PersonaDraft } from '../bindings';

export const personasList = () => invoke<Persona[]>('personas_list');
export const personaSave = (id: number | null, draft: PersonaDraft) => invoke<number>('persona_save', { id, draft });
export const personaDelete = (id: number) => invoke<void>('persona_delete', { id });
export const personaImportCard = (base64: string) => invoke<Persona>('persona_import_card', { base64 });
