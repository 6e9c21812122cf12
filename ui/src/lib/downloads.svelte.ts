// The download queue as the UI shows it: one item per model (all parts of a split model),
// with progress, speed and ETA; pause keeps what was fetched, resume continues from there,
// cancel deletes it.
import {
  downloadCancel,
  downloadPause,
  downloadStart,
  errorKind,
  errorMessage,
  type DownloadProgress,
  type GgufEntry,
} from './api';

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

export const downloadKey = (repo: string, entry: GgufEntry) => `${repo}/${entry.name}`;

/** Where the queue is remembered between runs (tauri-plugin-store in the app). */
export interface QueueStorage {
  load(): Promise<SavedDownload[]>;
  save(items: SavedDownload[]): Promise<void>;
}
export type SavedDownload = Pick<DownloadItem, 'repo' | 'commit' | 'entry' | 'status' | 'error'>;

export class Downloads {
  items = $state<DownloadItem[]>([]);
  /** Called with the model's path when a download has verified. */
  onfinished: (path: string) => void = () => {};
  constructor(private storage: QueueStorage | null = null) {}

  /** Unfinished downloads of the last run: those that were running start again (they resume
   *  where they stopped), paused and failed ones wait for the user. */
  async restore() {
    if (!this.storage) return;
    let saved: SavedDownload[] = [];
    try {
      saved = await this.storage.load();
    } catch {
      return;
    }
    for (const d of saved) {
      const key = downloadKey(d.repo, d.entry);
      if (this.get(key)) continue;
      this.items.push({ ...d, key, progress: null, path: null, status: d.status === 'downloading' ? 'paused' : d.status });
      if (d.status === 'downloading') void this.start(d.repo, d.commit, d.entry);
    }
  }

  private persist() {
    if (!this.storage) return;
    const unfinished = this.items
      .filter((i) => i.status !== 'done')
      .map(({ repo, commit, entry, status, error }) => ({ repo, commit, entry, status, error }));
    void this.storage.save(unfinished).catch(() => {});
  }

  get(key: string): DownloadItem | undefined {
    return this.items.find((i) => i.key === key);
  }

  get active(): DownloadItem[] {
    return this.items.filter((i) => i.status === 'downloading');
  }

  /** Starts (or resumes) downloading `entry` of `repo` at `commit`. */
  async start(repo: string, commit: string, entry: GgufEntry) {
    const key = downloadKey(repo, entry);
    let item = this.get(key);
    if (!item) {
      this.items.push({ key, repo, commit, entry, status: 'downloading', progress: null, error: null, path: null });
      item = this.get(key)!;
    } else {
      item.status = 'downloading';
      item.error = null;
    }
    this.persist();
    try {
      const path = await downloadStart(repo, commit, entry, (p) => {
        const it = this.get(key);
        if (it) it.progress = p;
      });
      const it = this.get(key);
      if (it) {
        it.status = 'done';
        it.path = path;
      }
      this.persist();
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
      this.persist();
    }
  }

  async pause(key: string) {
    const item = this.get(key);
    if (!item || item.status !== 'downloading') return;
    item.status = 'paused';
    this.persist();
    await downloadPause(item.repo, item.entry);
  }

  async resume(key: string) {
    const item = this.get(key);
    if (item) await this.start(item.repo, item.commit, item.entry);
  }

  async cancel(key: string) {
    const item = this.get(key);
    if (!item) return;
    this.items = this.items.filter((i) => i.key !== key);
    this.persist();
    await downloadCancel(item.repo, item.commit, item.entry);
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
  const mb = bytesPerSecond / 1e6;
  return mb >= 100 ? `${mb.toFixed(0)} MB/s` : `${mb.toFixed(1)} MB/s`;
}

export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}
