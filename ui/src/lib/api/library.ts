// Every local model: downloads, the models folder, LM Studio, Ollama, and folders or files the
// user added (src-tauri/src/commands/library.rs).
import { invoke } from '@tauri-apps/api/core';
export type { LibraryModel, ModelSource } from '../bindings';
import type { LibraryModel } from '../bindings';

export const libraryList = () => invoke<LibraryModel[]>('library_list');
export const libraryDelete = (path: string) => invoke<number>('library_delete', { path });
/** Folders and single GGUF files added to the library (used where they are). */
export const libraryLocations = () => invoke<string[]>('library_locations');
export const libraryAdd = (path: string) => invoke<string[]>('library_add', { path });
export const libraryRemoveLocation = (path: string) => invoke<string[]>('library_remove_location', { path });
export const libraryReveal = (path: string) => invoke<void>('library_reveal', { path });
