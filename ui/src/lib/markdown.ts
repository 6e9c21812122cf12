// Model and persona text → safe HTML, fast enough to re-render on every streamed token.
//
// The text is split into blocks (at blank lines outside code fences); each block's HTML is
// cached, so while an answer streams only its last block is parsed again, and the page updates
// only that block's element. Raw HTML in model output is shown as text, never interpreted;
// DOMPurify cleans the result anyway (defence in depth); no remote images are loaded. Links stay
// as written: the window's link guard (links.ts) opens other sites in the system browser.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import hljs from 'highlight.js/lib/common';
import katex from 'katex';
import 'katex/dist/katex.min.css';

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** LaTeX → KaTeX HTML (no MathML: the sanitiser keeps only KaTeX's own markup). Bad LaTeX shows
 *  as red source text, never an exception. */
function tex(source: string, display: boolean): string {
  return katex.renderToString(source, { displayMode: display, throwOnError: false, output: 'html', trust: false, maxSize: 50, maxExpand: 500 });
}

const marked = new Marked({
  gfm: true,
  extensions: [
    {
      name: 'mathBlock',
      level: 'block',
      start: (src: string) => src.match(/^\$\$|^\\\[/m)?.index,
      tokenizer(src: string) {
        const m = src.match(/^\$\$([\s\S]+?)\$\$|^\\\[([\s\S]+?)\\\]/);
        if (m) return { type: 'mathBlock', raw: m[0], text: (m[1] ?? m[2]).trim() };
      },
      renderer: (token) => `<div class="math-block">${tex(token.text, true)}</div>`,
    },
    {
      name: 'mathInline',
      level: 'inline',
      start: (src: string) => src.match(/\$|\\\(/)?.index,
      tokenizer(src: string) {
        // $x$ needs no space inside its edges and no digit right after ("$5 and $10" is money).
        const m = src.match(/^\$(?!\s)((?:\\.|[^$\\\n])+?)(?<!\s)\$(?!\d)|^\\\((.+?)\\\)/);
        if (m) return { type: 'mathInline', raw: m[0], text: m[1] ?? m[2] };
      },
      renderer: (token) => tex(token.text, false),
    },
  ],
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

// KaTeX positions glyphs with inline styles; keep a style only inside KaTeX markup and only
// with plain lengths (no url(), no expressions).
const SAFE_STYLE = /^(\s*[a-z-]+\s*:\s*-?[\d.]+(em|ex|px|%)?\s*;?)*\s*$/;
DOMPurify.addHook('uponSanitizeAttribute', (node, data) => {
  if (data.attrName !== 'style') return;
  const inKatex = (node as Element).closest?.('.katex, .katex-display');
  data.forceKeepAttr = Boolean(inKatex) && SAFE_STYLE.test(data.attrValue) ? true : undefined;
  if (!data.forceKeepAttr) data.keepAttr = false;
});

const cache = new Map<string, string>();
const CACHE_LIMIT = 4000;

/** One block as sanitised HTML (cached). */
export function renderBlock(block: string): string {
  const hit = cache.get(block);
  if (hit !== undefined) return hit;
  const raw = marked.parse(block, { async: false }) as string;
  const html = DOMPurify.sanitize(raw, {
    // SVG can only come from KaTeX (\sqrt): raw HTML in the text was escaped above.
    FORBID_TAGS: ['img', 'iframe', 'script', 'style', 'form', 'input', 'video', 'audio', 'object', 'embed', 'math', 'foreignobject'],
    FORBID_ATTR: ['srcset'],
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
