// End to end through the real webview: a chat offers an MCP server's tools (npm's
// server-everything over stdio, from the app's mcp.json), chosen under the message box. SmolLM2
// is made to call a tool first (a grammar holds it to the tools' schemas); the call waits with
// a permission prompt naming the tool and showing its arguments; allowed, it runs, its result
// shows in a folded block and the model goes on below it; denied, nothing runs and the model
// reads the refusal; "always allow" is kept and can be taken back on the Tools page. After a
// restart the conversation shows the calls and their results again.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifacts, assertPrivate, fixtures, makeModelsFolder, pickModel, startApp } from './harness.mjs';

const modelsDir = makeModelsFolder();
let app;
let browser;
const $ = (s) => browser.$(s);

after(async () => {
  await app?.stop();
});

/** Every tool call on screen, and whether an answer is being written, read in one step. */
const screen = () =>
  browser.execute(() => ({
    calls: [...document.querySelectorAll('[data-testid="tool-call"]')].map((el) => ({
      name: el.querySelector('[data-testid="tool-call-name"]')?.textContent ?? '',
      phase: el.getAttribute('data-phase'),
      status: el.getAttribute('data-status'),
      label: el.querySelector('[data-testid="tool-call-status"]')?.textContent.trim() ?? '',
      arguments: el.querySelector('[data-testid="tool-call-arguments"]')?.textContent ?? null,
      result: el.querySelector('[data-testid="tool-call-result"]')?.textContent ?? null,
    })),
    answers: [...document.querySelectorAll('[data-testid="message-assistant"]')].map(
      (el) => el.querySelector('[data-testid="message-text"]')?.textContent ?? '',
    ),
    errors: [...document.querySelectorAll('[data-testid="messages"] [role="alert"]')].map((el) => el.textContent),
    generating: !!document.querySelector('[data-testid="stop-button"]'),
  }));

async function until(check, what, timeout = 120_000) {
  let now;
  await browser.waitUntil(async () => check((now = await screen())), { timeout }).catch(async (e) => {
    await browser.saveScreenshot(join(artifacts, 'tool-chat-failure.png'));
    throw new Error(`${what}: ${JSON.stringify(now)} (${e.message})`);
  });
  return now;
}

async function send(text) {
  const input = await $('[data-testid="composer-input"]');
  await input.waitForEnabled({ timeout: 60_000 });
  await input.setValue(text);
  await browser.keys(['Enter']);
}

/** Answers the call waiting with `choice`'s button; when the model calls again after it (a
 *  model this small may go on calling), Stop ends the turn while that call waits — or, allowed
 *  always, once a later call has run unasked. The calls the turn made, and the screen at its end. */
async function answerThenStop(choice, before) {
  await browser.execute(
    (choice) => document.querySelector(`[data-testid="tool-call"][data-phase="asking"] [data-testid="${choice}"]`).click(),
    choice,
  );
  let now;
  let stopped = null;
  await browser.waitUntil(
    async () => {
      now = await screen();
      const later = now.calls.slice(before + 1);
      // Allowed always, later calls run without asking: the turn is stopped once one has.
      const why = later.some((c) => c.phase === 'asking')
        ? 'asking'
        : choice === 'tool-allow-always' && later.some((c) => c.phase === 'over') ? 'ran' : null;
      if (!stopped && why && now.generating) {
        stopped = why;
        await (await $('[data-testid="stop-button"]')).click();
      }
      return !now.generating && now.calls.length > before && now.calls.every((c) => c.phase === 'over');
    },
    { timeout: 180_000 },
  ).catch(async (e) => {
    await browser.saveScreenshot(join(artifacts, 'tool-chat-failure.png'));
    throw new Error(`the turn did not end: ${JSON.stringify(now)} (${e.message})`);
  });
  assert.deepEqual(now.errors, [], 'no error in the chat');
  const calls = now.calls.slice(before);
  // Stopped while a later call waited: that call did not run, and the turn ended there.
  if (stopped === 'asking') assert.equal(calls[calls.length - 1].status, 'stopped', JSON.stringify(calls));
  // Allowed always: a later call ran without being asked about.
  if (stopped === 'ran') assert.ok(calls.slice(1).some((c) => c.status === 'done'), JSON.stringify(calls));
  return { calls, now };
}

/** Sends `text` and answers its first call with `choice`. A model this small sometimes answers
 *  in words instead of calling (it samples): then it is asked again, at most twice more. */
async function callAndAnswer(text, choice) {
  const before = (await screen()).calls.length;
  for (let attempt = 0; ; attempt++) {
    const answers = (await screen()).answers.length;
    await send(attempt ? 'Please call the echo tool now.' : text);
    const now = await until(
      (s) => s.calls.slice(before).some((c) => c.phase === 'asking') || (!s.generating && s.answers.length > answers),
      'no call waited for approval',
    );
    if (now.calls.slice(before).some((c) => c.phase === 'asking')) break;
    assert.ok(attempt < 2, `the model answered in words three times: ${JSON.stringify(now.answers.slice(answers))}`);
  }
  return answerThenStop(choice, before);
}

