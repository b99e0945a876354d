import { appendFile, cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EmbedderRef, TaskProfile } from '@lora-tle/spec';
import { addAdapter, initStore, listAdapters, openStore, removeAdapter, validateStore } from './node/adapter-store.js';
import { hashAdapterFiles } from './node/adapter-hash.js';
import { loadProfiles, saveProfile } from './node/store-profiles.js';
import { createHash } from 'node:crypto';
import { withTempDir } from './test-support.js';

const adapterDir = fileURLToPath(new URL('../test-fixtures/tiny-adapter', import.meta.url));
const hashing: EmbedderRef = { id: 'hashing', settings: { dimension: 4, ngrams: '1,2' } };

async function storeWithAdapters(dir: string) {
  const store = await initStore(join(dir, 'store'));
  await addAdapter(store, { name: 'math', adapterDir, task: 'grade-school math', template: 'gsm8k', copy: true });
  await addAdapter(store, { name: 'code', adapterDir, task: 'python', template: 'codealpaca' });
  return store;
}

describe('adapter store', () => {
  it('adds adapters (copied and referenced) with a sha256 over config + weights', async () => {
    await withTempDir(async (dir) => {
      const store = await storeWithAdapters(dir);
      const expectedHash = createHash('sha256')
        .update(await readFile(join(adapterDir, 'adapter_config.json')))
        .update(await readFile(join(adapterDir, 'adapter_model.safetensors')))
        .digest('hex');
      const entries = listAdapters(await openStore(join(dir, 'store')));
      expect(entries.map((entry) => [entry.name, entry.path, entry.contentHash])).toEqual([
        ['math', 'adapters/math', expectedHash],
        ['code', adapterDir, expectedHash],
      ]);
      expect((await readdir(join(store.root, 'adapters', 'math'))).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
      expect(await validateStore(store)).toEqual({ ok: true, adapters: 2, issues: [] });
      await expect(addAdapter(store, { name: 'math', adapterDir, task: '', template: 'gsm8k' })).rejects.toMatchObject({ code: 'E_STORE_ADAPTER_EXISTS' });
      await expect(addAdapter(store, { name: '../evil', adapterDir, task: '', template: 'x' })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
      await expect(initStore(store.root)).rejects.toMatchObject({ code: 'E_OUTPUT_EXISTS' });
    });
  });

  it('refuses an invalid adapter before recording it', async () => {
    await withTempDir(async (dir) => {
      const store = await initStore(join(dir, 'store'));
      const broken = join(dir, 'broken');
      await cp(adapterDir, broken, { recursive: true });
      await writeFile(join(broken, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', use_dora: true }));
      await expect(addAdapter(store, { name: 'b', adapterDir: broken, task: '', template: 'x', copy: true })).rejects.toMatchObject({ code: 'E_ADAPTER_DORA' });
      expect(listAdapters(await openStore(store.root))).toEqual([]);
    });
  });

  it('reports missing files and changed hashes', async () => {
    await withTempDir(async (dir) => {
      const referenced = join(dir, 'referenced');
      await cp(adapterDir, referenced, { recursive: true });
      const store = await initStore(join(dir, 'store'));
      await addAdapter(store, { name: 'math', adapterDir, task: '', template: 'gsm8k', copy: true });
      await addAdapter(store, { name: 'code', adapterDir: referenced, task: '', template: 'codealpaca' });
      await appendFile(join(store.root, 'adapters/math/adapter_config.json'), ' ');
      await rm(join(referenced, 'adapter_model.safetensors'));
      const report = await validateStore(store);
      expect(report.ok).toBe(false);
      expect(report.issues.map((issue) => [issue.adapter, issue.code])).toEqual([
        ['math', 'E_STORE_HASH'],
        ['code', 'E_STORE_FILES_MISSING'],
      ]);
      expect(report.issues[1]!.message).toMatch(/adapter_model\.safetensors/);
    });
  });

  it('removes an adapter with its copied files and profiles, leaving referenced files alone', async () => {
    await withTempDir(async (dir) => {
      const store = await storeWithAdapters(dir);
      await saveProfile(store, { adapter: 'math', embedder: hashing, mean: new Float32Array([1, 0, 0, 0]), count: 3 });
      await removeAdapter(store, 'math');
      await removeAdapter(store, 'code');
      expect(listAdapters(store)).toEqual([]);
      expect(await readdir(join(store.root, 'adapters'))).toEqual([]);
      expect(await readdir(join(store.root, 'profiles'))).toEqual([]);
      expect(await hashAdapterFiles(adapterDir)).toMatch(/^[0-9a-f]{64}$/);
      await expect(removeAdapter(store, 'math')).rejects.toMatchObject({ code: 'E_UNKNOWN_ADAPTER' });
    });
  });

  it('refuses a missing or invalid manifest with E_STORE_MANIFEST', async () => {
    await withTempDir(async (dir) => {
      await expect(openStore(dir)).rejects.toMatchObject({ code: 'E_STORE_MANIFEST' });
      const bad = [
        '{',
        JSON.stringify({ formatVersion: 2, adapters: [] }),
        JSON.stringify({ formatVersion: 1, adapters: [{ name: 'a', path: 'x', task: '', template: '', contentHash: 'nothex', profiles: [] }] }),
        JSON.stringify({ formatVersion: 1, adapters: [{ name: 'a', path: 'x', task: '', template: '', contentHash: 'a'.repeat(64), profiles: [{ file: '../x' }] }] }),
      ];
      for (const text of bad) {
        await writeFile(join(dir, 'manifest.json'), text);
        await expect(openStore(dir), text).rejects.toMatchObject({ code: 'E_STORE_MANIFEST' });
      }
    });
  });
});

describe('routing profiles in the store', () => {
  const mathProfile: TaskProfile = {
    adapter: 'math',
    embedder: hashing,
    mean: new Float32Array([0.5, -0.25, 0.125, 1]),
    count: 12,
    bank: [new Float32Array([1, 2, 3, 4]), new Float32Array([-1, -2, -3, -4])],
  };

  it('saves and loads profiles with bank, count and embedder (settings key order does not matter)', async () => {
    await withTempDir(async (dir) => {
      const store = await storeWithAdapters(dir);
      const entry = await saveProfile(store, mathProfile);
      expect(entry).toMatchObject({ file: 'profiles/math.hashing.safetensors', count: 12, hasBank: true });
      await saveProfile(store, { adapter: 'code', embedder: hashing, mean: new Float32Array([0, 1, 0, 0]), count: 5 });
      const reopened = await openStore(store.root);
      const sameSettingsOtherOrder: EmbedderRef = { id: 'hashing', settings: { ngrams: '1,2', dimension: 4 } };
      const [math, code] = await loadProfiles(reopened, sameSettingsOtherOrder);
      expect(math).toEqual({ ...mathProfile, embedder: sameSettingsOtherOrder });
      expect(code).toEqual({ adapter: 'code', embedder: sameSettingsOtherOrder, mean: new Float32Array([0, 1, 0, 0]), count: 5 });
      expect((await loadProfiles(reopened, hashing, ['code'])).map((profile) => profile.adapter)).toEqual(['code']);
    });
  });

  it('refuses profiles of another embedder (E_PROFILE_EMBEDDER) and absent ones (E_PROFILE_MISSING)', async () => {
    await withTempDir(async (dir) => {
      const store = await storeWithAdapters(dir);
      await saveProfile(store, mathProfile);
      const otherSettings = { id: 'hashing', settings: { dimension: 8, ngrams: '1,2' } };
      await expect(loadProfiles(store, otherSettings, ['math'])).rejects.toMatchObject({
        code: 'E_PROFILE_EMBEDDER',
        message: expect.stringMatching(/"dimension":4.*"dimension":8.*lora-tle profile/),
      });
      await expect(loadProfiles(store, { id: 'transformers', settings: {} }, ['math'])).rejects.toMatchObject({ code: 'E_PROFILE_EMBEDDER' });
      await expect(loadProfiles(store, hashing)).rejects.toMatchObject({ code: 'E_PROFILE_MISSING', message: expect.stringMatching(/"code".*lora-tle profile/) });
      await expect(loadProfiles(store, hashing, ['nope'])).rejects.toMatchObject({ code: 'E_UNKNOWN_ADAPTER' });
    });
  });

  it('replaces a profile saved again under the same embedder id', async () => {
    await withTempDir(async (dir) => {
      const store = await storeWithAdapters(dir);
      await saveProfile(store, mathProfile);
      const rebuilt = { adapter: 'math', embedder: { id: 'hashing', settings: { dimension: 2 } }, mean: new Float32Array([3, 4]), count: 1 };
      await saveProfile(store, rebuilt);
      const entry = listAdapters(await openStore(store.root)).find((adapter) => adapter.name === 'math')!;
      expect(entry.profiles).toHaveLength(1);
      expect(await loadProfiles(store, rebuilt.embedder, ['math'])).toEqual([rebuilt]);
      await expect(saveProfile(store, { ...rebuilt, adapter: 'ghost' })).rejects.toMatchObject({ code: 'E_UNKNOWN_ADAPTER' });
      await expect(saveProfile(store, { ...rebuilt, count: 0 })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    });
  });
});
