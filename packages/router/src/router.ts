// The Router: ties an embedder, the adapters' profiles, a strategy, a schedule and a context window
// together. route({ text, tokenIds, step }) returns the AdapterMix for this step, or null when the
// schedule says to keep the previous mix; routeSync does the same without a promise when nothing
// needs waiting for (the hashing embedder, or a strategy that reads no embedding). Profiles are
// checked once, at creation. With an embedder that offers createIncremental
// (incremental-embedding.ts: hashing, and hidden when bound to a pack) the context is embedded
// incrementally: a route that only appends to the last one costs O(appended), and the cosine
// similarities go to the strategy directly — to a similarity strategy's weightsFromSimilarities
// with no RoutingContext at all; the hashing embedding vector is made only if a strategy reads it
// (knn, custom strategies). Not the generation loop (@lora-tle/engine) and not a backend: it only
// decides weights.

import { LoraTleError } from '@lora-tle/spec';
import type { AdapterMix, Embedder, RoutingContext, RoutingSchedule, RoutingStrategy, TaskProfile } from '@lora-tle/spec';
import type { HashingEmbedder } from './hashing-embedder.js';
import type { IncrementalEmbedder, IncrementalEmbedding } from './incremental-embedding.js';
import { PrecomputedContext } from './precomputed-similarities.js';
import type { SimilarityStrategy } from './similarity-strategies.js';
import { windowContext, type ContextWindow } from './context-window.js';
import { parseSchedule, shouldRoute } from './routing-schedule.js';
import { createStrategyRegistry, type StrategyRegistry } from './strategy-registry.js';
import { selectProfiles } from './task-profile.js';

export interface RouterOptions {
  embedder: Embedder;
  profiles: readonly TaskProfile[];
  /** Adapter names in pack order (default: the profiles' order). Every one needs a profile. */
  adapters?: readonly string[];
  /** A strategy or its spec (`paper`, `top-k:2`, …; parsed with `registry`). Default `paper`. */
  strategy?: RoutingStrategy | string;
  /** A schedule or its spec (`prompt`, `token`, `every:k`). Default `token`. */
  schedule?: RoutingSchedule | string;
  /** Embed only the last W tokens (default: the whole context). */
  window?: ContextWindow;
  /** Registry for string strategies (default: the built-ins). */
  registry?: StrategyRegistry;
}

export interface RouterContext {
  text: string; // the whole context so far (prompt + generated text)
  tokenIds: readonly number[];
  step: number; // 0 at the prompt, then one per generated token
}

export interface Router {
  readonly adapters: readonly string[];
  readonly strategy: RoutingStrategy;
  readonly schedule: RoutingSchedule;
  /** The mix for this step, or null = keep the previous mix (the schedule skipped this step). */
  route(context: RouterContext): Promise<AdapterMix | null>;
  /**
   * route without waiting, when this router can: its embedding state updates synchronously (the
   * hashing embedder) or its strategy reads no embedding. Returns what route would, or undefined
   * (nothing done) when only route can do it: an embedder that runs a model, or one without
   * incremental state. The per-token path of the engine: no promise per routed token.
   */
  routeSync(context: RouterContext): AdapterMix | null | undefined;
  /** The last mix route() returned (null before the first). */
  readonly lastMix: AdapterMix | null;
  /** Forget the last mix (a new prompt starts). */
  reset(): void;
  /**
   * Releases what the incremental embedding holds (with the hidden embedder, a KV cache of the
   * base model: on WebGPU, GPU memory), after any update in progress. Routing afterwards still
   * works and starts over.
   */
  dispose(): Promise<void>;
}

const NO_EMBEDDING = new Float32Array(0);

