// End to end: one Sirocco per user. Launching the app again, with the same data folder, brings
// the running window forward and ends at once: no second window, no second start (and so no
// second load of the last model, no second writer of the database and the settings).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { app as appBinary, artifacts, fixtures, makeModelsFolder, startApp } from './harness.mjs';

let app;
after(async () => app?.stop());

const log = (home) => {
  const dir = join(home, 'data', 'dev.sirocco.app', 'logs');
  return readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
};

test('a second launch brings the first window forward and ends', async () => {
  app = await startApp({ modelsDir: makeModelsFolder() });
  const $ = (s) => app.browser.$(s);
  await (await $('[data-testid="nav-chat"]')).waitForClickable({ timeout: 30_000 });

  const second = spawnSync(appBinary, [], { env: app.env, timeout: 60_000, encoding: 'utf8' });
  assert.equal(second.status, 0, `${second.stdout}\n${second.stderr}`);
  assert.match(second.stdout, /Sirocco is already running: its window was brought forward/);

  const text = log(app.home);
  assert.match(text, /a second launch brought the window forward/);
  assert.equal(text.match(/Sirocco starts/g)?.length, 1, 'the second launch never started a second app');
  // The first window goes on as before.
  await (await $('[data-testid="nav-server"]')).click();
  await (await $('[data-testid="server-toggle"]')).waitForExist({ timeout: 10_000 });
});

test('a second launch with a model file opens it in the first window', async () => {
  const $ = (s) => app.browser.$(s);
  // As a file manager's "Open with" or a terminal runs it: a path (here relative to its folder).
  const second = spawnSync(appBinary, ['tiny-coder-fim.gguf'], { env: app.env, cwd: fixtures, timeout: 60_000, encoding: 'utf8' });
  assert.equal(second.status, 0, `${second.stdout}\n${second.stderr}`);
  let shown = '';
  await app.browser.waitUntil(async () => {
    shown = await (await $('[data-testid="model-picker"]')).getProperty('textContent').catch((e) => String(e));
    return /tiny-coder-fim/.test(shown);
  }, { timeout: 30_000, timeoutMsg: 'the file was not loaded in the first window' }).catch(async (e) => {
    await app.browser.saveScreenshot(join(artifacts, 'open-file-failed.png'));
    throw new Error(`${e.message}: the picker shows ${JSON.stringify(shown)}`);
  });
  const settings = JSON.parse(readFileSync(join(app.home, 'data', 'dev.sirocco.app', 'settings.json'), 'utf8'));
  assert.deepEqual(settings.libraryLocations, [join(fixtures, 'tiny-coder-fim.gguf')], 'added to the library where it is');
  assert.equal(log(app.home).match(/Sirocco starts/g)?.length, 1, 'still one app');
});
