// End to end through the real webview: another machine (a real `sirocco worker` on loopback)
// added under "Other machines", layers moved onto it with the GPU slider, the worker killed
// mid-answer — the answer ends with a clear error, the app keeps running, and the model loads
// again without the machine.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { artifacts, freePort, makeModelsFolder, repo, startApp } from './harness.mjs';

let app;
let browser;
let worker;
let endpoint;
const $ = (s) => browser.$(s);
const $$ = (s) => browser.$$(s);
const text = async (el) => (await el.getProperty('textContent')) ?? '';
const settle = () => browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));

/** `sirocco worker` on `port`, once it says it listens. */
function startWorker(port) {
  const child = spawn(join(repo, 'target', 'debug', 'sirocco'), ['worker', '--port', String(port), '--threads', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('sirocco worker listening on')) resolve(child);
    });
  });
}

before(async () => {
  app = await startApp({ modelsDir: makeModelsFolder() });
  browser = app.browser;
  const port = await freePort();
  endpoint = `127.0.0.1:${port}`;
  worker = await startWorker(port);
});
after(async () => {
  worker?.kill('SIGKILL');
  await app?.stop();
});

async function pickSmolLM2() {
  await (await $('[data-testid="model-picker"]')).click();
  for (const option of await $$('[data-testid="model-option"]')) {
    if ((await option.getText()).includes('SmolLM2')) return option.click();
  }
  assert.fail('SmolLM2 is not in the picker');
}

async function rows() {
  const found = [];
  for (const row of await $$('[data-testid="worker-row"]')) found.push(await text(row));
  return found;
}

test('a machine is checked when added, and listed with its memory', async () => {
  await (await $('[data-testid="nav-server"]')).waitForClickable({ timeout: 20_000 });
  await (await $('[data-testid="nav-server"]')).click();
  const card = await $('[data-testid="other-machines"]');
  await browser.waitUntil(async () => /None yet/.test(await text(card)), { timeout: 10_000, timeoutMsg: 'no empty state' });

  // Nothing listens there: refused with the reason, not added.
  const nobody = `127.0.0.1:${await freePort()}`;
  await (await $('[data-testid="worker-address"]')).setValue(nobody);
  await (await $('[data-testid="worker-add"]')).click();
  const alert = await card.$('[role="alert"]');
  await alert.waitForExist({ timeout: 15_000 });
  assert.match(await text(alert), new RegExp(`${nobody.replaceAll('.', '\\.')}: cannot connect`));
  assert.deepEqual(await rows(), []);

  await (await $('[data-testid="worker-address"]')).setValue(endpoint);
  await (await $('[data-testid="worker-add"]')).click();
  await browser.waitUntil(async () => (await rows()).length === 1, { timeout: 15_000, timeoutMsg: 'the worker is not listed' });
  const [row] = await rows();
  assert.ok(row.includes(endpoint), row);
  assert.match(row, /\d+(\.\d)? [MG]B free of \d+(\.\d)? [MG]B/, `its memory is shown: ${row}`);
  await settle();
  await browser.saveScreenshot(join(artifacts, 'other-machines.png'));

  // Discover's hardware panel counts it beside this machine.
  await (await $('[data-testid="nav-discover"]')).click();
  const others = await $('[data-testid="hardware-others"]');
  await others.waitForExist({ timeout: 15_000 });
  assert.match(await text(others), /\+ 1 other machine: \d+(\.\d)? [MG]B free/);
  await settle();
  await browser.saveScreenshot(join(artifacts, 'discover-machines.png'));
});

