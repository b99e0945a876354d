// The page's asset loading in Node, with fetch and the Cache API replaced by in-memory fakes:
// cached-fetch.ts (cache-first by digest, older versions deleted, network-first assets.json, offline
// fallback, refusal of unlisted files) and store-profiles.ts (profiles decoded from bytes equal the
// profiles that were encoded; a profile of another embedder is refused). The browser run is
// test/browser.test.ts.

import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { canonicalEmbedderRef, encodeProfile, encodeSafetensorsBytes, profileFileName } from '@lora-tle/lora-store';
import { buildProfile, createHashingEmbedder } from '@lora-tle/router';
import { STORE_FORMAT_VERSION, type TaskProfile } from '@lora-tle/spec';
import type { AssetIndex } from './asset-index.js';
import { openAssets } from './cached-fetch.js';
import { loadStoreProfiles } from './store-profiles.js';

const BASE = 'http://127.0.0.1:9/tiny-tle/';
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Files served by the fake network, the fake Cache API's entries, and a request log. */
function fakeWeb(files: Map<string, Uint8Array>) {
  const cached = new Map<string, Uint8Array>();
  const requests: string[] = [];
  let online = true;
  const fetchFake = async (url: string): Promise<Response> => {
    requests.push(url.slice(BASE.length));
    if (!online) throw new TypeError('Failed to fetch');
    const body = files.get(url.slice(BASE.length));
    return body ? new Response(body.slice()) : new Response('missing', { status: 404 });
  };
  const cache = {
    match: async (key: string) => (cached.has(key) ? new Response(cached.get(key)!.slice()) : undefined),
    put: async (key: string, response: Response) => void cached.set(key, new Uint8Array(await response.arrayBuffer())),
    keys: async () => [...cached.keys()].map((key) => new Request(key)),
    delete: async (request: Request) => cached.delete(request.url),
  };
  vi.stubGlobal('fetch', fetchFake);
  vi.stubGlobal('caches', { open: async () => cache });
  return { requests, cached, setOnline: (value: boolean) => (online = value) };
}

function indexFor(files: Map<string, Uint8Array>): Uint8Array {
  const embedder = createHashingEmbedder();
  const index: AssetIndex = {
    version: 'test',
    fixture: 'synthetic',
    adapters: ['math', 'code'],
    embedder: { id: embedder.id, settings: { ...embedder.settings } },
    files: [...files].map(([path, bytes]) => ({ path, bytes: bytes.byteLength, sha256: sha256(bytes) })),
  };
  return new TextEncoder().encode(JSON.stringify(index));
}

async function storeFiles(): Promise<{ files: Map<string, Uint8Array>; profiles: TaskProfile[] }> {
  const embedder = createHashingEmbedder({ dimension: 256 });
  const texts = { math: ['Question: 3 + 4?\n\nAnswer: 7', 'Question: 10 - 2?\n\nAnswer: 8'], code: ['function add(a, b) { return a + b; }', 'const xs = [1, 2].map((x) => x * 2);'] };
  const files = new Map<string, Uint8Array>();
  const profiles: TaskProfile[] = [];
  const adapters = [];
  for (const [name, examples] of Object.entries(texts)) {
    const profile = await buildProfile({ adapter: name, embedder, texts: examples, bankSize: 2 });
    profiles.push(profile);
    const { tensors, metadata } = encodeProfile(profile);
    const file = profileFileName(name, embedder.id);
    files.set(`store/${file}`, encodeSafetensorsBytes(tensors, metadata));
    const embedderRef = JSON.parse(canonicalEmbedderRef(profile.embedder)) as TaskProfile['embedder'];
    adapters.push({ name, path: `/adapters/${name}`, task: name, template: 'gsm8k', contentHash: '0'.repeat(64), profiles: [{ embedder: embedderRef, file, count: 2, hasBank: true, createdAt: '2024-01-01T00:00:00Z' }] });
  }
  files.set('store/manifest.json', new TextEncoder().encode(JSON.stringify({ formatVersion: STORE_FORMAT_VERSION, adapters })));
  return { files, profiles };
}

