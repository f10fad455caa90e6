import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into dist/console and served by the API under /console/ (libs/console), with a strict
// Content-Security-Policy: every script and style is a file of this build, nothing inline.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: '../../dist/console',
    emptyOutDir: true,
    // The modulepreload polyfill would be an inline script, which the CSP refuses; evergreen browsers need none.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