test('a chat calls an MCP tool after asking, shows the call and its result, and goes on', async () => {
  const home = mkdtempSync(join(tmpdir(), 'sirocco-e2e-'));
  const dataDir = join(home, 'data', 'dev.sirocco.app');
  mkdirSync(dataDir, { recursive: true });
  const everything = join(fixtures, 'mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js');
  writeFileSync(join(dataDir, 'mcp.json'), JSON.stringify({ mcpServers: {
    everything: { command: 'node', args: [everything, 'stdio'] },
    sleeping: { command: 'node', args: [everything, 'stdio'], disabled: true },
  } }));
  app = await startApp({ modelsDir, home });
  browser = app.browser;
  await pickModel(browser, 'SmolLM2');
  await (await $('[data-testid="composer-input"]')).waitForEnabled({ timeout: 60_000 });

  // Short, greedy answers: a model this small may call tools step after step until the turn's
  // last step, which must answer in words. Room for three calls in one reply (it writes them
  // as one JSON object: cut short, it is text, not calls).
  await browser.execute(() => {
    for (const [id, value] of [['max-tokens', 160], ['temperature-slider', 0]]) {
      const el = document.querySelector(`[data-testid="${id}"]`);
      el.value = String(value);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }
  });

  // Under the message box: the servers, the one switched off shown but not offered.
  await (await $('[data-testid="tool-picker"]')).click();
  const menu = await $('[data-testid="tool-picker-menu"]');
  await menu.waitForDisplayed({ timeout: 10_000 });
  const offered = await browser.execute(() =>
    [...document.querySelectorAll('[data-testid="tool-picker-server"]')].map((el) => [el.dataset.name, el.disabled]),
  );
  assert.deepEqual(offered, [['everything', false], ['sleeping', true]]);
  await (await $('[data-testid="tool-picker-server"][data-name="everything"]')).click();
  await (await $('[data-testid="tool-picker-require"]')).click();
  await browser.saveScreenshot(join(artifacts, 'tool-picker.png'));
  await browser.keys(['Escape']);
  assert.equal(await (await $('[data-testid="tool-picker"]')).getText(), 'everything');

  // Allowed once: it runs, its result is kept, the model goes on under it.
  await send('Echo the word lighthouse with the echo tool.');
  const waiting = await until((s) => s.calls.some((c) => c.phase === 'asking'), 'no call waited for approval');
  const asked = waiting.calls[0];
  assert.equal(asked.label, 'Needs your approval');
  assert.ok(asked.arguments.length > 0);
  assert.match(await (await $('[data-testid="tool-call"][data-phase="asking"]')).getText(), /Allow .+ from everything to run with these arguments\?/);
  await browser.saveScreenshot(join(artifacts, 'tool-approval.png'));
  let { calls, now } = await answerThenStop('tool-allow-once', 0);
  assert.ok(['done', 'tool_error'].includes(calls[0].status), JSON.stringify(calls[0]));
  // The answer after the call is on screen, below it; the block opens to the result.
  assert.ok(now.answers.length >= 2, 'the calling step and the answer after it');
  await (await $('[data-testid="tool-call-toggle"]')).click();
  now = await until((s) => s.calls[0].result !== null, 'the result did not show');
  assert.ok(now.calls[0].result.length > 0);
  await browser.saveScreenshot(join(artifacts, 'tool-result.png'));

  // Denied: nothing runs; the model reads the refusal and answers.
  const denied = await callAndAnswer('Now use a tool again.', 'tool-deny');
  assert.equal(denied.calls[0].status, 'denied');
  assert.equal(denied.calls[0].label, 'Denied');

  // Always allowed: kept, listed on the Tools page, taken back there.
  const always = await callAndAnswer('One more tool call, please.', 'tool-allow-always');
  const total = always.now.calls.length;
  const settings = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'));
  assert.ok(
    settings.allowedTools.some((a) => a.server === 'everything' && a.tool === always.calls[0].name),
    JSON.stringify(settings.allowedTools),
  );
  await (await $('[data-testid="nav-tools"]')).click();
  const allowed = await $('[data-testid="tool-allowed"]');
  await allowed.waitForDisplayed({ timeout: 10_000 });
  assert.match(await allowed.getText(), new RegExp(`^${always.calls[0].name}\\s*from everything`));
  await browser.saveScreenshot(join(artifacts, 'tools-allowed.png'));
  for (const _ of settings.allowedTools) await (await $('[data-testid="tool-disallow"]')).click();
  await browser.waitUntil(async () => !(await $('[data-testid="tool-allowed"]').isExisting()), { timeout: 10_000 });
  assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')).allowedTools, []);

  // After a restart: the calls and their outcomes, read from the store; the chat offers the
  // same tools again.
  await app.stop();
  app = await startApp({ modelsDir, home });
  browser = app.browser;
  const item = await $('[data-testid="conversation-open"]');
  await item.waitForClickable({ timeout: 20_000 });
  await item.click();
  now = await until((s) => s.calls.length === total, 'the calls are not shown after a restart', 30_000);
  assert.ok(now.calls.every((c) => c.phase === 'over' && c.status !== ''), JSON.stringify(now.calls));
  assert.ok(now.calls.some((c) => c.status === 'denied'));
  await browser.waitUntil(async () => (await (await $('[data-testid="tool-picker"]')).getText()) === 'everything', {
    timeout: 10_000, timeoutMsg: 'the conversation did not bring its tools back',
  });
  // A chat, MCP calls and their settings later, nothing of it is readable by other users.
  assertPrivate(home);
});
