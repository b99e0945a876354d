// What `generate` and `demo` run on: a model pack loaded by backend-node, its tokenizer, and —
// when an adapter store is given — a router over the store's profiles (embedder + strategy).
// Returns an engine ready to stream. Not a command (no option parsing, no output).

import { dirname, join } from 'node:path';
import { createNodeBackend } from '@lora-tle/backend-node';
import { contextRouterFrom, createEngine, createSessionHiddenEmbedder, engineTokenizerFrom, type ContextRouter, type Engine } from '@lora-tle/engine';
import { loadProfiles, openStore, type AdapterStore } from '@lora-tle/lora-store/node';
import { createHashingEmbedder, createRouter, openStoreHashingEmbedder, type Router } from '@lora-tle/router';
import type { BackendSession, Embedder, PackManifest } from '@lora-tle/spec';
import { LoraTleError } from '@lora-tle/spec';
import { loadTokenizerFromDir, type TextTokenizer } from '@lora-tle/tokenizer';
import { loadStoreAdapterWeights } from './store-profiles.js';

export interface RuntimeOptions {
  packDir: string;
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

/** A session of the pack's naive graph (naive mode's paper forward), or null when the pack was built without it. */
export async function openNaiveGraph(packDir: string, pack: PackManifest, threads?: number): Promise<BackendSession | null> {
  if (!pack.naive) return null;
  return createNodeBackend().doLoad(packDir, { graph: 'naive', ...(threads === undefined ? {} : { backendOptions: { node: { threads } } }) });
}

export async function openGenerationRuntime(options: RuntimeOptions): Promise<GenerationRuntime> {
  const session = await createNodeBackend().doLoad(options.packDir);
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
