// End to end through the real webview: the Tools page lists the MCP servers of the app's
// mcp.json, each started and checked (npm's server-everything with its tools; a server that
// cannot start, with why), one added through the form (a PyPI `mcp` server over stdio), one
// removed; the file keeps them across a restart.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifacts, fixtures, makeModelsFolder, repo, startApp } from './harness.mjs';

const modelsDir = makeModelsFolder();
let app;
let browser;

after(async () => {
  await app?.stop();
});

/** Each server on the page: its name, status line, failure and tools shown, read in one step. */
const servers = () =>
  browser.execute(() =>
    [...document.querySelectorAll('[data-testid="mcp-server"]')].map((el) => ({
      name: el.getAttribute('data-name'),
      status: el.querySelector('[data-testid="mcp-status"]')?.textContent.trim() ?? '',
      failure: el.querySelector('[data-testid="mcp-failure"]')?.textContent ?? null,
      tools: [...el.querySelectorAll('[data-testid="mcp-tools"] code')].map((c) => c.textContent),
    })),
  );

async function settled(names) {
  let now;
  await browser.waitUntil(async () => {
    now = await servers();
    return now.map((s) => s.name).join() === names.join() && now.every((s) => s.status !== 'Starting…');
  }, { timeout: 60_000, timeoutMsg: `the servers did not all start or fail: ${JSON.stringify(now)}` });
  return Object.fromEntries(now.map((s) => [s.name, s]));
}

test('the Tools page starts each MCP server, lists its tools, adds and removes servers', async () => {
  const home = mkdtempSync(join(tmpdir(), 'sirocco-e2e-'));
  const dataDir = join(home, 'data', 'dev.sirocco.app');
  mkdirSync(dataDir, { recursive: true });
  const everything = join(fixtures, 'mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js');
  writeFileSync(join(dataDir, 'mcp.json'), JSON.stringify({ mcpServers: {
    everything: { command: 'node', args: [everything, 'stdio'] },
    broken: { command: '/nonexistent/mcp-server' },
  } }));
  app = await startApp({ modelsDir, home });
  browser = app.browser;
  await (await browser.$('[data-testid="nav-tools"]')).click();

  let shown = await settled(['broken', 'everything']);
  assert.match(shown.everything.status, /^\d+ tools$/);
  assert.equal(shown.broken.status, 'Did not start');
  assert.match(shown.broken.failure, /could not start `\/nonexistent\/mcp-server`/);
  await browser.execute(() => document.querySelector('[data-name="everything"] [data-testid="mcp-tools-toggle"]').click());
  await browser.waitUntil(async () => (await servers()).find((s) => s.name === 'everything').tools.includes('echo'), {
    timeout: 10_000, timeoutMsg: 'the tools list does not show echo',
  });
  await browser.saveScreenshot(join(artifacts, 'tools-page.png'));

  // Added through the form: a server written with PyPI's mcp, over stdio.
  await (await browser.$('[data-testid="mcp-add-open"]')).click();
  await (await browser.$('[data-testid="mcp-name"]')).setValue('adder');
  await (await browser.$('[data-testid="mcp-command"]')).setValue(join(fixtures, 'venv/bin/python'));
  // One argument per line, typed as a user does (Enter between them).
  await (await browser.$('[data-testid="mcp-args"]')).setValue(join(repo, 'tests/mcp/python_server.py'));
  await browser.keys(['Enter']);
  await browser.keys('stdio');
  await (await browser.$('[data-testid="mcp-add"]')).click();
  shown = await settled(['adder', 'broken', 'everything']);
  assert.equal(shown.adder.status, '2 tools', shown.adder.failure);
  // A form that says nothing useful is refused with why, and nothing is added.
  await (await browser.$('[data-testid="mcp-add-open"]')).click();
  await (await browser.$('[data-testid="mcp-name"]')).setValue('empty');
  await (await browser.$('[data-testid="mcp-add"]')).click();
  const formError = await browser.$('[data-testid="mcp-form-error"]');
  await formError.waitForDisplayed({ timeout: 5_000 });
  assert.match(await formError.getText(), /Enter the command/);

  await browser.execute(() => document.querySelector('[data-name="broken"] [data-testid="mcp-remove"]').click());
  await settled(['adder', 'everything']);
  const file = JSON.parse(readFileSync(join(dataDir, 'mcp.json'), 'utf8'));
  assert.deepEqual(Object.keys(file.mcpServers).sort(), ['adder', 'everything'], 'the page writes the mcp.json the CLI reads');
  assert.deepEqual(file.mcpServers.adder.args.slice(-1), ['stdio']);

  // Kept across a restart.
  await app.stop();
  app = await startApp({ modelsDir, home });
  browser = app.browser;
  await (await browser.$('[data-testid="nav-tools"]')).click();
  shown = await settled(['adder', 'everything']);
  assert.equal(shown.adder.status, '2 tools');
});

test('with no servers the Tools page says how to add one', async () => {
  await app?.stop();
  app = await startApp({ modelsDir });
  browser = app.browser;
  await (await browser.$('[data-testid="nav-tools"]')).click();
  const empty = await browser.$('[data-testid="tools-empty"]');
  await empty.waitForDisplayed({ timeout: 10_000 });
  assert.match(await empty.getText(), /import the mcp\.json you use in LM Studio, Cursor or Claude Desktop/);
  await (await browser.$('[data-testid="tools-page"]')).waitForDisplayed({ timeout: 5_000 });
  await browser.saveScreenshot(join(artifacts, 'tools-empty.png'));
});
