// WebSession: one loaded pack on onnxruntime-web (wasm or webgpu). doStep validates the step and
// builds its feeds with @lora-tle/backend-core, wraps them into onnxruntime-web tensors, runs the
// graph (in chunks of at most maxTokensPerRun query tokens: 31 on webgpu) and wraps the outputs.
// On wasm with a pack that has the appended rows' output the cache lives in KvBuffers (each step copies
// only its new rows out of the wasm heap); on webgpu it stays in GPU buffers as present.*. Runs are
// serialised per session (see `serially`). Not loading (web-backend.ts).

import { appendedOutputName, finishKvStep, runStep, selectLogits, startKvStep, stepFeedArrays, stepHidden, stepOutputNames } from '@lora-tle/backend-core';
import { LoraTleError } from '@lora-tle/spec';
import type { BackendSession, PackManifest, StepInput, StepOutput } from '@lora-tle/spec';
import { env, type InferenceSession, Tensor } from 'onnxruntime-web';
import { WEB_BACKEND_ID, WebKvCache } from './web-kv-cache.js';

export class WebSession implements BackendSession {
  readonly backendId = WEB_BACKEND_ID;
  private disposed = false;
  // onnxruntime-web allows one run at a time per session: a second run() while the first awaits
  // (wasm proxy worker or GPU readback) fails with "Session already started" or corrupts the
  // shared wasm heap/GPU buffers. The engine may call doStep concurrently (two generations on one
  // session), so every run and the dispose queue up here.
  private queue: Promise<unknown> = Promise.resolve();

  /** A wasm session (not proxied) on a pack with the appended rows' output: the cache lives in KvBuffers. */
  private readonly keepsArrays: boolean;

  constructor(
    readonly pack: PackManifest,
    readonly device: string,
    private readonly session: InferenceSession,
    /** Most query tokens one run may feed (WEBGPU_MAX_TOKENS_PER_RUN on webgpu); longer steps run in chunks. */
    private readonly maxTokensPerRun = Number.POSITIVE_INFINITY,
  ) {
    // with env.wasm.proxy onnxruntime-web transfers every input's buffer to its worker, which would
    // detach the arrays after one run: such sessions feed present.* back instead
    this.keepsArrays = device !== 'webgpu' && env.wasm.proxy !== true && appendedOutputName(pack) !== null;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  doStep(input: StepInput): Promise<StepOutput> {
    if (this.disposed) return Promise.reject(new LoraTleError('E_BACKEND_DISPOSED', 'doStep called after dispose(); load the pack again'));
    return this.serially(() => this.step(input));
  }

  private async step(input: StepInput): Promise<StepOutput> {
    if (this.disposed) throw new LoraTleError('E_BACKEND_DISPOSED', 'doStep called after dispose(); load the pack again');
    return runStep(this.pack, input, this, this.maxTokensPerRun, (step, past) => this.runOnce(step, past));
  }

  /** One session run for a validated step; `past` = cache length. */
  private async runOnce(input: StepInput, past: number): Promise<StepOutput> {
    const { io, architecture } = this.pack;
    const { batchSize: B, sequenceLength: T } = input;
    const cache = input.cache as WebKvCache | null; // checked by runStep (validateStep)
    // ---- feeds; on wasm the past is the cache's own arrays (with spare positions), on webgpu the
    // last step's present.* ----
    const kv = startKvStep(this.pack, input, past, cache, this.keepsArrays, (data, dims) => new Tensor('float32', data, dims));
    const feeds: Record<string, Tensor> = {};
    for (const [name, feed] of Object.entries(stepFeedArrays(this.pack, input, past))) feeds[name] = new Tensor(feed.type, feed.data, feed.dims);
    Object.assign(feeds, kv.pastFeeds);

    // ---- run: on webgpu all outputs, so that the placement of present.* holds; on wasm only what
    // the step needs (a prefill's per-position hidden states are T × H floats) ----
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = this.device === 'webgpu' ? await this.session.run(feeds) : await this.session.run(feeds, stepOutputNames(this.pack, input.hidden === true, kv.fetch));
    } catch (cause) {
      throw new LoraTleError('E_BACKEND_RUN', `onnxruntime-web failed to run the step: ${(cause as Error).message}`, { cause });
    }
    cache?.dispose(); // consumed: its tensors (or arrays) were the past of this step

    const allLogits = (results[io.logits] as Tensor).data as Float32Array; // (B, T, V)
    const { keys, values, buffers, dispose } = finishKvStep<Tensor>(this.pack, kv, results, past, T, this.device === 'webgpu');
    const next = new WebKvCache(B, past + T, keys, values, this, buffers);
    if (dispose) next.dispose(); // keepCache false: the caller recomputes, nothing to pass on
    const output: StepOutput = { ...selectLogits(allLogits, B, T, architecture.vocabSize, input.logits), cache: next };
    if (input.hidden && io.hidden !== null) output.hidden = stepHidden(this.pack, (results[io.hidden] as Tensor).data as Float32Array, input, past); // (B, H)
    return output;
  }

  dispose(): Promise<void> {
    if (this.disposed) return this.queue.then(() => undefined);
    this.disposed = true;
    return this.serially(() => this.session.release());
  }
}
