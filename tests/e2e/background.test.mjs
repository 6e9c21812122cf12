// End to end: Sirocco keeps serving with its window closed. With the server on, the window's
// close button asks once whether to keep running (the answer is kept), then hides the window:
// the server still answers, a second launch brings the window back, focused, and the tray's
// "Quit" (the page's command takes the same path as the menu) ends the process and the server.
// Starting at login writes and removes the XDG autostart entry.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { app as appBinary, artifacts, fixtures, freePort, makeModelsFolder, startApp } from './harness.mjs';

let app;
after(async () => app?.stop());

const windowState = () =>
  execFileSync(join(fixtures, 'venv', 'bin', 'python'), [join(import.meta.dirname, 'window.py'), 'state', 'Sirocco'], {
    encoding: 'utf8',
  }).trim();
const appRunning = () => spawnSync('pgrep', ['-f', appBinary]).status === 0;
const answers = async (port) => {
  try {
    return (await fetch(`http://127.0.0.1:${port}/v1/models`)).status === 200;
  } catch {
    return false;
  }
};

test('closing the window keeps the server on; the tray quits', async () => {
  app = await startApp({ modelsDir: makeModelsFolder() });
  const { browser } = app;
  const $ = (s) => browser.$(s);
  await (await $('[data-testid="nav-server"]')).click();
  const port = await freePort();
  await (await $('[data-testid="server-port"]')).setValue(String(port));
  await (await $('[data-testid="server-toggle"]')).click();
  await (await $('[data-testid="server-url"]')).waitForExist({ timeout: 20_000 });
  assert.ok(await answers(port));

  // Start at login, hidden: the entry names this program and asks for no window.
  const entry = join(app.home, 'config', 'autostart', 'sirocco.desktop');
  await (await $('[data-testid="autostart"]')).click();
  await browser.waitUntil(() => existsSync(entry), { timeout: 10_000, timeoutMsg: 'no autostart entry' });
  await (await $('[data-testid="autostart-hidden"]')).click();
  await browser.waitUntil(() => readFileSync(entry, 'utf8').includes(`Exec=${appBinary} --hidden\n`), {
    timeout: 10_000, timeoutMsg: 'the entry does not start it hidden',
  });
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(join(artifacts, 'server-background-settings.png'));
  await (await $('[data-testid="autostart"]')).click();
  await browser.waitUntil(() => !existsSync(entry), { timeout: 10_000, timeoutMsg: 'the entry stayed' });

  // The first close asks; Escape cancels (the window stays, nothing is kept, the next close asks
  // again); keeping it running hides the window and keeps the answer.
  assert.match(windowState(), /^shown/);
  execFileSync(join(fixtures, 'venv', 'bin', 'python'), [join(import.meta.dirname, 'window.py'), 'close', 'Sirocco']);
  const ask = await $('[data-testid="keep-running"]');
  await ask.waitForExist({ timeout: 10_000 });
  assert.equal(await browser.execute(() => document.activeElement?.dataset.testid), 'keep-running-yes', 'focus is in the dialog');
  await browser.keys('Escape');
  await ask.waitForExist({ timeout: 10_000, reverse: true });
  assert.match(windowState(), /^shown/, 'cancelled: the window stays');
  assert.ok(appRunning());
  execFileSync(join(fixtures, 'venv', 'bin', 'python'), [join(import.meta.dirname, 'window.py'), 'close', 'Sirocco']);
  await ask.waitForExist({ timeout: 10_000 });
  assert.match(await ask.getText(), new RegExp(`127\\.0\\.0\\.1:${port}`), 'it says what keeps running');
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(join(artifacts, 'keep-running.png'));
  // Clicked from the page: WebDriver's own click waits on a window that then goes away.
  await browser.execute(() => document.querySelector('[data-testid="keep-running-yes"]').click());
  await browser.waitUntil(() => windowState().startsWith('hidden'), { timeout: 10_000, timeoutMsg: 'the window stayed' });
  assert.ok(appRunning(), 'Sirocco still runs');
  assert.ok(await answers(port), 'the server still answers with the window closed');
  const settings = JSON.parse(readFileSync(join(app.home, 'data', 'dev.sirocco.app', 'settings.json'), 'utf8'));
  assert.deepEqual(settings.background, { keepRunning: true, told: true });

  // Launching Sirocco again brings the window back, focused.
  const second = spawnSync(appBinary, [], { env: app.env, timeout: 60_000, encoding: 'utf8' });
  assert.equal(second.status, 0, `${second.stdout}\n${second.stderr}`);
  await browser.waitUntil(() => windowState() === 'shown focused', {
    timeout: 10_000, timeoutMsg: `the window did not come back focused (${windowState()})`,
  });

  // Closed again, it hides without asking.
  execFileSync(join(fixtures, 'venv', 'bin', 'python'), [join(import.meta.dirname, 'window.py'), 'close', 'Sirocco']);
  await browser.waitUntil(() => windowState().startsWith('hidden'), { timeout: 10_000, timeoutMsg: 'the window stayed' });
  assert.equal(await (await $('[data-testid="keep-running"]')).isExisting(), false, 'asked once only');

  // The tray's "Quit": the process ends, and the server with it.
  browser.execute(() => window.__TAURI_INTERNALS__.invoke('app_quit')).catch(() => {});
  await browser.waitUntil(() => !appRunning(), { timeout: 20_000, timeoutMsg: 'Sirocco did not quit' });
  assert.equal(await answers(port), false, 'the server went with it');
});

