// End to end through the real webview: a 600-message conversation is virtualised — only the
// messages near the view are in the DOM while the user scrolls from its end to its very first
// message and back, and what they are reading does not jump when older messages come in.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifacts, makeModelsFolder, repo, startApp } from './harness.mjs';

const MESSAGES = 600;
/** No more messages than this are ever in the DOM (a window of a few screens). */
const MOST_RENDERED = 60;
let app;
let browser;

before(async () => {
  const data = mkdtempSync(join(tmpdir(), 'sirocco-e2e-long-'));
  execFileSync(join(repo, 'target/debug/sirocco'), [
    'bench-store', '--db', join(data, 'sirocco.db'), '--messages', String(MESSAGES), '--long', String(MESSAGES), '--reps', '1',
  ], { stdio: 'ignore' });
  app = await startApp({ modelsDir: makeModelsFolder(), env: { SIROCCO_DATA_DIR: data } });
  browser = app.browser;
});
after(async () => {
  await app?.stop();
});

/** What the message list shows now: rendered message ids, scroll position, the "earlier" button. */
const view = () =>
  browser.execute(() => {
    const list = document.querySelector('[data-testid="messages"]');
    const ids = [...list.querySelectorAll('[data-message-id]')].map((m) => Number(m.dataset.messageId));
    const inView = ids.filter((id) => {
      const r = list.querySelector(`[data-message-id="${id}"]`).getBoundingClientRect();
      const l = list.getBoundingClientRect();
      return r.bottom > l.top && r.top < l.bottom;
    });
    return { ids, inView, scrollTop: list.scrollTop, scrollHeight: list.scrollHeight, clientHeight: list.clientHeight, older: !!list.querySelector('[data-testid="show-older"]') };
  });

/**
 * Scrolls the list up by `by` pixels as a reader would, waits until the list has settled (its
 * window moved, older messages fetched: the rendered ids unchanged for three frames), and says
 * where the message that was at the top of the view is now, relative to the view's top.
 */
const scrollUp = (by) =>
  browser.executeAsync((by, done) => {
    const list = document.querySelector('[data-testid="messages"]');
    const top = () => list.getBoundingClientRect().top;
    const first = [...list.querySelectorAll('[data-message-id]')].find((m) => m.getBoundingClientRect().bottom > top());
    const id = first.dataset.messageId;
    const before = first.getBoundingClientRect().top - top();
    list.scrollTop = Math.max(0, list.scrollTop - by);
    const moved = list.scrollTop === 0 ? null : by; // at the very top the view moves less
    let last = '';
    let same = 0;
    let frames = 0;
    const settle = () => {
      const ids = [...list.querySelectorAll('[data-message-id]')].map((m) => m.dataset.messageId).join(',');
      same = ids === last ? same + 1 : 0;
      last = ids;
      if (same < 3 && ++frames < 200) return requestAnimationFrame(settle);
      const element = list.querySelector(`[data-message-id="${id}"]`);
      done({ id: Number(id), expected: moved === null ? null : before + moved, now: element ? element.getBoundingClientRect().top - top() : null });
    };
    requestAnimationFrame(settle);
  }, by);

/** Waits until the list's layout has settled (its height unchanged for five frames). */
const settled = () =>
  browser.executeAsync((done) => {
    const list = document.querySelector('[data-testid="messages"]');
    let last = -1;
    let same = 0;
    let frames = 0;
    const check = () => {
      same = list.scrollHeight === last ? same + 1 : 0;
      last = list.scrollHeight;
      if (same < 5 && ++frames < 300) return requestAnimationFrame(check);
      done(null);
    };
    requestAnimationFrame(check);
  });

