// Vite config for the browser page: resolves workspace packages through their `source` export
// condition (src/, no build needed), bundles the generation worker as an ES module, keeps
// onnxruntime-web's .wasm files as assets, and — before `vite` and `vite build` — prepares the
// model files in public/tiny-tle/ (scripts/prepare-assets.ts, run under tsx in a child process:
// Node cannot load the workspace's TypeScript sources from this config). Set
// LORA_TLE_WEB_ASSETS=skip when they are prepared already (the browser test does that). A build
// also emits service-worker.js (src/service-worker.ts, unhashed, at the root so its scope is the
// page) and shell-files.json: every built file outside tiny-tle/, for the worker to cache.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
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

function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(root, path) : [relative(root, path).split('\\').join('/')];
  });
}

function shellFiles(): Plugin {
  return {
    name: 'lora-tle-shell-files',
    apply: 'build',
    writeBundle(options) {
      const outDir = options.dir as string;
      const files = filesUnder(outDir).filter((file) => !file.startsWith('tiny-tle/') && file !== 'service-worker.js' && file !== 'shell-files.json');
      writeFileSync(join(outDir, 'shell-files.json'), `${JSON.stringify({ files: files.sort() }, null, 2)}\n`);
    },
  };
}

export default defineConfig({
  root: APP_DIR,
  base: './',
  plugins: [prepareAssets(), shellFiles()],
  resolve: { conditions: ['source'] },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 30_000,
    rollupOptions: {
      input: { index: join(APP_DIR, 'index.html'), 'service-worker': join(APP_DIR, 'src', 'service-worker.ts') },
      output: { entryFileNames: (chunk) => (chunk.name === 'service-worker' ? 'service-worker.js' : 'assets/[name]-[hash].js') },
    },
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
