// Downloads a model pack from a base URL: pack.json (network first, the cached copy when offline),
// then model.onnx and the external weight files it names, with byte progress, kept in the Cache
// API so that a reload does not download again. Cached files are keyed by a digest of pack.json,
// so a rebuilt pack at the same URL is downloaded afresh, and once it is complete the files of
// the pack's other versions are deleted from the cache. pack.json is checked by checkPackManifest
// (@lora-tle/backend-core). Not the session (web-session.ts).

import { checkPackManifest, REBUILD_PACK } from '@lora-tle/backend-core';
import { LoraTleError } from '@lora-tle/spec';
import type { PackManifest, ProgressListener } from '@lora-tle/spec';

/** The parts of the Cache API we use; `caches.open(name)` returns one in browsers. */
export interface PackCache {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
  /** With delete: lets a completed download drop the files of the pack's older versions. */
  keys?(): Promise<readonly (Request | string)[]>;
  delete?(request: Request | string): Promise<boolean>;
}

const VERSION_PARAMETER = 'lora-tle-pack';

/**
 * Deletes the cached copies of `fileUrls` stored under another version than `version`: cache keys
 * are `<file url>?<parameter>=<version>`. A no-op for caches without keys/delete.
 */
export async function deleteOtherCachedVersions(cache: PackCache | null, fileUrls: readonly string[], parameter: string, version: string): Promise<void> {
  if (!cache?.keys || !cache.delete) return;
  for (const request of await cache.keys()) {
    const key = new URL(typeof request === 'string' ? request : request.url);
    const cachedVersion = key.searchParams.get(parameter);
    if (cachedVersion === null || cachedVersion === version) continue;
    key.searchParams.delete(parameter);
    if (fileUrls.includes(key.href)) await cache.delete(request);
  }
}

export interface PackDownloadOptions {
  fetch: typeof fetch;
  cache: PackCache | null; // null: always download
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export interface DownloadedPack {
  manifest: PackManifest;
  model: Uint8Array;
  /** For InferenceSession.create({ externalData }): path = the `location` written in model.onnx. */
  externalData: { path: string; data: Uint8Array }[];
  /** How many of the pack's files came from the cache (pack.json not counted). */
  filesFromCache: number;
}

function fileUrl(baseUrl: string, name: string): string {
  if (name.startsWith('/') || name.split('/').includes('..') || /^[a-z]+:/i.test(name)) {
    throw new LoraTleError('E_PACK_INVALID', `pack.json names "${name}", which points outside the pack; ${REBUILD_PACK}`);
  }
  return new URL(name, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
}

async function digest(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(bytes.subarray(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

async function get(url: string, options: PackDownloadOptions): Promise<Response> {
  let response: Response;
  try {
    response = await options.fetch(url, { signal: options.signal ?? null });
  } catch (cause) {
    if (options.signal?.aborted) throw new LoraTleError('E_ABORTED', 'loading was cancelled', { cause });
    throw new LoraTleError('E_IO', `could not download ${url} (${(cause as Error).message}); check the URL and the network`, { cause });
  }
  if (!response.ok) throw new LoraTleError('E_PACK_INVALID', `GET ${url} answered ${response.status}; check that the pack is served at this URL`);
  return response;
}

/** Reads a response body, reporting bytes as they arrive. */
async function readBody(response: Response, phase: string, onProgress?: ProgressListener): Promise<Uint8Array> {
  const total = Number(response.headers.get('content-length') ?? 0);
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let done = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { value, done: finished } = await reader.read();
    if (finished) break;
    chunks.push(value);
    done += value.byteLength;
    onProgress?.({ phase, done, total });
  }
  const bytes = new Uint8Array(new ArrayBuffer(done));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

async function readManifest(baseUrl: string, options: PackDownloadOptions): Promise<string> {
  const url = fileUrl(baseUrl, 'pack.json');
  try {
    const text = await (await get(url, options)).text();
    await options.cache?.put(url, new Response(text, { headers: { 'content-type': 'application/json' } }));
    return text;
  } catch (error) {
    const cached = await options.cache?.match(url);
    if (cached && !options.signal?.aborted) return cached.text(); // offline: the pack we had
    throw error;
  }
}

export async function downloadPack(baseUrl: string, options: PackDownloadOptions): Promise<DownloadedPack> {
  const text = await readManifest(baseUrl, options);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new LoraTleError('E_PACK_INVALID', `model pack at ${baseUrl}: pack.json is not valid JSON; ${REBUILD_PACK}`, { cause });
  }
  checkPackManifest(parsed, `model pack at ${baseUrl}`);
  const manifest = parsed;
  const version = await digest(text);
  let filesFromCache = 0;

  const fetchFile = async (name: string): Promise<Uint8Array> => {
    const url = fileUrl(baseUrl, name);
    const key = `${url}?${VERSION_PARAMETER}=${version}`;
    const cached = await options.cache?.match(key);
    if (cached) {
      const bytes = new Uint8Array(await cached.arrayBuffer());
      filesFromCache++;
      options.onProgress?.({ phase: `cached ${name}`, done: bytes.byteLength, total: bytes.byteLength });
      return bytes;
    }
    const bytes = await readBody(await get(url, options), `download ${name}`, options.onProgress);
    if (bytes.byteLength === 0) throw new LoraTleError('E_PACK_EXTERNAL_DATA', `${url} is empty; ${REBUILD_PACK}`);
    await options.cache?.put(key, new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(bytes.byteLength) } }));
    return bytes;
  };

  const model = await fetchFile(manifest.files.model);
  const externalData: DownloadedPack['externalData'] = [];
  for (const name of [manifest.files.baseWeights, manifest.files.adapterWeights]) {
    if (name) externalData.push({ path: name, data: await fetchFile(name) });
  }
  const names = [manifest.files.model, ...externalData.map((file) => file.path)];
  await deleteOtherCachedVersions(options.cache, names.map((name) => fileUrl(baseUrl, name)), VERSION_PARAMETER, version);
  return { manifest, model, externalData, filesFromCache };
}
