// End to end: the app writes its log in its data folder; a panic (asked for by a debug build's
// SIROCCO_PANIC_AT_START) is written there before the process ends, and the next start says so
// with the log's path; the About box shows the versions and the logs folder, and "Open logs"
// shows the log file in the file manager.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifacts, makeModelsFolder, repo, startApp, startDesktopSession } from './harness.mjs';

const modelsDir = makeModelsFolder();
let app;
let desktop;

after(async () => {
  await app?.stop();
  desktop?.stop();
});

test('a panic is in the log and the next start says where; About opens the logs', async () => {
  const home = mkdtempSync(join(tmpdir(), 'sirocco-e2e-'));
  const logs = join(home, 'data', 'dev.sirocco.app', 'logs');
  const crashed = spawnSync(join(repo, 'target/debug/sirocco-app'), [], {
    env: {
      ...process.env,
      XDG_DATA_HOME: join(home, 'data'),
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_CACHE_HOME: join(home, 'cache'),
      SIROCCO_MODELS_DIR: modelsDir,
      SIROCCO_PANIC_AT_START: '1',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.notEqual(crashed.status, 0, 'the app ended with the panic');
  const files = readdirSync(logs).filter((f) => f.startsWith('sirocco.') && f.endsWith('.log'));
  assert.equal(files.length, 1, `one log file: ${readdirSync(logs)}`);
  const log = join(logs, files[0]);
  assert.match(readFileSync(log, 'utf8'), /panic.*SIROCCO_PANIC_AT_START asked for a panic/s);

  desktop = await startDesktopSession();
  app = await startApp({ modelsDir, home, env: desktop.env });
  const browser = app.browser;
  const notice = await browser.$('[data-testid="crash-notice"]');
  await notice.waitForDisplayed({ timeout: 20_000 });
  const text = await notice.getText();
  assert.match(text, /internal error last time \(SIROCCO_PANIC_AT_START asked for a panic\)/);
  assert.ok(text.includes(log), text);
  await browser.saveScreenshot(join(artifacts, 'crash-notice.png'));

  // The About box: versions, where the logs are; Open logs shows the log file.
  await (await browser.$('[data-testid="about-open"]')).click();
  const about = await browser.$('[data-testid="about"]');
  await about.waitForDisplayed({ timeout: 10_000 });
  await browser.waitUntil(async () => (await (await browser.$('[data-testid="about-logs"]')).getText()) === logs, {
    timeout: 10_000, timeoutMsg: 'the About box does not name the logs folder',
  });
  assert.match(await (await browser.$('[data-testid="about-version"]')).getText(), /^Version \d+\.\d+\.\d+/);
  assert.match(await (await browser.$('[data-testid="about-engine"]')).getText(), /^llama\.cpp \(ggml \d+\.\d+\.\d+/);
  assert.match(await (await browser.$('[data-testid="about-cpu"]')).getText(), /SSE|AVX|NEON/);
  // The development build links llama.cpp's CPU backend built for this machine (a package names its variant).
  assert.equal(await (await browser.$('[data-testid="about-backend"]')).getText(), 'Built for this machine');
  assert.match(readFileSync(log, 'utf8'), /llama\.cpp's backends are ready.*cpu_backend=native/, 'the log names the CPU backend');
  await browser.saveScreenshot(join(artifacts, 'about.png'));
  await (await browser.$('[data-testid="open-logs"]')).click();
  await browser.waitUntil(() => desktop.shown().some((l) => l.includes(encodeURI(files[0])) || l.includes(files[0])), {
    timeout: 10_000, timeoutMsg: `the file manager was not asked to show the log: ${desktop.shown()}`,
  });
  // Told once: a second start has no notice.
  await app.stop();
  app = await startApp({ modelsDir, home, env: desktop.env });
  await (await app.browser.$('[data-testid="composer-input"]')).waitForExist({ timeout: 20_000 });
  assert.equal(await app.browser.$('[data-testid="crash-notice"]').isExisting(), false);
});
