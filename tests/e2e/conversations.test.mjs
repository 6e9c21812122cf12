// End to end through the real webview: conversations kept in SQLite — send, regenerate, switch
// branches, edit, a persona with a greeting, a preset, search — then a restart finds it all.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basename, dirname, join } from 'node:path';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { artifacts, fixtures, makeModelsFolder, startApp } from './harness.mjs';

let app;
let browser;
let home;
const modelsDir = makeModelsFolder();
const $ = (s) => browser.$(s);
const $$ = (s) => browser.$$(s);

async function start() {
  app = await startApp({ modelsDir, home });
  home = app.home;
  browser = app.browser;
}

before(start);
after(async () => {
  await app?.stop();
});

const text = async (el) => (await el.getProperty('textContent')) ?? '';

async function pickSmolLM2() {
  await (await $('[data-testid="model-picker"]')).waitForClickable({ timeout: 20_000 });
  await (await $('[data-testid="model-picker"]')).click();
  for (const option of await $$('[data-testid="model-option"]')) {
    if ((await option.getText()).includes('SmolLM2')) {
      await option.click();
      await (await $('[data-testid="loaded-model"]')).waitForExist({ timeout: 60_000 });
      return;
    }
  }
  assert.fail('SmolLM2 is not in the picker');
}

/** Waits until no answer is streaming (the composer shows Send again). */
async function idle() {
  await (await $('[data-testid="send-button"]')).waitForExist({ timeout: 120_000 });
  await browser.waitUntil(async () => !(await $('.caret').isExisting()), { timeout: 120_000 });
}

async function send(message) {
  const input = await $('[data-testid="composer-input"]');
  await input.waitForEnabled({ timeout: 10_000 });
  await input.setValue(message);
  await (await $('[data-testid="send-button"]')).click();
  await browser.waitUntil(async () => (await $$('[data-testid="stop-button"]')).length > 0 || (await $$('[data-testid="message-stats"]')).length > 0, { timeout: 10_000 });
  await idle();
}

/** The texts of the messages on screen, read in one step (the list may re-render meanwhile). */
const messageTexts = () =>
  browser.execute(() => [...document.querySelectorAll('[data-testid^="message-"][data-message-id]')].map((m) => m.textContent.trim()));
const lastOf = (role) => $(`(//*[@data-testid="message-${role}"])[last()]`);

async function setSelect(testid, label) {
  await browser.execute((testid, label) => {
    const select = document.querySelector(`[data-testid="${testid}"]`);
    const option = [...select.options].find((o) => o.textContent.trim() === label);
    select.value = option.value;
    select.dispatchEvent(new Event('change', { bubbles: true }));
  }, testid, label);
}

async function setTemperature(value) {
  await browser.execute((value) => {
    const slider = document.querySelector('[data-testid="temperature-slider"]');
    slider.value = value;
    slider.dispatchEvent(new Event('input', { bubbles: true }));
  }, String(value));
}

test('a first question makes a conversation titled after it, in the sidebar', async () => {
  await pickSmolLM2();
  await setSelect('preset-select', 'Precise');
  // Greedy decoding keeps the answers checkable.
  await setTemperature(0);
  await send('What is the capital of France?');
  assert.match(await text(await lastOf('assistant')), /Paris/);
  const titles = await $$('[data-testid="conversation-title"]');
  assert.equal(titles.length, 1);
  assert.equal(await text(titles[0]), 'What is the capital of France?');
});

