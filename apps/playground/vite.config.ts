import { defineConfig } from 'vite';

// Static build: `vite build` writes dist/ with relative asset URLs (base './'), so the
// folder can be served from any path or opened from a file server without a CDN. The
// tfjs wasm binaries are imported with `?url` in src/backend.ts and land in dist/assets.
export default defineConfig({
  base: './',
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // tfjs (core + layers + three backends) is one large chunk; that is expected here
    chunkSizeWarningLimit: 4096,
    assetsInlineLimit: 0,
    // @chainz/core imports tfjs-core on demand when no module is passed; the page passes it
    rolldownOptions: { checks: { ineffectiveDynamicImport: false } },
  },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
});
