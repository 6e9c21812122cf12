// End to end: the window is the app's. A hostile model card's links to another site (a look-alike
// "Sign in" page) open in the system browser (here a stand-in that records what it is given),
// never in the app's window, which has no address bar; a relative link goes nowhere; with no
// browser to open a link, the app logs why and the page shows no error. Under the page's link
// handler, the app itself refuses what the page starts on its own: another site's address goes
// to the browser, a new window opens nothing, other schemes go nowhere.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { artifacts, fakeSystemBrowser, startApp, startFakeHub } from './harness.mjs';

let hub;
let app;
let site;
const browser = fakeSystemBrowser();
const modelsDir = mkdtempSync(join(tmpdir(), 'sirocco-empty-models-'));
/** Every request the look-alike site got: the app's window must never ask it for anything. */
const siteRequests = [];
const phishing = createServer((req, res) => {
  siteRequests.push(req.url);
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end('<!doctype html><title>Sign in</title><h1>Sign in to Hugging Face</h1><form><input name="password" type="password"></form>');
});
const $ = (s) => app.browser.$(s);

before(async () => {
  await new Promise((ready) => phishing.listen(0, '127.0.0.1', ready));
  site = `http://127.0.0.1:${phishing.address().port}`;
  const readme = [
    '# A model with a hostile card',
    '',
    `The weights are gated: [**Sign in** to download](${site}/phish).`,
    '',
    `<a href="${site}/new-window" target="_blank">The license, in a new window</a>`,
    '',
    'See [the config](config.json).',
    '',
    `[A mirror](${site}/unopenable) no browser can open.`,
    '',
  ].join('\n');
  hub = await startFakeHub({ extraRepos: [{ id: 'sirocco-test/Hostile-Card-GGUF', downloads: 1, tags: ['gguf'], readme, files: [] }] });
  app = await startApp({ modelsDir, env: { HF_ENDPOINT: hub.api, ...browser.env } });
});

after(async () => {
  await app?.stop();
  hub?.stop();
  phishing.close();
});

/** Waits (bounded) until the system browser was asked to open `url`. */
async function openedInBrowser(url) {
  await app.browser.waitUntil(async () => browser.opened().includes(url), {
    timeout: 15_000,
    timeoutMsg: `the system browser was not asked to open ${url}: ${browser.opened()}`,
  });
}

/** The app's window still shows the app at `appUrl`, the model card on screen. */
async function stillTheApp(appUrl) {
  assert.equal(await app.browser.getUrl(), appUrl);
  assert.ok(await (await $('[data-testid="model-card"]')).isDisplayed(), 'the model card is on screen');
  assert.ok(await (await $('[data-testid="repo-back"]')).isDisplayed(), "Discover's page is on screen");
  assert.equal((await app.browser.getWindowHandles()).length, 1, 'no other window opened');
  assert.deepEqual(siteRequests, [], 'the look-alike site was never loaded');
}

/** The app's log lines so far. */
function logLines() {
  const dir = join(app.home, 'data', 'dev.sirocco.app', 'logs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith('sirocco.') && f.endsWith('.log'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'));
}

/** How many navigations the app's guard (under the page's link handler) sent to the browser. */
const guardOpened = () => logLines().filter((l) => l.includes('a link to another site opens in the system browser')).length;

/** Starts a navigation from the page itself, past its link handler (after this call returns:
 *  WebDriver waits for nothing). */
const navigateFromPage = (url) => app.browser.execute((u) => void setTimeout(() => location.assign(u), 0), url);

let appUrl;

test("a model card's link to another site opens in the system browser and the app stays", async () => {
  await (await $('[data-testid="nav-discover"]')).click();
  const search = await $('[data-testid="hub-search"]');
  await search.waitForDisplayed({ timeout: 10_000 });
  await search.setValue('hostile');
  await app.browser.waitUntil(async () => (await app.browser.$$('[data-testid="hub-result"]')).length === 1, {
    timeout: 15_000,
    timeoutMsg: 'the search did not find the hostile repository',
  });
  await (await $('[data-testid="hub-result"]')).click();
  const card = await $('[data-testid="model-card"]');
  await card.waitForDisplayed({ timeout: 15_000 });
  appUrl = await app.browser.getUrl();
  assert.match(appUrl, /^(tauri:\/\/localhost|https?:\/\/tauri\.localhost)(\/|$)/);

  await (await card.$(`a[href="${site}/phish"]`)).click();
  await openedInBrowser(`${site}/phish`);
  await stillTheApp(appUrl);
  // The page caught the click itself: no navigation reached the app's guard underneath.
  assert.equal(guardOpened(), 0);

  // A link that asks for a window of its own goes to the browser too.
  await (await card.$(`a[href="${site}/new-window"]`)).click();
  await openedInBrowser(`${site}/new-window`);
  await stillTheApp(appUrl);

  // A relative link (a file of the repository, on the Hub) has nowhere to go in the app.
  await (await card.$('a[href="config.json"]')).click();
  await stillTheApp(appUrl);

  // No browser to open it: the app logs why, the page shows no error.
  await (await card.$(`a[href="${site}/unopenable"]`)).click();
  await app.browser.waitUntil(async () => logLines().some((l) => l.includes('no browser could open the link')), {
    timeout: 15_000,
    timeoutMsg: 'the failure to open the link is not in the log',
  });
  await stillTheApp(appUrl);
  assert.ok(!logLines().some((l) => l.includes('/unopenable')), 'the log names the host, not the whole link');
  const shown = await app.browser.execute(() => document.body.innerText);
  assert.doesNotMatch(shown, /no browser could open|not opened/i);
  const opened = browser.opened().filter((u) => !u.endsWith('/unopenable'));
  assert.deepEqual(opened, [`${site}/phish`, `${site}/new-window`]);
  await app.browser.saveScreenshot(join(artifacts, 'hostile-model-card.png'));
});

test('under the page, the app refuses to leave: another site goes to the browser, the rest nowhere', async () => {
  // Another scheme is refused and opened nowhere (the refusal is logged: the wait's signal).
  const refusals = () => logLines().filter((l) => l.includes('refused a navigation')).length;
  const refusedSoFar = refusals();
  await navigateFromPage(`ftp://127.0.0.1:${phishing.address().port}/weights.bin`);
  await app.browser.waitUntil(async () => refusals() > refusedSoFar, {
    timeout: 15_000,
    timeoutMsg: 'the app did not refuse the ftp: navigation',
  });
  await stillTheApp(appUrl);

  // A new window opens nothing, in the app or out of it; the navigation after it shows the
  // request was long handled when the checks run.
  await app.browser.execute((u) => void window.open(u), `${site}/popup`);
  await navigateFromPage(`${site}/assigned`);
  await openedInBrowser(`${site}/assigned`);
  await stillTheApp(appUrl);
  assert.equal(guardOpened(), 1, 'the guard, not the page, sent it to the browser');
  const opened = browser.opened().filter((u) => !u.endsWith('/unopenable'));
  assert.deepEqual(opened, [`${site}/phish`, `${site}/new-window`, `${site}/assigned`]);
});
