// The KV half of one backend run, the same for every session: before the run, the past feeds (the
// cache's KvBuffers with spare positions, or the last step's present.* tensors) and which K/V
// outputs to fetch; after it, the parts of the next cache (the arrays with this step's appended
// rows written, the present.* tensors, or nothing to keep with keepCache false). Runtime-neutral:
// the session passes its tensor constructor and makes the cache object. Not the run itself.

import type { PackManifest, StepInput } from '@lora-tle/spec';
import { KvBuffers, kvBufferFeeds, writeAppended } from './kv-buffers.js';
import { type BackendKvCache, type DisposableTensor, presentTensors } from './kv-cache-base.js';
import { appendedOutputName, type StepKvOutputs } from './pack-io-names.js';

export interface KvStep<Tensor> {
  /** past_key_values.{i}.* to feed over stepFeedArrays' (which adds an empty past when there is no cache). */
  pastFeeds: Record<string, Tensor>;
  /** The K/V outputs to fetch (stepOutputNames' kv). */
  fetch: StepKvOutputs;
  keep: boolean;
  buffers: KvBuffers | null;
}

/** The next cache's contents; `dispose` when the caller asked for none (keepCache false). */
export interface KvStepResult<Tensor> {
  keys: Tensor[];
  values: Tensor[];
  buffers: KvBuffers | null;
  dispose: boolean;
}

/**
 * Before a run of `input` on a past of `past`: with `keepsArrays` (a session on a pack with
 * the appended rows' output, whose outputs come to the CPU) the cache lives in KvBuffers, else in present.* tensors.
 */
export function startKvStep<Tensor extends DisposableTensor>(
  pack: PackManifest,
  input: StepInput,
  past: number,
  cache: BackendKvCache<Tensor> | null,
  keepsArrays: boolean,
  tensor: (data: Float32Array, dims: number[]) => Tensor,
): KvStep<Tensor> {
  const keep = input.keepCache !== false;
  const fetch: StepKvOutputs = !keep ? 'none' : keepsArrays ? 'appended' : 'present';
  if (!keepsArrays) return { pastFeeds: cache?.pastFeeds(pack) ?? {}, fetch, keep, buffers: null };
  const buffers = cache?.ownBuffers() ?? (keep ? KvBuffers.create(pack, input.batchSize, past + input.sequenceLength) : null);
  if (buffers === null) return { pastFeeds: {}, fetch, keep, buffers }; // a first step that keeps nothing: the empty past
  if (keep) buffers.reserve(past + input.sequenceLength, past);
  return { pastFeeds: kvBufferFeeds(pack, buffers, tensor), fetch, keep, buffers };
}

/**
 * After the run (`outputs`): writes the appended rows into the arrays, or takes the present.*
 * tensors. `kvOnDevice`: the session fetched every output with present.* left on the device
 * (WebGPU), so the appended rows are disposed and present.* is taken even when not kept, to be disposed.
 */
export function finishKvStep<Tensor extends DisposableTensor>(
  pack: PackManifest,
  step: KvStep<Tensor>,
  outputs: Readonly<Record<string, unknown>>,
  past: number,
  T: number,
  kvOnDevice: boolean,
): KvStepResult<Tensor> {
  if (step.keep && step.buffers !== null) {
    writeAppended(pack, step.buffers, outputs, past, T);
    return { keys: [], values: [], buffers: step.buffers, dispose: false };
  }
  if (kvOnDevice) {
    const appended = appendedOutputName(pack); // fetched only so that the placement of present.* holds
    if (appended !== null) (outputs[appended] as DisposableTensor | undefined)?.dispose();
  }
  const { keys, values } = step.keep || kvOnDevice ? presentTensors<Tensor>(pack, outputs) : { keys: [], values: [] };
  return { keys, values, buffers: null, dispose: !step.keep };
}
