// End to end through the real webview: images and documents in a conversation. A model without
// a projector says it does not see images when one is attached; the tiny Pixtral-type model,
// loaded with the projector beside it (llama.cpp's real mtmd), answers a question with an image
// and a PDF (made by fpdf2, read in the app's reader process); both are shown in the message and
// what the model read of the PDF under the answer, and after a restart all of it is shown again,
// read back from the store. A file dropped on the window (Tauri's drop event, with its path) is
// attached.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { artifacts, fixtures, pickModel, startApp } from './harness.mjs';

let app;
let browser;
let home;
// The vision model with its projector beside it (as a Hugging Face repository ships them), and
// SmolLM2, which sees nothing.
const modelsDir = mkdtempSync(join(tmpdir(), 'sirocco-vision-'));
for (const [from, name] of [
  ['SmolLM2-135M-Instruct.Q4_1.gguf', 'SmolLM2-135M-Instruct.Q4_1.gguf'],
  ['vision/Tiny-Pixtral-F16.gguf', 'Tiny-Pixtral-F16.gguf'],
  ['vision/mmproj-Tiny-Pixtral-F32.gguf', 'mmproj-Tiny-Pixtral-F32.gguf'],
]) {
  symlinkSync(join(fixtures, from), join(modelsDir, name));
}
// The test image: 112×84, byte i = i mod 251 (as the fixture script's), as a PNG file.
const png = join(modelsDir, 'harbour.png');
execFileSync(join(fixtures, 'venv', 'bin', 'python'), [
  '-c',
  'import sys; from PIL import Image; Image.frombytes("RGB", (112, 84), bytes(i % 251 for i in range(112 * 84 * 3))).save(sys.argv[1])',
  png,
]);
const pngBase64 = readFileSync(png).toString('base64');
const report = join(fixtures, 'documents', 'report.pdf');
const reportBase64 = readFileSync(report).toString('base64');
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

/** Attaches a file as the composer's picker would (a File in its input). */
const attach = (name, type, b64) =>
  browser.execute(
    (name, type, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const files = new DataTransfer();
      files.items.add(new File([bytes], name, { type }));
      const input = document.querySelector('[data-testid="attach-input"]');
      input.files = files.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    },
    name,
    type,
    b64,
  );
const attachImage = () => attach('harbour.png', 'image/png', pngBase64);
const attachReport = () => attach('report.pdf', 'application/pdf', reportBase64);

/** The documents shown in messages (name and what is said of it) and the sources under
 *  answers, the list scrolled to its top first. */
const shownDocuments = () =>
  browser.execute(() => {
    const list = document.querySelector('[data-testid="messages"]');
    if (list) list.scrollTop = 0;
    return {
      documents: [...document.querySelectorAll('[data-testid="message-document"]')].map((d) => d.textContent.replace(/\s+/g, ' ').trim()),
      sources: [...document.querySelectorAll('[data-testid="message-sources"]')].map((d) => d.textContent.replace(/\s+/g, ' ').trim()),
    };
  });

/** The shown images' natural sizes (0×0 until decoded), the list scrolled to its top first (it
 *  draws only the messages in view, and a random-weight model's answer is long). */
const shownImages = () =>
  browser.execute(() => {
    const list = document.querySelector('[data-testid="messages"]');
    if (list) list.scrollTop = 0;
    return [...document.querySelectorAll('[data-testid="message-image"] img')].map((img) => [img.naturalWidth, img.naturalHeight]);
  });

async function loaded(namePart) {
  await pickModel(browser, namePart);
  try {
    await waitLoaded(namePart);
  } catch (e) {
    await browser.saveScreenshot(join(artifacts, 'vision-load-failed.png'));
    throw e;
  }
}

async function waitLoaded(namePart) {
  // Read in one step in the page: the picker is drawn again as the load goes on.
  await browser.waitUntil(
    () =>
      browser.execute(
        (part) =>
          !!document.querySelector('[data-testid="loaded-model"]')?.textContent.includes(part) &&
          !document.querySelector('[data-testid="composer-input"]')?.disabled,
        namePart,
      ),
    { timeout: 60_000, timeoutMsg: `${namePart} did not load` },
  );
}

test('a model without a projector says it does not see an attached image', async () => {
  await loaded('SmolLM2');
  await attachImage();
  const note = await $('[data-testid="no-vision-note"]');
  await note.waitForExist({ timeout: 10_000 });
  assert.match(await note.getText(), /does not see images/);
  await (await $('[data-testid="composer-attachments"] button')).click();
  await browser.waitUntil(async () => !(await $('[data-testid="composer-attachments"]').isExisting()), { timeout: 5_000 });
});

