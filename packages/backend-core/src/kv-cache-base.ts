// The bookkeeping half of a backend's KV cache: the present.{i}.key/value tensors of the last step,
// fed back as past_key_values.{i}.* of the next, or the session's own KvBuffers; which session made
// it, how long it is, and whether it was disposed or consumed. Generic over the runtime's tensor
// type (anything with dispose()). Not tensor creation or placement (each backend's session does that).

import { LoraTleError } from '@lora-tle/spec';
import type { KvCache, PackManifest } from '@lora-tle/spec';
import type { KvBuffers } from './kv-buffers.js';
import { pastInputNames, presentOutputNames } from './pack-io-names.js';

export interface DisposableTensor {
  dispose(): void;
}

export abstract class BackendKvCache<Tensor extends DisposableTensor> implements KvCache {
  abstract readonly backendId: string;
  private disposed = false;

  constructor(
    readonly batchSize: number,
    readonly length: number, // past_sequence_length for the next step
    private readonly keys: Tensor[], // per layer (B, n_kv, length, d)
    private readonly values: Tensor[],
    /** The session that made it: a cache from another session is refused. */
    readonly owner: object,
    /** The arrays holding it when the session keeps the cache itself (kv-buffers.ts); then keys and values are empty. */
    private buffers: KvBuffers | null = null,
  ) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The tensors to feed as past_key_values; throws when disposed. */
  tensors(): { keys: Tensor[]; values: Tensor[] } {
    if (this.disposed) {
      throw new LoraTleError('E_BACKEND_DISPOSED', 'this KV cache was disposed or already consumed by a step; pass the cache returned by the latest doStep');
    }
    return { keys: this.keys, values: this.values };
  }

  /** The arrays of a cache the session keeps itself, null for one held as present.* tensors; throws when disposed. */
  ownBuffers(): KvBuffers | null {
    this.tensors();
    return this.buffers;
  }

  /** The past_key_values.{i}.* feeds of the next step, by input name; throws when disposed. */
  pastFeeds(pack: PackManifest): Record<string, Tensor> {
    const { keys, values } = this.tensors();
    const feeds: Record<string, Tensor> = {};
    pastInputNames(pack).forEach((names, layer) => {
      feeds[names.key] = keys[layer] as Tensor;
      feeds[names.value] = values[layer] as Tensor;
    });
    return feeds;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const tensor of [...this.keys, ...this.values]) tensor.dispose();
    this.buffers = null; // a consumed cache held on to must not keep the arrays (the next cache has them)
  }
}

/** present.{i}.key/value of a run's outputs, per layer, for the next cache. */
export function presentTensors<Tensor>(pack: PackManifest, outputs: Readonly<Record<string, unknown>>): { keys: Tensor[]; values: Tensor[] } {
  const keys: Tensor[] = [];
  const values: Tensor[] = [];
  for (const names of presentOutputNames(pack)) {
    keys.push(outputs[names.key] as Tensor);
    values.push(outputs[names.value] as Tensor);
  }
  return { keys, values };
}
