// Vite config for the browser page: resolves workspace packages through their `source` export
// condition (src/, no build needed) and keeps onnxruntime-web's .wasm files as assets.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: { conditions: ['source'] },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 30_000 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