test('a file dropped on the window is attached, and one that cannot be is refused', async () => {
  // Tauri takes the drop from the desktop and tells the page the paths, as this event does.
  const drop = (path) =>
    browser.executeAsync((p, done) => {
      window.__TAURI_INTERNALS__
        .invoke('plugin:event|emit', { event: 'tauri://drag-drop', payload: { paths: [p], position: { x: 10, y: 10 } } })
        .then(() => done(true), (e) => done(String(e)));
    }, path);
  assert.equal(await drop(report), true);
  const chip = await $('[data-testid="composer-document"]');
  await chip.waitForExist({ timeout: 10_000 });
  assert.match(await browser.execute(() => document.querySelector('[data-testid="composer-document"]').textContent), /report\.pdf/);
  await (await $('[data-testid="composer-document"] button')).click();
  assert.equal(await drop(join(fixtures, 'SmolLM2-135M-Instruct.Q4_1.gguf')), true);
  const refused = await $('[data-testid="attach-error"]');
  await refused.waitForExist({ timeout: 10_000 });
  assert.match(await refused.getText(), /only images \(PNG, JPEG, WebP, GIF, BMP\) and documents \(PDF, Word, Markdown, Text\) can be attached/);
});

test('a question with an image and a document is answered by a model that sees, and both are kept', async () => {
  await loaded('Tiny-Pixtral');
  await attachImage();
  await attachReport();
  await (await $('[data-testid="composer-attachments"] img')).waitForExist({ timeout: 10_000 });
  await (await $('[data-testid="composer-document"]')).waitForExist({ timeout: 10_000 });
  assert.ok(!(await $('[data-testid="no-vision-note"]').isExisting()), 'the vision model sees images');
  await (await $('[data-testid="composer-input"]')).setValue('What is in this picture?');
  await browser.saveScreenshot(join(artifacts, 'vision-composer.png'));
  await (await $('[data-testid="send-button"]')).click();
  // The answer's figures appear once it is over; the image is in the question above it.
  await (await $('[data-testid="message-stats"]')).waitForExist({ timeout: 120_000 });
  await browser.waitUntil(async () => (await shownImages()).some(([w]) => w === 112), {
    timeout: 10_000, timeoutMsg: 'the question does not show its image',
  }).catch(async (e) => {
    await browser.saveScreenshot(join(artifacts, 'vision-question-failed.png'));
    throw e;
  });
  assert.deepEqual(await shownImages(), [[112, 84]]);
  assert.deepEqual(await shownDocuments(), {
    documents: ['report.pdf PDF · 1.9 KB · 3 pages'],
    sources: ['Read in full: report.pdf'],
  });
  assert.ok(!(await $('[data-testid="composer-attachments"]').isExisting()), 'the composer is empty again');
  const stats = await (await $('[data-testid="message-stats"]')).getText();
  assert.doesNotMatch(await (await $('.bubble')).getText(), /error/i, stats);
  await browser.saveScreenshot(join(artifacts, 'vision-question.png'));
});

test('after a restart the conversation shows its image and document again', async () => {
  await app.stop();
  await start();
  await browser.waitUntil(async () => (await $$('[data-testid="conversation-open"]')).length === 1, { timeout: 20_000 });
  await (await $$('[data-testid="conversation-open"]'))[0].click();
  await browser.waitUntil(async () => (await shownImages()).some(([w]) => w === 112), {
    timeout: 20_000, timeoutMsg: 'the image is not shown after a restart',
  });
  // The list draws the messages near the view as it lays them out: wait for the answer's too.
  const want = { documents: ['report.pdf PDF · 1.9 KB · 3 pages'], sources: ['Read in full: report.pdf'] };
  let shown;
  await browser
    .waitUntil(async () => JSON.stringify((shown = await shownDocuments())) === JSON.stringify(want), { timeout: 20_000 })
    .catch(() => {});
  // Once seen under a full run's load: the documents shown, the answer's sources not. The
  // screenshot and the list's messages say which part was missing.
  if (JSON.stringify(shown) !== JSON.stringify(want)) {
    await browser.saveScreenshot(join(artifacts, 'vision-after-restart-failed.png'));
    const drawn = await browser.execute(() =>
      [...document.querySelectorAll('[data-testid="messages"] [data-message-id]')].map((m) => m.getAttribute('data-message-id')),
    );
    assert.deepEqual(shown, want, `messages drawn: ${JSON.stringify(drawn)}`);
  }
  assert.deepEqual(shown, want);
  await browser.saveScreenshot(join(artifacts, 'vision-after-restart.png'));
});
