// Serialising tensors to the safetensors layout, in memory and platform-neutral. Returns the
// chunks to write (header, then each tensor) so a file writer never concatenates the data.
// Atomic file writes are in node/safetensors-file.ts.

import { LoraTleError } from '@lora-tle/spec';
import { SAFETENSORS_DTYPE_BITS } from './dtypes.js';
import { encodeFromFloat32, type EncodableDtype } from './tensor-decode.js';

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  /** float32 values, stored as `dtype` (default F32). */
  data: Float32Array;
  dtype?: EncodableDtype;
}

export interface EncodedSafetensors {
  chunks: Uint8Array[]; // [8-byte length + padded header JSON, tensor bytes…]
  byteLength: number;
}

/**
 * Encodes tensors in a stable order: widest dtype first (keeps every tensor aligned to its element
 * size, as the Python writer does), then by name. The header is space-padded to a multiple of 8.
 */
export function encodeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string> | null): EncodedSafetensors {
  const seen = new Set<string>();
  const prepared = tensors.map((tensor) => {
    const dtype = tensor.dtype ?? 'F32';
    if (tensor.name === '__metadata__' || seen.has(tensor.name)) {
      throw new LoraTleError('E_INVALID_ARGUMENT', `tensor name "${tensor.name}" is reserved or given twice; use unique names`);
    }
    seen.add(tensor.name);
    const count = tensor.shape.reduce((product, dimension) => product * dimension, 1);
    if (!tensor.shape.every((dimension) => Number.isSafeInteger(dimension) && dimension >= 0) || count !== tensor.data.length) {
      throw new LoraTleError(
        'E_INVALID_ARGUMENT',
        `tensor "${tensor.name}" has shape ${JSON.stringify(tensor.shape)} (${count} elements) but ${tensor.data.length} values`,
      );
    }
    return { name: tensor.name, shape: [...tensor.shape], dtype, bytes: encodeFromFloat32(tensor.data, dtype) };
  });
  prepared.sort(
    (left, right) =>
      SAFETENSORS_DTYPE_BITS[right.dtype] - SAFETENSORS_DTYPE_BITS[left.dtype] || (left.name < right.name ? -1 : left.name > right.name ? 1 : 0),
  );

  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const tensor of prepared) {
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes.byteLength] };
    offset += tensor.bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const paddedLength = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + paddedLength).fill(0x20, 8);
  new DataView(head.buffer).setBigUint64(0, BigInt(paddedLength), true);
  head.set(json, 8);
  return { chunks: [head, ...prepared.map((tensor) => tensor.bytes)], byteLength: head.byteLength + offset };
}

/** The encoded file as one buffer (small files, tests, browser downloads). */
export function encodeSafetensorsBytes(tensors: readonly TensorToWrite[], metadata?: Record<string, string> | null): Uint8Array {
  const { chunks, byteLength } = encodeSafetensors(tensors, metadata);
  const out = new Uint8Array(byteLength);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
