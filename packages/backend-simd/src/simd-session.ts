// A loaded pack on the simd backend: doStep validates the step (backend-core), then runs every
// row's tokens one at a time through the decoder (a prefill is T decode steps: this backend is
// built for decoding, where a runtime's per-operator overhead dominates a small model's step), and
// returns the logits, the pooled hidden state and the next cache. Runs are synchronous inside one
// WebAssembly instance, so steps never interleave. Not loading (simd-backend.ts).

import { stepHidden, validateStep } from '@lora-tle/backend-core';
import { LoraTleError } from '@lora-tle/spec';
import type { BackendSession, PackManifest, StepInput, StepOutput } from '@lora-tle/spec';
import { DecoderStep } from './decoder-step.js';
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
      const logits = new Float32Array(B * (wantAll ? T : 1) * V); // (B, 1 or T, V)
      const hidden = new Float32Array(B * T * H); // (B, T, H) final-norm states
      for (let row = 0; row < B; row++) {
        const cache = block.row(row);
        const mask = input.attentionMask ? input.attentionMask.subarray(row * total, (row + 1) * total) : null;
        const mix = input.mix[row] as { a: ArrayLike<number>; b: ArrayLike<number> };
        for (let t = 0; t < T; t++) {
          const position = input.positionIds ? (input.positionIds[row * T + t] as number) : past + t;
          const at = wantAll ? (row * T + t) * V : row * V;
          const rowLogits = wantAll || t === T - 1 ? logits.subarray(at, at + V) : null;
          this.decoder.run(input.inputIds[row * T + t] as number, position, past + t, cache, mask, mix, hidden.subarray((row * T + t) * H, (row * T + t + 1) * H), rowLogits);
        }
      }
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
