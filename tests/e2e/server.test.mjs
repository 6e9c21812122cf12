// End to end through the real webview: flip the local server on, call it from a client, see the
// request in the log, flip it off and find the port closed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { appFiles, artifacts, freePort, makeModelsFolder, startApp, startDesktopSession } from './harness.mjs';

let app;
let browser;
const $ = (s) => browser.$(s);
const $$ = (s) => browser.$$(s);
const text = async (el) => (await el.getProperty('textContent')) ?? '';

before(async () => {
  app = await startApp({ modelsDir: makeModelsFolder({ extra: ['tiny-coder-fim.gguf'] }) });
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
  assert.deepEqual(ids.sort(), ['SmolLM2-135M-Instruct.Q4_1', 'tiny-coder-fim']);
  const reply = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'SmolLM2-135M-Instruct.Q4_1', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 }),
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

/** A GET through node:http, which lets a test forge the Host header (fetch does not). */
function rawGet(port, path, headers) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the server answers only to its own host names and to pages on this computer', async () => {
  await (await $('[data-testid="nav-server"]')).click();
  const port = await freePort();
  await (await $('[data-testid="server-port"]')).setValue(String(port));
  await (await $('[data-testid="server-toggle"]')).click();
  await (await $('[data-testid="server-url"]')).waitForExist({ timeout: 10_000 });
  // A web page at a name re-pointed to this computer (DNS rebinding) names its own host.
  const rebound = await rawGet(port, '/v1/models', { Host: `rebind.attacker.test:${port}` });
  assert.equal(rebound.status, 403, rebound.body);
  assert.match(rebound.body, /trusted host names/);
  const page = await rawGet(port, '/v1/models', { Origin: 'http://rebind.attacker.test' });
  assert.equal(page.status, 403, page.body);
  assert.equal((await rawGet(port, '/v1/models', { Origin: 'http://localhost:3000' })).status, 200);
  assert.equal((await rawGet(port, '/v1/models', { Host: 'llm.home.arpa' })).status, 403);
  // The refusals are in the page's request log.
  await browser.waitUntil(async () => {
    let refused = 0;
    for (const row of await $$('[data-testid="server-log-row"]')) if (/403/.test(await text(row))) refused += 1;
    return refused >= 3;
  }, { timeout: 10_000, timeoutMsg: 'the refused requests are not in the log' });

  // A name the user trusts (a reverse proxy's, an alias) is served once it is listed.
  await (await $('[data-testid="server-toggle"]')).click();
  await browser.waitUntil(async () => /Off/.test(await text(await $('[data-testid="server-state"]'))), { timeout: 10_000 });
  await (await $('[data-testid="server-trusted-hosts"]')).setValue('llm.home.arpa');
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(join(artifacts, 'server-trusted-hosts.png'));
  await (await $('[data-testid="server-toggle"]')).click();
  await (await $('[data-testid="server-url"]')).waitForExist({ timeout: 10_000 });
  assert.equal((await rawGet(port, '/v1/models', { Host: 'llm.home.arpa' })).status, 200);
  assert.equal((await rawGet(port, '/v1/models', { Host: `rebind.attacker.test:${port}` })).status, 403);
  await (await $('[data-testid="server-toggle"]')).click();
  await browser.waitUntil(async () => /Off/.test(await text(await $('[data-testid="server-state"]'))), { timeout: 10_000 });
  await (await $('[data-testid="server-trusted-hosts"]')).clearValue();
  await (await $('[data-testid="nav-chat"]')).click();
});

