// Backend: runs a model pack. The engine is the only caller of `do*` methods. A backend never
// imports a router or the engine; it sees token ids, positions, mixing coefficients and a cache.

import type { MixCoefficients } from './mix.js';
import type { LoraModuleWeights } from './model.js';
import type { PackManifest } from './pack.js';

/** Progress of long work (downloads, builds, profile embedding). */
export interface Progress {
  phase: string;
  done: number;
  total: number; // 0 when unknown
}
export type ProgressListener = (progress: Progress) => void;

export interface BackendLoadOptions {
  /** Backend-specific knobs keyed by backend id, e.g. `{ node: { executionProviders: ['cpu'] } }`. */
  backendOptions?: Record<string, unknown>;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /**
   * 'mixing' (default): the pack's model with run-time mixing. 'naive': the pack's naive graph
   * (pack.json `naive`), whose steps take the factors of one adapter (StepInput.adapterFactors);
   * for the paper's loop as a baseline.
   */
  graph?: 'mixing' | 'naive';
}

/**
 * The key/value cache of one batch. Opaque: only the backend that produced it can read it.
 * `length` is the number of positions already in the cache (past_sequence_length).
 */
export interface KvCache {
  readonly backendId: string;
  readonly batchSize: number;
  readonly length: number;
  /** Frees device memory early; a disposed cache must not be passed to doStep. */
  dispose(): void;
}

export interface StepInput {
  inputIds: Int32Array; // (batch, T) row-major
  batchSize: number;
  sequenceLength: number; // T: tokens in this step (prefill: the prompt; decode: 1)
  /** Absolute positions (batch, T); default cache.length + [0..T). */
  positionIds?: Int32Array;
  /** 1 for real tokens, 0 for padding, (batch, cache.length + T); default all ones. */
  attentionMask?: Uint8Array;
  /** One coefficient pair per batch row (adapter order = pack order). */
  mix: readonly MixCoefficients[];
  /** null for the first step (empty past). */
  cache: KvCache | null;
  /** 'last' (default) returns logits of the last position of each row only. */
  logits?: 'last' | 'all';
  /** Also return the pooled last hidden state (pack must be built with it). */
  hidden?: boolean;
  /**
   * false when the caller will not pass the returned cache on (it recomputes the whole sequence
   * every step): the backend need not copy the cache out of the session, and StepOutput.cache comes
   * back already disposed. Default true.
   */
  keepCache?: boolean;
  /**
   * A session of the naive graph only, and required there: the one adapter this step applies,
   * every module the graph has factor inputs for (PEFT layout: a (r, in), b (out, r), scaling).
   * Its `mix` is then one coefficient pair per row, normally a = b = 1.
   */
  adapterFactors?: readonly LoraModuleWeights[];
}

export interface StepOutput {
  logits: Float32Array; // (batch, 1 or T, V)
  logitsPositions: number; // 1 for 'last', T for 'all'
  cache: KvCache; // the input cache is consumed: do not reuse it after this call (disposed already with keepCache false)
  hidden?: Float32Array; // (batch, H)
}

export interface BackendSession {
  readonly backendId: string;
  readonly pack: PackManifest;
  /** Human-readable device actually in use, e.g. 'cpu', 'webgpu (lavapipe)', 'wasm'. */
  readonly device: string;
  doStep(input: StepInput): Promise<StepOutput>;
  dispose(): Promise<void>;
}

export interface Backend {
  readonly id: string; // 'node', 'web'
  /** `location`: a pack directory (Node) or a base URL (browser). */
  doLoad(location: string, options?: BackendLoadOptions): Promise<BackendSession>;
}
