// createWebBackend on onnxruntime-web's wasm provider (in Node, the same code path a browser takes
// without WebGPU): the shared conformance suite over packs served from 127.0.0.1, the Cache API
// behaviour (a reload downloads nothing but pack.json; offline loads from the cache; a rebuilt pack
// is downloaded afresh and replaces the old version's files), load progress, device choice and
// bad-pack errors, serialised runs, and the KV cache kept in the session's own arrays against one fed
// back as present.*.

import { copyFileSync, cpSync, mkdirSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mixCoefficients } from '@lora-tle/mixing';
import { createRandomAdapter, createRandomLlama, writeModelPack } from '@lora-tle/graph';
import { isLoraTleError, type Backend, type PackManifest, type Progress } from '@lora-tle/spec';
import { describeBackendConformance, type ConformancePacks } from './conformance.js';
import { createWebBackend } from './web-backend.js';
import type { WebKvCache } from './web-kv-cache.js';
import { memoryCache, serveDirectory, type StaticServer, tempRoot, writeConformancePacks } from './test-support.js';

const temp = tempRoot('web');
let server: StaticServer;
let packs: ConformancePacks; // directories
const urlOf = (dir: string): string => `${server.url}${relative(temp.root, dir)}/`;
const ready = (async () => {
  packs = await writeConformancePacks(temp.root);
  server = await serveDirectory(temp.root);
})();
beforeAll(() => ready);
afterAll(async () => {
  await server?.close();
  temp.cleanup();
});

const wasmBackend = (): Backend => createWebBackend({ device: 'wasm', cache: null, wasmThreads: 1 });

describeBackendConformance(
  { describe, it, afterAll },
  {
    name: 'web (wasm, in Node)',
    makeBackend: wasmBackend,
    packs: async () => {
      await ready;
      return { mixed: urlOf(packs.mixed), firstAdapterOnly: urlOf(packs.firstAdapterOnly) };
    },
    mixFor: mixCoefficients,
  },
);

async function loadError(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isLoraTleError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected the load to fail');
}

describe('pack download and the Cache API', () => {
  it('downloads every file once, reports byte progress, and a reload fetches only pack.json', async () => {
    const cache = memoryCache();
    const backend = createWebBackend({ device: 'wasm', cache, wasmThreads: 1 });
    const progress: Progress[] = [];
    const before = server.requests.length;
    const first = await backend.doLoad(urlOf(packs.mixed), { onProgress: (event) => progress.push(event) });
    expect(server.requests.slice(before)).toEqual(['/mixed/pack.json', '/mixed/model.onnx', '/mixed/base.weights', '/mixed/adapters.weights']);
    const weightBytes = readFileSync(join(packs.mixed, 'base.weights')).byteLength;
    const lastWeightEvent = progress.filter((event) => event.phase === 'download base.weights').pop();
    expect(lastWeightEvent).toEqual({ phase: 'download base.weights', done: weightBytes, total: weightBytes });
    expect(progress.at(-1)).toEqual({ phase: 'create session', done: 1, total: 1 });
    await first.dispose();

    const again = server.requests.length;
    const reloadProgress: Progress[] = [];
    const second = await backend.doLoad(urlOf(packs.mixed), { onProgress: (event) => reloadProgress.push(event) });
    expect(server.requests.slice(again)).toEqual(['/mixed/pack.json']);
    expect(reloadProgress.map((event) => event.phase)).toContain('cached base.weights');
    await second.dispose();
  });

  it('loads from the cache when the server is gone, downloads a rebuilt pack afresh and drops the old version', async () => {
    const copy = join(temp.root, 'copy');
    mkdirSync(copy);
    for (const name of readdirSync(packs.firstAdapterOnly)) copyFileSync(join(packs.firstAdapterOnly, name), join(copy, name));
    const cache = memoryCache();
    let online = true;
    const fetchUnlessOffline: typeof fetch = (input, init) => (online ? fetch(input, init) : Promise.reject(new TypeError('fetch failed')));
    const backend = createWebBackend({ device: 'wasm', cache, fetch: fetchUnlessOffline, wasmThreads: 1 });
    await (await backend.doLoad(urlOf(copy))).dispose();
    online = false;
    const offline = await backend.doLoad(urlOf(copy));
    expect(offline.pack.adapters.map((adapter) => adapter.name)).toEqual(['qv']);
    await offline.dispose();

    online = true;
    const manifest = JSON.parse(readFileSync(join(copy, 'pack.json'), 'utf8')) as { createdBy: string };
    writeFileSync(join(copy, 'pack.json'), JSON.stringify({ ...manifest, createdBy: `${manifest.createdBy} (rebuilt)` }));
    await (await backend.doLoad(urlOf(packs.mixed))).dispose(); // another pack in the same cache
    const before = server.requests.length;
    const versionsOf = async (file: string) => new Set((await cache.keys()).filter((key) => key.startsWith(`${urlOf(copy)}${file}?`)).map((key) => key.split('lora-tle-pack=')[1]));
    const [oldVersion] = await versionsOf('model.onnx');
    await (await backend.doLoad(urlOf(copy))).dispose();
    expect(server.requests.slice(before)).toEqual(['/copy/pack.json', '/copy/model.onnx', '/copy/base.weights', '/copy/adapters.weights']);
    // the rebuilt pack's files replaced the old version's in the cache (one version per file left)
    for (const file of ['model.onnx', 'base.weights', 'adapters.weights']) {
      const versions = await versionsOf(file);
      expect(versions.size).toBe(1);
      expect(versions.has(oldVersion!)).toBe(false);
    }
    expect((await cache.keys()).filter((key) => key.includes('/mixed/') && key.includes('lora-tle-pack=')).length).toBe(3); // the other pack's files stay
  });

  it('refuses a missing pack, a wrong format version, webgpu without navigator.gpu and the naive graph', async () => {
    expect((await loadError(wasmBackend().doLoad(`${server.url}nowhere/`))).code).toBe('E_PACK_INVALID');
    const future = join(temp.root, 'future');
    mkdirSync(future);
    writeFileSync(join(future, 'pack.json'), JSON.stringify({ formatVersion: 99 }));
    const version = await loadError(wasmBackend().doLoad(urlOf(future)));
    expect(version.code).toBe('E_PACK_VERSION');
    expect(version.message).toContain('format version 99');
    const webgpu = await loadError(createWebBackend({ device: 'webgpu', cache: null }).doLoad(urlOf(packs.mixed)));
    expect(webgpu.code).toBe('E_BACKEND_PROVIDER');
    expect(webgpu.message).toContain('navigator.gpu');
    const naive = await loadError(wasmBackend().doLoad(urlOf(packs.mixed), { graph: 'naive' }));
    expect(naive.code).toBe('E_INVALID_ARGUMENT');
    expect(naive.message).toContain('runs on the node backend');
  });

  it("'auto' picks wasm without navigator.gpu, and concurrent steps run one after another with the same results", async () => {
    const session = await createWebBackend({ cache: null, wasmThreads: 1 }).doLoad(urlOf(packs.mixed));
    expect(session.device).toBe('wasm');
    const step = (seed: number) =>
      session.doStep({ inputIds: Int32Array.of(seed, seed + 1, seed + 2), batchSize: 1, sequenceLength: 3, mix: [mixCoefficients([0.3, 0.7], 'cat')], cache: null });
    const sequential = [await step(1), await step(5)];
    const concurrent = await Promise.all([step(1), step(5)]);
    concurrent.forEach((output, index) => expect(Array.from(output.logits)).toEqual(Array.from(sequential[index]!.logits)));
    for (const output of [...sequential, ...concurrent]) output.cache.dispose();
    await session.dispose();
  });
});

