// End to end through the real webview: the context meter counts an answer while it streams; an
// app killed mid-answer (kill -9) keeps what was written, and after a restart that answer says
// it was interrupted and continues from where it stopped.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { join } from 'node:path';
import { artifacts, makeModelsFolder, pickModel, startApp } from './harness.mjs';

const modelsDir = makeModelsFolder();
let app;
let browser;
const $ = (s) => browser.$(s);
const $$ = (s) => browser.$$(s);

after(async () => {
  await app?.stop();
});

async function start(home) {
  app = await startApp({ modelsDir, home });
  browser = app.browser;
}

/** The last answer, the meter and whether an answer streams, read in one step. */
const screen = () =>
  browser.execute(() => {
    const all = document.querySelectorAll('[data-testid="message-assistant"]');
    const last = all[all.length - 1];
    const meter = document.querySelector('[data-testid="context-meter"]')?.textContent ?? '';
    return {
      text: last?.querySelector('[data-testid="message-text"]')?.textContent ?? '',
      interrupted: !!last?.querySelector('[data-testid="message-interrupted"]'),
      stats: last?.querySelector('[data-testid="message-stats"]')?.textContent ?? null,
      used: Number((meter.match(/^\s*([\d,]+) \//)?.[1] ?? '-1').replaceAll(',', '')),
      streaming: !!document.querySelector('[data-testid="stop-button"]'),
      listed: document.querySelectorAll('[data-testid="conversation-open"]').length,
    };
  });

test('the meter counts a streaming answer; killed mid-answer, it comes back interrupted and continues', async () => {
  await start();
  const home = app.home;
  await pickModel(browser, 'SmolLM2');
  const input = await $('[data-testid="composer-input"]');
  await input.waitForEnabled({ timeout: 60_000 });
  await input.setValue('Write a very long story about a lighthouse keeper and a storm. Make it at least 2000 words.');
  await (await $('[data-testid="send-button"]')).click();

  // While it streams the meter moves with the answer (it used to keep the count from before).
  let first;
  await browser.waitUntil(async () => {
    first = await screen();
    return first.streaming && first.text.length > 20 && first.used > 0;
  }, { timeout: 60_000, timeoutMsg: 'no streamed text with a context count' });
  let later;
  await browser.waitUntil(async () => {
    later = await screen();
    return later.streaming && later.used >= first.used + 20;
  }, { timeout: 60_000, timeoutMsg: `the meter stayed at ${first.used} while the answer streamed` });
  assert.ok(later.text.length > first.text.length);
  // The new conversation is in the sidebar while its first answer still streams.
  await browser.waitUntil(async () => {
    const now = await screen();
    return now.listed === 1 && now.streaming;
  }, {
    timeout: 20_000,
    timeoutMsg: 'the new conversation is not in the sidebar while its first answer streams',
  });
  await browser.saveScreenshot(join(artifacts, 'meter-while-streaming.png'));

  // Killed mid-answer: nothing of the app runs after this.
  const shown = (await screen()).text;
  await app.crash();

  await start(home);
  await browser.waitUntil(async () => (await $$('[data-testid="conversation-open"]')).length === 1, { timeout: 20_000 });
  await (await $$('[data-testid="conversation-open"]'))[0].click();
  let back;
  await browser.waitUntil(async () => {
    back = await screen();
    return back.interrupted;
  }, { timeout: 20_000, timeoutMsg: 'the killed answer is not marked interrupted' });
  // What was saved before the kill (flushed every 250 ms) is there, and nothing else.
  assert.ok(back.text.trim().length > 20, `the answer kept its text: ${JSON.stringify(back.text)}`);
  assert.ok(shown.startsWith(back.text.trimEnd().slice(0, 20)), 'the kept text is the answer that streamed');
  await browser.saveScreenshot(join(artifacts, 'interrupted-after-restart.png'));

  // The model used last loads by itself; Continue picks the answer up where it stopped.
  const cont = await $('[data-testid="continue"]');
  await cont.waitForEnabled({ timeout: 60_000, timeoutMsg: 'Continue is not offered once the model is back' });
  // The message's actions show on hover.
  await (await $('(//*[@data-testid="message-assistant"])[last()]')).moveTo();
  await cont.click();
  let continued;
  await browser.waitUntil(async () => {
    continued = await screen();
    return continued.streaming && continued.text.length > back.text.length;
  }, { timeout: 60_000, timeoutMsg: 'Continue wrote nothing' });
  await (await $('[data-testid="stop-button"]')).click();
  await browser.waitUntil(async () => {
    continued = await screen();
    return !continued.streaming && continued.stats !== null;
  }, { timeout: 20_000, timeoutMsg: 'the continued answer did not end' });
  assert.ok(continued.text.startsWith(back.text.trimEnd()), 'the answer continues the kept text');
  assert.equal(continued.interrupted, false, 'a continued answer is no longer marked interrupted');
});
