// End to end through the real webview: the Tools page lists the MCP servers of the app's
// mcp.json, each started and checked (npm's server-everything with its tools; a server that
// cannot start, with why), one added through the form (a PyPI `mcp` server over stdio), one
// removed; the file keeps them across a restart. A server's token goes to the system keyring,
// not the file, and reaches the server (which refuses requests without it) from the app and
// from `sirocco mcp list`; a server switched off is not started.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifacts, fixtures, makeModelsFolder, repo, startApp, startDesktopSession } from './harness.mjs';

const modelsDir = makeModelsFolder();
let app;
let browser;

let desktop;
let httpServer;

after(async () => {
  await app?.stop();
  desktop?.stop();
  httpServer?.kill();
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
    // A server just added or switched on is listed as off until its start is reported.
    return now.map((s) => s.name).join() === names.join() && now.every((s) => !['Starting…', 'Off'].includes(s.status));
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

test('a server\'s token is kept in the system keyring, reaches the server, and a server switched off is not started', async () => {
  await app?.stop();
  desktop = await startDesktopSession();
  const secret = 'Bearer sk-e2e-keyring-only';
  httpServer = spawn(join(fixtures, 'venv/bin/python'), [join(repo, 'tests/mcp/python_server.py'), 'http', '--require-auth', secret], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolvePort, reject) => {
    let buffered = '';
    httpServer.stdout.on('data', (chunk) => {
      buffered += chunk;
      const m = buffered.match(/listening on (\d+)/);
      if (m) resolvePort(m[1]);
    });
    httpServer.once('exit', (code) => reject(new Error(`the MCP server exited with ${code}`)));
  });
  const home = mkdtempSync(join(tmpdir(), 'sirocco-e2e-'));
  const dataDir = join(home, 'data', 'dev.sirocco.app');
  app = await startApp({ modelsDir, home, env: desktop.env });
  browser = app.browser;
  await (await browser.$('[data-testid="nav-tools"]')).click();
  await (await browser.$('[data-testid="mcp-add-open"]')).click();
  await (await browser.$('[data-testid="mcp-name"]')).setValue('private');
  await browser.execute(() => [...document.querySelectorAll('[data-testid="mcp-add-form"] [role="radio"], [data-testid="mcp-add-form"] button')].find((b) => b.textContent.includes('URL'))?.click());
  await (await browser.$('[data-testid="mcp-url"]')).setValue(`http://127.0.0.1:${port}/mcp`);
  await (await browser.$('[data-testid="mcp-headers"]')).setValue(`Authorization: ${secret}`);
  await (await browser.$('[data-testid="mcp-add"]')).click();
  let shown = await settled(['private']);
  assert.equal(shown.private.status, '2 tools', `the server took the token: ${shown.private.failure}`);

  // The token is in no file of the app's; the file holds the keyring's placeholder.
  const file = JSON.parse(readFileSync(join(dataDir, 'mcp.json'), 'utf8'));
  assert.equal(file.mcpServers.private.headers.Authorization, '${keyring}');
  for (const name of readdirSync(dataDir, { recursive: true })) {
    const path = join(dataDir, String(name));
    let text;
    try {
      text = readFileSync(path);
    } catch {
      continue; // a folder
    }
    assert.ok(!text.includes('sk-e2e-keyring-only'), `${name} holds the token`);
  }
  // The CLI reads the same file and the same keyring.
  const cli = spawnSync(join(repo, 'target/debug/sirocco'), ['mcp', 'list'], {
    env: { ...process.env, ...desktop.env, SIROCCO_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.match(cli.stdout, /private\s+ready\s+2 tools/, cli.stdout + cli.stderr);

  // Switched off: not started, shown as off, and `sirocco mcp list` says so too.
  await (await browser.$('[data-name="private"] [data-testid="mcp-enabled"]')).click();
  await browser.waitUntil(async () => (await servers())[0]?.status === 'Off', { timeout: 10_000, timeoutMsg: 'the server is not shown as off' });
  assert.equal(JSON.parse(readFileSync(join(dataDir, 'mcp.json'), 'utf8')).mcpServers.private.disabled, true);
  const toggle = await browser.$('[data-name="private"] [data-testid="mcp-enabled"]');
  assert.equal(await toggle.getAttribute('aria-checked'), 'false');
  assert.ok(!(await toggle.getAttribute('class')).split(' ').includes('on'), await toggle.getAttribute('class'));
  const off = spawnSync(join(repo, 'target/debug/sirocco'), ['mcp', 'list'], {
    env: { ...process.env, ...desktop.env, SIROCCO_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.match(off.stdout, /private\s+off/, off.stdout + off.stderr);

  // On again after a restart: the token comes from the keyring.
  await app.stop();
  app = await startApp({ modelsDir, home, env: desktop.env });
  browser = app.browser;
  await (await browser.$('[data-testid="nav-tools"]')).click();
  await (await browser.$('[data-name="private"] [data-testid="mcp-enabled"]')).click();
  shown = await settled(['private']);
  assert.equal(shown.private.status, '2 tools', shown.private.failure);
  await browser.saveScreenshot(join(artifacts, 'tools-keyring.png'));
});
