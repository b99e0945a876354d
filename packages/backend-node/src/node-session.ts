// One loaded model pack on onnxruntime-node: validates a spec StepInput and builds its feeds with
// @lora-tle/backend-core, wraps them into onnxruntime-node tensors, runs the session (in chunks
// where the device has a max tokens per run) and returns logits, the pooled hidden state when
// asked, and the next KvCache. On CPU with a pack that has the appended rows' output the cache lives in
// KvBuffers (only each step's new rows leave the session); otherwise it is the present.* tensors;
// with keepCache false no cache leaves the session at all. Not the loading/validation of the pack
// (pack-manifest.ts, node-backend.ts).

import { appendedOutputName, finishKvStep, runStep, selectLogits, startKvStep, stepFeedArrays, stepHidden, stepOutputNames } from '@lora-tle/backend-core';
import { LoraTleError } from '@lora-tle/spec';
import type { BackendSession, PackManifest, StepInput, StepOutput } from '@lora-tle/spec';
import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { NODE_BACKEND_ID, NodeKvCache } from './node-kv-cache.js';

export class NodeSession implements BackendSession {
  readonly backendId = NODE_BACKEND_ID;
  private disposed = false;
  /** A CPU session on a pack with the appended rows' output: the cache lives in KvBuffers. */
  private readonly keepsArrays: boolean;

  constructor(
    readonly pack: PackManifest,
    readonly device: string,
    private readonly session: InferenceSession,
    /** 'gpu-buffer' on WebGPU: present.* stay on the device, so every output must be fetched. */
    private readonly kvLocation: 'cpu' | 'gpu-buffer' = 'cpu',
    /** Most tokens one run may feed (EXECUTION_PROVIDERS[device].maxTokensPerRun); longer steps run in chunks. */
    private readonly maxTokensPerRun = Number.POSITIVE_INFINITY,
  ) {
    this.keepsArrays = kvLocation === 'cpu' && appendedOutputName(pack) !== null;
  }

  async doStep(input: StepInput): Promise<StepOutput> {
    if (this.disposed) throw new LoraTleError('E_BACKEND_DISPOSED', 'doStep called after dispose(); load the pack again');
    return runStep(this.pack, input, this, this.maxTokensPerRun, (step, past) => this.runOnce(step, past));
  }

  /** One session run for a validated step; `past` = cache length. */
  private async runOnce(input: StepInput, past: number): Promise<StepOutput> {
    const { io, architecture } = this.pack;
    const { batchSize: B, sequenceLength: T } = input;
    const cache = input.cache as NodeKvCache | null; // checked by runStep (validateStep)

    // ---- feeds; the past is the cache's own arrays (with spare positions) or the last step's present.* ----
    const kv = startKvStep(this.pack, input, past, cache, this.keepsArrays, (data, dims) => new Tensor('float32', data, dims));
    const feeds: Record<string, Tensor> = {};
    for (const [name, feed] of Object.entries(stepFeedArrays(this.pack, input, past))) feeds[name] = new Tensor(feed.type, feed.data, feed.dims);
    Object.assign(feeds, kv.pastFeeds);
    const fetches = stepOutputNames(this.pack, input.hidden === true, kv.fetch);

    // ---- run (blocks the event loop in Node even though it returns a promise) ----
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = this.kvLocation === 'gpu-buffer' ? await this.session.run(feeds) : await this.session.run(feeds, fetches);
    } catch (cause) {
      throw new LoraTleError('E_BACKEND_RUN', `onnxruntime failed to run the step: ${(cause as Error).message}`, { cause });
    }
    cache?.dispose(); // consumed: its tensors (or arrays) were the past of this step

    const allLogits = (results[io.logits] as Tensor).data as Float32Array; // (B, T, V)
    const { keys, values, buffers, dispose } = finishKvStep<Tensor>(this.pack, kv, results, past, T, this.kvLocation === 'gpu-buffer');
    const next = new NodeKvCache(B, past + T, keys, values, this, buffers);
    if (dispose) next.dispose(); // keepCache false: the caller recomputes, nothing to pass on
    const output: StepOutput = { ...selectLogits(allLogits, B, T, architecture.vocabSize, input.logits), cache: next };
    if (input.hidden && io.hidden !== null) output.hidden = stepHidden(this.pack, (results[io.hidden] as Tensor).data as Float32Array, input, past); // (B, H)
    return output;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}
