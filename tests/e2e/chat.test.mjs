// End to end through the real webview: pick a model, chat, stop, and survive a broken file.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { artifacts, makeModelsFolder, startApp } from './harness.mjs';

let app;
let $;
let $$;
let browser;

before(async () => {
  app = await startApp({ modelsDir: makeModelsFolder() });
  browser = app.browser;
  $ = (s) => browser.$(s);
  $$ = (s) => browser.$$(s);
});

after(async () => {
  await app?.stop();
});

async function pickModel(namePart) {
  await (await $('[data-testid="model-picker"]')).click();
  for (const option of await $$('[data-testid="model-option"]')) {
    if ((await option.getText()).includes(namePart)) {
      await option.click();
      return;
    }
  }
  assert.fail(`no model option contains ${namePart}`);
}

/** Temperature 0: the answer is the model's most likely one (tests compare its words). */
async function greedy() {
  await browser.execute(() => {
    const slider = document.querySelector('[data-testid="temperature-slider"]');
    slider.value = '0';
    slider.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

async function send(text) {
  const input = await $('[data-testid="composer-input"]');
  await input.waitForEnabled({ timeout: 10_000 });
  await input.setValue(text);
  await (await $('[data-testid="send-button"]')).click();
}

/** The last answer's text and stats line, read in one step: the list re-renders while an answer
 *  streams (and when it gets its id), so element handles held across reads go stale. */
const lastAnswer = () =>
  browser.execute(() => {
    const all = document.querySelectorAll('[data-testid="message-assistant"]');
    const last = all[all.length - 1];
    return {
      count: all.length,
      text: last?.querySelector('[data-testid="message-text"]')?.textContent ?? '',
      stats: last?.querySelector('[data-testid="message-stats"]')?.textContent ?? null,
    };
  });

/** Waits for the answer after `before` answers to finish; its text and stats. */
async function finishedAnswer(before, timeout = 120_000) {
  let answer;
  await browser.waitUntil(async () => {
    answer = await lastAnswer();
    return answer.count > before && answer.stats !== null;
  }, { timeout, timeoutMsg: 'the answer did not finish' });
  return answer;
}

test('the window opens on the chat screen with the models folder listed', async () => {
  const empty = await $('[data-testid="empty-state"]');
  await empty.waitForDisplayed({ timeout: 20_000 });
  await browser.waitUntil(async () => (await empty.getText()).includes('Choose a model'), { timeout: 10_000 });
  await (await $('[data-testid="model-picker"]')).click();
  const names = [];
  for (const option of await $$('[data-testid="model-option"]')) names.push(await option.getText());
  assert.equal(names.length, 2);
  assert.ok(names.some((n) => n.includes('SmolLM2-135M-Instruct')));
  await browser.keys('Escape');
  await (await $('[data-testid="model-menu"]')).waitForExist({ reverse: true, timeout: 5_000 });
});

test('a file that is not a valid model shows a clear error and the app keeps running', async () => {
  await pickModel('broken-download');
  const banner = await $('[data-testid="error-banner"]');
  await banner.waitForDisplayed({ timeout: 20_000 });
  const message = await banner.getText();
  assert.match(message, /Could not load the model\./);
  assert.match(message, /broken-download\.gguf is not a usable model file/);
  assert.ok(!message.includes('/tmp/'), 'no file system paths in the message');
});

test('pick SmolLM2, send a message and see the answer stream in', async () => {
  await pickModel('SmolLM2');
  const loadedName = await $('[data-testid="loaded-model"]');
  await loadedName.waitForExist({ timeout: 60_000 });
  assert.match(await loadedName.getProperty('textContent'), /SmolLM2-135M-Instruct/);

  await greedy();
  const before = (await lastAnswer()).count;
  await send('What is the capital of France?');
  await browser.waitUntil(async () => {
    const a = await lastAnswer();
    return a.count > before && a.text.length > 0;
  }, { timeout: 60_000, timeoutMsg: 'no streamed text' });
  const answer = await finishedAnswer(before);
  assert.match(answer.stats, /tok\/s/);
  assert.match(answer.text, /Paris/);
  await browser.saveScreenshot(join(artifacts, 'chat.png'));
});

test('the settings panel shows the planner\'s estimate and applies a new context length', async () => {
  const estimate = await $('[data-testid="memory-estimate"]');
  await estimate.waitForExist({ timeout: 10_000 });
  const text = await estimate.getProperty('textContent');
  assert.match(text, /Memory needed/);
  assert.match(text, /Fits/);

  // Move the context slider the way a user's drag does: value, then an input event.
  await browser.execute(() => {
    const slider = document.querySelector('[data-testid="context-slider"]');
    slider.value = '2048';
    slider.dispatchEvent(new Event('input', { bubbles: true }));
  });
  // And one CPU thread, under Advanced loading.
  await (await $('[data-testid="advanced-load"] summary')).click();
  await (await $('[data-testid="threads-input"]')).setValue('1');
  // Drafted tokens: from the chat by default; a draft model needs one of this model's
  // vocabulary, and the panel says so when the library has none.
  const drafting = await $('[data-testid="drafting"]');
  const choice = async (name) => drafting.$(`button[role="radio"]=${name}`);
  assert.equal(await (await choice('From chat')).getAttribute('aria-checked'), 'true');
  await (await choice('Model')).click();
  const none = await $('[data-testid="no-draft-models"]');
  await none.waitForExist({ timeout: 5_000 });
  await none.scrollIntoView();
  await browser.saveScreenshot(join(artifacts, 'settings-drafting.png'));
  await (await choice('From chat')).click();
  assert.equal(await $('[data-testid="no-draft-models"]').isExisting(), false);
  const reload = await $('[data-testid="reload-button"]');
  await reload.waitForExist({ timeout: 5_000 });
  await reload.click();
  await browser.waitUntil(
    async () => (await $('[data-testid="model-picker"]').isExisting()) &&
      /2,048 ctx\s*·\s*1\s+thread\b/.test(await $('[data-testid="model-picker"]').getProperty('textContent')),
    { timeout: 60_000, timeoutMsg: 'the model was not reloaded with a 2,048-token context on one thread' },
  );
  await browser.saveScreenshot(join(artifacts, 'settings.png'));
});

test('stop ends a long answer', async () => {
  const before = (await lastAnswer()).count;
  await send('Write a very long story about a dragon who learns to bake bread. Make it at least 2000 words.');
  await browser.waitUntil(async () => {
    const a = await lastAnswer();
    return a.count > before && a.text.length > 20;
  }, { timeout: 60_000, timeoutMsg: 'no streamed text' });
  await (await $('[data-testid="stop-button"]')).click();
  const answer = await finishedAnswer(before, 10_000);
  assert.match(answer.stats, /stopped/);
  // The composer is usable again.
  await (await $('[data-testid="send-button"]')).waitForExist({ timeout: 5_000 });
  await browser.saveScreenshot(join(artifacts, 'chat-stopped.png'));
});

test('stop strings and a seed set in the panel reach the answer', async () => {
  // A new chat at temperature 0, so the answer is known; stop before "Paris".
  await (await $('[data-testid="new-chat"]')).click();
  await greedy();
  await (await $('[data-testid="stop-input"]')).setValue('Paris');
  await (await $('[data-testid="seed-input"]')).setValue('7');
  assert.match(await (await $('[data-testid="settings-panel"]')).getText(), /The same seed repeats an answer/);
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(join(artifacts, 'settings-sampling.png'));
  const before = (await lastAnswer()).count;
  await send('What is the capital of France? Answer in one sentence.');
  const { text: answer } = await finishedAnswer(before);
  assert.match(answer, /capital of France is/, answer);
  assert.doesNotMatch(answer, /Paris/, 'the answer ended before the stop string');
});
