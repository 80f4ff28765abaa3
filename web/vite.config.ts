// Vite build of the back office: `npm run build` writes web/dist, which
// `pitboss serve` serves at / (every path that is not /v1/… and not a file falls
// back to index.html, so the UI's own paths survive a reload).
// `npm run dev` serves the sources with the API proxied to a local `pitboss serve`
// (PITBOSS_URL, default http://127.0.0.1:8080).
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

export default defineConfig({
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 600 },
  server: {
    proxy: { '/v1': { target: process.env.PITBOSS_URL ?? 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});
