// The KV cache of one batch on onnxruntime-web: the present.{i}.key/value tensors of the last step
// (in wasm memory, or GPU buffers with webgpu), fed back as past_key_values.{i}.* of the next.
// Opaque to the engine (spec KvCache); the bookkeeping lives in @lora-tle/backend-core.
// Not the session logic (web-session.ts).

import { BackendKvCache } from '@lora-tle/backend-core';
import type { Tensor } from 'onnxruntime-web';

export const WEB_BACKEND_ID = 'web';

export class WebKvCache extends BackendKvCache<Tensor> {
  readonly backendId = WEB_BACKEND_ID;
}
