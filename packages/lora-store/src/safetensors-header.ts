// Validation of a safetensors header, rule for rule as the reference (Rust) reader does it.
// Pure functions over bytes already read; reading them is safetensors-reader.ts's job.
// Not here: decoding tensor data (tensor-decode.ts) or writing files (safetensors-encode.ts).

import { LoraTleError, type LoraTleErrorCode } from '@lora-tle/spec';
import { isSafetensorsDtype, SAFETENSORS_DTYPE_BITS, type SafetensorsDtype } from './dtypes.js';

/** Largest header the reference reader accepts (bytes). */
export const MAX_HEADER_BYTES = 100_000_000;
/** Bytes of the little-endian u64 header length that opens every file. */
export const HEADER_LENGTH_BYTES = 8;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[]; // [] is a scalar; a 0 anywhere is an empty tensor
  elementCount: number;
  /** Byte range relative to the start of the data buffer; `end` is exclusive. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** N: the JSON header length in bytes (including padding). */
  headerLength: number;
  /** Absolute byte offset of the data buffer (8 + N). */
  dataStart: number;
  metadata: Record<string, string> | null;
  /** Tensors in data order (ascending offsets). */
  tensors: TensorInfo[];
}

function fail(code: LoraTleErrorCode, label: string, problem: string, details?: Record<string, unknown>): never {
  throw new LoraTleError(
    code,
    `${label}: ${problem}. The file is corrupt, truncated or not a safetensors file; re-export it with the safetensors library.`,
    { details: { file: label, ...details } },
  );
}

/**
 * Validates the 8-byte prefix against the file size and returns N. Call this before reading
 * (or allocating) the header: N comes from the file and may be forged.
 */
