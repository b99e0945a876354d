// One loaded model pack on onnxruntime-node: turns a spec StepInput into graph feeds (int64 ids,
// positions and mask, per-row mixing coefficients (B, N), past KV), runs the session and returns
// logits, the pooled hidden state when asked, and the next KvCache. Not the loading/validation
// (pack-manifest.ts, node-backend.ts).

import { LoraTleError } from '@lora-tle/spec';
import type { BackendSession, PackManifest, StepInput, StepOutput } from '@lora-tle/spec';
import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { NODE_BACKEND_ID, NodeKvCache } from './node-kv-cache.js';

const layerName = (template: string, layer: number): string => template.replace('{i}', String(layer));

function bad(message: string): never {
  throw new LoraTleError('E_INVALID_ARGUMENT', message);
}

export class NodeSession implements BackendSession {
  readonly backendId = NODE_BACKEND_ID;
  private disposed = false;

  constructor(
    readonly pack: PackManifest,
    readonly device: string,
    private readonly session: InferenceSession,
    /** 'gpu-buffer' on WebGPU: present.* stay on the device, so every output must be fetched. */
    private readonly kvLocation: 'cpu' | 'gpu-buffer' = 'cpu',
    /** Most tokens one run may feed (EXECUTION_PROVIDERS[device].maxTokensPerRun); longer steps run in chunks. */
    private readonly maxTokensPerRun = Number.POSITIVE_INFINITY,
  ) {}

  async doStep(input: StepInput): Promise<StepOutput> {
    if (this.disposed) throw new LoraTleError('E_BACKEND_DISPOSED', 'doStep called after dispose(); load the pack again');
    const { io, architecture } = this.pack;
    const { batchSize: B, sequenceLength: T } = input;
    const N = this.pack.adapters.length;
    const V = architecture.vocabSize;
    const cache = input.cache;

    // ---- validate ----
    if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) bad(`batchSize and sequenceLength must be positive integers, got ${B} and ${T}`);
    if (input.inputIds.length !== B * T) bad(`inputIds has ${input.inputIds.length} ids, expected batchSize·sequenceLength = ${B * T}`);
    for (const id of input.inputIds) if (id < 0 || id >= V) bad(`token id ${id} is outside the vocabulary [0, ${V})`);
    if (input.mix.length !== B) bad(`mix has ${input.mix.length} rows, expected one per batch row (${B})`);
    input.mix.forEach((row, index) => {
      if (row.a.length !== N || row.b.length !== N) bad(`mix row ${index} has ${row.a.length}/${row.b.length} coefficients, the pack has ${N} adapters`);
    });
    if (input.hidden && io.hidden === null) bad('hidden state requested but the pack was built without it; rebuild the pack with the hidden output');
    let past = 0;
    if (cache !== null) {
      if (!(cache instanceof NodeKvCache) || cache.owner !== this) bad('the cache was not produced by this session; pass the cache returned by its previous doStep');
      if (cache.batchSize !== B) bad(`the cache holds ${cache.batchSize} rows but the step has ${B}`);
      past = cache.length;
      if (T > 1 && B > 1 && past > 0) {
        bad('a multi-token step on a non-empty cache needs batch size 1 (GroupQueryAttention limitation); feed one token per step or run rows separately');
      }
    }
    const total = past + T;
    if (input.positionIds && input.positionIds.length !== B * T) bad(`positionIds has ${input.positionIds.length} entries, expected ${B * T}`);
    if (input.attentionMask && input.attentionMask.length !== B * total) bad(`attentionMask has ${input.attentionMask.length} entries, expected batch·(cache.length + T) = ${B * total}`);

    const maxPositions = architecture.maxPositionEmbeddings;
    const lastPosition = input.positionIds ? Math.max(...input.positionIds) : total - 1;
    if (lastPosition >= maxPositions) {
      throw new LoraTleError('E_CONTEXT_OVERFLOW', `position ${lastPosition} is beyond the model's ${maxPositions} positions (max_position_embeddings); shorten the prompt or generate fewer tokens`);
    }
    if (input.positionIds && input.positionIds.some((position) => position < 0)) bad('positionIds must be ≥ 0');

