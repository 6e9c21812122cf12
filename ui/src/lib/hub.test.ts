import { describe, expect, it } from 'vitest';
import { compactCount, renderModelCard, timeAgo, verdictLabel, verdictTone } from './hub';
import { describeProgress, formatEta } from './downloads.svelte';

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
  it('restores unfinished downloads: running ones resume, paused ones wait', async () => {
    const { Downloads } = await import('./downloads.svelte');
    const entry = { name: 'm-Q4_K_M.gguf', quant: 'Q4_K_M', parts: [], total_size: 10 };
    let saved: unknown[] = [];
    const storage = {
      load: async () => [
        { repo: 'a/b', commit: 'c', entry, status: 'paused' as const, error: null },
        { repo: 'a/c', commit: 'c', entry, status: 'failed' as const, error: 'disk full' },
      ],
      save: async (items: unknown[]) => {
        saved = items;
      },
    };
    const downloads = new Downloads(storage);
    await downloads.restore();
    expect(downloads.items.map((i) => [i.key, i.status])).toEqual([
      ['a/b/m-Q4_K_M.gguf', 'paused'],
      ['a/c/m-Q4_K_M.gguf', 'failed'],
    ]);
    expect(downloads.get('a/c/m-Q4_K_M.gguf')?.error).toBe('disk full');
    await downloads.restore(); // idempotent
    expect(downloads.items.length).toBe(2);
    expect(saved).toEqual([]);
  });
});
