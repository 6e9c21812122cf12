// End to end through the real webview, in a desktop session of its own (a D-Bus session bus
// with GNOME Keyring and a file manager): the Hugging Face access token goes to the system
// keyring, opens a gated repository and is still there after a restart; a bad token and an
// endpoint that is not a Hub are refused clearly; a GGUF file from anywhere joins the library
// without being copied, is shown in the file manager, and leaves it again untouched.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { appFiles, artifacts, fixtures, startApp, startDesktopSession, startFakeHub } from './harness.mjs';

let hub;
let desktop;
let app;
const modelsDir = mkdtempSync(join(tmpdir(), 'sirocco-empty-models-'));
const $ = (s) => app.browser.$(s);
const text = async (el) => (await el.getProperty('textContent')) ?? '';
const frame = () => app.browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
const start = (home) => startApp({ modelsDir, home, env: { HF_ENDPOINT: hub.api, ...desktop.env } });

before(async () => {
  hub = await startFakeHub();
  desktop = await startDesktopSession();
  app = await start();
});

after(async () => {
  await app?.stop();
  desktop?.stop();
  hub?.stop();
});

async function waitForText(selector, pattern, timeout = 15_000) {
  const el = await $(selector);
  await el.waitForDisplayed({ timeout });
  await app.browser.waitUntil(async () => pattern.test(await text(el)), {
    timeout,
    timeoutMsg: `${selector} never matched ${pattern}: “${await text(el)}”`,
  });
  return text(el);
}

async function openAccount() {
  await (await $('[data-testid="nav-discover"]')).click();
  const toggle = await $('[data-testid="hub-settings-toggle"]');
  await toggle.waitForDisplayed({ timeout: 10_000 });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await (await $('[data-testid="hub-settings"]')).waitForDisplayed({ timeout: 10_000 });
}

async function openGatedRepo() {
  const search = await $('[data-testid="hub-search"]');
  await search.setValue('gated');
  await app.browser.waitUntil(async () => (await app.browser.$$('[data-testid="hub-result"]')).length === 1, { timeout: 15_000 });
  await (await $('[data-testid="hub-result"]')).click();
  await (await $('[data-testid="repo-file"]')).waitForDisplayed({ timeout: 15_000 });
}

test('the access token is checked, kept in the system keyring, opens gated models and survives a restart', async () => {
  await openAccount();
  await waitForText('[data-testid="hub-settings"]', /Gated models need an access token/);
  // Without a token, a gated repository's file cannot even be sized up.
  await openGatedRepo();
  await waitForText('[data-testid="fit-unknown"]', /Needs an access token/);
  await (await $('[data-testid="repo-back"]')).click();

  // A token the Hub does not accept is refused, and nothing is saved.
  await openAccount();
  await (await $('[data-testid="hub-token"]')).setValue('hf_wrong');
  await (await $('[data-testid="hub-token-save"]')).click();
  await waitForText('[data-testid="hub-settings-error"]', /does not accept this access token/);

  await (await $('[data-testid="hub-token"]')).setValue('hf_test');
  await (await $('[data-testid="hub-token-save"]')).click();
  await waitForText('[data-testid="hub-account"]', /Signed in as sirocco-tester.*system keyring/);
  assert.equal(await (await $('[data-testid="hub-token"]')).getValue(), '', 'the token leaves the page once saved');
  await frame();
  await app.browser.saveScreenshot(join(artifacts, 'hub-account.png'));

  // The token is nowhere in the app's files (the keyring has it).
  for (const f of appFiles(app.home)) {
    const text = readFileSync(f);
    assert.ok(!text.includes('hf_test') && !text.includes('hf_wrong'), `${f} holds a token`);
  }

  await openGatedRepo();
  await waitForText('[data-testid="fit-verdict"]', /Fits|partial|Too large/i);
  await (await $('[data-testid="repo-back"]')).click();

  // An endpoint that is not a Hub is refused; the one in use stays.
  await openAccount();
  await (await $('[data-testid="hub-endpoint-input"]')).setValue('http://127.0.0.1:9');
  await (await $('[data-testid="hub-endpoint-save"]')).click();
  await waitForText('[data-testid="hub-settings-error"]', /did not answer as a Hugging Face Hub/);
  assert.equal(await text(await $('[data-testid="hub-endpoint"]')), hub.api);

  // After a restart the keyring still has it.
  await app.stop();
  app = await start(app.home);
  await openAccount();
  await waitForText('[data-testid="hub-account"]', /Signed in as sirocco-tester/);
  await (await $('[data-testid="hub-token-clear"]')).click();
  await waitForText('[data-testid="hub-settings"]', /Gated models need an access token/);
});

test('a GGUF file from anywhere joins the library in place, is shown in the file manager, and leaves untouched', async () => {
  const elsewhere = join(mkdtempSync(join(tmpdir(), 'sirocco-elsewhere-')), 'Downloads');
  mkdirSync(elsewhere);
  const file = join(elsewhere, 'My-Mistral-7B-shape-Q8_0.gguf');
  copyFileSync(join(fixtures, 'tiny-mistral-7b-shape.gguf'), file);

  await (await $('[data-testid="nav-library"]')).click();
  const path = await $('[data-testid="library-add-path"]');
  await path.waitForDisplayed({ timeout: 10_000 });
  // Not a model: refused with the reason.
  await path.setValue(join(fixtures, 'mistral-formats.json'));
  await (await $('[data-testid="library-add"]')).click();
  await waitForText('[role="alert"]', /is not a \.gguf file/);

  await path.setValue(file);
  await (await $('[data-testid="library-add"]')).click();
  await waitForText('[role="status"]', /1 model found, used where it is/);
  const row = async () => {
    for (const r of await app.browser.$$('[data-testid="library-model"]')) {
      if ((await text(r)).includes('My-Mistral-7B-shape-Q8_0')) return r;
    }
    return null;
  };
  const added = await row();
  assert.ok(added, 'the added file is listed');
  assert.match(await text(added), /Added file/);
  await frame();
  await app.browser.saveScreenshot(join(artifacts, 'library-added.png'));

  await (await added.$('[data-testid="reveal"]')).click();
  await app.browser.waitUntil(async () => desktop.shown().length > 0, { timeout: 10_000, timeoutMsg: 'the file manager was never asked' });
  assert.deepEqual(desktop.shown(), [`ShowItems file://${file}`]);

  // Remove: it leaves the library; the file stays where it was.
  await (await added.$('[data-testid="forget"]')).click();
  await app.browser.waitUntil(async () => (await row()) === null, { timeout: 10_000 });
  assert.ok(existsSync(file), 'the file itself was not touched');
});