test('regenerate makes a second version; ‹ › switches between them', async () => {
  const first = await text(await (await lastOf('assistant')).$('[data-testid="message-text"]'));
  await setTemperature(1.5);
  const answer = await lastOf('assistant');
  await answer.moveTo();
  await (await answer.$('[data-testid="regenerate"]')).click();
  await idle();
  const position = await (await lastOf('assistant')).$('[data-testid="branch-position"]');
  await position.waitForExist({ timeout: 10_000 });
  assert.equal(await text(position), '2/2');
  await (await (await lastOf('assistant')).$('[data-testid="branch-prev"]')).click();
  await browser.waitUntil(async () => (await text(await (await lastOf('assistant')).$('[data-testid="branch-position"]'))) === '1/2', { timeout: 5_000 });
  assert.equal(await text(await (await lastOf('assistant')).$('[data-testid="message-text"]')), first);
  await browser.saveScreenshot(join(artifacts, 'conversation-branches.png'));
  await setTemperature(0);
});

test('editing the question branches it and answers the new one; hostile text stays text', async () => {
  const question = await lastOf('user');
  await question.moveTo();
  await (await question.$('[data-testid="edit-message"]')).click();
  const box = await $('[data-testid="edit-input"]');
  await box.setValue('What is the capital of Italy? <img src=x onerror="document.title=\'pwned\'">');
  await (await $('[data-testid="edit-save"]')).click();
  await idle();
  const q = await lastOf('user');
  assert.match(await text(q), /<img src=x onerror=/, 'the markup is shown as typed');
  assert.equal(await browser.execute(() => document.querySelectorAll('[data-testid="messages"] img').length), 0);
  assert.notEqual(await browser.getTitle(), 'pwned');
  assert.equal(await text(await q.$('[data-testid="branch-position"]')), '2/2');
  assert.match(await text(await lastOf('assistant')), /Rome/);

  // An answer edited by hand renders as Markdown; its script stays inert.
  const answer = await lastOf('assistant');
  await answer.moveTo();
  await (await answer.$('[data-testid="edit-message"]')).click();
  // (WebKitWebDriver drops typed newlines: set the text the way a paste does.)
  await (await $('[data-testid="edit-input"]')).waitForExist({ timeout: 5_000 });
  await browser.execute((value) => {
    const box = document.querySelector('[data-testid="edit-input"]');
    box.value = value;
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }, '**Rome**, of course.\n\n```python\nprint("ciao")\n```\n\nArea: $\\pi r^2$\n\n<script>document.title="pwned"</script>');
  await (await $('[data-testid="edit-save"]')).click();
  const strong = await (await lastOf('assistant')).$('strong');
  await strong.waitForExist({ timeout: 5_000 });
  assert.equal(await text(strong), 'Rome');
  assert.ok(await (await lastOf('assistant')).$('.code-block [data-copy-code]').isExisting());
  assert.ok(await (await lastOf('assistant')).$('.katex').isExisting(), 'LaTeX is typeset');
  assert.match(await text(await lastOf('assistant')), /<script>document.title="pwned"<\/script>/);
  assert.notEqual(await browser.getTitle(), 'pwned');
});

