// Starts the built app under tauri-driver (WebKitWebDriver) and connects WebdriverIO to it.
// Each session gets its own data, config and cache folders and its own models folder.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const artifacts = join(repo, 'target', 'e2e');
const app = process.env.SIROCCO_APP_BIN ?? join(repo, 'target', 'debug', 'sirocco-app');
const fixtures = process.env.SIROCCO_FIXTURES ?? join(process.env.HOME, '.cache', 'sirocco', 'fixtures');

/** A models folder with the real SmolLM2 and one file that is not a model at all. */
export function makeModelsFolder() {
  const dir = mkdtempSync(join(tmpdir(), 'sirocco-models-'));
  symlinkSync(join(fixtures, 'SmolLM2-135M-Instruct.Q4_1.gguf'), join(dir, 'SmolLM2-135M-Instruct.Q4_1.gguf'));
  writeFileSync(join(dir, 'broken-download.gguf'), 'GGUF\x03\0\0\0 this is not really a model');
  return dir;
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

export async function startApp({ modelsDir }) {
  const home = mkdtempSync(join(tmpdir(), 'sirocco-e2e-'));
  const env = {
    ...process.env,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    SIROCCO_MODELS_DIR: modelsDir,
  };
  mkdirSync(artifacts, { recursive: true });
  const port = 4444 + Math.floor(Math.random() * 1000) * 2;
  const driver = spawn('tauri-driver', ['--port', String(port), '--native-port', String(port + 1)], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForPort(port, Date.now() + 30_000);
  const browser = await remote({
    hostname: '127.0.0.1',
    port,
    logLevel: 'warn',
    capabilities: { 'tauri:options': { application: app } },
  });
  return {
    browser,
    async stop() {
      await browser.deleteSession().catch(() => {});
      driver.kill();
    },
  };
}
