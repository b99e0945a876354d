import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFetchByteSource } from './fetch-byte-source.js';
import { openFileByteSource } from './node/file-byte-source.js';
import { openSafetensorsFile, writeSafetensorsFile } from './node/safetensors-file.js';
import { encodeSafetensorsBytes } from './safetensors-encode.js';
import { openSafetensors } from './safetensors-reader.js';
import { withTempDir } from './test-support.js';

/** A fetch stand-in serving `bytes` with HEAD and Range support, recording each request. */
function fakeServer(bytes: Uint8Array, { ranges = true, contentLength = true } = {}) {
  const requests: string[] = [];
  const fetchImpl = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const range = new Headers(init?.headers).get('range');
    requests.push(`${init?.method ?? 'GET'} ${range ?? ''}`.trim());
    if (init?.method === 'HEAD') {
      return new Response(null, { status: 200, headers: contentLength ? { 'content-length': String(bytes.length) } : {} });
    }
    const match = range && ranges ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
    if (!match) return new Response(bytes.slice().buffer as ArrayBuffer, { status: 200 });
    const begin = Number(match[1]);
    const end = Number(match[2]);
    return new Response(bytes.slice(begin, end + 1).buffer as ArrayBuffer, { status: 206, headers: { 'content-range': `bytes ${begin}-${end}/${bytes.length}` } });
  };
  return { fetch: fetchImpl as typeof fetch, requests };
}

const sample = () =>
  encodeSafetensorsBytes([
    { name: 'a', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    { name: 'b', shape: [3], data: new Float32Array([5, 6, 7]), dtype: 'F16' },
  ]);

describe('file ByteSource and atomic writer', () => {
  it('writes atomically (no partial file left) and reads tensors by offset', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'w.safetensors');
      await writeSafetensorsFile(path, [{ name: 'w', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }], { format: 'pt' });
      expect(await readdir(dir)).toEqual(['w.safetensors']);
      const reader = await openSafetensorsFile(path);
      expect(Array.from(await reader.readTensor('w'))).toEqual([1, 2, 3, 4, 5, 6]);
      await reader.close();
      await expect(reader.readTensor('w')).rejects.toMatchObject({ code: 'E_IO' });
    });
  });

  it('reports a missing file as E_NOT_FOUND and out-of-range reads as E_IO', async () => {
    await withTempDir(async (dir) => {
      await expect(openFileByteSource(join(dir, 'nope'))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
      await writeSafetensorsFile(join(dir, 'x.safetensors'), []);
      const source = await openFileByteSource(join(dir, 'x.safetensors'));
      await expect(source.read(source.size - 2, 4)).rejects.toMatchObject({ code: 'E_IO' });
      await source.close();
    });
  });
});

describe('fetch ByteSource (HTTP Range)', () => {
  it('reads the header and one tensor with range requests only', async () => {
    const bytes = sample();
    const server = fakeServer(bytes);
    const reader = await openSafetensors(await openFetchByteSource('http://127.0.0.1/x', { fetch: server.fetch }), 'x');
    expect(Array.from(await reader.readTensor('b'))).toEqual([5, 6, 7]);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const bStart = 8 + headerLength + 16;
    expect(server.requests).toEqual(['HEAD', 'GET bytes=0-7', `GET bytes=8-${8 + headerLength - 1}`, `GET bytes=${bStart}-${bStart + 5}`]);
  });

  it('learns the size from Content-Range when HEAD has no Content-Length', async () => {
    const bytes = sample();
    const source = await openFetchByteSource('http://127.0.0.1/x', { fetch: fakeServer(bytes, { contentLength: false }).fetch });
    expect(source.size).toBe(bytes.length);
  });

  it('refuses a server that ignores Range', async () => {
    const source = await openFetchByteSource('http://127.0.0.1/x', { fetch: fakeServer(sample(), { ranges: false }).fetch });
    await expect(source.read(0, 8)).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/Range/) });
  });
});
