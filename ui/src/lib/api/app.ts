// The app itself (src-tauri/src/commands/app.rs): its versions and folders for the About box,
// its logs shown in the file manager, what a crash last time left behind; quitting, what closing
// the window does and starting at login.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
export type { AppInfo, CrashReport } from '../bindings';
import type { AppInfo, CrashReport } from '../bindings';

export const appInfo = () => invoke<AppInfo>('app_info');
/** Shows the newest log file (or the logs folder) in the file manager. */
export const logsReveal = () => invoke<void>('logs_reveal');
/** What a panic last time left for this start (given once), or null. */
export const crashReport = () => invoke<CrashReport | null>('crash_report');
/** Opens a link to another site in the system browser (refused for anything else). */
export const openInBrowser = (url: string) => invoke<void>('open_in_browser', { url });

export type { Autostart, BackgroundSettings, KeepRunning } from '../bindings';
import type { Autostart, BackgroundSettings, KeepRunning } from '../bindings';
/** Ends Sirocco as the tray's "Quit" does (its conversations' caches saved first). */
export const appQuit = () => invoke<void>('app_quit');
/** The answer to "keep running after the window closes?" (asked once): hides the window or
 *  quits; `null` (Cancel) keeps the window open, asking again at the next close. */
export const appKeepRunning = (keep: boolean | null) => invoke<void>('app_keep_running', { keep });
export const backgroundSettings = () => invoke<BackgroundSettings>('background_settings');
export const backgroundSetKeepRunning = (on: boolean) => invoke<void>('background_set_keep_running', { on });
/** Sirocco's login entry (null: it does not start at login). */
export const autostartGet = () => invoke<Autostart | null>('autostart_get');
export const autostartSet = (on: Autostart | null) => invoke<Autostart | null>('autostart_set', { on });
/** The window's close button, the first time closing would keep a busy Sirocco running. */
export function onCloseToTray(handler: (why: KeepRunning) => void): Promise<() => void> {
  return listen<KeepRunning>('close-to-tray', (event) => handler(event.payload));
}
/** The files this launch was asked to open (`sirocco-app model.gguf`), given once. */
export const launchFiles = () => invoke<string[]>('launch_files');
/** A later launch asked to open these files (its window came forward). */
export function onOpenFiles(handler: (paths: string[]) => void): Promise<() => void> {
  return listen<string[]>('open-files', (event) => handler(event.payload));
}