test('started at login hidden, it serves with no window', async () => {
  await app?.stop();
  // As the login entry starts it: `--hidden`, the server's saved settings (not set to start at launch).
  const home = mkdtempSync(join(tmpdir(), 'sirocco-e2e-'));
  const port = await freePort();
  mkdirSync(join(home, 'data', 'dev.sirocco.app'), { recursive: true });
  writeFileSync(join(home, 'data', 'dev.sirocco.app', 'settings.json'),
    JSON.stringify({ server: { port, lan: false, api_key: null, start_at_launch: false } }));
  app = await startApp({ modelsDir: makeModelsFolder(), home, args: ['--hidden'] });
  await app.browser.waitUntil(() => answers(port), { timeout: 20_000, timeoutMsg: 'the server did not start' });
  assert.match(windowState(), /^hidden/, 'no window shows');
  // Launching Sirocco from the menu then shows it.
  const second = spawnSync(appBinary, [], { env: app.env, timeout: 60_000, encoding: 'utf8' });
  assert.equal(second.status, 0, `${second.stdout}\n${second.stderr}`);
  await app.browser.waitUntil(() => windowState().startsWith('shown'), { timeout: 10_000, timeoutMsg: 'still hidden' });

  // Asked on the first close (the page is up), "Quit Sirocco" quits and is kept: closing quits
  // from then on.
  await (await app.browser.$('[data-testid="nav-chat"]')).waitForClickable({ timeout: 30_000 });
  execFileSync(join(fixtures, 'venv', 'bin', 'python'), [join(import.meta.dirname, 'window.py'), 'close', 'Sirocco']);
  await (await app.browser.$('[data-testid="keep-running"]')).waitForExist({ timeout: 10_000 });
  app.browser.execute(() => document.querySelector('[data-testid="keep-running-quit"]').click()).catch(() => {});
  await app.browser.waitUntil(() => !appRunning(), { timeout: 20_000, timeoutMsg: 'Sirocco did not quit' });
  assert.equal(await answers(port), false, 'the server went with it');
  const settings = JSON.parse(readFileSync(join(home, 'data', 'dev.sirocco.app', 'settings.json'), 'utf8'));
  assert.deepEqual(settings.background, { keepRunning: false, told: true });
});
