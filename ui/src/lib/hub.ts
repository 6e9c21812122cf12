// Presentation helpers for the model browser.
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import type { FitVerdict } from './api';

/** A model card (untrusted Markdown from the Hub) as safe HTML: no scripts, no handlers,
 *  no remote images (they would reach the network). Its links stay as written: the window's
 *  link guard (links.ts) opens other sites in the system browser, never inside the app. */
export function renderModelCard(markdown: string): string {
  const body = markdown.replace(/^---\n[\s\S]*?\n---\n/, ''); // YAML front matter
  const html = marked.parse(body, { async: false, gfm: true }) as string;
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ['img', 'iframe', 'script', 'style', 'form', 'input', 'video', 'audio', 'object', 'embed'],
    FORBID_ATTR: ['style', 'srcset'],
  });
}

/** `expertsOnCpu`: a mixture of experts planned with its experts in RAM; `others`: other
 *  machines (workers) whose devices take part. */
export function verdictLabel(v: FitVerdict, expertsOnCpu = false, others = 0): string {
  const experts = expertsOnCpu ? ', experts in RAM' : '';
  if (others > 0 && (v.kind === 'fully_on_gpu' || v.kind === 'partial_offload')) {
    const across = `Fits across this machine and ${others === 1 ? '1 other' : `${others} others`}`;
    return v.kind === 'fully_on_gpu' ? `${across}${experts}` : `${across}: ${v.gpu_layers} of ${v.total_layers} layers offloaded${experts}`;
  }
  switch (v.kind) {
    case 'fully_on_gpu':
      return expertsOnCpu ? 'Fits on GPU, experts in RAM' : 'Fits fully on GPU';
    case 'partial_offload':
      return `Partial offload: ${v.gpu_layers} of ${v.total_layers} layers on GPU${experts}`;
    case 'cpu_only':
      return 'Fits in RAM (CPU only)';
    case 'too_large':
      return 'Too large for this machine';
  }
}

export const verdictTone = (v: FitVerdict) =>
  v.kind === 'too_large' ? 'bad' : v.kind === 'partial_offload' ? 'warn' : 'good';

/** "3 days ago", "2 months ago" from an ISO date. */
export function timeAgo(iso: string | null, now = Date.now()): string {
  if (!iso) return '';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const days = Math.floor((now - then) / 86_400_000);
  if (days < 1) return 'today';
  if (days < 2) return 'yesterday';
  if (days < 30) return `${days} days ago`;
  const months = Math.floor(days / 30);
  if (months < 12) return months === 1 ? '1 month ago' : `${months} months ago`;
  const years = Math.floor(days / 365);
  return years === 1 ? '1 year ago' : `${years} years ago`;
}

/** 1234 → "1.2k", 5_600_000 → "5.6M" */
export function compactCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}
