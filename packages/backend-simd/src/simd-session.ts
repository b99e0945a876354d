// A loaded pack on the simd backend: doStep validates the step (backend-core), runs the rows one
// after another through the decoder (each row's tokens together), and returns the logits, the
// pooled hidden state and the next cache. Runs are synchronous inside one WebAssembly instance, so
// steps never interleave. Not loading (simd-backend.ts).

import { stepHidden, validateStep } from '@lora-tle/backend-core';
import { LoraTleError } from '@lora-tle/spec';
import type { BackendSession, MixCoefficients, PackManifest, StepInput, StepOutput } from '@lora-tle/spec';
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
        const tokens = {
          ids: input.inputIds.subarray(row * T, (row + 1) * T),
          positions: input.positionIds ? input.positionIds.subarray(row * T, (row + 1) * T) : Int32Array.from({ length: T }, (_, t) => past + t),
          firstSlot: past,
          mask: input.attentionMask ? input.attentionMask.subarray(row * total, (row + 1) * total) : null,
        };
        const rowLogits = wantAll ? logits.subarray(row * T * V, (row + 1) * T * V) : logits.subarray(row * V, (row + 1) * V);
        this.decoder.run(tokens, block.row(row), input.mix[row] as MixCoefficients, hidden.subarray(row * T * H, (row + 1) * T * H), rowLogits, wantAll ? 'all' : 'last');
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