export function parseHeaderLength(prefix: Uint8Array, fileSize: number, label: string): number {
  if (fileSize < HEADER_LENGTH_BYTES || prefix.byteLength < HEADER_LENGTH_BYTES) {
    fail('E_SAFETENSORS_TOO_SMALL', label, `file is ${fileSize} bytes, shorter than the 8-byte header length`);
  }
  const declared = new DataView(prefix.buffer, prefix.byteOffset, HEADER_LENGTH_BYTES).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail('E_SAFETENSORS_HEADER_TOO_LARGE', label, `declared header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerLength = Number(declared);
  if (HEADER_LENGTH_BYTES + headerLength > fileSize) {
    fail(
      'E_SAFETENSORS_HEADER_TOO_LARGE',
      label,
      `declared header length ${headerLength} runs past the end of the ${fileSize}-byte file`,
    );
  }
  return headerLength;
}

function decodeHeaderJson(headerBytes: Uint8Array, label: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail('E_SAFETENSORS_HEADER_UTF8', label, 'header is not valid UTF-8');
  }
  // The reference reader insists on '{' as the first byte (no BOM, no leading whitespace).
  if (!text.startsWith('{')) fail('E_SAFETENSORS_HEADER_JSON', label, 'header does not start with "{"');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    fail('E_SAFETENSORS_HEADER_JSON', label, `header is not valid JSON (${(cause as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    fail('E_SAFETENSORS_HEADER_JSON', label, 'header is not a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function parseMetadata(value: unknown, label: string): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    fail('E_SAFETENSORS_METADATA', label, '__metadata__ is not an object');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [key, entry] of entries) {
    if (typeof entry !== 'string') {
      fail('E_SAFETENSORS_METADATA', label, `__metadata__["${key}"] is a ${typeof entry}, not a string`, { key });
    }
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(entries) as Record<string, string>;
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseTensorEntry(name: string, value: unknown, label: string): TensorInfo {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail('E_SAFETENSORS_HEADER_JSON', label, `entry "${name}" is not an object with dtype, shape and data_offsets`, { tensor: name });
  }
  const entry = value as Record<string, unknown>;
  if (!isSafetensorsDtype(entry.dtype)) {
    fail('E_SAFETENSORS_DTYPE', label, `tensor "${name}" has unknown dtype ${JSON.stringify(entry.dtype)}`, { tensor: name });
  }
  const dtype = entry.dtype;
  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    fail('E_SAFETENSORS_SHAPE', label, `tensor "${name}" has shape ${JSON.stringify(shape)}, not a list of non-negative integers`, {
      tensor: name,
    });
  }
  let elementCount = 1;
  for (const dimension of shape as number[]) {
    elementCount *= dimension;
    if (elementCount > Number.MAX_SAFE_INTEGER) {
      fail('E_SAFETENSORS_SHAPE', label, `tensor "${name}" element count overflows (shape ${JSON.stringify(shape)})`, { tensor: name });
    }
  }
  const offsets = entry.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isIndex(offsets[0]) || !isIndex(offsets[1])) {
    fail('E_SAFETENSORS_OFFSET', label, `tensor "${name}" has data_offsets ${JSON.stringify(offsets)}, not [begin, end]`, {
      tensor: name,
    });
  }
  return { name, dtype, shape: shape as number[], elementCount, begin: offsets[0] as number, end: offsets[1] as number };
}

/** Checks offsets (contiguous from 0, no gaps or overlaps) and byte lengths; returns the data end. */
function validateLayout(tensors: TensorInfo[], label: string): number {
  tensors.sort((left, right) => left.begin - right.begin || left.end - right.end);
  let expectedBegin = 0;
  for (const tensor of tensors) {
    if (tensor.begin !== expectedBegin) {
      const problem = tensor.begin < expectedBegin ? 'overlaps the previous tensor' : 'leaves a gap after the previous tensor';
      fail('E_SAFETENSORS_OFFSET', label, `tensor "${tensor.name}" starts at ${tensor.begin}, expected ${expectedBegin} (${problem})`, {
        tensor: tensor.name,
      });
    }
    if (tensor.end < tensor.begin) {
      fail('E_SAFETENSORS_OFFSET', label, `tensor "${tensor.name}" ends at ${tensor.end}, before it begins at ${tensor.begin}`, {
        tensor: tensor.name,
      });
    }
    const bits = tensor.elementCount * SAFETENSORS_DTYPE_BITS[tensor.dtype];
    if (bits > Number.MAX_SAFE_INTEGER) {
      fail('E_SAFETENSORS_SHAPE', label, `tensor "${tensor.name}" byte length overflows`, { tensor: tensor.name });
    }
    if (bits % 8 !== 0 || bits / 8 !== tensor.end - tensor.begin) {
      fail(
        'E_SAFETENSORS_LENGTH',
        label,
        `tensor "${tensor.name}" (${tensor.dtype} ${JSON.stringify(tensor.shape)}) needs ${bits / 8} bytes but its offsets span ${
          tensor.end - tensor.begin
        }`,
        { tensor: tensor.name },
      );
    }
    expectedBegin = tensor.end;
  }
  return expectedBegin;
}

/** Validates the JSON header bytes (N of them) of a file of `fileSize` bytes. */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, label: string): SafetensorsHeader {
  const json = decodeHeaderJson(headerBytes, label);
  let metadata: Record<string, string> | null = null;
  const tensors: TensorInfo[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(value, label);
    else tensors.push(parseTensorEntry(name, value, label));
  }
  const dataEnd = validateLayout(tensors, label);
  const dataStart = HEADER_LENGTH_BYTES + headerBytes.byteLength;
  if (dataStart + dataEnd !== fileSize) {
    const actual = fileSize - dataStart;
    fail(
      'E_SAFETENSORS_TRAILING',
      label,
      actual < dataEnd
        ? `data buffer is ${actual} bytes but the tensors need ${dataEnd} (file truncated)`
        : `data buffer is ${actual} bytes but the tensors end at ${dataEnd} (${actual - dataEnd} trailing bytes)`,
    );
  }
  return { headerLength: headerBytes.byteLength, dataStart, metadata, tensors };
}
