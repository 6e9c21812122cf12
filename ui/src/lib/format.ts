import type { GenerationStats, PromptFormatKind } from './api';

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

const QUANT = /[.\-_](I?Q\d(?:_[A-Z0-9]+)*|F16|BF16|F32)$/i;

/** "SmolLM2-135M-Instruct.Q4_1.gguf" → { name: "SmolLM2-135M-Instruct", quant: "Q4_1" } */
export function describeModelFile(fileName: string): { name: string; quant: string | null } {
  const stem = fileName.replace(/\.gguf$/i, '');
  const match = stem.match(QUANT);
  if (!match || match.index === undefined) return { name: stem, quant: null };
  return { name: stem.slice(0, match.index), quant: match[1].toUpperCase() };
}

export function formatStats(stats: GenerationStats): string {
  const parts = [
    `${stats.decode_tokens_per_second.toFixed(1)} tok/s`,
    ...((stats.draft_tokens ?? 0) > 0
      ? [`${Math.round((100 * stats.draft_accepted_tokens) / stats.draft_tokens)}% of drafts kept`]
      : []),
    `${stats.generated_tokens} tokens`,
    `${Math.round(stats.time_to_first_token_ms)} ms to first token`,
  ];
  const reason: Record<GenerationStats['finish_reason'], string | null> = {
    stop: null,
    length: 'reached max tokens',
    context_full: 'context full',
    cancelled: 'stopped',
    tool_calls: 'called tools',
  };
  const why = reason[stats.finish_reason];
  if (why) parts.push(why);
  return parts.join(' · ');
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A model's size as people say it: 135M, 7.2B, 46.7B, 123B. */
export function formatParameters(n: number): string {
  if (n <= 0) return '';
  if (n < 1e9) return `${Math.max(1, Math.round(n / 1e6))}M`;
  const billions = n / 1e9;
  return `${billions >= 100 ? Math.round(billions) : Number(billions.toFixed(1))}B`;
}

/** How long a thought took, as the thought block says it: "2 seconds", "1 min 4 s". */
export function formatThoughtTime(ms: number): string {
  const secs = Math.round(Math.max(0, ms) / 1000);
  if (secs < 1) return 'less than a second';
  if (secs === 1) return '1 second';
  if (secs < 60) return `${secs} seconds`;
  return `${Math.floor(secs / 60)} min ${secs % 60} s`;
}

/** How prompts are built for a loaded model, in words. */
export function describePromptFormat(format: PromptFormatKind): string {
  switch (format.kind) {
    case 'mistral':
      return `${format.label}, built natively as Mistral's reference does`;
    case 'model_template':
      return "The model's own template";
    case 'user_template':
      return 'Your template';
    case 'builtin_chatml':
      return 'ChatML (the file has no template)';
  }
}
