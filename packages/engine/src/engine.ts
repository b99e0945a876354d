// createEngine: the public face of the generation loop. Resolves a request (routing mode, sampling,
// stop strings, context policy, KV policy, naive mode) into loop rows and runs decode-loop.ts.
// `generate` streams one prompt; `generateBatch` runs several prompts in one batch, each with its
// own routing. Not a backend and not a router: both come in through their seams.

import type { AdapterMix, BackendSession, LoraModuleWeights, MixCoefficients } from '@lora-tle/spec';
import { LoraTleError } from '@lora-tle/spec';
import { mixCoefficients } from '@lora-tle/mixing';
import { fitPromptToContext } from './context-policy.js';
import { runDecodeLoop, type EngineTokenizer, type LoopRow } from './decode-loop.js';
import type { BatchEvent, GenerateCallOptions, GenerateRequest, GenerationEvent, KvPolicy } from './events.js';
import { createNaiveMerger } from './naive-merge.js';
import { MixPlanner, parseRoutingMode, type ContextRouter, type RoutingMode } from './routing-mode.js';
import { createSampler } from './sampling.js';
import { StopStringStream } from './text-stream.js';

export type AdapterWeightsSource = readonly (readonly LoraModuleWeights[])[] | (() => Promise<readonly (readonly LoraModuleWeights[])[]>);

export interface EngineOptions {
  session: BackendSession;
  tokenizer: EngineTokenizer;
  /** Needed by the routed modes (token, every:k, prompt). */
  router?: ContextRouter | null;
  /** Adapter weights in pack order; needed by naive mode only (it merges them every token). */
  adapterWeights?: AdapterWeightsSource;
  /**
   * A session of the same pack's naive graph (doLoad with graph 'naive'). With it, naive mode feeds
   * each token's merged adapter to it: the paper's forward. Without it, naive mode recomputes on
   * `session` with the run-time mixture, and the merge is paid and dropped (naive-merge.ts).
   */
  naiveSession?: BackendSession | null;
  /** Token fed for left padding and for rows that already finished; default the first EOS id. */
  padTokenId?: number;
}

export interface Engine {
  readonly session: BackendSession;
  readonly adapters: readonly string[];
  generate(request: GenerateRequest, options?: GenerateCallOptions): AsyncGenerator<GenerationEvent>;
  generateBatch(requests: readonly GenerateRequest[], options?: GenerateCallOptions): AsyncGenerator<BatchEvent>;
}

export const DEFAULT_MAX_NEW_TOKENS = 64;

const ONE_ADAPTER: MixCoefficients = { a: Float32Array.of(1), b: Float32Array.of(1) };

