import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { memoryByteSource } from './byte-source.js';
import { encodeSafetensorsBytes } from './safetensors-encode.js';
import { openSafetensors } from './safetensors-reader.js';
import { numberToBfloat16Bits, numberToHalfBits } from './tensor-decode.js';
import { randomFloats, seededRandom } from './test-support.js';

const fixtures = fileURLToPath(new URL('../test-fixtures/', import.meta.url));

/** Expected values written by Python (torch + safetensors), see test-fixtures/make_fixtures.py. */
interface DtypeExpectations {
  source_f32_bits: number[];
  f16_bits: number[];
  bf16_bits: number[];
  f16_as_f32_bits: number[];
  bf16_as_f32_bits: number[];
  f64_as_f32_bits: number[];
  i64_values: number[];
}

const bitsOf = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
const floatsFromBits = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);

describe('dtype decoding against torch', () => {
  it('decodes F16, BF16, F32, F64 and I64 written by safetensors.torch bit-exactly', async () => {
    const expected = JSON.parse(await readFile(`${fixtures}dtypes.json`, 'utf8')) as DtypeExpectations;
    const reader = await openSafetensors(memoryByteSource(await readFile(`${fixtures}dtypes.safetensors`)));
    expect(reader.metadata).toEqual({ format: 'pt' });
    // Canonicalise NaN payloads: torch keeps them, we produce the default quiet NaN; both are NaN.
    const canonical = (bits: number[]) => bits.map((b) => ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff ? 'nan' : b));
    expect(canonical(bitsOf(await reader.readTensor('f16')))).toEqual(canonical(expected.f16_as_f32_bits));
    expect(canonical(bitsOf(await reader.readTensor('bf16')))).toEqual(canonical(expected.bf16_as_f32_bits));
    expect(bitsOf(await reader.readTensor('f32'))).toEqual(expected.source_f32_bits);
    expect(canonical(bitsOf(await reader.readTensor('f64')))).toEqual(canonical(expected.f64_as_f32_bits));
    expect(Array.from(await reader.readTensor('i64'))).toEqual(expected.i64_values.map(Math.fround));
    expect(reader.info('i64').shape).toEqual([2, 3]);
    expect(Array.from(await reader.readTensor('scalar'))).toEqual([2.5]);
    expect(reader.info('empty').shape).toEqual([0, 3]);
  });

  it('rounds float32 to F16 and BF16 exactly like torch (round to nearest even)', async () => {
    const expected = JSON.parse(await readFile(`${fixtures}dtypes.json`, 'utf8')) as DtypeExpectations;
    const source = floatsFromBits(expected.source_f32_bits);
    const nanAware = (bits: number[], exponentMask: number, mantissaMask: number) =>
      bits.map((b) => ((b & exponentMask) === exponentMask && b & mantissaMask ? 'nan' : b));
    expect(nanAware(Array.from(source, numberToHalfBits), 0x7c00, 0x3ff)).toEqual(nanAware(expected.f16_bits, 0x7c00, 0x3ff));
    expect(nanAware(Array.from(source, numberToBfloat16Bits), 0x7f80, 0x7f)).toEqual(nanAware(expected.bf16_bits, 0x7f80, 0x7f));
  });

  it('refuses to decode 8-bit floats with E_SAFETENSORS_DTYPE but still reports them', async () => {
    const header = JSON.stringify({ q: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } });
    const bytes = new Uint8Array(8 + header.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    const reader = await openSafetensors(memoryByteSource(bytes));
    expect(reader.info('q').dtype).toBe('F8_E4M3');
    await expect(reader.readTensor('q')).rejects.toMatchObject({ code: 'E_SAFETENSORS_DTYPE' });
  });
});

describe('safetensors round trip', () => {
  it('writes and reads back F32 exactly and F16/BF16 to their rounding, with metadata', async () => {
    const random = seededRandom(7);
    const weight = randomFloats(6 * 5, random);
    const bytes = encodeSafetensorsBytes(
      [
        { name: 'z.half', shape: [3], data: new Float32Array([1, -2.5, 1 / 3]), dtype: 'F16' },
        { name: 'a.weight', shape: [6, 5], data: weight },
        { name: 'b.bf', shape: [2], data: new Float32Array([1 / 3, -7]), dtype: 'BF16' },
        { name: 'scalar', shape: [], data: new Float32Array([4]) },
      ],
      { format: 'pt', note: 'round trip' },
    );
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const reader = await openSafetensors(memoryByteSource(bytes));
    expect(reader.metadata).toEqual({ format: 'pt', note: 'round trip' });
    // Stable order: wider dtypes first, then by name.
    expect(reader.names()).toEqual(['a.weight', 'scalar', 'b.bf', 'z.half']);
    expect(await reader.readTensor('a.weight')).toEqual(weight);
    expect(Array.from(await reader.readTensor('z.half'))).toEqual([1, -2.5, 0.333251953125]);
    expect(Array.from(await reader.readTensor('b.bf'))).toEqual([0.333984375, -7]);
    expect(reader.info('a.weight').shape).toEqual([6, 5]);
    expect(Array.from(await reader.readTensor('scalar'))).toEqual([4]);
  });

  it('produces the same bytes whatever order the tensors are given in', () => {
    const first = { name: 'x', shape: [2], data: new Float32Array([1, 2]) };
    const second = { name: 'y', shape: [1], data: new Float32Array([3]) };
    expect(encodeSafetensorsBytes([first, second])).toEqual(encodeSafetensorsBytes([second, first]));
  });

  it('refuses data whose length does not match the shape', () => {
    expect(() => encodeSafetensorsBytes([{ name: 'x', shape: [3], data: new Float32Array(2) }])).toThrow(/3 elements/);
  });
});
