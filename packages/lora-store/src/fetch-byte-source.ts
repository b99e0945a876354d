// Browser (and any runtime with fetch): a ByteSource over HTTP Range requests. No Node imports.
// The size comes from a HEAD request, or from the Content-Range of a one-byte probe when the
// server sends no Content-Length. A server that ignores Range gets a clear error, not a silent
// full download per tensor.

import { LoraTleError } from '@lora-tle/spec';
import { assertRange, type ByteSource } from './byte-source.js';

export interface FetchByteSourceOptions {
  /** Defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  /** Extra request headers (auth, cache control). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

function totalFromContentRange(value: string | null): number | null {
  const match = value === null ? null : /\/(\d+)\s*$/.exec(value);
  return match ? Number(match[1]) : null;
}

export async function openFetchByteSource(url: string, options: FetchByteSourceOptions = {}): Promise<ByteSource> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const request = async (init: RequestInit): Promise<Response> => {
    let response: Response;
    try {
      response = await doFetch(url, { ...init, signal: options.signal ?? null });
    } catch (cause) {
      throw new LoraTleError('E_IO', `cannot fetch ${url}: ${(cause as Error).message}`, { cause, details: { url } });
    }
    if (response.status === 404) throw new LoraTleError('E_NOT_FOUND', `${url} does not exist (HTTP 404)`, { details: { url } });
    if (!response.ok) throw new LoraTleError('E_IO', `fetching ${url} failed with HTTP ${response.status}`, { details: { url } });
    return response;
  };

  let size: number | null = null;
  const head = await request({ method: 'HEAD', headers: { ...options.headers } });
  const length = head.headers.get('content-length');
  if (length !== null && /^\d+$/.test(length)) size = Number(length);
  if (size === null) {
    const probe = await request({ headers: { ...options.headers, Range: 'bytes=0-0' } });
    size = totalFromContentRange(probe.headers.get('content-range'));
    await probe.body?.cancel();
    if (size === null) {
      throw new LoraTleError('E_IO', `${url}: the server reports no size (no Content-Length, no Content-Range); serve it with Range support`);
    }
  }
  const total = size;

  return {
    size: total,
    async read(offset, byteCount) {
      assertRange(offset, byteCount, total, url);
      if (byteCount === 0) return new Uint8Array(0);
      const response = await request({ headers: { ...options.headers, Range: `bytes=${offset}-${offset + byteCount - 1}` } });
      if (response.status !== 206) {
        await response.body?.cancel();
        throw new LoraTleError('E_IO', `${url}: the server ignored the Range request (HTTP ${response.status}); serve the file with Range support`);
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes.byteLength !== byteCount) {
        throw new LoraTleError('E_IO', `${url}: asked for ${byteCount} bytes at ${offset}, got ${bytes.byteLength}`);
      }
      return bytes;
    },
    async close() {},
  };
}
