// The streaming benchmark page (tests/bench/ui.mjs opens it in the app's real webview): the real
// MessageList, an answer already ~19,000 tokens long, then tokens streamed into it at a fixed
// rate. Records each update's cost (state change + Svelte flush + layout) and the intervals
// between animation frames. Not part of the app's screens.
import { flushSync, mount } from 'svelte';
import './app.css';
import MessageList from './components/MessageList.svelte';
import { Conversation } from './lib/conversation.svelte';

const WORDS = 'the model streams tokens into a long answer while the page stays smooth and every block renders once'.split(' ');

/** Markdown of roughly `tokens` tokens (≈ 4 characters each): paragraphs, lists, code. */
function longMarkdown(tokens: number): string {
  const parts: string[] = [];
  let chars = 0;
  let i = 0;
  while (chars < tokens * 4) {
    let block: string;
    if (i % 7 === 3) block = '```python\n' + Array.from({ length: 8 }, (_, k) => `def f${i}_${k}(x):\n    return x * ${k}`).join('\n') + '\n```';
    else if (i % 5 === 2) block = Array.from({ length: 5 }, (_, k) => `- item ${k}: **${WORDS[(i + k) % WORDS.length]}** and \`code\``).join('\n');
    else block = Array.from({ length: 60 }, (_, k) => WORDS[(i * 7 + k) % WORDS.length]).join(' ') + '.';
    parts.push(block);
    chars += block.length + 2;
    i++;
  }
  return parts.join('\n\n');
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function run(tokens: number, rate: number, initialTokens = 19_000) {
  // Updates land once per frame, as in the app; each frame's update is timed (state → Svelte
  // flush → style and layout).
  const costs: number[] = [];
  const conversation = new Conversation((flush) =>
    requestAnimationFrame(() => {
      const t0 = performance.now();
      flush();
      flushSync();
      void document.body.offsetHeight;
      costs.push(performance.now() - t0);
    }),
  );
  conversation.setBranch({ has_more: false, messages: [
    { id: 1, conversation_id: 1, parent_id: null, role: 'user', content: 'Write a very long answer.', status: 'complete', created_at: 0, stats: null, error: null, reasoning: null, reasoning_ms: null, tool_calls: [], attachments: [], sources: [], sibling_index: 1, sibling_count: 1 },
    { id: 2, conversation_id: 1, parent_id: 1, role: 'assistant', content: longMarkdown(initialTokens), status: 'stopped', created_at: 0, stats: null, error: null, reasoning: null, reasoning_ms: null, tool_calls: [], attachments: [], sources: [], sibling_index: 1, sibling_count: 1 },
  ] });
  mount(MessageList, {
    target: (() => {
      const root = document.getElementById('app')!;
      root.replaceChildren();
      return root;
    })(),
    props: {
      get messages() {
        return conversation.messages;
      },
      assistantName: 'Bench',
      avatar: '',
      busy: true,
      onregenerate() {},
      oncontinue() {},
      onedit() {},
      onbranch() {},
    },
  });
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  conversation.beginTurn(1, conversation.messages[1]);

  // Baseline: frame intervals of this page with nothing changing (what the display and the
  // compositor give; under Xvfb without a GPU that is far from 60 Hz).
  const idle: number[] = [];
  await new Promise<void>((resolve) => {
    let prev = performance.now();
    const until = prev + 3000;
    const tick = (t: number) => {
      idle.push(t - prev);
      prev = t;
      if (t < until) requestAnimationFrame(tick);
      else resolve();
    };
    requestAnimationFrame(tick);
  });
  idle.shift();

  const frames: number[] = [];
  let last = performance.now();
  let running = true;
  const frame = (t: number) => {
    frames.push(t - last);
    last = t;
    if (running) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  const pieces = [' the', ' model', ' streams', '\n\n', 'A', ' **bold**', ' `code`', ' word', '.', ' next'];
  const started = performance.now();
  for (let n = 0; n < tokens; n++) {
    // Wait for this token's time on the fixed-rate clock.
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    conversation.apply({ kind: 'text', text: pieces[n % pieces.length], context_used: null });
  }
  await new Promise((r) => requestAnimationFrame(r));
  running = false;
  frames.shift();
  return {
    tokens,
    rate,
    answer_chars: conversation.messages[1].content.length,
    update_p50_ms: percentile(costs, 50),
    update_p99_ms: percentile(costs, 99),
    update_max_ms: Math.max(...costs),
    frame_p50_ms: percentile(frames, 50),
    frame_p99_ms: percentile(frames, 99),
    frames_over_20ms: frames.filter((f) => f > 20).length,
    frames: frames.length,
    idle_frame_p50_ms: percentile(idle, 50),
    idle_frame_p99_ms: percentile(idle, 99),
  };
}

(window as unknown as { siroccoBench: typeof run }).siroccoBench = run;
