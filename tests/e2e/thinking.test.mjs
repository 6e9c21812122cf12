// End to end through the real webview: the user's own template makes SmolLM2 a thinking model
// (its generation prompt opens a <think> block, as Qwen 3's and DeepSeek R1's do). The template
// editor shows the model's own template, refuses a broken one with the reason, keeps a good one
// once a sample conversation renders; after a reload the thinking controls apply. A thinking
// answer shows its thought live, then folded with how long it took, the answer below it; the
// thought opens to its text; after a restart the same.
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

const THINKING =
  "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}" +
  "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}";

/** Types into a bound field at once (a template has characters WebDriver would send as keys). */
const fill = (selector, value) =>
  browser.execute(
    (selector, value) => {
      const el = document.querySelector(selector);
      el.value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    },
    selector,
    value,
  );

/** The last answer's thought and text, read in one step. */
const screen = () =>
  browser.execute(() => {
    const all = document.querySelectorAll('[data-testid="message-assistant"]');
    const last = all[all.length - 1];
    const thought = last?.querySelector('[data-testid="thought"]');
    return {
      thought: !!thought,
      open: thought?.getAttribute('data-open') === 'true',
      label: last?.querySelector('[data-testid="thought-label"]')?.textContent ?? '',
      thoughtText: last?.querySelector('[data-testid="thought-text"]')?.textContent ?? null,
      text: last?.querySelector('[data-testid="message-text"]')?.textContent ?? '',
      streaming: !!document.querySelector('[data-testid="stop-button"]'),
    };
  });

