// The generation loop over a batch of rows: route → step → sample → detokenize, one backend step
// per token for the whole batch, each row with its own mixture, sampler and stop strings. Rows
// that finished keep feeding a pad token (their output is ignored) and emit nothing. A single
// prompt is a batch of one. Not the request parsing (engine.ts) nor the naive merge (naive-merge.ts).

import type { AdapterMix, BackendSession, KvCache, LoraModuleWeights, MixCoefficients, StepInput } from '@lora-tle/spec';
import { createStreamingDetokenizer, type StreamingDetokenizer } from '@lora-tle/tokenizer';
import { extendMask, lastLogitsOfRow, leftPad } from './batch-inputs.js';
import type { BatchEvent, DoneEvent, FinishReason, KvPolicy } from './events.js';
import type { MixPlanner, RoutingRequest } from './routing-mode.js';
import type { Sampler } from './sampling.js';
import type { StopStringStream } from './text-stream.js';

/** The tokenizer the engine needs: prompt ids (BOS included when the model uses it) and decoding. */
export interface EngineTokenizer {
  encode(text: string): ArrayLike<number>;
  /** Text of ids with special tokens skipped. */
  decode(ids: readonly number[]): string;
}

export interface LoopRow {
  promptIds: readonly number[]; // after truncation, BOS included
  promptText: string; // what the router sees as the prompt
  planner: MixPlanner;
  sampler: Sampler;
  stops: StopStringStream;
  maxNewTokens: number;
  routingWindow: number | null; // tokens; null = whole context
}

export interface LoopSettings {
  session: BackendSession;
  tokenizer: EngineTokenizer;
  kv: KvPolicy;
  padTokenId: number;
  eosTokenIds: ReadonlySet<number>;
  toCoefficients(mix: AdapterMix): MixCoefficients;
  /**
   * Runs after routing, before the step; its time counts as model time (the naive per-token merge).
   * What it returns is the step's adapterFactors (a session of the naive graph).
   */
  beforeStep?: (mixes: readonly AdapterMix[]) => void | readonly LoraModuleWeights[];
  signal?: AbortSignal | undefined;
  startedAt: number; // performance.now() when the request arrived
}

interface RowState {
  generated: number[];
  detokenizer: StreamingDetokenizer; // decodes each new id against a few ids of context: O(1) per token
  decoded: string; // text of `generated`, without a trailing incomplete UTF-8 character until the end
  // promptText + decoded while the row generates, grown by the same pieces: the router flattens the
  // context it is given, and a string grown one piece at a time stays one flat string plus a piece
  // (promptText + decoded would hand it a chain as deep as the tokens generated, walked every token)
  context: string;
  lastMix: AdapterMix | null;
  finished: boolean;
  firstTokenAt: number | null;
  routingMs: number;
  modelMs: number;
  samplingMs: number;
}

