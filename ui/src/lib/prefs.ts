// The page's small preferences (theme, last model, last preset, your name…), kept by
// tauri-plugin-store in settings.json. A convenience: a failure to read or write one never stops
// the app, so every call here swallows its errors.
import { load } from '@tauri-apps/plugin-store';

export interface Prefs {
  get<T>(key: string): Promise<T | null>;
  set(key: string, value: unknown): Promise<void>;
}

/** settings.json in the app's data folder. */
export const appPrefs: Prefs = {
  async get<T>(key: string) {
    try {
      return ((await (await load('settings.json')).get<T>(key)) ?? null) as T | null;
    } catch {
      return null;
    }
  },
  async set(key: string, value: unknown) {
    try {
      await (await load('settings.json')).set(key, value);
    } catch {
      // The choice still applies for this run.
    }
  },
};

/** Preferences held in memory (tests). */
export function memoryPrefs(initial: Record<string, unknown> = {}): Prefs & { values: Record<string, unknown> } {
  const values = { ...initial };
  return {
    values,
    async get<T>(key: string) {
      return (key in values ? values[key] : null) as T | null;
    },
    async set(key: string, value: unknown) {
      values[key] = value;
    },
  };
}