test('a persona greets first and answers under its name', async () => {
  await (await $('[data-testid="nav-personas"]')).click();
  // The user's name fills {{user}}.
  await (await $('[data-testid="user-name"]')).setValue('Ada');
  await browser.keys('Tab');
  await (await $('[data-testid="new-persona"]')).click();
  await (await $('[data-testid="persona-name"]')).setValue('Captain Nemo');
  await (await $('[data-testid="persona-greeting"]')).setValue('Welcome aboard the Nautilus, {{user}}.');
  await (await $('[data-testid="persona-system"]')).setValue('You are {{char}}, captain of the Nautilus.');
  await (await $('[data-testid="persona-add-greeting"]')).click();
  await (await $('[data-testid="persona-alternate"]')).setValue('The sea is calm tonight, {{user}}.');
  await (await $('[data-testid="persona-save"]')).click();
  const card = await $('[data-testid="persona-card"]');
  await card.waitForExist({ timeout: 5_000 });
  await browser.saveScreenshot(join(artifacts, 'personas.png'));
  await (await card.$('[data-testid="persona-chat"]')).click();
  await (await $('[data-testid="empty-state"]')).waitForExist({ timeout: 5_000 });
  assert.match(await text(await $('[data-testid="empty-state"]')), /Chatting with Captain Nemo/);
  // Two openings: the user picks the second.
  const pick = await $('[data-testid="greeting-pick"]');
  assert.match(await text(pick), /Welcome aboard the Nautilus, Ada\..*\b1\/2\b/s);
  await (await $('[data-testid="greeting-next"]')).click();
  await browser.waitUntil(async () => /The sea is calm tonight, Ada\..*\b2\/2\b/s.test(await text(pick)), { timeout: 5_000 });
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await browser.saveScreenshot(join(artifacts, 'persona-greeting.png'));
  await send('Where are we going?');
  const texts = await messageTexts();
  assert.match(texts[0], /Captain Nemo.*The sea is calm tonight, Ada\./s, 'the picked greeting comes first, macros filled in');
  // The other opening stays a branch of the first message.
  const first = await $('[data-testid="message-assistant"]');
  assert.equal(await text(await first.$('[data-testid="branch-position"]')), '2/2');
  assert.match(texts[1], /Where are we going\?/);
  assert.match(await text(await lastOf('assistant')), /^\s*C\s*Captain Nemo/);
  assert.equal((await $$('[data-testid="conversation-item"]')).length, 2);
});

let foundId;
test('search finds a message and opens its conversation on the branch that holds it', async () => {
  // Leave the France branch on screen, so the Italy question is on a branch out of sight.
  await (await $$('[data-testid="conversation-open"]'))[1].click();
  await browser.waitUntil(async () => (await messageTexts()).some((t) => /capital of Italy/.test(t)), { timeout: 10_000 });
  await (await (await lastOf('user')).$('[data-testid="branch-prev"]')).click();
  await browser.waitUntil(async () => (await messageTexts())[0]?.includes('capital of France'), { timeout: 10_000 });

  await browser.keys(['Control', 'k']);
  const box = await $('[data-testid="search-input"]');
  await browser.waitUntil(async () => (await browser.execute(() => document.activeElement?.dataset.testid)) === 'search-input', { timeout: 5_000 });
  await box.setValue('Italy');
  const hit = await $('[data-testid="search-hit"]');
  await hit.waitForExist({ timeout: 5_000 });
  assert.match(await text(hit), /capital of Italy/);
  assert.equal(await text(await hit.$('mark')), 'Italy');
  await browser.saveScreenshot(join(artifacts, 'search.png'));
  await hit.click();
  // The conversation opens on the branch that holds the hit, the message marked.
  const found = await $('.message.found');
  await found.waitForExist({ timeout: 10_000 });
  assert.match(await text(found), /capital of Italy/);
  assert.equal(await text(await (await lastOf('user')).$('[data-testid="branch-position"]')), '2/2');
  foundId = await found.getAttribute('data-message-id');
  await browser.saveScreenshot(join(artifacts, 'search-opened.png'));
  await browser.keys('Escape');
});

/** The conversation caches saved to disk: file name → modification time. */
function savedStates() {
  const dir = join(home, 'data', 'dev.sirocco.app', 'kv-states');
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).filter((f) => /^conversation-\d+\..+\.kv$/.test(f)).map((f) => [f, statSync(join(dir, f)).mtimeMs]));
}

