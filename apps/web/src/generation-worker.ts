// The generation worker: owns the model pack session (@lora-tle/backend-web on onnxruntime-web, or
// with ?device=simd @lora-tle/backend-simd's own kernels on the same downloaded files), the tokenizer, the
// router (the hashing embedder restored with the store's fit + the store's profiles, `paper` strategy) and the engine, so that the
// page's main thread only renders and never freezes while the model runs. Speaks protocol.ts.
// Not UI code: no DOM here.

import { openSimdSession } from '@lora-tle/backend-simd/web';
import { createWebBackend, downloadPack } from '@lora-tle/backend-web';
import { contextRouterFrom, createEngine, engineTokenizerFrom, type Engine } from '@lora-tle/engine';
import { createRouter, restoreHashingEmbedder } from '@lora-tle/router';
import { isLoraTleError, LoraTleError, type BackendSession, type ProgressListener } from '@lora-tle/spec';
import { loadTokenizer } from '@lora-tle/tokenizer';
import type { SamplePrompt } from './asset-index.js';
import { openAssets, openCache } from './cached-fetch.js';
import type { GenerateMessage, LoadRequest, PageToWorker, WorkerToPage } from './protocol.js';
import { loadStoreProfiles } from './store-profiles.js';

const post = (message: WorkerToPage): void => (self as unknown as Worker).postMessage(message);
const describe = (error: unknown): string => (isLoraTleError(error) ? error.toLine() : String((error as Error)?.message ?? error));

let engine: Engine | null = null;
const running = new Map<number, AbortController>();

/** The pack's files, from the Cache API as backend-web keeps them (downloaded when missing), on the simd backend. */
async function openSimdPack(packUrl: string, onProgress: ProgressListener): Promise<BackendSession> {
  const files = await downloadPack(packUrl, { fetch: globalThis.fetch.bind(globalThis), cache: await openCache(), onProgress });
  return openSimdSession(files, { onProgress });
}

async function load({ assetsUrl, device }: LoadRequest): Promise<void> {
  const startedAt = performance.now();
  const assets = await openAssets(assetsUrl);
  const filesFromCache: string[] = [];
  const filesDownloaded: string[] = [];
  const onProgress: ProgressListener = (progress) => {
    const [verb, file] = progress.phase.split(' ', 2);
    if (verb === 'cached' && file && !filesFromCache.includes(file)) filesFromCache.push(file);
    if (verb === 'download' && file && !filesDownloaded.includes(file)) filesDownloaded.push(file);
    post({ type: 'progress', ...progress });
  };
  const packUrl = new URL('pack/', assetsUrl).href;
  const session = device === 'simd' ? await openSimdPack(packUrl, onProgress) : await createWebBackend({ device }).doLoad(packUrl, { onProgress });
  const pack = session.pack;
  if (pack.files.tokenizer === null) throw new LoraTleError('E_PACK_INVALID', 'the model pack has no tokenizer; rerun apps/web/scripts/prepare-assets.ts');
  post({ type: 'progress', phase: 'tokenizer and profiles', done: 0, total: 1 });
  const tokenizer = loadTokenizer({
    tokenizerJson: await assets.json(`pack/${pack.files.tokenizer}`),
    ...(pack.files.tokenizerConfig ? { tokenizerConfig: await assets.json(`pack/${pack.files.tokenizerConfig}`) } : {}),
  });
  const adapters = pack.adapters.map((adapter) => adapter.name);
  // the embedder that made the profiles (assets.json records it): fitted ones read store/embedders/
  const embedder = await restoreHashingEmbedder(assets.index.embedder, (path) => assets.bytes(`store/${path}`));
  const profiles = await loadStoreProfiles(assets, adapters, embedder);
  const router = contextRouterFrom(createRouter({ embedder, profiles, adapters, strategy: 'paper', schedule: 'token' }));
  engine = createEngine({ session, tokenizer: engineTokenizerFrom(tokenizer), router });
  const samples = (await assets.json('samples.json')) as SamplePrompt[];
  post({ type: 'progress', phase: 'tokenizer and profiles', done: 1, total: 1 });
  post({
    type: 'ready',
    device: session.device,
    adapters,
    samples,
    fixture: assets.index.fixture,
    filesFromCache: [...filesFromCache, ...assets.fromCache],
    filesDownloaded: [...filesDownloaded, ...assets.downloaded],
    loadMs: performance.now() - startedAt,
  });
}

async function generate(request: GenerateMessage): Promise<void> {
  if (!engine) throw new LoraTleError('E_INVALID_ARGUMENT', 'the model is not loaded yet; wait for "ready"');
  const controller = new AbortController();
  running.set(request.runId, controller);
  try {
    const stream = engine.generate(
      {
        prompt: request.prompt, mode: request.mode, maxNewTokens: request.maxNewTokens, sampling: { temperature: request.temperature, seed: request.seed },
        ...(request.routingWindow === null ? {} : { routingWindow: request.routingWindow }),
      },
      { signal: controller.signal },
    );
    for await (const event of stream) {
      if (event.type === 'token') {
        post({ type: 'token', runId: request.runId, step: event.step, tokenId: event.tokenId, text: event.text, weights: Array.from(event.mix.weights) });
      } else {
        const { timing } = event;
        post({
          type: 'done',
          runId: request.runId,
          text: event.text,
          tail: event.tail,
          tokenIds: event.tokenIds,
          finishReason: event.finishReason,
          tokensPerSecond: timing.tokensPerSecond,
          totalMs: timing.totalMs,
          modelMs: timing.modelMs,
          routingMs: timing.routingMs,
          promptTokens: event.promptTokens,
        });
      }
    }
  } finally {
    running.delete(request.runId);
  }
}

self.addEventListener('message', (event: MessageEvent<PageToWorker>) => {
  const message = event.data;
  if (message.type === 'load') load(message).catch((error: unknown) => post({ type: 'error', runId: null, message: describe(error) }));
  if (message.type === 'generate') generate(message).catch((error: unknown) => post({ type: 'error', runId: message.runId, message: describe(error) }));
  if (message.type === 'stop') running.get(message.runId)?.abort();
});