export function createEngine(options: EngineOptions): Engine {
  const { session, tokenizer } = options;
  const router = options.router ?? null;
  const pack = session.pack;
  const adapters = pack.adapters.map((adapter) => adapter.name);
  const eosTokenIds = new Set(pack.architecture.eosTokenIds);
  const padTokenId = options.padTokenId ?? pack.architecture.eosTokenIds[0] ?? 0;
  const toCoefficients = (mix: AdapterMix): MixCoefficients => mixCoefficients(mix.weights, pack.combination);
  const naiveSession = options.naiveSession ?? null;
  const sameModel = naiveSession !== null && JSON.stringify(naiveSession.pack.architecture) === JSON.stringify(pack.architecture);
  if (naiveSession !== null && (naiveSession.pack.factorInputs === undefined || !sameModel)) {
    throw new LoraTleError('E_INVALID_ARGUMENT', "naiveSession must be a session of this pack's naive graph (load the pack with graph 'naive')");
  }

  const resolveRow = (request: GenerateRequest): LoopRow => {
    if (typeof request.prompt !== 'string' || request.prompt.trim() === '') {
      throw new LoraTleError('E_PROMPT_EMPTY', 'the prompt is empty; pass some text to continue (CLI: --prompt or --prompt-file)');
    }
    const maxNewTokens = request.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
      throw new LoraTleError('E_INVALID_ARGUMENT', `max new tokens must be an integer ≥ 1, got ${maxNewTokens}`);
    }
    const window = request.routingWindow ?? null;
    if (window !== null && (!Number.isInteger(window) || window < 1)) {
      throw new LoraTleError('E_INVALID_ARGUMENT', `routing window must be an integer ≥ 1 (tokens), got ${window}`);
    }
    const planner = new MixPlanner(resolveMode(request, router), adapters, router);
    const sampler = createSampler(request.sampling);
    const encoded = Array.from(tokenizer.encode(request.prompt));
    const promptIds = fitPromptToContext(
      encoded,
      maxNewTokens,
      pack.architecture.maxPositionEmbeddings,
      request.truncate ?? 'none',
      pack.architecture.bosTokenId,
    );
    const truncated = promptIds.length !== encoded.length;
    return {
      promptIds,
      promptText: truncated ? tokenizer.decode(promptIds) : request.prompt,
      planner,
      sampler,
      stops: new StopStringStream(request.stop ?? []),
      maxNewTokens,
      // naive re-embeds the whole text every token, as the paper's loop did
      routingWindow: request.naive ? null : window,
    };
  };

  async function* generateBatch(requests: readonly GenerateRequest[], callOptions: GenerateCallOptions = {}): AsyncGenerator<BatchEvent> {
    const startedAt = performance.now();
    if (requests.length === 0) return;
    const rows = requests.map(resolveRow);
    const kv = sharedKvPolicy(requests);
    const naive = requests[0]!.naive === true;
    if (requests.some((request) => (request.naive === true) !== naive)) {
      throw new LoraTleError('E_INVALID_ARGUMENT', 'naive mode is per batch: pass naive on every request of the batch or on none');
    }
    if (naive && requests.length > 1) {
      throw new LoraTleError('E_INVALID_ARGUMENT', 'naive mode runs one prompt at a time (the paper loop has no batching); call generate per prompt');
    }
    const merger = naive ? await createNaiveMerger(options.adapterWeights, adapters) : null;
    const naiveGraph = naive ? naiveSession : null; // the paper's forward, when the pack has it
    yield* runDecodeLoop(rows, {
      session: naiveGraph ?? session,
      tokenizer,
      kv: naive ? 'recompute' : kv,
      padTokenId,
      eosTokenIds,
      // the naive graph's one adapter is the merge itself: coefficient 1 on both sides
      toCoefficients: naiveGraph ? () => ONE_ADAPTER : toCoefficients,
      beforeStep: merger
        ? (mixes) => {
            const merged = merger.merge(mixes[0]!);
            return naiveGraph ? merged : undefined; // without the naive graph: paid and dropped
          }
        : undefined,
      signal: callOptions.signal,
      startedAt,
    });
  }

  async function* generate(request: GenerateRequest, callOptions: GenerateCallOptions = {}): AsyncGenerator<GenerationEvent> {
    for await (const { row: _row, ...event } of generateBatch([request], callOptions)) yield event;
  }

  return { session, adapters, generate, generateBatch };
}

function resolveMode(request: GenerateRequest, router: ContextRouter | null): RoutingMode {
  if (request.mode === undefined) return router ? { kind: 'token' } : { kind: 'base' };
  return typeof request.mode === 'string' ? parseRoutingMode(request.mode) : request.mode;
}

function sharedKvPolicy(requests: readonly GenerateRequest[]): KvPolicy {
  const kv = requests[0]!.kv ?? 'reuse';
  if (kv !== 'reuse' && kv !== 'recompute') {
    throw new LoraTleError('E_INVALID_ARGUMENT', `kv policy must be "reuse" or "recompute", got "${String(kv)}"`);
  }
  if (requests.some((request) => (request.kv ?? 'reuse') !== kv)) {
    throw new LoraTleError('E_INVALID_ARGUMENT', 'all prompts of a batch must share one kv policy (reuse or recompute)');
  }
  return kv;
}

/** Runs a request to the end and returns its done event. */
export async function generateText(engine: Engine, request: GenerateRequest, options?: GenerateCallOptions) {
  for await (const event of engine.generate(request, options)) if (event.type === 'done') return event;
  throw new LoraTleError('E_ABORTED', 'generation ended without a done event');
}
