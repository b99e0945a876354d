// Writes fp32 weight tensors into one external data file and returns the ONNX TensorProto that
// points at each (location relative to model.onnx, offset, length). Offsets are 64-byte aligned.
// A tensor added again under the same name is written once: the pack's graphs (model.onnx and the
// naive graph) share one base weight file. It is not a reader: the backends validate external data when they load a pack.

import { closeSync, openSync, writeSync } from 'node:fs';
import { LoraTleError } from '@lora-tle/spec';
import onnxProto from 'onnx-proto';
import { ElementType, type TensorProto } from './onnx-builder.js';

const ALIGNMENT = 64;

export class ExternalDataWriter {
  private readonly descriptor: number;
  private offset = 0;
  private closed = false;
  private readonly added = new Map<string, TensorProto>();

  /** `path`: the file to create; `location`: its name relative to model.onnx (no directories). */
  constructor(
    path: string,
    readonly location: string,
  ) {
    try {
      this.descriptor = openSync(path, 'wx');
    } catch (cause) {
      throw new LoraTleError('E_IO', `cannot create weight file ${path}: ${(cause as Error).message}`, { cause });
    }
  }

  /** Bytes written so far (the file size once closed). */
  get byteLength(): number {
    return this.offset;
  }

  /**
   * Appends `values` (row-major, `dims`) and returns the initializer that refers to them; a name
   * added before returns the bytes written then (the values must be the same: one source tensor).
   */
  add(name: string, values: Float32Array, dims: readonly number[]): TensorProto {
    const expected = dims.reduce((product, dim) => product * dim, 1);
    if (values.length !== expected) {
      throw new LoraTleError('E_INVALID_ARGUMENT', `tensor ${name} has ${values.length} values, expected ${expected} for [${dims.join(', ')}]`);
    }
    const earlier = this.added.get(name);
    if (earlier !== undefined) {
      if (earlier.dims?.join(',') !== dims.join(',')) throw new LoraTleError('E_INVALID_ARGUMENT', `tensor ${name} was written as [${earlier.dims?.join(', ')}], now [${dims.join(', ')}]`);
      return earlier;
    }
    const padding = (ALIGNMENT - (this.offset % ALIGNMENT)) % ALIGNMENT;
    if (padding > 0) this.write(new Uint8Array(padding));
    const start = this.offset;
    this.write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    const tensor: TensorProto = {
      name,
      dataType: ElementType.float32,
      dims: [...dims],
      dataLocation: onnxProto.onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: this.location },
        { key: 'offset', value: String(start) },
        { key: 'length', value: String(values.byteLength) },
      ],
    };
    this.added.set(name, tensor);
    return tensor;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.descriptor);
  }

  private write(bytes: Uint8Array): void {
    let written = 0;
    while (written < bytes.byteLength) {
      written += writeSync(this.descriptor, bytes, written, bytes.byteLength - written);
    }
    this.offset += bytes.byteLength;
  }
}
