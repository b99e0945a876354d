// Profiles built here survive @lora-tle/lora-store (saveProfile → loadProfiles) bit for bit, and a
// store holding another embedder's profiles is refused.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addAdapter, initStore, loadProfiles, saveProfile } from '@lora-tle/lora-store/node';
import { describe, expect, it } from 'vitest';
import { embedderRefOf } from './embedder-ref.js';
import { createHashingEmbedder } from './hashing-embedder.js';
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
});
