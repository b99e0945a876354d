import { describe, expect, it } from 'vitest';
import { isLoraTleError, type LoraTleErrorCode } from '@lora-tle/spec';
import { memoryByteSource } from './byte-source.js';
import { openSafetensors } from './safetensors-reader.js';
import { rawSafetensors } from './test-support.js';

async function rejection(bytes: Uint8Array): Promise<LoraTleErrorCode> {
  try {
    await openSafetensors(memoryByteSource(bytes), 'test.safetensors');
  } catch (error) {
    if (isLoraTleError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection, but the file parsed');
}

const entry = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
const file = (header: Record<string, unknown>, dataLength: number) => rawSafetensors(JSON.stringify(header), dataLength);

describe('safetensors header validation (one rule per test)', () => {
  it('accepts a well-formed file with a scalar, an empty tensor and metadata', async () => {
    const bytes = file(
      { __metadata__: { format: 'pt' }, a: entry('F32', [2, 2], [0, 16]), s: entry('F16', [], [16, 18]), e: entry('F32', [0, 5], [18, 18]) },
      18,
    );
    const reader = await openSafetensors(memoryByteSource(bytes));
    expect(reader.names()).toEqual(['a', 's', 'e']);
    expect(reader.metadata).toEqual({ format: 'pt' });
    expect(reader.info('s').elementCount).toBe(1);
    expect(reader.info('e').elementCount).toBe(0);
    expect(await reader.readTensor('e')).toHaveLength(0);
  });

  it('rejects a file shorter than 8 bytes', async () => {
    expect(await rejection(new Uint8Array(7))).toBe('E_SAFETENSORS_TOO_SMALL');
    expect(await rejection(new Uint8Array(0))).toBe('E_SAFETENSORS_TOO_SMALL');
  });

  it('rejects a declared header length above 100,000,000', async () => {
    expect(await rejection(rawSafetensors('{}', 0, 100_000_001n))).toBe('E_SAFETENSORS_HEADER_TOO_LARGE');
    expect(await rejection(rawSafetensors('{}', 0, 0xffffffffffffffffn))).toBe('E_SAFETENSORS_HEADER_TOO_LARGE');
  });

  it('rejects a header length that runs past the end of the file', async () => {
    expect(await rejection(rawSafetensors('{}', 0, 3n))).toBe('E_SAFETENSORS_HEADER_TOO_LARGE');
  });

  it('rejects a header that is not UTF-8', async () => {
    expect(await rejection(rawSafetensors(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])))).toBe('E_SAFETENSORS_HEADER_UTF8');
  });

  it('rejects a header that is not JSON', async () => {
    expect(await rejection(rawSafetensors('{"a": '))).toBe('E_SAFETENSORS_HEADER_JSON');
  });

  it('rejects a header that is JSON but not an object', async () => {
    expect(await rejection(rawSafetensors('[1,2]'))).toBe('E_SAFETENSORS_HEADER_JSON');
    expect(await rejection(rawSafetensors(' {}'))).toBe('E_SAFETENSORS_HEADER_JSON');
    expect(await rejection(file({ a: 5 }, 0))).toBe('E_SAFETENSORS_HEADER_JSON');
  });

  it('rejects __metadata__ values that are not strings', async () => {
    expect(await rejection(file({ __metadata__: { format: 1 } }, 0))).toBe('E_SAFETENSORS_METADATA');
    expect(await rejection(file({ __metadata__: ['pt'] }, 0))).toBe('E_SAFETENSORS_METADATA');
  });

  it('rejects an unknown dtype', async () => {
    expect(await rejection(file({ a: entry('F17', [1], [0, 4]) }, 4))).toBe('E_SAFETENSORS_DTYPE');
  });

  it('rejects a shape that is not a list of non-negative safe integers', async () => {
    expect(await rejection(file({ a: entry('F32', [-1], [0, 4]) }, 4))).toBe('E_SAFETENSORS_SHAPE');
    expect(await rejection(file({ a: entry('F32', [1.5], [0, 4]) }, 4))).toBe('E_SAFETENSORS_SHAPE');
    expect(await rejection(file({ a: entry('F32', 4, [0, 16]) }, 16))).toBe('E_SAFETENSORS_SHAPE');
    expect(await rejection(file({ a: entry('F32', [2 ** 53], [0, 4]) }, 4))).toBe('E_SAFETENSORS_SHAPE');
  });

  it('rejects an element count that overflows', async () => {
    expect(await rejection(file({ a: entry('F32', [2 ** 30, 2 ** 30, 2 ** 30], [0, 4]) }, 4))).toBe('E_SAFETENSORS_SHAPE');
  });

  it('rejects a byte length that differs from shape × dtype size', async () => {
    expect(await rejection(file({ a: entry('F32', [2, 2], [0, 12]) }, 12))).toBe('E_SAFETENSORS_LENGTH');
    expect(await rejection(file({ a: entry('F16', [3], [0, 4]) }, 4))).toBe('E_SAFETENSORS_LENGTH');
  });

  it('rejects offsets that do not start at 0', async () => {
    expect(await rejection(file({ a: entry('F32', [1], [4, 8]) }, 8))).toBe('E_SAFETENSORS_OFFSET');
  });

  it('rejects a gap between tensors', async () => {
    expect(await rejection(file({ a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [8, 12]) }, 12))).toBe('E_SAFETENSORS_OFFSET');
  });

  it('rejects overlapping tensors', async () => {
    expect(await rejection(file({ a: entry('F32', [2], [0, 8]), b: entry('F32', [1], [4, 8]) }, 8))).toBe('E_SAFETENSORS_OFFSET');
  });

  it('rejects end < begin', async () => {
    expect(await rejection(file({ a: entry('F32', [1], [0, 4]), b: entry('F32', [0], [4, 0]) }, 4))).toBe('E_SAFETENSORS_OFFSET');
  });

  it('rejects malformed data_offsets', async () => {
    expect(await rejection(file({ a: entry('F32', [1], [0]) }, 4))).toBe('E_SAFETENSORS_OFFSET');
    expect(await rejection(file({ a: entry('F32', [1], [0, -4]) }, 4))).toBe('E_SAFETENSORS_OFFSET');
  });

  it('rejects a data buffer that does not end exactly at the last tensor', async () => {
    expect(await rejection(file({ a: entry('F32', [1], [0, 4]) }, 5))).toBe('E_SAFETENSORS_TRAILING');
    expect(await rejection(file({ a: entry('F32', [2], [0, 8]) }, 4))).toBe('E_SAFETENSORS_TRAILING');
  });

  it('checks the forged header length before reading or allocating the header', async () => {
    const reads: Array<[number, number]> = [];
    const inner = memoryByteSource(rawSafetensors('{}', 0, 99_999_999n));
    const spy = { ...inner, read: (offset: number, length: number) => (reads.push([offset, length]), inner.read(offset, length)) };
    await expect(openSafetensors(spy)).rejects.toMatchObject({ code: 'E_SAFETENSORS_HEADER_TOO_LARGE' });
    expect(reads).toEqual([[0, 8]]);
  });

  it('names the file and tensor in the message and says what to do', async () => {
    const error = await openSafetensors(memoryByteSource(file({ w: entry('F32', [1], [4, 8]) }, 8)), 'model.safetensors').catch(
      (caught: unknown) => caught,
    );
    expect(isLoraTleError(error)).toBe(true);
    expect((error as Error).message).toMatch(/model\.safetensors.*"w".*re-export/);
  });
});
