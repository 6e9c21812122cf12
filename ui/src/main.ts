import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { errorMessage, openInBrowser } from './lib/api';
import { guardLinks } from './lib/links';

// Links to other sites open in the system browser, never in this window. A browser that cannot
// be started is logged by the app; the page has nothing to add.
guardLinks(window, (url) => {
  openInBrowser(url).catch((e) => console.warn(`the link was not opened: ${errorMessage(e)}`));
});

export default mount(App, { target: document.getElementById('app')! });
