// The conversation UI benchmark, in the app's real webview (WebKitGTK through tauri-driver):
//  1. open a 5,000-message conversation from the sidebar: time to first paint (median of 5);
//  2. stream tokens at 100/s into an answer already ~19,000 tokens long (bench.html, the real
//     MessageList): per-update cost and frame intervals.
// Run with `bash tests/bench/ui.sh`. Prints figures; not a test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModelsFolder, repo, startApp } from '../e2e/harness.mjs';

const data = mkdtempSync(join(tmpdir(), 'sirocco-ui-bench-'));
execFileSync(join(repo, 'target/debug/sirocco'), ['bench-store', '--db', join(data, 'sirocco.db'), '--messages', '20000', '--long', '5000', '--reps', '1'], { stdio: 'ignore' });
const app = await startApp({ modelsDir: makeModelsFolder(), env: { SIROCCO_DATA_DIR: data } });
const browser = app.browser;
try {
  await browser.waitUntil(async () => (await browser.$$('[data-testid="conversation-open"]')).length > 1, { timeout: 30_000 });
  const open = (title) =>
    browser.executeAsync((title, done) => {
      const button = [...document.querySelectorAll('[data-testid="conversation-open"]')].find((b) => b.textContent.includes(title));
      const id = button.dataset.conversationId;
      const started = performance.now();
      button.click();
      const wait = () => {
        const list = document.querySelector(`[data-testid="messages"][data-conversation-id="${id}"]`);
        if (list && list.querySelector('[data-message-id]')) {
          requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - started)));
        } else requestAnimationFrame(wait);
      };
      wait();
    }, title);
  const times = [];
  for (let i = 0; i < 5; i++) {
    await open('Chat 1');
    times.push(await open('Long conversation'));
  }
  times.sort((a, b) => a - b);
  console.log(`open a 5,000-message conversation: first paint ${times[2].toFixed(0)} ms median (runs: ${times.map((t) => t.toFixed(0)).join(', ')}; target ≤ 150)`);

  const url = await browser.getUrl();
  await browser.url(new URL('/bench.html', url).href);
  await browser.waitUntil(() => browser.execute(() => typeof window.siroccoBench === 'function'), { timeout: 10_000 });
  const stream = (initial) => browser.executeAsync((initial, done) => window.siroccoBench(1000, 100, initial).then(done), initial);
  const short = await stream(100);
  await browser.url(new URL('/bench.html', url).href);
  await browser.waitUntil(() => browser.execute(() => typeof window.siroccoBench === 'function'), { timeout: 10_000 });
  const long = await stream(19_000);
  for (const [label, r] of [['a short answer', short], ['a long answer', long]]) {
    console.log(`stream ${r.tokens} tokens at ${r.rate}/s into ${label} (${Math.round(r.answer_chars / 4).toLocaleString('en-US')} tokens at the end):`);
    console.log(`  update per frame (state + render + layout): p50 ${r.update_p50_ms.toFixed(1)} ms, p99 ${r.update_p99_ms.toFixed(1)} ms, max ${r.update_max_ms.toFixed(1)} ms`);
    console.log(`  frame intervals: p50 ${r.frame_p50_ms.toFixed(1)} ms, p99 ${r.frame_p99_ms.toFixed(1)} ms; idle page p50 ${r.idle_frame_p50_ms.toFixed(1)} ms, p99 ${r.idle_frame_p99_ms.toFixed(1)} ms`);
  }
  console.log(`long vs short answer: update p99 ratio ${(long.update_p99_ms / short.update_p99_ms).toFixed(2)}, frame p99 ratio ${(long.frame_p99_ms / short.frame_p99_ms).toFixed(2)} (1.00 = length costs nothing); update p99 target < 16 ms`);
} finally {
  await app.stop();
}
