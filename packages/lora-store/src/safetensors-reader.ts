// SafetensorsReader: opens a safetensors file through a ByteSource, validates the header and
// reads single tensors by offset. Never reads the data buffer whole; never allocates from a
// length the file declares before checking it against the file size.

import { LoraTleError } from '@lora-tle/spec';
import type { ByteSource } from './byte-source.js';
import { HEADER_LENGTH_BYTES, parseHeader, parseHeaderLength, type SafetensorsHeader, type TensorInfo } from './safetensors-header.js';
import { decodeToFloat32 } from './tensor-decode.js';

export interface SafetensorsReader {
  /** File name or URL used in messages. */
  readonly label: string;
  readonly header: SafetensorsHeader;
  readonly metadata: Record<string, string> | null;
  /** Tensor names in data order. */
  names(): string[];
  has(name: string): boolean;
  /** dtype, shape and offsets; throws E_TENSOR_MISSING for an unknown name. */
  info(name: string): TensorInfo;
  /** The tensor's raw little-endian bytes. */
  readBytes(name: string): Promise<Uint8Array>;
  /** The tensor decoded to float32 (exact for F32/F16/BF16). */
  readTensor(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Reads and validates the header of `source`; the reader keeps the source open until close(). */
export async function openSafetensors(source: ByteSource, label = 'safetensors file'): Promise<SafetensorsReader> {
  const prefix = await source.read(0, Math.min(HEADER_LENGTH_BYTES, source.size));
  const headerLength = parseHeaderLength(prefix, source.size, label);
  const headerBytes = await source.read(HEADER_LENGTH_BYTES, headerLength);
  const header = parseHeader(headerBytes, source.size, label);
  const byName = new Map(header.tensors.map((tensor) => [tensor.name, tensor]));

  const info = (name: string): TensorInfo => {
    const tensor = byName.get(name);
    if (!tensor) {
      throw new LoraTleError('E_TENSOR_MISSING', `${label} has no tensor named "${name}"`, { details: { file: label, tensor: name } });
    }
    return tensor;
  };
  const readBytes = (name: string): Promise<Uint8Array> => {
    const tensor = info(name);
    return source.read(header.dataStart + tensor.begin, tensor.end - tensor.begin);
  };

  return {
    label,
    header,
    metadata: header.metadata,
    names: () => header.tensors.map((tensor) => tensor.name),
    has: (name) => byName.has(name),
    info,
    readBytes,
    async readTensor(name) {
      const tensor = info(name);
      return decodeToFloat32(await readBytes(name), tensor.dtype, tensor.elementCount, `${label}: tensor "${name}"`);
    },
    close: () => source.close(),
  };
}