export function createRouter(options: RouterOptions): Router {
  const { embedder, window } = options;
  const adapters = [...(options.adapters ?? options.profiles.map((profile) => profile.adapter))];
  if (adapters.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', 'a router needs at least one adapter with a profile');
  const profiles = selectProfiles(options.profiles, adapters, embedder);
  const strategy =
    typeof options.strategy === 'object' ? options.strategy : (options.registry ?? createStrategyRegistry()).create(options.strategy ?? 'paper');
  const schedule = typeof options.schedule === 'object' ? options.schedule : parseSchedule(options.schedule ?? 'token');
  // Strategies that never read the embedding (fixed, uniform, base) say so; then we skip the embedder.
  const usesEmbedding = (strategy as { usesEmbedding?: boolean }).usesEmbedding !== false;
  const source = embedder as Partial<IncrementalEmbedder & Pick<HashingEmbedder, 'embedOne'>>;
  const incremental: IncrementalEmbedding | null =
    usesEmbedding && typeof source.createIncremental === 'function' ? source.createIncremental(profiles.map((profile) => profile.mean)) : null;
  // Without a synchronous embedOne (the hidden embedder runs a model), a context takes its embedding
  // from the state right away: a later route moves the state on.
  const embedOne = typeof source.embedOne === 'function' ? source.embedOne.bind(source) : null;
  let routes = 0; // routes started so far
  let stateRoute = 0; // the route whose text the incremental state holds
  // An asynchronous update (the hidden embedder runs the model) must not interleave with another:
  // once the state's update turns out to return a promise, updates run one after another through
  // this queue. A synchronous one (hashing) updates in place, with no promise on the routing path.
  let incrementalQueue: Promise<unknown> = Promise.resolve();
  let queued = false;
  const inOrder = <T>(work: () => T | Promise<T>): Promise<T> => {
    const result = incrementalQueue.then(work);
    incrementalQueue = result.catch(() => undefined);
    return result;
  };
  let lastMix: AdapterMix | null = null;
  // Routes that need no waiting: a synchronous incremental state, or no embedding at all.
  const synchronous = incremental !== null ? incremental.synchronous === true : !usesEmbedding;
  // A similarity strategy takes the state's similarities directly: no RoutingContext per step.
  const fromSimilarities = typeof (strategy as Partial<SimilarityStrategy>).weightsFromSimilarities === 'function' ? (strategy as SimilarityStrategy) : null;

  // The context of route `routeNumber`, once the incremental state holds `text`: similarities
  // attached, embedding on demand (from the state while it still holds this route's text, else embedOne).
  function contextOf(state: IncrementalEmbedding, routeNumber: number, text: string, tokenIds: readonly number[], step: number): RoutingContext {
    stateRoute = routeNumber;
    const similarities = state.similarities();
    const embedding = embedOne === null ? state.embedding() : () => (stateRoute === routeNumber ? state.embedding() : embedOne(text));
    return new PrecomputedContext(text, tokenIds, step, profiles, similarities, embedding);
  }

  function incrementalContext(state: IncrementalEmbedding, routeNumber: number, text: string, tokenIds: readonly number[], step: number): RoutingContext | Promise<RoutingContext> {
    if (queued) {
      return inOrder(async () => {
        await state.update(text);
        return contextOf(state, routeNumber, text, tokenIds, step);
      });
    }
    const updated = state.update(text);
    if (typeof updated === 'string') return contextOf(state, routeNumber, text, tokenIds, step);
    queued = true;
    return inOrder(async () => {
      await updated;
      return contextOf(state, routeNumber, text, tokenIds, step);
    });
  }

  const router: Router = {
    adapters,
    strategy,
    schedule,
    get lastMix() {
      return lastMix;
    },
    reset() {
      lastMix = null;
    },
    async dispose() {
      await inOrder(() => {
        incremental?.dispose?.();
        stateRoute = 0;
      });
    },
    async route(context) {
      const { step } = context;
      if (lastMix !== null && !shouldRoute(schedule, step)) return null;
      if (synchronous) return routeNow(context);
      const { tokenIds } = context;
      const windowed = windowContext(context.text, tokenIds, window?.tokens, window?.decode);
      const routeNumber = ++routes;
      const pending = incremental !== null ? incrementalContext(incremental, routeNumber, windowed, tokenIds, step) : embedContext(windowed, tokenIds, step);
      return accept(strategy.doRoute({ context: pending instanceof Promise ? await pending : pending, profiles, adapters }));
    },
    routeSync(context) {
      if (lastMix !== null && !shouldRoute(schedule, context.step)) return null;
      if (!synchronous) return undefined;
      return routeNow(context);
    },
  };
  return router;

  // One route of a synchronous router: update the state, then the strategy. context.tokenIds is read
  // only where it is needed (a window, a RoutingContext): a caller may make it on first read.
  function routeNow(context: RouterContext): AdapterMix {
    const { step } = context;
    const windowed = window === undefined ? context.text : windowContext(context.text, context.tokenIds, window.tokens, window.decode);
    if (incremental === null) return accept(strategy.doRoute({ context: { text: windowed, tokenIds: context.tokenIds, embedding: NO_EMBEDDING, step }, profiles, adapters }));
    const routeNumber = ++routes;
    incremental.update(windowed);
    if (fromSimilarities !== null) {
      stateRoute = routeNumber;
      return accept({ adapters, weights: fromSimilarities.weightsFromSimilarities(incremental.similarities()) });
    }
    return accept(strategy.doRoute({ context: contextOf(incremental, routeNumber, windowed, context.tokenIds, step), profiles, adapters }));
  }

  function accept(mix: AdapterMix): AdapterMix {
    if (mix.weights.length !== adapters.length) {
      throw new LoraTleError('E_STRATEGY', `strategy "${strategy.id}" returned ${mix.weights.length} weights for ${adapters.length} adapters`);
    }
    lastMix = mix;
    return mix;
  }

  async function embedContext(windowed: string, tokenIds: readonly number[], step: number): Promise<RoutingContext> {
    const [embedding] = await embedder.embed([windowed]); // (a strategy that reads no embedding routes synchronously)
    if (embedding === undefined) throw new LoraTleError('E_EMBEDDER', `embedder "${embedder.id}" returned no vector for the context`);
    return { text: windowed, tokenIds, embedding, step };
  }
}
