// The KV cache of one batch on onnxruntime-web: the present.{i}.key/value tensors of the last step
// (in wasm memory, or GPU buffers with webgpu), fed back as past_key_values.{i}.* of the next.
// Opaque to the engine (spec KvCache). Not the session logic (web-session.ts).

import { LoraTleError } from '@lora-tle/spec';
import type { KvCache } from '@lora-tle/spec';
import type { Tensor } from 'onnxruntime-web';

export const WEB_BACKEND_ID = 'web';

export class WebKvCache implements KvCache {
  readonly backendId = WEB_BACKEND_ID;
  private disposed = false;

  constructor(
    readonly batchSize: number,
    readonly length: number, // past_sequence_length for the next step
    private readonly keys: Tensor[], // per layer (B, n_kv, length, d)
    private readonly values: Tensor[],
    /** The session that made it: a cache from another session is refused. */
    readonly owner: object,
  ) {}

  /** The tensors to feed as past_key_values; throws when disposed. */
  tensors(): { keys: Tensor[]; values: Tensor[] } {
    if (this.disposed) {
      throw new LoraTleError('E_BACKEND_DISPOSED', 'this KV cache was disposed or already consumed by a step; pass the cache returned by the latest doStep');
    }
    return { keys: this.keys, values: this.values };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const tensor of [...this.keys, ...this.values]) tensor.dispose();
  }
}
