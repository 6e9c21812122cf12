// End to end: Discover when Hugging Face is out of reach. The Hub's address answers nothing: the
// page says so in words (the raw error only under "Details"), with a retry that works once the
// Hub is back; a failed search keeps what was found before, and a restart without the Hub shows
// the last results found.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { artifacts, freePort, makeModelsFolder, startApp, startFakeHub } from './harness.mjs';

let app;
let hub;
after(async () => {
  await app?.stop();
  await hub?.stop();
});

test('the Hub out of reach: a clear state, retry, the last results kept', async () => {
  const port = await freePort();
  const modelsDir = makeModelsFolder();
  app = await startApp({ modelsDir, env: { HF_ENDPOINT: `http://127.0.0.1:${port}` } });
  const { browser, home } = app;
  const $ = (s) => browser.$(s);
  await (await $('[data-testid="nav-discover"]')).click();
  const offline = await $('[data-testid="hub-offline"]');
  await offline.waitForExist({ timeout: 20_000 });
  // What shows without opening "Details".
  const said = await browser.execute(() => {
    const card = document.querySelector('[data-testid="hub-offline"]').cloneNode(true);
    card.querySelector('details').remove();
    return card.textContent;
  });
  assert.match(said, /Hugging Face is out of reach/);
  assert.doesNotMatch(said, /error sending request|HTTP request error|127\.0\.0\.1/, 'the raw error is under Details only');
  assert.equal(await browser.execute(() => document.querySelector('[data-testid="hub-offline"] details').open), false);
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(join(artifacts, 'discover-offline.png'));

  // The Hub comes back at that address: "Try again" finds its models.
  hub = await startFakeHub({ port });
  await (await $('[data-testid="hub-retry"]')).click();
  await browser.waitUntil(async () => (await $$(browser, '[data-testid="hub-result"]')) > 0, {
    timeout: 20_000, timeoutMsg: 'the retry found nothing',
  });
  assert.equal(await offline.isExisting(), false, 'the offline state is gone');
  const found = await $$(browser, '[data-testid="hub-result"]');

  // Gone again: a new search fails, and what was found stays on screen.
  await hub.stop();
  hub = null;
  await (await $('[data-testid="hub-search"]')).setValue('smol');
  await (await $('[data-testid="hub-offline"]')).waitForExist({ timeout: 20_000 });
  assert.equal(await $$(browser, '[data-testid="hub-result"]'), found, 'the earlier results stay');
  assert.match(await (await $('[data-testid="hub-offline"]')).getText(), /from an earlier search/);

  // A restart with the Hub still away shows the last results found, and says from when.
  await app.stop();
  app = await startApp({ modelsDir, home, env: { HF_ENDPOINT: `http://127.0.0.1:${port}` } });
  await (await app.browser.$('[data-testid="nav-discover"]')).click();
  await (await app.browser.$('[data-testid="hub-offline"]')).waitForExist({ timeout: 20_000 });
  assert.equal(await $$(app.browser, '[data-testid="hub-result"]'), found, 'the last results are shown');
  assert.match(await (await app.browser.$('[data-testid="hub-offline"]')).getText(), /from your search/);
});

async function $$(browser, selector) {
  return (await browser.$$(selector)).length;
}