test('after a restart every conversation, branch and persona is still there', async () => {
  // Leaving a conversation (opening another, starting one) saved its cache.
  assert.ok(Object.keys(savedStates()).length >= 1, 'a left conversation has its cache on disk');
  // Closing the window (as its close button does) saves the one on screen too, then the app goes.
  const closedAt = Date.now();
  execFileSync(join(fixtures, 'venv', 'bin', 'python'), [join(import.meta.dirname, 'window.py'), 'close', 'Sirocco']);
  await browser.waitUntil(async () => Object.values(savedStates()).some((t) => t >= closedAt), {
    timeout: 20_000, timeoutMsg: 'closing the window saved no conversation cache',
  });
  await app.stop();
  await start();
  await browser.waitUntil(async () => (await $$('[data-testid="conversation-title"]')).length === 2, { timeout: 20_000 });
  const names = [];
  for (const t of await $$('[data-testid="conversation-title"]')) names.push(await text(t));
  assert.deepEqual(names, ['Where are we going?', 'What is the capital of France?']);
  await (await $$('[data-testid="conversation-open"]'))[1].click();
  await browser.waitUntil(async () => (await messageTexts()).length === 2, { timeout: 10_000 });
  const texts = await messageTexts();
  assert.match(texts[0], /capital of Italy/, 'the branch on screen is the one left');
  assert.match(texts[1], /Rome/);
  assert.equal(await text(await (await lastOf('user')).$('[data-testid="branch-position"]')), '2/2');
  const ids = await browser.execute(() => [...document.querySelectorAll('[data-message-id]')].map((m) => m.dataset.messageId));
  assert.ok(ids.includes(foundId), 'the branch the search opened');
  await (await $('[data-testid="nav-personas"]')).click();
  assert.equal(await text(await $('[data-testid="persona-card-name"]')), 'Captain Nemo');
  assert.equal(await (await $('[data-testid="user-name"]')).getValue(), 'Ada', 'the user\'s name is kept');
  await (await $('[data-testid="nav-chat"]')).click();
  // The model used last loaded by itself.
  await browser.waitUntil(async () => /SmolLM2/.test(await text(await $('[data-testid="model-picker"]'))) && (await $('[data-testid="composer-input"]').isEnabled()), {
    timeout: 60_000, timeoutMsg: 'the last model did not load at start',
  });
  await browser.saveScreenshot(join(artifacts, 'conversations-after-restart.png'));
});

/** A PNG carrying a SillyTavern card in a `tEXt` chunk named `chara` (CRCs are not checked by readers of cards). */
function cardPng(card) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const text = Buffer.concat([Buffer.from('chara\0'), Buffer.from(Buffer.from(JSON.stringify(card)).toString('base64'))]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('tEXt', text), chunk('IEND', Buffer.alloc(0))]);
}

/** Gives a file input a file the way a file dialog does. */
async function chooseFile(testid, name, bytes) {
  await browser.execute((testid, name, b64) => {
    const input = document.querySelector(`[data-testid="${testid}"]`);
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([data], name));
    input.files = transfer.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }, testid, name, Buffer.from(bytes).toString('base64'));
}

test('character cards import as personas; a hostile card gives a clear error', async () => {
  await (await $('[data-testid="nav-personas"]')).click();
  await chooseFile('card-file', 'evil.png', Buffer.from('\x89PNG\r\n\x1a\n not really a png'));
  const error = await $('[data-testid="persona-error"]');
  await error.waitForExist({ timeout: 5_000 });
  assert.match(await text(error), /Could not import evil\.png: this is not a character card/);
  await chooseFile('card-file', 'lumen.png', cardPng({
    spec: 'chara_card_v2', spec_version: '2.0',
    data: {
      name: 'Lumen', description: '<img src=x onerror="document.title=\'pwned\'">Keeps the lighthouse.', first_mes: 'The lamp is lit, {{user}}.', mes_example: '',
      character_book: { entries: [
        { keys: ['lamp', 'oil'], content: 'The lamp burns whale oil.', enabled: true, insertion_order: 1 },
        { keys: ['<script>alert(1)</script>'], content: '<img src=x onerror="document.title=\'pwned\'">', enabled: false, insertion_order: 2 },
      ] },
    },
  }));
  await browser.waitUntil(async () => (await $$('[data-testid="persona-card"]')).length === 2, { timeout: 5_000 });
  // The card's lorebook came with it, shown as text.
  assert.equal(await text(await $('[data-testid="persona-lore-count"]')), 'Lorebook · 2 entries');
  const cards = [];
  for (const c of await $$('[data-testid="persona-card-name"]')) cards.push(await text(c));
  assert.deepEqual(cards, ['Captain Nemo', 'Lumen']);
  assert.equal(await browser.execute(() => document.querySelectorAll('[data-testid="personas-page"] .desc img').length), 0);
  assert.notEqual(await browser.getTitle(), 'pwned');
  await browser.saveScreenshot(join(artifacts, 'personas-imported.png'));
  await (await (await $$('[data-testid="persona-card"]'))[1].$('button=Edit')).click();
  const lore = await $('[data-testid="persona-lorebook"]');
  await lore.waitForExist({ timeout: 5_000 });
  assert.match(await text(lore), /lamp, oil\s*The lamp burns whale oil\./);
  assert.match(await text(lore), /<script>alert\(1\)<\/script> · off/);
  assert.equal(await browser.execute(() => document.querySelectorAll('[data-testid="persona-lorebook"] img, [data-testid="persona-lorebook"] script').length), 0);
  await browser.saveScreenshot(join(artifacts, 'persona-lorebook.png'));
  await (await $('button=Cancel')).click();
});