    return T > this.maxTokensPerRun ? this.stepInChunks(input, past) : this.runOnce(input, past);
  }

  /** One session run for a validated step; `past` = cache length. */
  private async runOnce(input: StepInput, past: number): Promise<StepOutput> {
    const { io, architecture } = this.pack;
    const { batchSize: B, sequenceLength: T } = input;
    const N = this.pack.adapters.length;
    const { numLayers, numKvHeads, headDim: d, vocabSize: V, hiddenSize: H } = architecture;
    const cache = input.cache as NodeKvCache | null; // checked by doStep
    const total = past + T;

    // ---- feeds ----
    const ids = BigInt64Array.from(input.inputIds, (id) => BigInt(id));
    const positions = new BigInt64Array(B * T);
    for (let row = 0; row < B; row++) for (let t = 0; t < T; t++) positions[row * T + t] = BigInt(input.positionIds ? (input.positionIds[row * T + t] as number) : past + t);
    const mask = input.attentionMask ? BigInt64Array.from(input.attentionMask, (value) => BigInt(value)) : new BigInt64Array(B * total).fill(1n);
    const mixA = new Float32Array(B * N); // (B, N)
    const mixB = new Float32Array(B * N);
    input.mix.forEach((row, index) => {
      mixA.set(row.a, index * N);
      mixB.set(row.b, index * N);
    });
    const feeds: Record<string, Tensor> = {
      [io.inputIds]: new Tensor('int64', ids, [B, T]),
      [io.attentionMask]: new Tensor('int64', mask, [B, total]),
      [io.positionIds]: new Tensor('int64', positions, [B, T]),
      [io.mixA]: new Tensor('float32', mixA, [B, N]),
      [io.mixB]: new Tensor('float32', mixB, [B, N]),
    };
    const pastTensors = cache?.tensors() ?? null;
    for (let layer = 0; layer < numLayers; layer++) {
      const empty = (): Tensor => new Tensor('float32', new Float32Array(0), [B, numKvHeads, 0, d]);
      feeds[layerName(io.pastKey, layer)] = pastTensors?.keys[layer] ?? empty();
      feeds[layerName(io.pastValue, layer)] = pastTensors?.values[layer] ?? empty();
    }
    const fetches = [io.logits];
    for (let layer = 0; layer < numLayers; layer++) fetches.push(layerName(io.presentKey, layer), layerName(io.presentValue, layer));
    if (input.hidden && io.hidden !== null) fetches.push(io.hidden);

    // ---- run (blocks the event loop in Node even though it returns a promise) ----
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = this.kvLocation === 'gpu-buffer' ? await this.session.run(feeds) : await this.session.run(feeds, fetches);
    } catch (cause) {
      throw new LoraTleError('E_BACKEND_RUN', `onnxruntime failed to run the step: ${(cause as Error).message}`, { cause });
    }
    cache?.dispose(); // consumed: its tensors were the past of this step

    const allLogits = (results[io.logits] as Tensor).data as Float32Array; // (B, T, V)
    let logits = allLogits;
    if ((input.logits ?? 'last') === 'last' && T > 1) {
      logits = new Float32Array(B * V); // (B, 1, V)
      for (let row = 0; row < B; row++) logits.set(allLogits.subarray((row * T + T - 1) * V, (row * T + T) * V), row * V);
    }
    const keys: Tensor[] = [];
    const values: Tensor[] = [];
    for (let layer = 0; layer < numLayers; layer++) {
      keys.push(results[layerName(io.presentKey, layer)] as Tensor);
      values.push(results[layerName(io.presentValue, layer)] as Tensor);
    }
    const output: StepOutput = {
      logits,
      logitsPositions: logits === allLogits ? T : 1,
      cache: new NodeKvCache(B, total, keys, values, this),
    };
    if (input.hidden && io.hidden !== null) {
      const hidden = (results[io.hidden] as Tensor).data as Float32Array;
      if (hidden.length !== B * H) throw new LoraTleError('E_BACKEND_RUN', `hidden output has ${hidden.length} values, expected ${B * H}`);
      output.hidden = hidden;
    }
    return output;
  }

  /**
   * A step longer than maxTokensPerRun as several runs over one cache, so the device never sees
   * more query tokens at once than it computes correctly. Batch 1: chunks of maxTokensPerRun.
   * A batch (validation allows it only on an empty cache): the first maxTokensPerRun tokens of
   * every row, then one token per run (GroupQueryAttention takes a multi-token step on a
   * non-empty cache only for batch 1). Logits: concatenated ('all') or the last run's ('last');
   * hidden: the mean over every run's real tokens, as one run would give it.
   */
  private async stepInChunks(input: StepInput, past: number): Promise<StepOutput> {
    const { batchSize: B, sequenceLength: T } = input;
    const { vocabSize: V, hiddenSize: H } = this.pack.architecture;
    const wantAll = input.logits === 'all';
    const first = Math.min(T, this.maxTokensPerRun);
    const stride = B === 1 ? this.maxTokensPerRun : 1;
    const bounds: [number, number][] = [[0, first]];
    for (let start = first; start < T; start += stride) bounds.push([start, Math.min(T, start + stride)]);

    const allLogits = wantAll ? new Float32Array(B * T * V) : null; // (B, T, V)
    const hiddenSum = input.hidden ? new Float64Array(B * H) : null; // (B, H) Σ over runs of count · mean
    const realTokens = new Float64Array(B);
    let cache = input.cache;
    let output: StepOutput | null = null;
    try {
      for (const [start, end] of bounds) {
        const length = end - start;
        const chunk: StepInput = {
          inputIds: columns(input.inputIds, B, T, start, end),
          batchSize: B,
          sequenceLength: length,
          mix: input.mix,
          cache,
          logits: wantAll ? 'all' : 'last',
          ...(input.hidden ? { hidden: true } : {}),
          ...(input.positionIds ? { positionIds: columns(input.positionIds, B, T, start, end) } : {}),
          ...(input.attentionMask ? { attentionMask: columns(input.attentionMask, B, past + T, 0, past + end) } : {}),
        };
        output = await this.runOnce(chunk, past + start);
        cache = output.cache;
        if (allLogits) for (let row = 0; row < B; row++) allLogits.set(output.logits.subarray(row * length * V, (row + 1) * length * V), (row * T + start) * V);
        if (hiddenSum && output.hidden) {
          for (let row = 0; row < B; row++) {
            let count = length;
            if (input.attentionMask) {
              count = 0;
              for (let t = start; t < end; t++) count += input.attentionMask[row * (past + T) + past + t] as number;
            }
            realTokens[row] = (realTokens[row] as number) + count;
            for (let j = 0; j < H; j++) hiddenSum[row * H + j] = (hiddenSum[row * H + j] as number) + count * (output.hidden[row * H + j] as number);
          }
        }
      }
    } catch (error) {
      if (cache !== input.cache) cache?.dispose(); // an intermediate cache of this step
      throw error;
    }
    const last = output as StepOutput;
    const result: StepOutput = { logits: allLogits ?? last.logits, logitsPositions: wantAll ? T : 1, cache: last.cache };
    if (hiddenSum) result.hidden = Float32Array.from(hiddenSum, (sum, index) => sum / Math.max(1, realTokens[Math.floor(index / H)] as number));
    return result;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

/** Columns [from, to) of every row of a (rows, width) row-major array. */
function columns<Values extends Int32Array | Uint8Array>(source: Values, rows: number, width: number, from: number, to: number): Values {
  const result = (source instanceof Int32Array ? new Int32Array(rows * (to - from)) : new Uint8Array(rows * (to - from))) as Values;
  for (let row = 0; row < rows; row++) result.set(source.subarray(row * width + from, row * width + to), row * (to - from));
  return result;
}
