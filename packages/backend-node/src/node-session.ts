// One loaded model pack on onnxruntime-node: validates a spec StepInput and builds its feeds with
// @lora-tle/backend-core, wraps them into onnxruntime-node tensors, runs the session (in chunks
// where the device has a max tokens per run) and returns logits, the pooled hidden state when
// asked, and the next KvCache. On CPU with a pack that has appended.* outputs the cache lives in
// KvBuffers (only each step's new rows leave the session); otherwise it is the present.* tensors;
// with keepCache false no cache leaves the session at all. Not the loading/validation of the pack
// (pack-manifest.ts, node-backend.ts).

import { appendedOutputNames, disposeAppended, KvBuffers, kvBufferFeeds, presentTensors, runStep, selectLogits, stepFeedArrays, stepHidden, stepOutputNames, writeAppended } from '@lora-tle/backend-core';
import { LoraTleError } from '@lora-tle/spec';
import type { BackendSession, PackManifest, StepInput, StepOutput } from '@lora-tle/spec';
import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { NODE_BACKEND_ID, NodeKvCache } from './node-kv-cache.js';

export class NodeSession implements BackendSession {
  readonly backendId = NODE_BACKEND_ID;
  private disposed = false;
  /** A CPU session on a pack with appended.* outputs: the cache lives in KvBuffers. */
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
    this.keepsArrays = kvLocation === 'cpu' && appendedOutputNames(pack) !== null;
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
    const keep = input.keepCache !== false;

    // ---- feeds; the past is the cache's own arrays (with spare positions) or the last step's present.* ----
    const buffers = this.keepsArrays ? (cache?.ownBuffers() ?? (keep ? KvBuffers.create(this.pack, B, past + T) : null)) : null;
    const feeds: Record<string, Tensor> = buffers === null ? (cache?.pastFeeds(this.pack) ?? {}) : {};
    for (const [name, feed] of Object.entries(stepFeedArrays(this.pack, input, past))) feeds[name] = new Tensor(feed.type, feed.data, feed.dims);
    if (buffers !== null) {
      if (keep) buffers.reserve(past + T, past);
      Object.assign(feeds, kvBufferFeeds(this.pack, buffers, (data, dims) => new Tensor('float32', data, dims)));
    }
    const fetches = stepOutputNames(this.pack, input.hidden === true, !keep ? 'none' : this.keepsArrays ? 'appended' : 'present');

    // ---- run (blocks the event loop in Node even though it returns a promise) ----
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = this.kvLocation === 'gpu-buffer' ? await this.session.run(feeds) : await this.session.run(feeds, fetches);
    } catch (cause) {
      throw new LoraTleError('E_BACKEND_RUN', `onnxruntime failed to run the step: ${(cause as Error).message}`, { cause });
    }
    cache?.dispose(); // consumed: its tensors (or arrays) were the past of this step

    // ---- the next cache: the arrays with this step's rows written, the present.* tensors, or none ----
    const allLogits = (results[io.logits] as Tensor).data as Float32Array; // (B, T, V)
    let next: NodeKvCache;
    if (keep && buffers !== null) {
      writeAppended(this.pack, buffers, results, past, T);
      next = new NodeKvCache(B, past + T, [], [], this, buffers);
    } else {
      if (this.kvLocation === 'gpu-buffer') disposeAppended(this.pack, results);
      const { keys, values } = keep || this.kvLocation === 'gpu-buffer' ? presentTensors<Tensor>(this.pack, results) : { keys: [], values: [] };
      next = new NodeKvCache(B, past + T, keys, values, this);
      if (!keep) next.dispose();
    }
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
