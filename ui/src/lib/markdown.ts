// Model and persona text → safe HTML, fast enough to re-render on every streamed token.
//
// The text is split into blocks (at blank lines outside code fences); each block's HTML is
// cached, so while an answer streams only its last block is parsed again, and the page updates
// only that block's element. Raw HTML in model output is shown as text, never interpreted;
// DOMPurify cleans the result anyway (defence in depth); no remote images are loaded.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import hljs from 'highlight.js/lib/common';

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const marked = new Marked({
  gfm: true,
  renderer: {
    code({ text, lang }) {
      const language = (lang ?? '').trim().split(/\s+/)[0].toLowerCase();
      const known = language && hljs.getLanguage(language);
      const body = known ? hljs.highlight(text, { language, ignoreIllegals: true }).value : escapeHtml(text);
      const label = escapeHtml(language || 'text');
      return (
        `<div class="code-block"><div class="code-head"><span>${label}</span>` +
        `<button type="button" class="copy-code" data-copy-code>Copy</button></div>` +
        `<pre><code class="hljs">${body}</code></pre></div>`
      );
    },
    html({ text }) {
      return escapeHtml(text);
    },
    image({ text }) {
      // No remote loads from model output: show the alt text.
      return escapeHtml(text ? `[image: ${text}]` : '[image]');
    },
  },
});

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^ {0,3}(?:[-*+]|\d{1,9}[.)])\s/;

/** Splits Markdown into independently renderable blocks: at blank lines outside code fences,
 *  except where the next line continues the block (indented, or the next item of a list). */
export function splitBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | null = null;
  let blank = false;
  for (const line of text.split('\n')) {
    if (fence !== null) {
      current.push(line);
      const close = line.match(FENCE);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length && line.trim() === close[1]) fence = null;
      continue;
    }
    if (line.trim() === '') {
      if (current.length) blank = true;
      continue;
    }
    if (blank) {
      const continues = /^\s/.test(line) || (LIST_ITEM.test(line) && LIST_ITEM.test(current[0]));
      if (continues) current.push('');
      else {
        blocks.push(current.join('\n'));
        current = [];
      }
      blank = false;
    }
    const open = line.match(FENCE);
    if (open) fence = open[1];
    current.push(line);
  }
  if (current.length) blocks.push(current.join('\n'));
  return blocks;
}

const cache = new Map<string, string>();
const CACHE_LIMIT = 4000;

/** One block as sanitised HTML (cached). */
export function renderBlock(block: string): string {
  const hit = cache.get(block);
  if (hit !== undefined) return hit;
  const raw = marked.parse(block, { async: false }) as string;
  const html = DOMPurify.sanitize(raw, {
    FORBID_TAGS: ['img', 'iframe', 'script', 'style', 'form', 'input', 'video', 'audio', 'object', 'embed', 'svg', 'math'],
    FORBID_ATTR: ['style', 'srcset'],
  });
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(block, html);
  return html;
}

/** The whole text as HTML (tests, exports). */
export const renderMarkdown = (text: string) => splitBlocks(text).map(renderBlock).join('');

/** Copies text to the clipboard (the async API where allowed, else the selection fallback). */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}