test('a thinking answer shows its thought live, then folded with its time; a restart shows the same', async () => {
  await start();
  const home = app.home;
  await pickModel(browser, 'SmolLM2');
  const input = await $('[data-testid="composer-input"]');
  await input.waitForEnabled({ timeout: 60_000 });
  assert.match(await (await $('[data-testid="prompt-format"]')).getText(), /own template/);
  // Not a thinking model yet: its thinking controls are off.
  assert.equal(await (await $('[data-testid="thinking-budget"]')).isEnabled(), false);

  // The editor shows the model's own template (SmolLM2's ChatML).
  await (await $('[data-testid="template-open"]')).click();
  const editor = await $('[data-testid="template-text"]');
  await editor.waitForDisplayed({ timeout: 10_000 });
  assert.match(await editor.getValue(), /<\|im_start\|>/);
  // A broken template is refused with the reason, and nothing is kept.
  await fill('[data-testid="template-text"]', '{% for message in messages %}{{ message.content }}');
  await (await $('[data-testid="template-save"]')).click();
  const problem = await $('[data-testid="template-problem"]');
  await problem.waitForDisplayed({ timeout: 10_000 });
  assert.match(await problem.getText(), /endfor|end of input|unexpected/i);
  assert.equal(await $('[data-testid="template-saved"]').isExisting(), false);
  // A good one renders a sample conversation and is kept.
  await fill('[data-testid="template-text"]', THINKING);
  await (await $('[data-testid="template-save"]')).click();
  await (await $('[data-testid="template-saved"]')).waitForDisplayed({ timeout: 10_000 });
  const preview = await (await $('[data-testid="template-preview"]')).getText();
  assert.ok(preview.includes('And in French?') && preview.trimEnd().endsWith('<think>'), preview);
  await browser.saveScreenshot(join(artifacts, 'template-editor.png'));
  await browser.keys('Escape');
  await (await $('[data-testid="template-editor"]')).waitForExist({ reverse: true, timeout: 5_000 });

  // The reload applies it: now a thinking model, its controls on.
  const reload = await $('[data-testid="reload-button"]');
  await reload.waitForClickable({ timeout: 10_000, timeoutMsg: 'no reload offered after keeping a template' });
  await reload.click();
  await browser.waitUntil(async () => (await (await $('[data-testid="prompt-format"]')).getText()) === 'Your template', {
    timeout: 60_000,
    timeoutMsg: 'the reloaded model does not use the kept template',
  });
  const budget = await $('[data-testid="thinking-budget"]');
  await budget.waitForEnabled({ timeout: 10_000 });
  // SmolLM2 never ends a thought itself: a budget of 256 tokens does.
  await fill('[data-testid="thinking-budget"]', '256');
  // Greedy: the same thought and answer on every run.
  await fill('[data-testid="temperature-slider"]', '0');
  assert.match(await (await $('[data-testid="thinking-controls"]')).getText(), /Auto/);
  await (await $('[data-testid="thinking-controls"]')).scrollIntoView();
  await browser.saveScreenshot(join(artifacts, 'thinking-controls.png'));

  await input.waitForEnabled({ timeout: 60_000 });
  await input.setValue('Write a long story about the sea.');
  await (await $('[data-testid="send-button"]')).click();
  let live;
  await browser.waitUntil(async () => {
    live = await screen();
    return live.streaming && live.thought && live.open && (live.thoughtText ?? '').length > 20;
  }, { timeout: 60_000, timeoutMsg: 'no live thought while the model thinks' });
  assert.match(live.label, /^Thinking…/);
  await browser.saveScreenshot(join(artifacts, 'thought-live.png'));

  let done;
  await browser.waitUntil(async () => {
    done = await screen();
    return !done.streaming;
  }, { timeout: 120_000, timeoutMsg: 'the answer never ended' });
  assert.ok(done.text.trim().length > 0, 'an answer follows the thought');
  assert.equal(done.open, false, 'the thought folds once the answer starts');
  assert.match(done.label, /^Thought for (less than a second|\d+ seconds?|\d+ min \d+ s)$/);
  await (await $('(//*[@data-testid="thought-toggle"])[last()]')).click();
  const opened = await screen();
  assert.equal(opened.open, true);
  const thought = opened.thoughtText;
  // The tags are markers, never shown; what the model writes after the thought is the answer
  // (a tiny model may well write a stray tag of its own there: that is its text).
  assert.ok(thought.length > 20 && !thought.includes('<think>') && !thought.includes('</think>'), thought);
  assert.ok(!done.text.includes(thought.slice(0, 40)), 'the thought is not in the answer');
  await browser.saveScreenshot(join(artifacts, 'thought-folded-then-opened.png'));

  // After a restart: the same thought, folded, with the same time.
  await app.stop();
  await start(home);
  await browser.waitUntil(async () => (await $$('[data-testid="conversation-open"]')).length === 1, { timeout: 20_000 });
  await (await $$('[data-testid="conversation-open"]'))[0].click();
  let back;
  await browser.waitUntil(async () => {
    back = await screen();
    return back.thought && back.text.length > 0;
  }, { timeout: 20_000, timeoutMsg: 'the thought is gone after a restart' });
  assert.equal(back.open, false);
  assert.equal(back.label, done.label);
  assert.equal(back.text, done.text);
  await (await $('(//*[@data-testid="thought-toggle"])[last()]')).click();
  assert.equal((await screen()).thoughtText, thought);

  // Reset: the model's own template again (kept through the restart until now), from its next
  // load; a plain model once more, its thinking controls off.
  await pickModel(browser, 'SmolLM2');
  await browser.waitUntil(async () => (await (await $('[data-testid="prompt-format"]')).getText()) === 'Your template', {
    timeout: 60_000,
    timeoutMsg: 'the kept template is not used after a restart',
  });
  await (await $('[data-testid="template-open"]')).click();
  await (await $('[data-testid="template-reset"]')).click();
  await (await $('[data-testid="template-saved"]')).waitForDisplayed({ timeout: 10_000 });
  assert.match(await (await $('[data-testid="template-text"]')).getValue(), /<\|im_start\|>/);
  assert.equal(await $('[data-testid="template-reset"]').isExisting(), false, 'nothing left to reset');
  await browser.keys('Escape');
  const again = await $('[data-testid="reload-button"]');
  await again.waitForClickable({ timeout: 10_000, timeoutMsg: 'no reload offered after a reset' });
  await again.click();
  await browser.waitUntil(async () => /own template/.test(await (await $('[data-testid="prompt-format"]')).getText()), {
    timeout: 60_000,
    timeoutMsg: 'the reloaded model does not use its own template again',
  });
  await browser.waitUntil(async () => !(await (await $('[data-testid="thinking-budget"]')).isEnabled()), {
    timeout: 10_000,
    timeoutMsg: 'the thinking controls stay on for a plain model',
  });
});
