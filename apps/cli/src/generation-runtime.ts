// What `generate` and `demo` run on: a model pack loaded by a backend (onnxruntime-node, or the
// WebAssembly SIMD kernels), its tokenizer, and — when an adapter store is given — a router over the
// store's profiles (embedder + strategy). Returns an engine ready to stream. Not a command (no
// option parsing, no output).

import { dirname, join } from 'node:path';
import { createNodeBackend } from '@lora-tle/backend-node';
import { createSimdBackend } from '@lora-tle/backend-simd';
import { contextRouterFrom, createEngine, createSessionHiddenEmbedder, engineTokenizerFrom, type ContextRouter, type Engine } from '@lora-tle/engine';
import { loadProfiles, openStore, type AdapterStore } from '@lora-tle/lora-store/node';
import { createHashingEmbedder, createRouter, openStoreHashingEmbedder, type Router } from '@lora-tle/router';
import type { BackendSession, Embedder, PackManifest } from '@lora-tle/spec';
import { LoraTleError } from '@lora-tle/spec';
import { loadTokenizerFromDir, type TextTokenizer } from '@lora-tle/tokenizer';
import { loadStoreAdapterWeights } from './store-profiles.js';

/** The backends the CLI runs a pack on (`--backend`). */
export const CLI_BACKENDS = ['node', 'simd'] as const;
export type CliBackend = (typeof CLI_BACKENDS)[number];

/** `--backend`: throws E_USAGE for another name. */
export function parseBackend(value: string): CliBackend {
  if (!(CLI_BACKENDS as readonly string[]).includes(value)) throw new LoraTleError('E_USAGE', `--backend: unknown backend "${value}"; use ${CLI_BACKENDS.join(' or ')}`);
  return value as CliBackend;
}

/**
 * Opens `packDir` on `backend`: `node` (onnxruntime-node; `threads` intra-op threads, default its
 * choice) or `simd` (WebAssembly SIMD kernels, one thread: faster decoding for small models).
 */
export function openPackSession(packDir: string, backend: CliBackend = 'node', threads?: number): Promise<BackendSession> {
  if (backend === 'simd') return createSimdBackend().doLoad(packDir);
  return createNodeBackend().doLoad(packDir, threads === undefined ? {} : { backendOptions: { node: { threads } } });
}

export interface RuntimeOptions {
  packDir: string;
  /** Default 'node'. The naive graph always runs on node (the simd backend runs the mixing graph only). */
  backend?: CliBackend;
  storeDir?: string | null;
  embedder?: string; // default 'hashing'
  strategy?: string; // default 'paper'
  /** Also open the pack's naive graph, when it has one, for naive mode (the paper's forward). */
  naive?: boolean;
}

export interface GenerationRuntime {
  engine: Engine;
  session: BackendSession;
  router: ContextRouter | null;
  close(): Promise<void>;
}

/** The base model the `hidden` embedder runs: an opened pack and its tokenizer. */
export interface EmbeddingModel {
  session: BackendSession;
  tokenizer: TextTokenizer;
}

/**
 * The embedders the CLI can make from a name: `hashing` (unfitted: for building profiles without a
 * store fit) and `hidden` (the pooled hidden state of `model`'s base model).
 */
export function createEmbedderByName(name: string, model?: EmbeddingModel): Embedder {
  if (name === 'hashing') return createHashingEmbedder();
  if (name === 'hidden') {
    if (model === undefined) throw new LoraTleError('E_EMBEDDER', 'the hidden embedder runs a model pack: pass --pack <dir>, or leave it out for the embedded tiny-tle pack');
    return createSessionHiddenEmbedder(model.session, engineTokenizerFrom(model.tokenizer));
  }
  throw new LoraTleError('E_EMBEDDER', `unknown embedder "${name}"; use hashing (the default) or hidden (eval and bench also take hashing:unfitted and transformers:<dir>)`);
}

/**
 * The embedder to route over a store's profiles with: for `hashing`, the one that made them —
 * fitted with the store's saved fit (embedders/) when the profiles were fitted, unfitted otherwise;
 * for `hidden`, `model`'s base model (profiles made with another pack are refused when loaded).
 */
export async function openStoreEmbedder(store: AdapterStore, name: string, model?: EmbeddingModel): Promise<Embedder> {
  if (name === 'hashing') return openStoreHashingEmbedder(store);
  return createEmbedderByName(name, model);
}

/** A session of the pack's naive graph on onnxruntime-node (naive mode's paper forward), or null when the pack was built without it. */
export async function openNaiveGraph(packDir: string, pack: PackManifest, threads?: number): Promise<BackendSession | null> {
  if (!pack.naive) return null;
  return createNodeBackend().doLoad(packDir, { graph: 'naive', ...(threads === undefined ? {} : { backendOptions: { node: { threads } } }) });
}

export async function openGenerationRuntime(options: RuntimeOptions): Promise<GenerationRuntime> {
  const session = await openPackSession(options.packDir, options.backend);
  let naiveSession: BackendSession | null = null;
  try {
    const tokenizerFile = session.pack.files.tokenizer;
    if (tokenizerFile === null) {
      throw new LoraTleError('E_PACK_INVALID', `the model pack ${options.packDir} has no tokenizer; rebuild it with the checkpoint's tokenizer.json (lora-tle build)`);
    }
    const tokenizer = await loadTokenizerFromDir(join(options.packDir, dirname(tokenizerFile)));
    let router: ContextRouter | null = null;
    let routerToDispose: Router | null = null; // with the hidden embedder it holds a KV cache
    if (options.storeDir) {
      const store = await openStore(options.storeDir);
      const embedder = await openStoreEmbedder(store, options.embedder ?? 'hashing', { session, tokenizer });
      const adapters = session.pack.adapters.map((adapter) => adapter.name);
      const profiles = await loadProfiles(store, embedder, adapters);
      routerToDispose = createRouter({ embedder, profiles, adapters, strategy: options.strategy ?? 'paper', schedule: 'token' });
      router = contextRouterFrom(routerToDispose);
    }
    const storeDir = options.storeDir;
    const adapterNames = session.pack.adapters.map((adapter) => adapter.name);
    // naive mode merges the adapters' weights every token; read them from the store only if asked
    const adapterWeights = storeDir ? () => loadStoreAdapterWeights(storeDir, adapterNames) : undefined;
    naiveSession = options.naive ? await openNaiveGraph(options.packDir, session.pack) : null;
    const engine = createEngine({ session, tokenizer: engineTokenizerFrom(tokenizer), router, adapterWeights, naiveSession });
    const close = async (): Promise<void> => {
      await routerToDispose?.dispose();
      await naiveSession?.dispose();
      await session.dispose();
    };
    return { engine, session, router, close };
  } catch (error) {
    await naiveSession?.dispose();
    await session.dispose();
    throw error;
  }
}
