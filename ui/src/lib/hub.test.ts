import { describe, expect, it } from 'vitest';
import { compactCount, renderModelCard, timeAgo, verdictLabel, verdictTone } from './hub';
import { describeProgress, formatEta, type DownloadBackend } from './downloads.svelte';
import type { QueuedDownload } from './api';

describe('model cards', () => {
  it('render Markdown without scripts, handlers or remote images', () => {
    const html = renderModelCard(
      '---\nlicense: apache-2.0\n---\n# Title\n\n<script>alert(1)</script>\n<img src="https://x/y.png" onerror="alert(2)">\n\n[link](javascript:alert(3)) **bold**',
    );
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).not.toMatch(/script|onerror|<img|javascript:|license/);
  });
});

describe('fit verdicts', () => {
  it('read as sentences with a tone', () => {
    expect(verdictLabel({ kind: 'partial_offload', gpu_layers: 20, total_layers: 88 })).toBe(
      'Partial offload: 20 of 88 layers on GPU',
    );
    expect(verdictLabel({ kind: 'fully_on_gpu' }, true)).toBe('Fits on GPU, experts in RAM');
    expect(verdictLabel({ kind: 'partial_offload', gpu_layers: 20, total_layers: 56 }, true)).toBe(
      'Partial offload: 20 of 56 layers on GPU, experts in RAM',
    );
    expect(verdictLabel({ kind: 'partial_offload', gpu_layers: 65, total_layers: 88 }, false, 1)).toBe(
      'Fits across this machine and 1 other: 65 of 88 layers offloaded',
    );
    expect(verdictLabel({ kind: 'fully_on_gpu' }, false, 2)).toBe('Fits across this machine and 2 others');
    expect(verdictLabel({ kind: 'cpu_only' }, false, 2)).toBe('Fits in RAM (CPU only)');
    expect(verdictTone({ kind: 'too_large' })).toBe('bad');
    expect(verdictTone({ kind: 'cpu_only' })).toBe('good');
  });
});

describe('numbers and times', () => {
  it('are compact', () => {
    expect(compactCount(950)).toBe('950');
    expect(compactCount(1234)).toBe('1.2k');
    expect(compactCount(5_600_000)).toBe('5.6M');
    const now = Date.parse('2026-11-22T12:00:00Z');
    expect(timeAgo('2026-11-19T12:00:00Z', now)).toBe('3 days ago');
    expect(timeAgo('2026-08-01T12:00:00Z', now)).toBe('3 months ago');
    expect(timeAgo(null, now)).toBe('');
    expect(formatEta(75)).toBe('1 min 15 s');
  });
  it('describe download progress', () => {
    const p = { file: 'x', downloaded: 5, total: 10, bytes_per_second: 12_300_000, eta_seconds: 30, phase: { kind: 'downloading' as const } };
    expect(describeProgress(p)).toBe('12.3 MB/s · 30 s left');
    expect(describeProgress({ ...p, phase: { kind: 'retrying', attempt: 2, delay_ms: 1500, error: 'reset' } })).toBe(
      'Connection lost — retrying in 2 s',
    );
    expect(describeProgress(null)).toBe('Starting…');
  });
});

describe('the download queue', () => {
  const entry = { name: 'm-Q4_K_M.gguf', quant: 'Q4_K_M', parts: [], total_size: 10, projector: null };
  const queued = (repo: string, state: QueuedDownload['state'], downloaded = 0): QueuedDownload => ({
    key: `${repo}/${entry.name}`,
    repo,
    commit: 'c',
    entry,
    state,
    downloaded,
  });
  /** The backend's calls, and downloads that finish when the test says. */
  function backend(list: QueuedDownload[]) {
    const calls: string[] = [];
    const finish = new Map<string, (path: string) => void>();
    const fail = new Map<string, (e: unknown) => void>();
    const b: DownloadBackend = {
      list: async () => list,
      start: (repo, _commit, e) => {
        calls.push(`start ${repo}/${e.name}`);
        return new Promise((ok, no) => (finish.set(`${repo}/${e.name}`, ok), fail.set(`${repo}/${e.name}`, no)));
      },
      resume: (key) => {
        calls.push(`resume ${key}`);
        return new Promise((ok, no) => (finish.set(key, ok), fail.set(key, no)));
      },
      pause: async (key) => void calls.push(`pause ${key}`),
      cancel: async (key) => void calls.push(`cancel ${key}`),
    };
    return { b, calls, finish, fail };
  }

  it("restores Rust's queue: left downloading resumes, paused and failed wait with their bytes", async () => {
    const { Downloads } = await import('./downloads.svelte');
    const { b, calls } = backend([
      queued('a/b', { kind: 'paused' }, 4),
      queued('a/c', { kind: 'failed', message: 'disk full' }),
      queued('a/d', { kind: 'downloading' }, 7),
    ]);
    const downloads = new Downloads(b);
    await downloads.restore();
    expect(downloads.items.map((i) => [i.key, i.status])).toEqual([
      ['a/b/m-Q4_K_M.gguf', 'paused'],
      ['a/c/m-Q4_K_M.gguf', 'failed'],
      ['a/d/m-Q4_K_M.gguf', 'downloading'],
    ]);
    expect(downloads.get('a/b/m-Q4_K_M.gguf')?.progress?.downloaded).toBe(4);
    expect(downloads.get('a/c/m-Q4_K_M.gguf')?.error).toBe('disk full');
    expect(calls).toEqual(['resume a/d/m-Q4_K_M.gguf']);
    await downloads.restore(); // idempotent
    expect(downloads.items.length).toBe(3);
    expect(calls.length).toBe(1);
  });

  it('a pause is recognised by its kind, and resuming asks Rust by key', async () => {
    const { Downloads } = await import('./downloads.svelte');
    const { b, calls, fail, finish } = backend([]);
    const downloads = new Downloads(b);
    let finished = '';
    downloads.onfinished = (p) => (finished = p);
    const started = downloads.start('a/b', 'c', entry);
    const key = 'a/b/m-Q4_K_M.gguf';
    await downloads.pause(key);
    fail.get(key)!({ kind: 'cancelled', message: 'download cancelled' });
    await started;
    expect(downloads.get(key)?.status).toBe('paused');
    const resumed = downloads.resume(key);
    expect(downloads.get(key)?.status).toBe('downloading');
    finish.get(key)!('/models/m.gguf');
    await resumed;
    expect(downloads.get(key)?.status).toBe('done');
    expect(finished).toBe('/models/m.gguf');
    expect(calls).toEqual([`start ${key}`, `pause ${key}`, `resume ${key}`]);
  });

  it('a failure keeps its message; cancel takes the item out', async () => {
    const { Downloads } = await import('./downloads.svelte');
    const { b, calls, fail } = backend([]);
    const downloads = new Downloads(b);
    const started = downloads.start('a/b', 'c', entry);
    const key = 'a/b/m-Q4_K_M.gguf';
    fail.get(key)!({ kind: 'network', message: 'could not reach the Hub' });
    await started;
    expect(downloads.get(key)?.status).toBe('failed');
    expect(downloads.get(key)?.error).toBe('could not reach the Hub');
    await downloads.cancel(key);
    expect(downloads.items).toEqual([]);
    expect(calls).toEqual([`start ${key}`, `cancel ${key}`]);
  });
});