test('start reply with: the answer begins with the given words; the context meter fills', async () => {
  await (await $('[data-testid="nav-chat"]')).click();
  await pickSmolLM2();
  await setSelect('persona-select', 'Assistant (no persona)');
  await (await $('[data-testid="new-chat"]')).click();
  await (await $('[data-testid="reply-prefix-toggle"]')).click();
  await (await $('[data-testid="reply-prefix"]')).setValue('The capital of Spain is');
  await send('Name the capital of Spain.');
  const answer = await text(await (await lastOf('assistant')).$('[data-testid="message-text"]'));
  assert.match(answer, /^\s*The capital of Spain is\s+\S+/);
  const meter = await $('[data-testid="context-meter"]');
  assert.match(await text(meter), /\d+ \/ [\d,]+ tokens/);
});

/** The ⋯ menu of the first conversation in the sidebar (it shows on hover). */
async function openMenuOfFirst() {
  await (await $$('[data-testid="conversation-item"]'))[0].moveTo();
  await (await $$('[data-testid="conversation-menu"]'))[0].click();
}

test('a conversation exports to Downloads as Markdown, never over an earlier export, and all of them as JSON that imports back', async () => {
  const downloads = join(home, 'Downloads');
  const exportMarkdown = async () => {
    await openMenuOfFirst();
    await (await $('[data-testid="menu-export-md"]')).click();
    const notice = await $('[data-testid="notice"]');
    await notice.waitForExist({ timeout: 5_000 });
    const saved = (await text(notice)).match(/Saved to (.*\.md)/)?.[1];
    assert.ok(saved, await text(notice));
    await (await notice.$('button[aria-label="Dismiss"]')).click();
    return saved;
  };
  const title = await text((await $$('[data-testid="conversation-title"]'))[0]);
  const first = await exportMarkdown();
  const second = await exportMarkdown();
  assert.equal(dirname(first), downloads);
  assert.notEqual(first, second, 'the second export is a new file');
  assert.match(basename(second), / \(2\)\.md$/);
  const markdown = readFileSync(first, 'utf8');
  assert.equal(readFileSync(second, 'utf8'), markdown);
  assert.ok(markdown.startsWith(`# ${title}`), markdown.slice(0, 80));

  await (await $('[data-testid="export-all"]')).click();
  const notice = await $('[data-testid="notice"]');
  await notice.waitForExist({ timeout: 5_000 });
  const all = (await text(notice)).match(/Saved to (.*\.json)/)?.[1];
  assert.ok(all, await text(notice));
  assert.ok(await (await notice.$('[data-testid="notice-show"]')).isExisting(), 'the notice offers to show the file');
  const exported = JSON.parse(readFileSync(all, 'utf8'));
  const before = (await $$('[data-testid="conversation-item"]')).length;
  assert.equal(exported.conversations.length, before);
  await chooseFile('import-file', basename(all), readFileSync(all));
  await browser.waitUntil(async () => /Imported \d+ conversations?/.test(await text(await $('[data-testid="notice"]'))), { timeout: 5_000 });
  assert.match(await text(await $('[data-testid="notice"]')), new RegExp(`Imported ${before} conversation`));
  await browser.waitUntil(async () => (await $$('[data-testid="conversation-item"]')).length === 2 * before, { timeout: 5_000 });
  // The copies go again, so the rest of the run sees the conversations it made.
  for (let i = 0; i < before; i++) {
    await openMenuOfFirst();
    await (await $('[data-testid="menu-delete"]')).click();
    await (await $('[data-testid="confirm-delete"]')).click();
    await browser.waitUntil(async () => (await $$('[data-testid="conversation-item"]')).length === 2 * before - i - 1, { timeout: 5_000 });
  }
});

