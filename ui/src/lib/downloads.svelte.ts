// The download queue as the page shows it: one item per model (all parts of a split model),
// with progress, speed and ETA. Rust owns the queue (sirocco-hub's queue, shared with
// `sirocco pull`); this mirrors it for the screen: pause keeps what was fetched, resume continues
// from there without asking the Hub again, cancel deletes it.
import * as api from './api';
import { errorKind, errorMessage, type DownloadProgress, type GgufEntry, type QueuedDownload } from './api';
import { formatBytes } from './format';

export type DownloadStatus = 'downloading' | 'paused' | 'failed' | 'done';

export interface DownloadItem {
  key: string;
  repo: string;
  commit: string;
  entry: GgufEntry;
  status: DownloadStatus;
  progress: DownloadProgress | null;
  error: string | null;
  path: string | null;
}

/** The queue's key for `entry` of `repo` (sirocco_hub::queue::key_of). */
export const downloadKey = (repo: string, entry: GgufEntry) => `${repo}/${entry.name}`;

/** The commands the queue runs (the app's; a test passes its own). */
export interface DownloadBackend {
  list(): Promise<QueuedDownload[]>;
  start(repo: string, commit: string, entry: GgufEntry, onProgress: (p: DownloadProgress) => void): Promise<string>;
  resume(key: string, onProgress: (p: DownloadProgress) => void): Promise<string>;
  pause(key: string): Promise<void>;
  cancel(key: string): Promise<void>;
}

const tauriBackend: DownloadBackend = {
  list: api.downloadList,
  start: api.downloadStart,
  resume: api.downloadResume,
  pause: api.downloadPause,
  cancel: api.downloadCancel,
};

/** A queued item's bytes on disk as a progress line (no speed: nothing is moving). */
function standing(q: QueuedDownload): DownloadProgress {
  return {
    file: q.entry.parts[0]?.path ?? q.entry.name,
    downloaded: q.downloaded,
    total: q.entry.total_size,
    bytes_per_second: 0,
    eta_seconds: null,
    phase: { kind: 'downloading' },
  };
}

export class Downloads {
  items = $state<DownloadItem[]>([]);
  /** Called with the model's path when a download has verified. */
  onfinished: (path: string) => void = () => {};
  constructor(private backend: DownloadBackend = tauriBackend) {}

  /** The queue as Rust keeps it (this run's, the last run's, a terminal's `sirocco pull`):
   *  items left downloading resume where they stopped, paused and failed ones wait. */
  async restore() {
    let queued: QueuedDownload[];
    try {
      queued = await this.backend.list();
    } catch {
      return;
    }
    for (const q of queued) {
      if (this.get(q.key)) continue;
      const status: DownloadStatus = q.state.kind === 'downloading' ? 'paused' : q.state.kind;
      const error = q.state.kind === 'failed' ? q.state.message : null;
      const { key, repo, commit, entry } = q;
      this.items.push({ key, repo, commit, entry, status, progress: standing(q), error, path: null });
      if (q.state.kind === 'downloading') void this.resume(q.key);
    }
  }

  get(key: string): DownloadItem | undefined {
    return this.items.find((i) => i.key === key);
  }

  get active(): DownloadItem[] {
    return this.items.filter((i) => i.status === 'downloading');
  }

  /** Starts downloading `entry` of `repo` at `commit` (or resumes it, if queued). */
  async start(repo: string, commit: string, entry: GgufEntry) {
    const key = downloadKey(repo, entry);
    if (this.get(key)) return this.resume(key);
    this.items.push({ key, repo, commit, entry, status: 'downloading', progress: null, error: null, path: null });
    await this.run(key, (onProgress) => this.backend.start(repo, commit, entry, onProgress));
  }

  /** Continues a paused, failed or interrupted download from what is on disk. */
  async resume(key: string) {
    const item = this.get(key);
    if (!item || item.status === 'downloading' || item.status === 'done') return;
    await this.run(key, (onProgress) => this.backend.resume(key, onProgress));
  }

  private async run(key: string, download: (onProgress: (p: DownloadProgress) => void) => Promise<string>) {
    const item = this.get(key)!;
    item.status = 'downloading';
    item.error = null;
    try {
      const path = await download((p) => {
        const it = this.get(key);
        if (it) it.progress = p;
      });
      const it = this.get(key);
      if (it) {
        it.status = 'done';
        it.path = path;
      }
      this.onfinished(path);
    } catch (e) {
      const it = this.get(key);
      if (!it) return; // cancelled and removed
      if (errorKind(e) === 'cancelled') {
        if (it.status === 'downloading') it.status = 'paused';
      } else {
        it.status = 'failed';
        it.error = errorMessage(e);
      }
    }
  }

  async pause(key: string) {
    const item = this.get(key);
    if (!item || item.status !== 'downloading') return;
    item.status = 'paused';
    await this.backend.pause(key);
  }

  async cancel(key: string) {
    const item = this.get(key);
    if (!item) return;
    this.items = this.items.filter((i) => i.key !== key);
    await this.backend.cancel(key);
  }
}

/** "12.3 MB/s · 1:05 left" */
export function describeProgress(p: DownloadProgress | null): string {
  if (!p) return 'Starting…';
  switch (p.phase.kind) {
    case 'verifying':
      return 'Verifying checksum…';
    case 'waiting':
      return 'Waiting for another download of this file (a terminal or another window)…';
    case 'done':
      return 'Downloaded and verified';
    case 'retrying':
      return `Connection lost — retrying in ${Math.ceil(p.phase.delay_ms / 1000)} s`;
    default: {
      const speed = `${formatRate(p.bytes_per_second)}`;
      return p.eta_seconds == null ? speed : `${speed} · ${formatEta(p.eta_seconds)} left`;
    }
  }
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}
