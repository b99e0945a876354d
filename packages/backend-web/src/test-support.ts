// Test support (not exported): a pair of tiny packs over one random base (for the conformance
// suite), a static file server on 127.0.0.1 that counts requests, and an in-memory PackCache.

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { createRandomAdapter, createRandomLlama, writeModelPack } from '@lora-tle/graph';
import type { ConformancePacks } from './conformance.js';
import type { PackCache } from './pack-download.js';

export function tempRoot(prefix: string): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), `lora-tle-${prefix}-`));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** `mixed` (adapters qv, mlp) and `firstAdapterOnly` (qv) over the same random base, written under root. */
export async function writeConformancePacks(root: string): Promise<ConformancePacks> {
  const model = createRandomLlama({}, 21);
  const qv = createRandomAdapter(model.architecture, { name: 'qv', rank: 4, targets: ['q_proj', 'v_proj', 'o_proj'] }, 22);
  const mlp = createRandomAdapter(model.architecture, { name: 'mlp', rank: 2, targets: ['gate_proj', 'down_proj'] }, 23);
  const mixed = join(root, 'mixed');
  const firstAdapterOnly = join(root, 'first');
  await writeModelPack({ source: model, adapters: [qv, mlp], destination: mixed });
  await writeModelPack({ source: model, adapters: [qv], destination: firstAdapterOnly });
  return { mixed, firstAdapterOnly };
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

export interface StaticServer {
  url: string; // http://127.0.0.1:PORT/
  requests: string[]; // paths served, in order
  close(): Promise<void>;
}

export async function serveDirectory(root: string): Promise<StaticServer> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    requests.push(path);
    const file = join(root, path);
    try {
      if (!file.startsWith(root) || !statSync(file).isFile()) throw new Error('not a file');
      const bytes = readFileSync(file);
      const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
      response.writeHead(200, { 'content-length': String(bytes.byteLength), 'content-type': type });
      response.end(bytes);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    // also ends keep-alive connections, so that a closed server is really gone (an offline test)
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The Cache API's match/put over a Map of bodies. */
/** A PackCache in memory, with string keys. */
export interface MemoryPackCache extends PackCache {
  keys(): Promise<string[]>;
  delete(request: string | Request): Promise<boolean>;
}

export function memoryCache(): MemoryPackCache {
  const entries = new Map<string, { body: ArrayBuffer; headers: [string, string][] }>();
  return {
    async match(request) {
      const entry = entries.get(request);
      return entry ? new Response(entry.body.slice(0), { headers: entry.headers }) : undefined;
    },
    async put(request, response) {
      const headers: [string, string][] = [];
      response.headers.forEach((value, name) => headers.push([name, value]));
      entries.set(request, { body: await response.arrayBuffer(), headers });
    },
    keys: async () => [...entries.keys()],
    delete: async (request) => entries.delete(typeof request === 'string' ? request : request.url),
  };
}
