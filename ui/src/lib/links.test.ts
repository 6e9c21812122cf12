import { afterEach, describe, expect, it, vi } from 'vitest';
import { guardLinks, linkDestination } from './links';
import { renderModelCard } from './hub';
import { renderMarkdown } from './markdown';

const APP = 'tauri://localhost/';

describe('linkDestination', () => {
  it('sends other sites to the browser', () => {
    expect(linkDestination('https://huggingface.co/login', APP)).toBe('browser');
    expect(linkDestination('http://127.0.0.1:8080/phish', APP)).toBe('browser');
    expect(linkDestination('//evil.example/sign-in', 'http://localhost:5173/')).toBe('browser');
    // The development server's neighbours are other sites too.
    expect(linkDestination('http://localhost:5174/', 'http://localhost:5173/')).toBe('browser');
    expect(linkDestination('https://localhost:5173/', 'http://localhost:5173/')).toBe('browser');
  });

  it('keeps in-page anchors on the page', () => {
    expect(linkDestination('#usage', APP)).toBe('page');
    expect(linkDestination('#usage', 'http://localhost:5173/')).toBe('page');
    expect(linkDestination('tauri://localhost/#usage', APP)).toBe('page');
    // The window's own address has no path on Linux (as WebKitGTK reports it).
    expect(linkDestination('#usage', 'tauri://localhost')).toBe('page');
  });

  it('goes nowhere for the app’s other paths and what is not a web page', () => {
    for (const href of [
      'config.json',
      './README.md',
      '/resolve/main/model.gguf',
      '',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'data:text/html,<h1>Sign in</h1>',
      'mailto:someone@example.com',
      'ftp://127.0.0.1/x',
      'tauri://evil.example/',
      'http://[bad',
    ]) {
      expect(linkDestination(href, APP), href).toBe('nowhere');
    }
    expect(linkDestination('/other', 'http://localhost:5173/')).toBe('nowhere');
    expect(linkDestination('config.json', 'tauri://localhost')).toBe('nowhere');
    expect(linkDestination('https://huggingface.co/', 'tauri://localhost')).toBe('browser');
  });
});

describe('guardLinks', () => {
  let remove: (() => void) | null = null;
  afterEach(() => {
    remove?.();
    document.body.innerHTML = '';
  });

  /** Clicks the element as a person would; true when the page's own navigation went ahead. */
  function click(element: Element, init: MouseEventInit = {}, type = 'click'): boolean {
    return element.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, ...init }));
  }

  it('opens another site’s link in the browser instead of navigating, wherever the link is', () => {
    const open = vi.fn();
    remove = guardLinks(window, open);
    // A model card's HTML, as the Discover page shows it: the guard needs nothing from it.
    document.body.innerHTML =
      `<article>${renderModelCard('[**Sign in** to download](https://evil.example/login?next=1)')}</article>` +
      `<div>${renderMarkdown('An answer: [docs](http://127.0.0.1:9/phish)')}</div>`;
    const [card, answer] = [...document.querySelectorAll('a')];
    // On the link's text inside it, too.
    expect(click(card.querySelector('strong')!)).toBe(false);
    expect(click(answer)).toBe(false);
    expect(open.mock.calls).toEqual([['https://evil.example/login?next=1'], ['http://127.0.0.1:9/phish']]);
  });

  it('a link that asks for a new window, or a middle click, opens in the browser too', () => {
    const open = vi.fn();
    remove = guardLinks(window, open);
    document.body.innerHTML = '<a href="https://example.com/a" target="_blank">a</a>';
    const link = document.querySelector('a')!;
    expect(click(link, { ctrlKey: true })).toBe(false);
    expect(click(link, { button: 1 }, 'auxclick')).toBe(false);
    // A right click is the context menu's.
    expect(click(link, { button: 2 }, 'auxclick')).toBe(true);
    expect(open).toHaveBeenCalledTimes(2);
  });

  it('lets in-page anchors scroll, and stops every other link without opening anything', () => {
    const open = vi.fn();
    remove = guardLinks(window, open);
    document.body.innerHTML =
      '<a id="anchor" href="#usage">usage</a><a id="relative" href="config.json">config</a><a id="js" href="javascript:void 0">js</a>';
    expect(click(document.getElementById('anchor')!)).toBe(true);
    expect(click(document.getElementById('relative')!)).toBe(false);
    expect(click(document.getElementById('js')!)).toBe(false);
    expect(open).not.toHaveBeenCalled();
  });

  it('runs before the page’s own handlers, so none of them can let a link through', () => {
    const open = vi.fn();
    remove = guardLinks(window, open);
    document.body.innerHTML = '<div id="box"><a href="https://example.com/">x</a></div>';
    document.getElementById('box')!.addEventListener('click', (e) => e.stopPropagation(), true);
    expect(click(document.querySelector('a')!)).toBe(false);
    expect(open).toHaveBeenCalledOnce();
  });

  it('clicks elsewhere are none of its business', () => {
    const open = vi.fn();
    remove = guardLinks(window, open);
    document.body.innerHTML = '<button>b</button><a>no href</a>';
    expect(click(document.querySelector('button')!)).toBe(true);
    expect(click(document.querySelector('a')!)).toBe(true);
    expect(open).not.toHaveBeenCalled();
  });

  it('model cards and answers drop target and dangerous addresses before any click', () => {
    const card = renderModelCard('<a href="https://example.com/" target="_blank">x</a> <a href="javascript:alert(1)">y</a>');
    expect(card).not.toContain('target');
    expect(card).not.toContain('javascript:');
    expect(renderMarkdown('[y](javascript:alert(1))')).not.toContain('javascript:');
  });
});
