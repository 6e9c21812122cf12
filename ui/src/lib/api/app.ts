// The app itself (src-tauri/src/commands/app.rs): its versions and folders for the About box,
// its logs shown in the file manager, and what a crash last time left behind.
import { invoke } from '@tauri-apps/api/core';
export type { AppInfo, CrashReport } from '../bindings';
import type { AppInfo, CrashReport } from '../bindings';

export const appInfo = () => invoke<AppInfo>('app_info');
/** Shows the newest log file (or the logs folder) in the file manager. */
export const logsReveal = () => invoke<void>('logs_reveal');
/** What a panic last time left for this start (given once), or null. */
export const crashReport = () => invoke<CrashReport | null>('crash_report');
/** Opens a link to another site in the system browser (refused for anything else). */
export const openInBrowser = (url: string) => invoke<void>('open_in_browser', { url });