test('an exported conversations file imports back as new conversations', async () => {
  const file = JSON.stringify({
    format: 'sirocco-conversations', version: 1,
    conversations: [{ title: 'Imported chat', created_at: 0, current_leaf: 2, messages: [
      { id: 1, parent: null, role: 'user', content: 'Hello from another machine' },
      { id: 2, parent: 1, role: 'assistant', content: 'Hello back.' },
    ] }],
  });
  await chooseFile('import-file', 'chats.json', Buffer.from(file));
  await (await $('[data-testid="notice"]')).waitForExist({ timeout: 5_000 });
  assert.match(await text(await $('[data-testid="notice"]')), /Imported 1 conversation from chats\.json/);
  const titles = [];
  for (const t of await $$('[data-testid="conversation-title"]')) titles.push(await text(t));
  assert.ok(titles.includes('Imported chat'), titles.join(', '));
  await chooseFile('import-file', 'broken.json', Buffer.from('{"format": "sirocco-conversations", "version": 1, "conversations": [{"title": "x"'));
  await (await $('[data-testid="error-banner"]')).waitForExist({ timeout: 5_000 });
  assert.match(await text(await $('[data-testid="error-banner"]')), /Could not import broken\.json: this is not a Sirocco conversations file/);
});

test('presets: duplicate a built-in, change it, delete it', async () => {
  await setSelect('preset-select', 'Code');
  await (await $('[data-testid="preset-duplicate"]')).click();
  await browser.waitUntil(async () => (await browser.execute(() => {
    const s = document.querySelector('[data-testid="preset-select"]');
    return s.options[s.selectedIndex].textContent.trim();
  })) === 'Code copy', { timeout: 5_000 });
  assert.match(await (await $('[data-testid="system-prompt"]')).getValue(), /expert programmer/);
  await (await $('[data-testid="preset-delete"]')).click();
  await browser.waitUntil(async () => !(await browser.execute(() =>
    [...document.querySelector('[data-testid="preset-select"]').options].some((o) => o.textContent.trim() === 'Code copy'))), { timeout: 5_000 });
});

test('arena: one prompt, two presets, two answers side by side', async () => {
  await (await $('[data-testid="nav-arena"]')).click();
  await (await $('[data-testid="arena-prompt"]')).setValue('What is the capital of France?');
  await (await $('[data-testid="arena-run"]')).click();
  await browser.waitUntil(async () => (await $$('[data-testid="arena-stats"]')).length === 2, { timeout: 120_000, timeoutMsg: 'both sides did not answer' });
  const answers = [];
  for (const a of await $$('[data-testid="arena-answer"]')) answers.push(await text(a));
  assert.ok(answers.every((a) => a.trim().length > 0), answers.join(' | '));
  await browser.saveScreenshot(join(artifacts, 'arena.png'));
});
