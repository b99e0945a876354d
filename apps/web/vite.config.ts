// Vite config for the browser page: resolves workspace packages through their `source` export
// condition (src/, no build needed), bundles the generation worker as an ES module, keeps
// onnxruntime-web's .wasm files as assets, and — before `vite` and `vite build` — prepares the
// model files in public/tiny-tle/ (scripts/prepare-assets.ts, run under tsx in a child process:
// Node cannot load the workspace's TypeScript sources from this config). Set
// LORA_TLE_WEB_ASSETS=skip when they are prepared already (the browser test does that).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const APP_DIR = fileURLToPath(new URL('.', import.meta.url));

function prepareAssets(): Plugin {
  let done = false;
  return {
    name: 'lora-tle-prepare-assets',
    config() {
      if (done || process.env['LORA_TLE_WEB_ASSETS'] === 'skip') return;
      done = true;
      const script = fileURLToPath(new URL('./scripts/prepare-assets.ts', import.meta.url));
      const result = spawnSync(process.execPath, ['--conditions=source', '--import', import.meta.resolve('tsx'), script], { stdio: 'inherit' });
      if (result.status !== 0) throw new Error(`apps/web: preparing public/tiny-tle failed (exit ${String(result.status)}); see the message above`);
    },
  };
}

export default defineConfig({
  root: APP_DIR,
  base: './',
  plugins: [prepareAssets()],
  resolve: { conditions: ['source'] },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 30_000 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
