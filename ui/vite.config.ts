import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    target: 'safari15',
    outDir: 'dist',
    emptyOutDir: true,
    // Loaded from the app's own files, not a network: KaTeX and highlight.js in one chunk are fine.
    chunkSizeWarningLimit: 1200,
    // bench.html: the streaming benchmark page (tests/bench/ui.mjs), not one of the app's screens.
    rollupOptions: { input: { main: 'index.html', bench: 'bench.html' } },
  },
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: { environment: 'jsdom', include: ['src/**/*.test.ts'] },
});