test('the local server serves the loaded model to an OpenAI client and stops when flipped off', async () => {
  await (await $('[data-testid="model-picker"]')).waitForClickable({ timeout: 20_000 });
  await (await $('[data-testid="model-picker"]')).click();
  for (const option of await $$('[data-testid="model-option"]')) {
    if ((await option.getText()).includes('SmolLM2')) {
      await option.click();
      break; // the menu closes
    }
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
  assert.equal(models.data[0].id, 'SmolLM2-135M-Instruct.Q4_1', 'the loaded model first');
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

test('two models in memory are both listed with their memory, and one is ejected', async () => {
  // SmolLM2 is the chat's model (the test before loaded it); a request loads the coder beside it.
  await (await $('[data-testid="nav-server"]')).click();
  const port = await freePort();
  await (await $('[data-testid="server-port"]')).setValue(String(port));
  await (await $('[data-testid="server-toggle"]')).click();
  await (await $('[data-testid="server-url"]')).waitForExist({ timeout: 10_000 });
  const base = `http://127.0.0.1:${port}/v1`;
  const fim = await fetch(`${base}/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'tiny-coder-fim', prompt: 'def add(a, b):\n    return ', suffix: '\n', max_tokens: 4 }),
  });
  assert.equal(fim.status, 200, await fim.text());
  const rows = async () => {
    const found = [];
    for (const row of await $$('[data-testid="loaded-model-row"]')) found.push({ id: await row.getAttribute('data-model'), text: await text(row) });
    return found;
  };
  await browser.waitUntil(async () => (await rows()).length === 2, { timeout: 10_000, timeoutMsg: 'the server page does not list both models' });
  for (const row of await rows()) assert.match(row.text, /\d+(\.\d)? MB/, `${row.id} shows its memory: ${row.text}`);
  assert.match((await rows()).find((r) => r.id === 'tiny-coder-fim').text, /by a request/);
  assert.match((await rows()).find((r) => r.id === 'SmolLM2-135M-Instruct.Q4_1').text, /by you/);
  assert.match(await text(await $('[data-testid="server-model"]')), /Serving SmolLM2-135M-Instruct\.Q4_1, tiny-coder-fim/);

  // The picker lists both too; eject the coder there.
  await (await $('[data-testid="nav-chat"]')).click();
  await (await $('[data-testid="model-picker"]')).click();
  await (await $('[data-testid="model-menu"]')).waitForExist({ timeout: 5_000 });
  await browser.waitUntil(async () => (await rows()).length === 2, { timeout: 5_000, timeoutMsg: 'the picker does not list both models' });
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(join(artifacts, 'two-models-loaded.png'));
  for (const row of await $$('[data-testid="loaded-model-row"]')) {
    if ((await row.getAttribute('data-model')) === 'tiny-coder-fim') await (await row.$('[data-testid="eject-model"]')).click();
  }
  await browser.waitUntil(async () => (await rows()).length === 1, { timeout: 10_000, timeoutMsg: 'the ejected model is still listed' });
  assert.equal((await rows())[0].id, 'SmolLM2-135M-Instruct.Q4_1', 'the chat model stays');
  const listing = await (await fetch(`http://127.0.0.1:${port}/models`)).json();
  assert.deepEqual(
    listing.data.map((m) => [m.id, m.status.value]).sort(),
    [['SmolLM2-135M-Instruct.Q4_1', 'loaded'], ['tiny-coder-fim', 'unloaded']],
  );
  assert.match(await text(await $('[data-testid="loaded-model"]')), /SmolLM2/, 'the chat still uses its model');
  await browser.keys('Escape');
  await (await $('[data-testid="nav-server"]')).click();
  await (await $('[data-testid="server-toggle"]')).click();
  await browser.waitUntil(async () => /Off/.test(await text(await $('[data-testid="server-state"]'))), { timeout: 10_000 });
});

async function pick(namePart) {
  await (await $('[data-testid="model-picker"]')).waitForClickable({ timeout: 20_000 });
  await (await $('[data-testid="model-picker"]')).click();
  for (const option of await $$('[data-testid="model-option"]')) {
    if ((await option.getText()).includes(namePart)) {
      await option.click();
      await browser.waitUntil(async () => (await $('[data-testid="loaded-model"]').isExisting()) && (await text(await $('[data-testid="loaded-model"]'))).includes(namePart), {
        timeout: 60_000, timeoutMsg: `${namePart} did not load`,
      });
      return;
    }
  }
  assert.fail(`no model option contains ${namePart}`);
}

async function send(message) {
  const input = await $('[data-testid="composer-input"]');
  await input.waitForEnabled({ timeout: 10_000 });
  await input.setValue(message);
  const answered = (await $$('[data-testid="message-stats"]')).length;
  await (await $('[data-testid="send-button"]')).click();
  await browser.waitUntil(async () => (await $$('[data-testid="message-stats"]')).length > answered, { timeout: 60_000, timeoutMsg: 'no answer' });
}

async function setSelect(testid, value) {
  await browser.execute((testid, value) => {
    const select = document.querySelector(`[data-testid="${testid}"]`);
    select.value = value;
    select.dispatchEvent(new Event('change', { bubbles: true }));
  }, testid, value);
}

/** Chooses how many models stay loaded and waits until the host has the new limit (the
 * section shows the saved value once the command has applied it). */
async function setModelCount(value) {
  await setSelect('model-memory-count', value);
  await browser.waitUntil(async () => (await (await $('[data-testid="model-memory"]')).getAttribute('data-max-models')) === value, {
    timeout: 10_000, timeoutMsg: `the host did not take ${value} as the number of models kept`,
  });
}

const residentIds = async () => {
  const ids = [];
  for (const row of await $$('[data-testid="loaded-model-row"]')) ids.push(await row.getAttribute('data-model'));
  return ids.sort();
};

test('opening a conversation brings its model back; the models kept loaded are a setting the host obeys', async () => {
  // A conversation with the coder, then one with SmolLM2.
  await (await $('[data-testid="nav-chat"]')).click();
  await (await $('[data-testid="new-chat"]')).click();
  await pick('tiny-coder-fim');
  await send('Write a function');
  await (await $('[data-testid="new-chat"]')).click();
  await pick('SmolLM2');
  await send('Say hello');

  // Eject the coder; opening its conversation loads it again and the chat uses it.
  await (await $('[data-testid="model-picker"]')).click();
  await browser.waitUntil(async () => (await residentIds()).includes('tiny-coder-fim'), { timeout: 5_000, timeoutMsg: 'the coder is not listed' });
  for (const row of await $$('[data-testid="loaded-model-row"]')) {
    if ((await row.getAttribute('data-model')) === 'tiny-coder-fim') await (await row.$('[data-testid="eject-model"]')).click();
  }
  await browser.waitUntil(async () => !(await residentIds()).includes('tiny-coder-fim'), { timeout: 10_000, timeoutMsg: 'the coder was not ejected' });
  await browser.keys('Escape');
  let opened = false;
  for (const item of await $$('[data-testid="conversation-open"]')) {
    if (/Write a function/.test(await text(item))) {
      await item.click();
      opened = true;
      break;
    }
  }
  assert.ok(opened, 'the coder conversation is in the sidebar');
  await browser.waitUntil(async () => /tiny-coder-fim/.test(await text(await $('[data-testid="model-picker"]'))) && (await $('[data-testid="loaded-model"]').isExisting()), {
    timeout: 60_000, timeoutMsg: 'opening the conversation did not bring its model back',
  });

  // At most one model: a request for another one that the server would load finds the user's
  // model in the way (never evicted for a request) and gets a 503 naming it.
  await (await $('[data-testid="nav-server"]')).click();
  await (await $('[data-testid="model-memory"]')).waitForExist({ timeout: 5_000 });
  assert.match(await text(await $('[data-testid="model-memory-budget"]')), /Models may use \d+(\.\d)? GB of this computer's \d+(\.\d)? GB/);
  for (const row of await $$('[data-testid="loaded-model-row"]')) {
    if ((await row.getAttribute('data-model')) === 'SmolLM2-135M-Instruct.Q4_1') await (await row.$('[data-testid="eject-model"]')).click();
  }
  await browser.waitUntil(async () => (await residentIds()).join() === 'tiny-coder-fim', { timeout: 10_000, timeoutMsg: 'SmolLM2 was not ejected' });
  await setModelCount('1');
  const port = await freePort();
  await (await $('[data-testid="server-port"]')).setValue(String(port));
  await (await $('[data-testid="server-toggle"]')).click();
  await (await $('[data-testid="server-url"]')).waitForExist({ timeout: 10_000 });
  const ask = () =>
    fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'SmolLM2-135M-Instruct.Q4_1', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 }),
    });
  const refused = await ask();
  const body = await refused.text();
  assert.equal(refused.status, 503, body);
  assert.match(body, /tiny-coder-fim/, 'the error names the model in the way');

  // As many as fit again: the same request loads SmolLM2 beside the coder.
  await setModelCount('auto');
  const served = await ask();
  assert.equal(served.status, 200, await served.text());
  await browser.waitUntil(async () => (await residentIds()).length === 2, { timeout: 10_000, timeoutMsg: 'both models are not listed' });

  // RAM to leave free beyond what the machine has is refused, clearly.
  // The field is found again before each use: the section re-renders as its answer comes back.
  const reserve = () => $('[data-testid="model-memory-reserve"]');
  await (await reserve()).setValue('100000');
  await browser.keys('Tab');
  await browser.waitUntil(async () => /more than this computer has/.test(await text(await $('[data-testid="model-memory"]'))), { timeout: 5_000, timeoutMsg: 'no error for an impossible reserve' });
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(join(artifacts, 'model-memory.png'));
  await (await reserve()).setValue('2');
  await browser.keys('Tab');
  await browser.waitUntil(async () => !/more than this computer has/.test(await text(await $('[data-testid="model-memory"]'))), { timeout: 5_000 });
  await (await $('[data-testid="server-toggle"]')).click();
  await browser.waitUntil(async () => /Off/.test(await text(await $('[data-testid="server-state"]'))), { timeout: 10_000 });
});

test('the server\'s settings are kept across a restart, its API key in the system keyring', async () => {
  await app?.stop();
  const desktop = await startDesktopSession();
  try {
    app = await startApp({ modelsDir: makeModelsFolder(), env: desktop.env });
    browser = app.browser;
    const home = app.home;
    await (await $('[data-testid="nav-server"]')).waitForClickable({ timeout: 20_000 });
    await (await $('[data-testid="nav-server"]')).click();
    const port = await freePort();
    await (await $('[data-testid="server-port"]')).setValue(String(port));
    await (await $('[data-testid="server-key"]')).setValue('sk-kept-in-keyring-4f9c2a7e1b8d');
    await (await $('[data-testid="server-cors"]')).setValue('http://localhost:3000');
    await (await $('[data-testid="server-idle"]')).setValue('15');
    // On the network (all interfaces; the key it needs is set above), and on Ollama's port.
    await (await $('[data-testid="server-lan"]')).click();
    await (await $('[data-testid="server-ollama-port"]')).click();
    await (await $('[data-testid="server-toggle"]')).click();
    await (await $('[data-testid="server-url"]')).waitForExist({ timeout: 10_000 });
    const refused = await fetch(`http://127.0.0.1:${port}/v1/models`);
    assert.equal(refused.status, 401, 'the key is asked for');
    assert.match(await text(await $('[data-testid="server-ollama-url"]')), /:11434/);
    const ollama = await fetch('http://127.0.0.1:11434/api/version');
    assert.equal(ollama.status, 200, 'Ollama\'s clients find it on their port');
    assert.equal((await fetch('http://127.0.0.1:11434/api/tags')).status, 401, 'with the same key');
    await (await $('[data-testid="server-toggle"]')).click();
    await browser.waitUntil(async () => /Off/.test(await text(await $('[data-testid="server-state"]'))), { timeout: 10_000 });
    const saved = JSON.parse(readFileSync(join(home, 'data', 'dev.sirocco.app', 'settings.json'), 'utf8'));
    assert.equal(saved.server.port, port);
    assert.ok(!JSON.stringify(saved).includes('sk-kept-in-keyring-4f9c2a7e1b8d'), 'the key is not in the settings file');

    await app.stop();
    app = await startApp({ modelsDir: makeModelsFolder(), home, env: desktop.env });
    browser = app.browser;
    await (await $('[data-testid="nav-server"]')).waitForClickable({ timeout: 20_000 });
    await (await $('[data-testid="nav-server"]')).click();
    await browser.waitUntil(async () => (await (await $('[data-testid="server-port"]')).getValue()) === String(port), {
      timeout: 10_000, timeoutMsg: 'the port was not kept',
    });
    await browser.waitUntil(async () => (await (await $('[data-testid="server-key"]')).getValue()) === 'sk-kept-in-keyring-4f9c2a7e1b8d', {
      timeout: 10_000, timeoutMsg: 'the key did not come back from the keyring',
    });
    assert.equal(await (await $('[data-testid="server-cors"]')).getValue(), 'http://localhost:3000');
    assert.equal(await (await $('[data-testid="server-idle"]')).getValue(), '15');
    assert.ok(await (await $('[data-testid="server-lan"]')).isSelected(), 'serving on the network was not kept');
    assert.ok(await (await $('[data-testid="server-ollama-port"]')).isSelected(), 'Ollama\'s port was not kept');
    await (await $('[data-testid="server-lan"]')).click();
    await (await $('[data-testid="server-ollama-port"]')).click();

    // "Start the server when Sirocco opens": kept at once; the next start serves with the kept
    // settings and key before the page is opened, and its requests reach the page's log.
    await (await $('[data-testid="server-start-at-launch"]')).click();
    await browser.waitUntil(
      () => JSON.parse(readFileSync(join(home, 'data', 'dev.sirocco.app', 'settings.json'), 'utf8')).server.start_at_launch === true,
      { timeout: 5_000, timeoutMsg: 'start at launch was not kept' },
    );
    await app.stop();
    app = await startApp({ modelsDir: makeModelsFolder(), home, env: desktop.env });
    browser = app.browser;
    await (await $('[data-testid="nav-server"]')).waitForClickable({ timeout: 20_000 });
    await browser.waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/v1/models`).catch(() => null))?.status === 401, {
      timeout: 20_000, timeoutMsg: 'the server did not start at launch (with its key)',
    });
    await (await $('[data-testid="nav-server"]')).click();
    await (await $('[data-testid="server-url"]')).waitForExist({ timeout: 10_000 });
    assert.ok(await (await $('[data-testid="server-start-at-launch"]')).isSelected());
    const listed = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: 'Bearer sk-kept-in-keyring-4f9c2a7e1b8d' } });
    assert.equal(listed.status, 200);
    await browser.waitUntil(async () => {
      for (const row of await $$('[data-testid="server-log-row"]')) if (/GET\s*\/v1\/models\s*200/.test(await text(row))) return true;
      return false;
    }, { timeout: 10_000, timeoutMsg: 'a request to the server started at launch is not in the page\'s log' });
    await (await $('[data-testid="server-start-at-launch"]')).click();
    await (await $('[data-testid="server-toggle"]')).click();
    await browser.waitUntil(async () => /Off/.test(await text(await $('[data-testid="server-state"]'))), { timeout: 10_000 });

    // The key is in none of the app's files, its log included (requests carried it too).
    for (const f of appFiles(home)) assert.ok(!readFileSync(f).includes('sk-kept-in-keyring-4f9c2a7e1b8d'), `${f} holds the API key`);
  } finally {
    desktop.stop();
  }
});
