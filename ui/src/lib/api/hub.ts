// The Hugging Face Hub: search, a repository's models, remote fit, and the download queue kept
// by Rust in the HF cache and shared with `sirocco pull` (src-tauri/src/commands/hub.rs).
import { Channel, invoke } from '@tauri-apps/api/core';
export type {
  DownloadPhase,
  DownloadProgress,
  GgufEntry,
  QueuedDownload,
  QueuedState,
  RemoteFile,
  RemoteFit,
  RepoPage,
  RepoSummary,
  SearchQuery,
  SortBy,
} from '../bindings';
import type {
  DownloadProgress,
  GgufEntry,
  QueuedDownload,
  RemoteFile,
  RemoteFit,
  RepoPage,
  RepoSummary,
  SearchQuery,
} from '../bindings';

export const hubSearch = (query: SearchQuery) => invoke<RepoSummary[]>('hub_search', { query });
export const hubRepo = (id: string) => invoke<RepoPage>('hub_repo', { id });
/** `parts`: every file of the model (a split model's parts, part 1 first). */
export const hubFit = (id: string, commit: string, parts: RemoteFile[], projector: RemoteFile | null = null) =>
  invoke<RemoteFit>('hub_fit', { id, commit, parts, projector });

function progressChannel(onProgress: (p: DownloadProgress) => void) {
  const channel = new Channel<DownloadProgress>();
  channel.onmessage = onProgress;
  return channel;
}
export const downloadList = () => invoke<QueuedDownload[]>('download_list');
/** Queues `entry` of `id` and downloads it; resolves with the path to load once verified. */
export const downloadStart = (id: string, commit: string, entry: GgufEntry, onProgress: (p: DownloadProgress) => void) =>
  invoke<string>('download_start', { id, commit, name: entry.name, onProgress: progressChannel(onProgress) });
/** Resumes a queued download from what is on disk. */
export const downloadResume = (key: string, onProgress: (p: DownloadProgress) => void) =>
  invoke<string>('download_resume', { key, onProgress: progressChannel(onProgress) });
export const downloadPause = (key: string) => invoke<void>('download_pause', { key });
/** Takes `key` out of the queue and deletes what it fetched. */
export const downloadCancel = (key: string) => invoke<void>('download_cancel', { key });
