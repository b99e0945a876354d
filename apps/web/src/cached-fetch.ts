// Fetching the page's non-pack files (assets.json, samples, tokenizer, store manifest, profiles)
// with the Cache API, so that a loaded page works offline: assets.json is network-first (the
// cached copy when offline); every other file is cache-first under `url?lora-tle-assets=<sha256>`,
// so a rebuilt file is fetched afresh (and its older cached versions deleted) and an unchanged one
// never again. The pack's own files are
// cached by @lora-tle/backend-web (same cache, 'lora-tle-v1'). Not a service worker.

import { LoraTleError } from '@lora-tle/spec';
import { deleteOtherCachedVersions, WEB_CACHE_NAME } from '@lora-tle/backend-web';
import type { AssetIndex } from './asset-index.js';

export interface AssetFetcher {
  readonly index: AssetIndex;
  /** The bytes of `path` (relative to the asset directory), from the cache when it holds this version. */
  bytes(path: string): Promise<Uint8Array>;
  json(path: string): Promise<unknown>;
  /** Paths served from the cache and from the network so far. */
  readonly fromCache: string[];
  readonly downloaded: string[];
}

/** The page's cache (the one backend-web keeps the pack in), or null where the Cache API is missing or refused. */
export async function openCache(): Promise<Cache | null> {
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(WEB_CACHE_NAME);
  } catch {
    return null; // e.g. an insecure context: work without the cache
  }
}

async function download(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new LoraTleError('E_IO', `could not download ${url} (${(cause as Error).message}); check the network, or load the page once online so it is cached`, { cause });
  }
  if (!response.ok) throw new LoraTleError('E_NOT_FOUND', `GET ${url} answered ${response.status}; run \`npm run web\` (it prepares public/tiny-tle first)`);
  return response;
}

const VERSION_PARAMETER = 'lora-tle-assets';

export async function openAssets(assetsUrl: string): Promise<AssetFetcher> {
  const cache = await openCache();
  const indexUrl = new URL('assets.json', assetsUrl).href;
  let indexText: string;
  try {
    indexText = await (await download(indexUrl)).text();
    await cache?.put(indexUrl, new Response(indexText, { headers: { 'content-type': 'application/json' } }));
  } catch (error) {
    const cached = await cache?.match(indexUrl);
    if (!cached) throw error;
    indexText = await cached.text(); // offline: the files we had
  }
  let index: AssetIndex;
  try {
    index = JSON.parse(indexText) as AssetIndex;
  } catch (cause) {
    throw new LoraTleError('E_JSON', `${indexUrl} is not JSON; rerun apps/web/scripts/prepare-assets.ts`, { cause });
  }
  const digests = new Map(index.files.map((file) => [file.path, file.sha256]));
  const fromCache: string[] = [];
  const downloaded: string[] = [];

  const bytes = async (path: string): Promise<Uint8Array> => {
    const digest = digests.get(path);
    if (digest === undefined) throw new LoraTleError('E_NOT_FOUND', `${path} is not listed in ${indexUrl}; rerun apps/web/scripts/prepare-assets.ts`);
    const url = new URL(path, assetsUrl).href;
    const key = `${url}?${VERSION_PARAMETER}=${digest}`;
    const cached = await cache?.match(key);
    if (cached) {
      fromCache.push(path);
      return new Uint8Array(await cached.arrayBuffer());
    }
    const body = new Uint8Array(await (await download(url)).arrayBuffer());
    downloaded.push(path);
    await cache?.put(key, new Response(body));
    await deleteOtherCachedVersions(cache, [url], VERSION_PARAMETER, digest);
    return body;
  };
  return {
    index,
    bytes,
    async json(path) {
      const text = new TextDecoder().decode(await bytes(path));
      try {
        return JSON.parse(text) as unknown;
      } catch (cause) {
        throw new LoraTleError('E_JSON', `${path} is not JSON; rerun apps/web/scripts/prepare-assets.ts`, { cause });
      }
    },
    fromCache,
    downloaded,
  };
}