describe('the KV cache in the session’s own arrays (wasm)', () => {
  it('matches a pack loaded without appended_key_values (present.* fed back) over 100 decode steps while the arrays grow to 128 positions', async () => {
    await ready;
    const model = createRandomLlama({ maxPositionEmbeddings: 200 }, 31);
    const adapter = createRandomAdapter(model.architecture, { name: 'qkv', rank: 4, targets: ['q_proj', 'k_proj', 'v_proj', 'down_proj'] }, 32);
    const arraysDir = join(temp.root, 'long');
    const olderDir = join(temp.root, 'long-older');
    await writeModelPack({ source: model, adapters: [adapter], destination: arraysDir });
    cpSync(arraysDir, olderDir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(olderDir, 'pack.json'), 'utf8')) as PackManifest;
    delete manifest.io.appended;
    writeFileSync(join(olderDir, 'pack.json'), JSON.stringify(manifest));
    const arrays = await wasmBackend().doLoad(urlOf(arraysDir));
    const older = await wasmBackend().doLoad(urlOf(olderDir));
    const mix = [mixCoefficients([0.8], 'cat')];
    let fromArrays = await arrays.doStep({ inputIds: Int32Array.of(3, 9, 14, 2, 27, 8, 5, 11, 30, 6), batchSize: 1, sequenceLength: 10, mix, cache: null });
    let fromOlder = await older.doStep({ inputIds: Int32Array.of(3, 9, 14, 2, 27, 8, 5, 11, 30, 6), batchSize: 1, sequenceLength: 10, mix, cache: null });
    let worst = 0;
    for (let step = 0; step < 100; step++) {
      const next = Int32Array.of(4 + (step % 30));
      fromArrays = await arrays.doStep({ inputIds: next, batchSize: 1, sequenceLength: 1, mix, cache: fromArrays.cache });
      fromOlder = await older.doStep({ inputIds: next, batchSize: 1, sequenceLength: 1, mix, cache: fromOlder.cache });
      for (let v = 0; v < fromArrays.logits.length; v++) worst = Math.max(worst, Math.abs(fromArrays.logits[v]! - fromOlder.logits[v]!));
    }
    expect(worst).toBeLessThan(1e-5);
    expect((fromArrays.cache as WebKvCache).ownBuffers()?.capacity).toBe(128);
    expect((fromOlder.cache as WebKvCache).ownBuffers()).toBeNull();
    await arrays.dispose();
    await older.dispose();
  });
});
