// End to end through the real webview: flip the local server on, call it from a client, see the
// request in the log, flip it off and find the port closed.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { artifacts, makeModelsFolder, startApp } from './harness.mjs';

let app;
let browser;
const $ = (s) => browser.$(s);
const $$ = (s) => browser.$$(s);
const text = async (el) => (await el.getProperty('textContent')) ?? '';

/** A port nothing listens on right now. */
const freePort = () =>
  new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

before(async () => {
  app = await startApp({ modelsDir: makeModelsFolder() });
  browser = app.browser;
});
after(async () => {
  await app?.stop();
});

test('a request naming a library model loads it, and the app shows it loaded', async () => {
  await (await $('[data-testid="nav-server"]')).waitForClickable({ timeout: 20_000 });
  await (await $('[data-testid="nav-server"]')).click();
  const port = await freePort();
  await (await $('[data-testid="server-port"]')).setValue(String(port));
  assert.equal(await (await $('[data-testid="server-on-demand"]')).isSelected(), true, 'on by default');
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(join(artifacts, 'server-off.png'));
  await (await $('[data-testid="server-toggle"]')).click();
  await (await $('[data-testid="server-url"]')).waitForExist({ timeout: 10_000 });
  const base = `http://127.0.0.1:${port}/v1`;
  assert.match(await text(await $('[data-testid="server-model"]')), /a request that names a library model loads it/);

  // Nothing is loaded; the library is listed (not the broken file).
  const ids = (await (await fetch(`${base}/models`)).json()).data.map((m) => m.id);
  assert.deepEqual(ids, ['SmolLM2-135M-Instruct.Q4_1']);
  const reply = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: ids[0], messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 }),
  });
  assert.equal(reply.status, 200);

  // The app shows what the server loaded, here and in the chat.
  await browser.waitUntil(async () => /Serving SmolLM2-135M-Instruct\.Q4_1/.test(await text(await $('[data-testid="server-model"]'))), {
    timeout: 10_000, timeoutMsg: 'the server page does not show the loaded model',
  });
  await (await $('[data-testid="server-toggle"]')).click();
  await browser.waitUntil(async () => /Off/.test(await text(await $('[data-testid="server-state"]'))), { timeout: 10_000 });
  await (await $('[data-testid="nav-chat"]')).click();
  await (await $('[data-testid="loaded-model"]')).waitForExist({ timeout: 10_000 });
  assert.match(await text(await $('[data-testid="loaded-model"]')), /SmolLM2/);
});

test('the local server serves the loaded model to an OpenAI client and stops when flipped off', async () => {
  await (await $('[data-testid="model-picker"]')).waitForClickable({ timeout: 20_000 });
  await (await $('[data-testid="model-picker"]')).click();
  for (const option of await $$('[data-testid="model-option"]')) {
    if ((await option.getText()).includes('SmolLM2')) await option.click();
  }
  await (await $('[data-testid="loaded-model"]')).waitForExist({ timeout: 60_000 });

  await (await $('[data-testid="nav-server"]')).click();
  const port = await freePort();
  const portInput = await $('[data-testid="server-port"]');
  await portInput.setValue(String(port));
  await (await $('[data-testid="server-toggle"]')).click();
  const url = await $('[data-testid="server-url"]');
  await url.waitForExist({ timeout: 10_000 });
  const base = await text(url);
  assert.equal(base, `http://127.0.0.1:${port}/v1`);

  const models = await (await fetch(`${base}/models`)).json();
  assert.equal(models.data[0].id, 'SmolLM2-135M-Instruct.Q4_1');
  const reply = await (await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: models.data[0].id, messages: [{ role: 'user', content: 'What is the capital of France? Answer in one sentence.' }], temperature: 0, max_tokens: 40 }),
  })).json();
  assert.match(reply.choices[0].message.content, /Paris/);

  await browser.waitUntil(async () => {
    for (const row of await $$('[data-testid="server-log-row"]')) if (/POST\s*\/v1\/chat\/completions\s*200/.test(await text(row))) return true;
    return false;
  }, { timeout: 10_000, timeoutMsg: 'the request is not in the log' });
  assert.match(await text(await $('[data-testid="server-snippet"]')), new RegExp(`curl ${base.replaceAll('.', '\\.')}/chat/completions`));
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(join(artifacts, 'server.png'));

  await (await $('[data-testid="server-toggle"]')).click();
  await browser.waitUntil(async () => /Off/.test(await text(await $('[data-testid="server-state"]'))), { timeout: 10_000 });
  await assert.rejects(fetch(`${base}/models`), 'the port is closed');
});