test('the GPU slider moves layers onto the machine; losing it mid-answer is a clear error and the app lives on', async () => {
  await (await $('[data-testid="nav-chat"]')).click();
  await pickSmolLM2();
  await (await $('[data-testid="loaded-model"]')).waitForExist({ timeout: 60_000 });
  // The planner counted the machine's memory: all of SmolLM2 fits there, so every layer is offloaded.
  assert.match(await text(await $('[data-testid="settings-panel"]')), /GPU offload\s*31 \/ 31 layers/);
  // No GPU here, yet the slider moves: offloaded layers go to the other machine.
  const slider = await $('[data-testid="gpu-layers-slider"]');
  assert.equal(await slider.isEnabled(), true, 'the slider is enabled by the machine');
  assert.match(await text(await $('[data-testid="gpu-layers-hint"]')), /another machine/);
  await browser.execute(() => {
    const s = document.querySelector('[data-testid="gpu-layers-slider"]');
    s.value = '15';
    s.dispatchEvent(new Event('input', { bubbles: true }));
    const t = document.querySelector('[data-testid="temperature-slider"]');
    t.value = '0';
    t.dispatchEvent(new Event('input', { bubbles: true }));
  });
  // The memory readout splits the load as llama.cpp will: 15 of 31 layers (the head first) on the machine.
  await browser.waitUntil(async () => {
    for (const row of await $$('[data-testid="memory-device"]')) if (/Other machine · 15 layers\s*\d+(\.\d)? MB of \d+(\.\d)? GB/.test(await text(row))) return true;
    return false;
  }, { timeout: 10_000, timeoutMsg: 'the memory readout does not show the other machine\'s share' });
  assert.match(await text(await $('[data-testid="memory-estimate"]')), /Fits: .* RAM available here/);
  await (await $('[data-testid="memory-estimate"]')).scrollIntoView({ block: 'center' });
  await settle();
  await browser.saveScreenshot(join(artifacts, 'memory-split.png'));
  await (await $('[data-testid="reload-button"]')).click();
  await browser.waitUntil(async () => /15 \/ \d+ layers/.test(await text(await $('[data-testid="settings-panel"]'))) && (await $('[data-testid="loaded-model"]')).isExisting(), {
    timeout: 60_000, timeoutMsg: 'the model was not reloaded with 15 layers offloaded',
  });
  await (await $('[data-testid="reload-button"]')).waitForExist({ reverse: true, timeout: 60_000 });

  // Streaming an answer, then the machine goes. (What the page returns has no `error` key:
  // WebDriver clients read one as the command's failure.)
  const input = await $('[data-testid="composer-input"]');
  await input.waitForEnabled({ timeout: 10_000 });
  await input.setValue('Write a very long story about a lighthouse keeper. Make it at least 2000 words.');
  await (await $('[data-testid="send-button"]')).click();
  const last = () => browser.execute(() => {
    const all = document.querySelectorAll('[data-testid="message-assistant"]');
    const m = all[all.length - 1];
    return { text: m?.querySelector('[data-testid="message-text"]')?.textContent ?? '', failure: m?.querySelector('[role="alert"]')?.textContent ?? null };
  });
  await browser.waitUntil(async () => (await last()).text.length > 20, { timeout: 60_000, timeoutMsg: 'no streamed text' });
  worker.kill('SIGKILL');
  await browser.waitUntil(async () => (await last()).failure !== null, { timeout: 30_000, timeoutMsg: 'the answer shows no error' });
  const { failure } = await last();
  assert.match(failure, new RegExp(`${endpoint.replaceAll('.', '\\.')} stopped answering`), failure);
  // The app is alive; the model is no longer loaded.
  await (await $('[data-testid="loaded-model"]')).waitForExist({ reverse: true, timeout: 10_000 });
  await settle();
  await browser.saveScreenshot(join(artifacts, 'machine-lost.png'));

  // Not answering now; used no more, the model loads again on this machine alone.
  await (await $('[data-testid="nav-server"]')).click();
  await browser.waitUntil(async () => /Not answering/.test((await rows())[0] ?? ''), { timeout: 15_000, timeoutMsg: 'the machine is not shown as gone' });
  await (await $(`[aria-label="Use ${endpoint}"]`)).click();
  await browser.waitUntil(async () => !(await (await $(`[aria-label="Use ${endpoint}"]`)).isSelected()), { timeout: 15_000 });
  await (await $('[data-testid="nav-chat"]')).click();
  await pickSmolLM2();
  await (await $('[data-testid="loaded-model"]')).waitForExist({ timeout: 60_000 });
  await input.waitForEnabled({ timeout: 10_000 });
  await input.setValue('What is the capital of France?');
  await (await $('[data-testid="send-button"]')).click();
  await browser.waitUntil(async () => /Paris/.test((await last()).text), { timeout: 60_000, timeoutMsg: 'no answer after reloading without the machine' });
});
