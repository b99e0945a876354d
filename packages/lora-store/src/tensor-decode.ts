// Decoding raw little-endian tensor bytes to Float32Array (and encoding back for the writer).
// F32, F16 and BF16 are exact; F64 and the integer types are converted for inspection (may round).
// 8-, 6- and 4-bit floats and complex numbers are refused with E_SAFETENSORS_DTYPE.

import { LoraTleError } from '@lora-tle/spec';
import { SAFETENSORS_DTYPE_BITS, type SafetensorsDtype } from './dtypes.js';

/** Dtypes decodeToFloat32 accepts. */
export const DECODABLE_DTYPES: readonly SafetensorsDtype[] = [
  'F32', 'F16', 'BF16', 'F64', 'BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64',
];
/** Dtypes encodeFromFloat32 writes. */
export type EncodableDtype = 'F32' | 'F16' | 'BF16';

/** IEEE half (binary16) bits → number, exact (subnormals, ±0, ±inf, NaN). */
export function halfBitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** number → IEEE half bits, round to nearest even (what torch's .half() does). */
export function numberToHalfBits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // inf / NaN
  const unbiased = exponent - 127;
  if (unbiased > 15) return sign | 0x7c00; // overflow → inf
  if (unbiased >= -14) {
    // normal half: keep 10 mantissa bits, round the 13 dropped bits to nearest even
    let half = ((unbiased + 15) << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half += 1; // carry may round up to inf: correct
    return sign | half;
  }
  if (unbiased < -25) return sign; // below half the smallest subnormal → ±0
  // subnormal half: value = m · 2^-24 with m = full mantissa (with hidden bit) shifted
  const full = mantissa | 0x800000;
  const shift = -unbiased - 14 + 13; // 14..24
  let half = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (half & 1))) half += 1;
  return sign | half;
}

/** number → bfloat16 bits, round to nearest even (NaN stays NaN). */
export function numberToBfloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0] as number;
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** Decodes `elementCount` values of `dtype` from little-endian `bytes` to float32. */
export function decodeToFloat32(bytes: Uint8Array, dtype: SafetensorsDtype, elementCount: number, name = 'tensor'): Float32Array {
  if (!DECODABLE_DTYPES.includes(dtype)) {
    throw new LoraTleError(
      'E_SAFETENSORS_DTYPE',
      `${name} is ${dtype}, which lora-tle cannot decode; convert the checkpoint to F32, F16 or BF16 first`,
      { details: { tensor: name, dtype } },
    );
  }
  const expectedBytes = (elementCount * SAFETENSORS_DTYPE_BITS[dtype]) / 8;
  if (bytes.byteLength !== expectedBytes) {
    throw new LoraTleError('E_SAFETENSORS_LENGTH', `${name}: got ${bytes.byteLength} bytes, expected ${expectedBytes}`);
  }
  if (dtype === 'F32' && isLittleEndianHost()) {
    // Bytes that own their whole buffer (a fresh file read) are adopted without a copy; a view
    // into a larger buffer (a memory source) is copied, so the result never aliases it.
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return new Float32Array(owned ? bytes.buffer : new Uint8Array(bytes).buffer, 0, elementCount);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(elementCount);
  const bf16 = new Uint32Array(1);
  const bf16AsFloat = new Float32Array(bf16.buffer);
  for (let i = 0; i < elementCount; i++) {
    switch (dtype) {
      case 'F32': out[i] = view.getFloat32(i * 4, true); break;
      case 'F16': out[i] = halfBitsToNumber(view.getUint16(i * 2, true)); break;
      case 'BF16': bf16[0] = view.getUint16(i * 2, true) << 16; out[i] = bf16AsFloat[0] as number; break;
      case 'F64': out[i] = view.getFloat64(i * 8, true); break;
      case 'BOOL': case 'U8': out[i] = view.getUint8(i); break;
      case 'I8': out[i] = view.getInt8(i); break;
      case 'I16': out[i] = view.getInt16(i * 2, true); break;
      case 'U16': out[i] = view.getUint16(i * 2, true); break;
      case 'I32': out[i] = view.getInt32(i * 4, true); break;
      case 'U32': out[i] = view.getUint32(i * 4, true); break;
      case 'I64': out[i] = Number(view.getBigInt64(i * 8, true)); break;
      default: out[i] = Number(view.getBigUint64(i * 8, true)); break; // U64
    }
  }
  return out;
}

/** Encodes float32 values as little-endian `dtype` bytes. */
export function encodeFromFloat32(values: Float32Array, dtype: EncodableDtype): Uint8Array {
  if (dtype === 'F32') {
    const out = new Uint8Array(values.length * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
    return out;
  }
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  const toBits = dtype === 'F16' ? numberToHalfBits : numberToBfloat16Bits;
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, toBits(values[i] as number), true);
  return out;
}