test('a conversation opened from the sidebar shows its latest message once laid out', async () => {
  await browser.waitUntil(async () => (await browser.$$('[data-testid="conversation-open"]')).length > 0, { timeout: 30_000 });
  await (await browser.$('[data-testid="conversation-open"]')).click();
  await browser.waitUntil(async () => (await view()).ids.includes(MESSAGES), { timeout: 10_000, timeoutMsg: 'the newest message is not shown' });
  await settled();
  const v = await view();
  assert.ok(v.inView.includes(MESSAGES), `the newest message is in view (in view: ${v.inView.join(',')})`);
  assert.ok(v.scrollHeight - v.scrollTop - v.clientHeight < 2, `at the end: ${JSON.stringify({ top: v.scrollTop, height: v.scrollHeight, view: v.clientHeight })}`);
});

test('the conversation on screen, scrolled up in and opened again from the sidebar, shows its latest message', async () => {
  await browser.waitUntil(async () => (await view()).inView.includes(MESSAGES), { timeout: 10_000, timeoutMsg: 'not at the end' });
  await settled();
  await scrollUp(1500);
  let v = await view();
  assert.ok(!v.inView.includes(MESSAGES), `scrolled up, away from the end (in view: ${v.inView.join(',')})`);
  await (await browser.$('[data-testid="conversation-open"]')).click();
  // It used to stay where it was: the list saw the same messages and kept the old position.
  await browser.waitUntil(async () => {
    v = await view();
    return v.inView.includes(MESSAGES) && v.scrollHeight - v.scrollTop - v.clientHeight < 2;
  }, { timeout: 10_000, timeoutMsg: `opened again in the middle: ${JSON.stringify(v)}` });
});

test('a long conversation keeps a small DOM from its end to its first message, without jumps', async () => {
  await browser.waitUntil(async () => (await browser.$$('[data-testid="conversation-open"]')).length > 0, { timeout: 30_000 });
  await (await browser.$('[data-testid="conversation-open"]')).click();
  await browser.waitUntil(async () => (await view()).ids.includes(MESSAGES), { timeout: 10_000, timeoutMsg: 'the newest message is not shown' });
  let v = await view();
  assert.ok(v.inView.includes(MESSAGES), 'opens at its end');
  assert.ok(v.ids.length <= MOST_RENDERED, `${v.ids.length} messages in the DOM on opening`);

  // Up most of a screen at a time: the message that was at the top of the view moves down by
  // exactly that much (the window moving, heights measured, older messages coming in from the
  // store never shift what the user reads), and the DOM stays small all the way to message 1.
  let most = 0;
  let steps = 0;
  for (; steps < 2000 && !(v.ids[0] === 1 && v.scrollTop === 0); steps++) {
    const step = await scrollUp(Math.round(v.clientHeight * 0.8));
    v = await view();
    most = Math.max(most, v.ids.length);
    assert.ok(v.ids.length <= MOST_RENDERED, `${v.ids.length} messages in the DOM at step ${steps}`);
    if (step.expected !== null) {
      assert.ok(step.now !== null && Math.abs(step.now - step.expected) <= 2,
        `message ${step.id} should be ${step.expected.toFixed(0)} px below the view's top, is ${step.now?.toFixed(0)} (step ${steps})`);
    }
  }
  assert.equal(v.ids[0], 1, 'reached the first message');
  assert.ok(v.inView.includes(1));
  assert.equal(v.older, false, 'nothing older left to fetch');
  await browser.saveScreenshot(join(artifacts, 'long-conversation-top.png'));

  // Straight back to the end (a jump, as dragging the scrollbar does): the newest message again.
  await browser.execute(() => {
    const list = document.querySelector('[data-testid="messages"]');
    list.scrollTop = list.scrollHeight;
  });
  await browser.waitUntil(async () => (await view()).inView.includes(MESSAGES), { timeout: 10_000, timeoutMsg: 'the end is not shown after jumping back' });
  v = await view();
  assert.ok(v.ids.length <= MOST_RENDERED, `${v.ids.length} messages in the DOM at the end`);
  assert.ok(v.scrollHeight > MESSAGES * 40, 'the list keeps the height of all its messages');
  console.log(`${steps} screens up: at most ${most} of ${MESSAGES} messages were in the DOM`);
});
