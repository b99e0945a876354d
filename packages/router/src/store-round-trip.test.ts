// Profiles built here survive @lora-tle/lora-store (saveProfile → loadProfiles) bit for bit, and a
// store holding another embedder's profiles is refused.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addAdapter, initStore, loadProfiles, saveProfile } from '@lora-tle/lora-store/node';
import { describe, expect, it } from 'vitest';
import { embedderRefOf } from './embedder-ref.js';
import { createHashingEmbedder, fitHashingEmbedder } from './hashing-embedder.js';
import { openStoreHashingEmbedder, saveHashingFit } from './hashing-fit-store.js';
import { createRouter } from './router.js';
import { buildProfile } from './task-profile.js';

const ADAPTER_DIR = fileURLToPath(new URL('../../lora-store/test-fixtures/tiny-adapter', import.meta.url));

describe('profiles in the adapter store', () => {
  it('round-trip through saveProfile/loadProfiles and route; other settings are refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'router-store-'));
    try {
      const store = await initStore(join(dir, 'store'));
      await addAdapter(store, { name: 'math', adapterDir: ADAPTER_DIR, task: 'math', template: 'gsm8k' });
      await addAdapter(store, { name: 'code', adapterDir: ADAPTER_DIR, task: 'code', template: 'codealpaca' });
      const embedder = createHashingEmbedder({ dimension: 512 });
      const built = [
        await buildProfile({ adapter: 'math', embedder, texts: ['Question: 2 + 2?\n\nAnswer: 4', 'Question: 3 * 3?\n\nAnswer: 9'], bankSize: 2 }),
        await buildProfile({ adapter: 'code', embedder, texts: ['Write add(a, b).\n\nAnswer: return a + b;'], bankSize: 2 }),
      ];
      for (const profile of built) await saveProfile(store, profile);

      const loaded = await loadProfiles(store, embedderRefOf(embedder));
      expect(loaded.map((profile) => profile.adapter)).toEqual(['math', 'code']);
      loaded.forEach((profile, i) => {
        expect(Array.from(profile.mean)).toEqual(Array.from(built[i]!.mean));
        expect(profile.count).toBe(built[i]!.count);
        expect(profile.bank?.map((row) => Array.from(row))).toEqual(built[i]!.bank?.map((row) => Array.from(row)));
      });
      const router = createRouter({ embedder, profiles: loaded, strategy: 'knn:1' });
      expect(Array.from((await router.route({ text: 'Question: 3 * 3?\n\nAnswer:', tokenIds: [], step: 0 }))!.weights)).toEqual([1, 0]);

      const other = createHashingEmbedder({ dimension: 512, wordMax: 1 });
      await expect(loadProfiles(store, embedderRefOf(other))).rejects.toMatchObject({ code: 'E_PROFILE_EMBEDDER' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a fitted embedder round-trips with its fit: restored from the store, same vectors and weights; another fit is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'router-fit-'));
    try {
      const store = await initStore(join(dir, 'store'));
      const texts = {
        math: ['Question: 2 + 2?\n\nAnswer: 4', 'Question: 3 * 3?\n\nAnswer: 9'],
        code: ['Write add(a, b).\n\nAnswer: return a + b;', 'Write neg(a).\n\nAnswer: return -a;'],
      };
      const fitted = fitHashingEmbedder(texts, { dimension: 512 });
      for (const adapter of Object.keys(texts)) await addAdapter(store, { name: adapter, adapterDir: ADAPTER_DIR, task: adapter, template: 'gsm8k' });
      expect(await saveHashingFit(store, fitted)).toBe(`embedders/hashing-${fitted.settings['fit']}.safetensors`);
      for (const [adapter, adapterTexts] of Object.entries(texts)) await saveProfile(store, await buildProfile({ adapter, embedder: fitted, texts: adapterTexts }));

      const restored = await openStoreHashingEmbedder(store);
      expect(restored.settings).toEqual(fitted.settings);
      expect(Array.from(restored.fit!.keys)).toEqual(Array.from(fitted.fit!.keys));
      expect(Array.from(restored.fit!.weights)).toEqual(Array.from(fitted.fit!.weights));
      const profiles = await loadProfiles(store, embedderRefOf(restored));
      const context = { text: 'Question: 5 + 5?\n\nAnswer:', tokenIds: [], step: 0 };
      const before = await createRouter({ embedder: fitted, profiles, strategy: 'paper' }).route(context);
      const after = await createRouter({ embedder: restored, profiles, strategy: 'paper' }).route(context);
      expect(Array.from(after!.weights)).toEqual(Array.from(before!.weights));
      expect(after!.weights[0]).toBeGreaterThan(after!.weights[1]!);

      const otherFit = fitHashingEmbedder({ ...texts, math: [...texts.math, 'Question: 1 + 1?\n\nAnswer: 2'] }, { dimension: 512 });
      await expect(loadProfiles(store, embedderRefOf(otherFit))).rejects.toMatchObject({ code: 'E_PROFILE_EMBEDDER' });
      expect(() => createRouter({ embedder: otherFit, profiles })).toThrow(expect.objectContaining({ code: 'E_PROFILE_EMBEDDER' }));
      await rm(join(store.root, 'embedders'), { recursive: true });
      await expect(openStoreHashingEmbedder(store)).rejects.toMatchObject({ code: 'E_STORE_FILES_MISSING' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
