// The KV cache of one batch on onnxruntime-node: the present.{i}.key/value tensors of the last
// step, fed back as past_key_values.{i}.* of the next. Opaque to the engine (spec KvCache); the
// bookkeeping lives in @lora-tle/backend-core. Not the session logic (node-session.ts).

import { BackendKvCache } from '@lora-tle/backend-core';
import type { Tensor } from 'onnxruntime-node';

export const NODE_BACKEND_ID = 'node';

export class NodeKvCache extends BackendKvCache<Tensor> {
  readonly backendId = NODE_BACKEND_ID;
}
