// Links on the page never take the app's window anywhere. The window has no address bar, so
// another site shown in it (a model card's "Sign in" link to a look-alike page) could pass for
// the app. A click on a link to another site's web address opens it in the system browser; a
// link within this page (#usage) scrolls as usual; anything else (the app's other paths, such as
// a model card's relative links to its repository's files, and javascript:, file:, mailto:…)
// does nothing. Every link the page shows (model cards, answers, the Arena, tool results) is
// caught here, by one handler on the window, so no renderer needs to remember it. Rust refuses
// such navigations as well (src-tauri/src/navigation.rs); this layer stops them before the page
// starts to leave, and keeps in-page anchors working.

/** Where a link goes: `page` (a place on this page), `browser` (another site: the system
 *  browser), `nowhere` (the click does nothing). */
export type LinkDestination = 'page' | 'browser' | 'nowhere';

/** Where a link to `href` (as written, maybe relative) goes from the page at `here`. */
export function linkDestination(href: string, here: string): LinkDestination {
  let url: URL;
  let page: URL;
  try {
    page = new URL(here);
    url = new URL(href, page);
  } catch {
    return 'nowhere';
  }
  // Not `origin`: a custom scheme's origin (the app's tauri://localhost) is "null" for every page.
  if (url.protocol === page.protocol && url.host === page.host) {
    const samePage = url.pathname === page.pathname && url.search === page.search;
    return samePage && url.hash !== '' ? 'page' : 'nowhere';
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? 'browser' : 'nowhere';
}

/** Holds every link on `view`'s page to `linkDestination`: a click (or a middle click) on a
 *  link to another site calls `open` with its address instead of navigating; no other link
 *  leaves the page. Returns what removes the handler. */
export function guardLinks(view: Window, open: (url: string) => void): () => void {
  const onClick = (event: MouseEvent) => {
    // A middle click opens a link in a new window; a right click is the context menu's.
    if (event.type === 'auxclick' && event.button !== 1) return;
    const target = event.target;
    const element = target instanceof Element ? target : target instanceof Node ? target.parentElement : null;
    const link = element?.closest('a[href]');
    if (!link) return;
    const href = link.getAttribute('href') ?? '';
    const here = view.location.href;
    const where = linkDestination(href, here);
    if (where === 'page' && event.type === 'click') return;
    event.preventDefault();
    if (where === 'browser') open(new URL(href, here).href);
  };
  // Capturing, on the window: before any component's handler, and whatever one of them stops.
  view.addEventListener('click', onClick, true);
  view.addEventListener('auxclick', onClick, true);
  return () => {
    view.removeEventListener('click', onClick, true);
    view.removeEventListener('auxclick', onClick, true);
  };
}