describe('page asset loading', () => {
  let files: Map<string, Uint8Array>;
  let profiles: TaskProfile[];
  beforeEach(async () => {
    ({ files, profiles } = await storeFiles());
    files.set('samples.json', new TextEncoder().encode('[{"task":"math","prompt":"Question: 1 + 1?\\n\\nAnswer:"}]'));
    files.set('assets.json', indexFor(files));
  });
  afterEach(() => vi.unstubAllGlobals());

  it('decodes the store profiles from bytes equal to the encoded ones, in the asked order', async () => {
    fakeWeb(files);
    const assets = await openAssets(BASE);
    const loaded = await loadStoreProfiles(assets, ['code', 'math'], createHashingEmbedder({ dimension: 256 }));
    expect(loaded.map((profile) => profile.adapter)).toEqual(['code', 'math']);
    for (const profile of loaded) {
      const original = profiles.find((candidate) => candidate.adapter === profile.adapter)!;
      expect(Array.from(profile.mean)).toEqual(Array.from(original.mean));
      expect(profile.count).toBe(2);
      expect(profile.bank?.map((row) => Array.from(row))).toEqual(original.bank?.map((row) => Array.from(row)));
    }
  });

  it('refuses profiles made by another embedder, and adapters the store lacks', async () => {
    fakeWeb(files);
    const assets = await openAssets(BASE);
    await expect(loadStoreProfiles(assets, ['math'], createHashingEmbedder({ dimension: 512 }))).rejects.toMatchObject({ code: 'E_PROFILE_MISSING' });
    await expect(loadStoreProfiles(assets, ['reading'], createHashingEmbedder({ dimension: 256 }))).rejects.toMatchObject({ code: 'E_STORE_ADAPTER_MISSING' });
  });

  it('downloads each file once, then serves it from the cache; a changed file is downloaded again', async () => {
    const web = fakeWeb(files);
    const first = await openAssets(BASE);
    await first.json('samples.json');
    await first.bytes('store/manifest.json');
    expect(first.downloaded).toEqual(['samples.json', 'store/manifest.json']);
    expect(web.requests).toEqual(['assets.json', 'samples.json', 'store/manifest.json']);

    web.requests.length = 0;
    const second = await openAssets(BASE);
    expect(await second.json('samples.json')).toEqual([{ task: 'math', prompt: 'Question: 1 + 1?\n\nAnswer:' }]);
    expect(second.fromCache).toEqual(['samples.json']);
    expect(web.requests).toEqual(['assets.json']); // the index is network-first, the rest cache-first

    files.set('samples.json', new TextEncoder().encode('[]'));
    files.set('assets.json', indexFor(new Map([...files].filter(([path]) => path !== 'assets.json'))));
    web.requests.length = 0;
    const third = await openAssets(BASE);
    expect(await third.json('samples.json')).toEqual([]);
    expect(web.requests).toEqual(['assets.json', 'samples.json']);
    const versions = (path: string) => [...web.cached.keys()].filter((key) => key.startsWith(`${BASE}${path}?`));
    expect(versions('samples.json')).toEqual([`${BASE}samples.json?lora-tle-assets=${sha256(files.get('samples.json')!)}`]); // the old version was deleted
    expect(versions('store/manifest.json')).toHaveLength(1); // unchanged files keep theirs
  });

  it('works offline from the cache once loaded, and says what to do when nothing is cached', async () => {
    const web = fakeWeb(files);
    await (await openAssets(BASE)).json('samples.json');
    web.setOnline(false);
    const offline = await openAssets(BASE);
    expect(await offline.json('samples.json')).toHaveLength(1);
    await expect(offline.bytes('store/manifest.json')).rejects.toMatchObject({ code: 'E_IO' }); // never loaded online
    await expect(offline.bytes('pack/model.onnx')).rejects.toMatchObject({ code: 'E_NOT_FOUND' }); // not in assets.json
    web.cached.clear();
    await expect(openAssets(BASE)).rejects.toMatchObject({ code: 'E_IO' });
  });
});