export async function* runDecodeLoop(rows: readonly LoopRow[], settings: LoopSettings): AsyncGenerator<BatchEvent> {
  const { session, tokenizer, signal } = settings;
  const batchSize = rows.length;
  const decode = (ids: readonly number[]) => tokenizer.decode(ids);
  const states: RowState[] = rows.map((row) => ({
    generated: [],
    detokenizer: createStreamingDetokenizer(decode),
    decoded: '',
    context: row.promptText,
    lastMix: null,
    finished: false,
    firstTokenAt: null,
    routingMs: 0,
    modelMs: 0,
    samplingMs: 0,
  }));
  const zeroMix: AdapterMix = { adapters: session.pack.adapters.map((a) => a.name), weights: new Float32Array(session.pack.adapters.length) };
  const vocabSize = session.pack.architecture.vocabSize;
  const lastTokens = new Int32Array(batchSize);
  let cache: KvCache | null = null;
  let mask: Uint8Array | null = null;

  const routingContext = (row: LoopRow, state: RowState, step: number): RoutingRequest => {
    if (row.routingWindow === null) return new WholeContextRequest(state.context, step, row.promptIds, state.generated);
    const tokenIds = row.promptIds.concat(state.generated); // concat, not spread: no iterator garbage per token
    const windowed = tokenIds.slice(Math.max(0, tokenIds.length - row.routingWindow));
    return { text: tokenizer.decode(windowed), tokenIds: windowed, step };
  };

  const done = (b: number, reason: FinishReason): BatchEvent => {
    const row = rows[b]!;
    const state = states[b]!;
    state.finished = true;
    state.decoded += state.detokenizer.flush();
    const tail = reason === 'stop' || reason === 'length' ? '' : row.stops.finish(state.decoded).delta;
    const totalMs = performance.now() - settings.startedAt;
    const event: DoneEvent = {
      type: 'done',
      text: row.stops.update(state.decoded).text,
      tokenIds: [...state.generated],
      finishReason: reason,
      tail,
      promptTokens: row.promptIds.length,
      timing: {
        ttftMs: (state.firstTokenAt ?? performance.now()) - settings.startedAt,
        totalMs,
        tokensPerSecond: totalMs > 0 ? (state.generated.length * 1000) / totalMs : 0,
        routingMs: state.routingMs,
        modelMs: state.modelMs,
        samplingMs: state.samplingMs,
      },
    };
    return { ...event, row: b };
  };

  try {
    for (let step = 0; states.some((state) => !state.finished); step++) {
      if (signal?.aborted) break;
      // ---- route ----
      const mixes: AdapterMix[] = [];
      const routingMs = new Float64Array(batchSize);
      for (let b = 0; b < batchSize; b++) {
        const row = rows[b]!;
        const state = states[b]!;
        if (state.finished) {
          mixes.push(state.lastMix ?? zeroMix);
          continue;
        }
        const routedAt = performance.now();
        const planned = row.planner.mixFor(step, () => routingContext(row, state, step));
        state.lastMix = planned instanceof Promise ? await planned : planned; // no await (a microtask) when routed synchronously
        routingMs[b] = performance.now() - routedAt;
        state.routingMs += routingMs[b]!;
        mixes.push(state.lastMix);
      }
      // ---- step ----
      const modelStartedAt = performance.now();
      const adapterFactors = settings.beforeStep?.(mixes);
      const mix = mixes.map((m) => settings.toCoefficients(m));
      let input: StepInput;
      if (settings.kv === 'recompute' || step === 0) {
        const padded = leftPad(
          rows.map((row, b) => [...row.promptIds, ...states[b]!.generated]),
          settings.padTokenId,
        );
        input = { ...padded, mix, cache: null, logits: 'last', ...(settings.kv === 'recompute' ? { keepCache: false } : {}) };
      } else {
        mask = extendMask(mask!, batchSize);
        const positionIds = new Int32Array(batchSize);
        rows.forEach((row, b) => (positionIds[b] = row.promptIds.length + states[b]!.generated.length - 1));
        input = { inputIds: lastTokens.slice(), batchSize, sequenceLength: 1, positionIds, attentionMask: mask, mix, cache, logits: 'last' };
      }
      if (adapterFactors) input.adapterFactors = adapterFactors;
      cache = null; // consumed by doStep, even if it throws
      const output = await session.doStep(input);
      if (settings.kv === 'reuse') {
        cache = output.cache;
        if (step === 0) mask = input.attentionMask!;
      } else {
        output.cache.dispose();
      }
      const modelMs = performance.now() - modelStartedAt;
      if (signal?.aborted) break;
      // ---- sample and emit ----
      for (let b = 0; b < batchSize; b++) {
        const row = rows[b]!;
        const state = states[b]!;
        if (state.finished) {
          lastTokens[b] = settings.padTokenId;
          continue;
        }
        state.modelMs += modelMs;
        const sampledAt = performance.now();
        const tokenId = row.sampler.sample(lastLogitsOfRow(output.logits, b, output.logitsPositions, vocabSize));
        const samplingMs = performance.now() - sampledAt;
        state.samplingMs += samplingMs;
        state.firstTokenAt ??= performance.now();
        lastTokens[b] = tokenId;
        if (settings.eosTokenIds.has(tokenId)) {
          yield done(b, 'eos');
          continue;
        }
        state.generated.push(tokenId);
        const piece = state.detokenizer.push(tokenId);
        state.decoded += piece;
        state.context += piece;
        const update = row.stops.update(state.decoded);
        let delta = update.delta;
        let reason: FinishReason | null = update.stopped ? 'stop' : null;
        if (reason === null && state.generated.length >= row.maxNewTokens) {
          state.decoded += state.detokenizer.flush();
          delta += row.stops.finish(state.decoded).delta;
          reason = 'length';
        }
        yield {
          type: 'token',
          row: b,
          tokenId,
          text: delta,
          mix: state.lastMix!,
          step,
          timing: { routingMs: routingMs[b]!, modelMs, samplingMs },
        };
        if (reason !== null) yield done(b, reason);
      }
    }
    for (let b = 0; b < batchSize; b++) if (!states[b]!.finished) yield done(b, 'aborted');
  } finally {
    cache?.dispose();
  }
}

/**
 * The request of a whole-context step. Its tokenIds (prompt + generated so far) are copied on first
 * read only: a router that embeds the text incrementally never reads them, and the copy is
 * O(context) per routed token.
 */
class WholeContextRequest implements RoutingRequest {
  readonly #promptIds: readonly number[];
  readonly #generated: readonly number[]; // grows after this step: only its first #generatedCount ids are this step's
  readonly #generatedCount: number;
  #tokenIds: readonly number[] | null = null;

  constructor(
    readonly text: string,
    readonly step: number,
    promptIds: readonly number[],
    generated: readonly number[],
  ) {
    this.#promptIds = promptIds;
    this.#generated = generated;
    this.#generatedCount = generated.length;
  }

  get tokenIds(): readonly number[] {
    if (this.#tokenIds === null) {
      const generated = this.#generated.length === this.#generatedCount ? this.#generated : this.#generated.slice(0, this.#generatedCount);
      this.#tokenIds = this.#promptIds.concat(generated);
    }
    return this.#tokenIds;
  }
}
