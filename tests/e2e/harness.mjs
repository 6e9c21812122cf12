// Starts the built app under tauri-driver (WebKitWebDriver) and connects WebdriverIO to it.
// Each session gets its own data, config and cache folders and its own models folder.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const artifacts = join(repo, 'target', 'e2e');
export const app = process.env.SIROCCO_APP_BIN ?? join(repo, 'target', 'debug', 'sirocco-app');
export const fixtures = process.env.SIROCCO_FIXTURES ?? join(process.env.HOME, '.cache', 'sirocco', 'fixtures');

/** A models folder with the real SmolLM2 and one file that is not a model at all. */
/** Every file the app wrote under `home` (its data and config folders, its log included), for
 *  checks that a secret is in none of them. */
export function appFiles(home) {
  // Regular files (the instance's socket is not one to read).
  const files = (dir) => (existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
  const all = [...files(join(home, 'data')), ...files(join(home, 'config'))];
  assert.ok(all.some((f) => /logs\/sirocco\.[\d-]+\.log$/.test(f)), `the app's log is among them: ${all}`);
  return all;
}

/** Everything under the app's data folder is its owner's alone: folders 0700, files 0600
 *  (links, such as a model linked in, are not the app's to change). */
export function assertPrivate(home) {
  const data = join(home, 'data', 'dev.sirocco.app');
  const open = [];
  const walk = (path) => {
    const info = lstatSync(path);
    if (info.isSymbolicLink()) return;
    const mode = info.mode & 0o777;
    if (info.isDirectory()) {
      if (mode !== 0o700) open.push(`${path} ${mode.toString(8)}`);
      for (const name of readdirSync(path)) walk(join(path, name));
    } else if (mode !== 0o600) open.push(`${path} ${mode.toString(8)}`);
  };
  walk(data);
  assert.deepEqual(open, [], 'readable by others');
  assert.ok(existsSync(join(data, 'sirocco.db')), 'the data folder has the conversations');
}

export function makeModelsFolder({ extra = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sirocco-models-'));
  for (const name of ['SmolLM2-135M-Instruct.Q4_1.gguf', ...extra]) symlinkSync(join(fixtures, name), join(dir, name));
  writeFileSync(join(dir, 'broken-download.gguf'), 'GGUF\x03\0\0\0 this is not really a model');
  return dir;
}

/** A port nothing listens on now (the system's choice: a fixed or random pick can meet a driver
 *  another run left behind). */
export function freePort() {
  return new Promise((resolvePort) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

function waitForPort(port, deadline) {
  return new Promise((resolvePort, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolvePort();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`tauri-driver did not listen on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** Starts the app. `home` keeps its data, config, caches and Hugging Face cache (pass the
 *  same one to start it again "after a restart"); `env` adds variables (e.g. HF_ENDPOINT). */
export async function startApp({ modelsDir, home = mkdtempSync(join(tmpdir(), 'sirocco-e2e-')), env: extra = {}, args = [] }) {
  const env = {
    ...process.env,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    HF_HOME: join(home, 'hf'),
    SIROCCO_MODELS_DIR: modelsDir,
    ...extra,
  };
  delete env.HF_HUB_CACHE;
  // The desktop's Downloads folder (where exports go) is the test's own.
  const userDirs = join(env.XDG_CONFIG_HOME, 'user-dirs.dirs');
  if (!existsSync(userDirs)) {
    mkdirSync(env.XDG_CONFIG_HOME, { recursive: true });
    writeFileSync(userDirs, `XDG_DOWNLOAD_DIR="${join(home, 'Downloads')}"\n`);
  }
  mkdirSync(artifacts, { recursive: true });
  const port = await freePort();
  const nativePort = await freePort();
  // The driver's (and the app's) output goes to a file, not to the test's output: a process that
  // outlived its test must never hold the test runner's pipe open.
  const driverLog = openSync(join(artifacts, 'driver.log'), 'a');
  const driver = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
    env,
    stdio: ['ignore', driverLog, driverLog],
  });
  let browser;
  try {
    // Both listen before a session can start: tauri-driver, and the WebKitWebDriver it starts
    // behind it (a session asked for before that one listens fails to fetch).
    await waitForPort(port, Date.now() + 30_000);
    await waitForPort(nativePort, Date.now() + 30_000);
    browser = await remote({
      hostname: '127.0.0.1',
      port,
      logLevel: 'warn',
      capabilities: { 'tauri:options': { application: app, args } },
    });
  } catch (e) {
    driver.kill();
    throw e;
  }
  return {
    browser,
    home,
    /** The environment the app runs with (its folders are `home`'s). */
    env,
    async stop() {
      await browser.deleteSession().catch(() => {});
      driver.kill();
      // The app itself, should it outlive its session (tests run one at a time).
      spawnSync('pkill', ['-f', app]);
    },
    /** Kills the app as a crash or `kill -9` would (nothing of it runs after), then the driver. */
    async crash() {
      const killed = spawnSync('pkill', ['-KILL', '-f', app]);
      assert.equal(killed.status, 0, 'no app process to kill');
      await browser.deleteSession().catch(() => {});
      driver.kill();
    },
  };
}

/** Opens the model picker and picks the first model whose name contains `namePart` (the load
 *  then starts); fails when none appears within 20 s. */
export async function pickModel(browser, namePart) {
  const picker = await browser.$('[data-testid="model-picker"]');
  await picker.waitForClickable({ timeout: 20_000 });
  await picker.click();
  // The menu lists the library as soon as the app has read it: wait for the model, then click
  // it in the page (one step: the list may be drawn again in between).
  await browser.waitUntil(
    () =>
      browser.execute((part) => {
        const option = [...document.querySelectorAll('[data-testid="model-option"]')].find((o) =>
          o.textContent.includes(part),
        );
        option?.click();
        return !!option;
      }, namePart),
    { timeout: 20_000, timeoutMsg: `no model in the picker is named like ${namePart}` },
  );
}

/** The fake Hugging Face Hub (tests/fakehub/fakehub.py) with SmolLM2 in a repository, and
 *  `extraRepos` (the same shape) after the usual ones. */
export async function startFakeHub({ extraRepos = [], port = 0 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sirocco-fakehub-'));
  const repos = [
    {
      id: 'bartowski/SmolLM2-135M-Instruct-GGUF',
      downloads: 5000,
      likes: 40,
      lastModified: '2024-11-02T10:00:00.000Z',
      tags: ['gguf', 'text-generation', 'en'],
      readme: '# SmolLM2 135M Instruct\n\nA **small** chat model, quantized to GGUF.\n\n| Quant | Use |\n| --- | --- |\n| Q4_1 | fast |\n',
      files: [{ path: 'SmolLM2-135M-Instruct-Q4_1.gguf', source: join(fixtures, 'SmolLM2-135M-Instruct.Q4_1.gguf') }],
    },
    {
      id: 'sirocco-test/Mixtral-8x7B-shape-GGUF',
      downloads: 900,
      likes: 70,
      tags: ['gguf', 'moe'],
      files: [{ path: 'Mixtral-8x7B-shape-F16.gguf', source: join(fixtures, 'tiny-mixtral-8x7b-shape.gguf') }],
    },
    {
      id: 'sirocco-test/Gated-Mistral-7B-shape-GGUF',
      downloads: 300,
      likes: 5,
      gated: true,
      tags: ['gguf'],
      files: [{ path: 'Gated-Mistral-7B-shape-F16.gguf', source: join(fixtures, 'tiny-mistral-7b-shape.gguf') }],
    },
    {
      id: 'sirocco-test/SmolLM2-135M-split-GGUF',
      downloads: 20,
      likes: 1,
      tags: ['gguf'],
      files: [1, 2].map((n) => ({
        path: `SmolLM2-135M-Instruct-Q4_1-0000${n}-of-00002.gguf`,
        source: join(fixtures, 'split', `SmolLM2-135M-Instruct-Q4_1-0000${n}-of-00002.gguf`),
      })),
    },
    ...extraRepos,
  ];
  writeFileSync(join(dir, 'repos.json'), JSON.stringify(repos));
  const hub = spawn('python3', [join(repo, 'tests/fakehub/fakehub.py'), '--repos', join(dir, 'repos.json'), '--port', String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolveLine, reject) => {
    let buffered = '';
    hub.stdout.on('data', (chunk) => {
      buffered += chunk;
      if (buffered.includes('\n')) resolveLine(buffered.split('\n')[0]);
    });
    hub.once('exit', (code) => reject(new Error(`fake hub exited with ${code}`)));
  });
  const [, api] = line.split(' ');
  return {
    api,
    async faults(list) {
      const r = await fetch(`${api}/_faults`, { method: 'POST', body: JSON.stringify(list) });
      if (!r.ok) throw new Error('could not set faults');
    },
    async log() {
      return (await fetch(`${api}/_log`)).json();
    },
    /** Ends the hub; resolves once its process (and port) is gone. */
    stop() {
      hub.kill();
      return new Promise((done) => (hub.exitCode !== null || hub.signalCode !== null ? done() : hub.once('exit', done)));
    },
  };
}

/** A system browser that records what it is asked to open: a script first on the PATH under
 *  the name of every launcher the app's opener tries (xdg-open, gio open, kde-open…), writing
 *  each address it is given (its last argument) on a line. An address with `unopenable` in it
 *  fails, as when no browser is installed. Pass `env` to startApp; `opened()` lists the
 *  addresses so far. */
export function fakeSystemBrowser() {
  const dir = mkdtempSync(join(tmpdir(), 'sirocco-browser-'));
  const record = join(dir, 'opened.txt');
  writeFileSync(record, '');
  const script = [
    '#!/bin/sh',
    'for arg; do url=$arg; done',
    `printf '%s\\n' "$url" >> '${record}'`,
    'case "$url" in *unopenable*) exit 4 ;; esac',
    '',
  ].join('\n');
  for (const name of ['xdg-open', 'gio', 'gnome-open', 'kde-open6', 'kde-open5', 'kde-open']) {
    writeFileSync(join(dir, name), script, { mode: 0o755 });
  }
  return {
    env: { PATH: `${dir}:${process.env.PATH}` },
    opened: () => readFileSync(record, 'utf8').split('\n').filter(Boolean),
  };
}

/** A desktop session of its own for the app: a D-Bus session bus with GNOME Keyring (the
 *  Secret Service, unlocked with a throwaway password, in a temporary home) and a file manager
 *  that records what it is asked to show (tests/e2e/file-manager.py). Pass `env` to startApp. */
export async function startDesktopSession() {
  const dir = mkdtempSync(join(tmpdir(), 'sirocco-desktop-'));
  mkdirSync(join(dir, 'run'), { mode: 0o700 });
  const children = [];
  const firstLine = (child, what) =>
    new Promise((resolveLine, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk) => {
        buffered += chunk;
        if (buffered.includes('\n')) resolveLine(buffered.split('\n')[0].trim());
      });
      child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
    });
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(bus);
  const address = await firstLine(bus, 'dbus-daemon');
  const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: address };
  const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--components=secrets', '--unlock'], {
    env: { ...env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_RUNTIME_DIR: join(dir, 'run') },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  children.push(keyring);
  keyring.stdin.end('throwaway');
  // Asynchronously: the password above is written while this waits.
  const waited = await new Promise((done) =>
    spawn('gdbus', ['wait', '--session', '--timeout', '20', 'org.freedesktop.secrets'], { env, stdio: 'ignore' }).once('exit', done),
  );
  if (waited !== 0) throw new Error('the keyring never registered on the session bus');
  const shownFile = join(dir, 'shown.txt');
  writeFileSync(shownFile, '');
  const fileManager = spawn('/usr/bin/python3', [join(repo, 'tests/e2e/file-manager.py'), shownFile], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(fileManager);
  if ((await firstLine(fileManager, 'the file manager')) !== 'READY') throw new Error('the file manager did not start');
  return {
    env: { DBUS_SESSION_BUS_ADDRESS: address },
    /** What apps asked the file manager to show: `ShowItems file:///…` lines. */
    shown: () => readFileSync(shownFile, 'utf8').split('\n').filter(Boolean),
    stop() {
      for (const child of children.reverse()) child.kill();
    },
  };
}
