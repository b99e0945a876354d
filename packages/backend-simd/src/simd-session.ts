// A loaded pack on the simd backend: doStep validates the step (backend-core), runs the tokens of
// all its rows through the decoder together, and returns the logits, the pooled hidden state and
// the next cache. Runs are synchronous inside one WebAssembly instance, so
// steps never interleave. Not loading (simd-backend.ts).

import { stepHidden, validateStep } from '@lora-tle/backend-core';
import { LoraTleError } from '@lora-tle/spec';
import type { BackendSession, MixCoefficients, PackManifest, StepInput, StepOutput } from '@lora-tle/spec';
import { DecoderStep, type StepRow, type StepToken } from './decoder-step.js';
import type { ModelWeights } from './pack-weights.js';
import { KvBlock, SIMD_BACKEND_ID, SimdKvCache } from './simd-kv-cache.js';
import type { WasmHeap } from './wasm-heap.js';

export class SimdSession implements BackendSession {
  readonly backendId = SIMD_BACKEND_ID;
  readonly device = 'cpu (WebAssembly SIMD)';
  private readonly decoder: DecoderStep;
  private disposed = false;

  constructor(
    readonly pack: PackManifest,
    private readonly heap: WasmHeap,
    weights: ModelWeights,
  ) {
    this.decoder = new DecoderStep(heap, weights, pack.architecture, pack.combination);
  }

  async doStep(input: StepInput): Promise<StepOutput> {
    if (this.disposed) throw new LoraTleError('E_BACKEND_DISPOSED', 'this session was disposed; load the pack again');
    if (input.adapterFactors !== undefined) throw new LoraTleError('E_INVALID_ARGUMENT', 'adapterFactors are for a naive-graph session, which the simd backend does not run');
    const past = validateStep(this.pack, input, this);
    const { batchSize: B, sequenceLength: T } = input;
    const total = past + T;
    const { hiddenSize: H, vocabSize: V } = this.pack.architecture;
    let block = input.cache === null ? KvBlock.create(this.heap, this.pack.architecture, B, total) : (input.cache as SimdKvCache).consume();
    try {
      block = block.reserve(total, past);
      const wantAll = input.logits === 'all';
      // every row's tokens in one pass: products run over all of them (B rows of one token each, or a prompt, four at a time)
      const rows: StepRow[] = [];
      const tokens: StepToken[] = [];
      const logitsOf: number[] = [];
      for (let row = 0; row < B; row++) {
        rows.push({
          cache: block.row(row),
          mask: input.attentionMask ? input.attentionMask.subarray(row * total, (row + 1) * total) : null,
          mix: input.mix[row] as MixCoefficients,
        });
        for (let t = 0; t < T; t++) {
          if (wantAll || t === T - 1) logitsOf.push(tokens.length);
          tokens.push({ id: input.inputIds[row * T + t] as number, position: input.positionIds ? (input.positionIds[row * T + t] as number) : past + t, slot: past + t, row });
        }
      }
      const logits = new Float32Array(logitsOf.length * V); // (B, 1 or T, V)
      const hidden = new Float32Array(B * T * H); // (B, T, H) final-norm states
      this.decoder.run(tokens, rows, hidden, logits, logitsOf);
      const cache = new SimdKvCache(B, total, block, this);
      if (input.keepCache === false) cache.dispose();
      const output: StepOutput = { logits, logitsPositions: wantAll ? T : 1, cache };
      if (input.hidden) output.hidden = stepHidden({ ...this.pack, io: { ...this.pack.io, hiddenPerPosition: true } }, hidden, input, past);
      return output;
    } catch (error) {
      block.release();
      throw error;
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}
