// Fuzz: mutated and truncated safetensors files fed to the reader from memory. Every input must
// either parse (and then every tensor must read) or fail with a LoraTleError — nothing else.

import { describe, expect, it } from 'vitest';
import { isLoraTleError } from '@lora-tle/spec';
import { memoryByteSource } from './byte-source.js';
import { encodeSafetensorsBytes } from './safetensors-encode.js';
import { openSafetensors } from './safetensors-reader.js';
import { rawSafetensors, randomFloats, seededRandom } from './test-support.js';

const CASES = 10_000;

function seedFile(random: () => number): Uint8Array {
  return encodeSafetensorsBytes(
    [
      { name: 'model.layers.0.self_attn.q_proj.weight', shape: [4, 3], data: randomFloats(12, random) },
      { name: 'h', shape: [5], data: randomFloats(5, random), dtype: 'F16' },
      { name: 'b', shape: [2, 1], data: randomFloats(2, random), dtype: 'BF16' },
      { name: 'empty', shape: [0], data: new Float32Array(0) },
    ],
    { format: 'pt' },
  );
}

const HEADER_EDITS: Array<(header: string, random: () => number) => string> = [
  (header) => header.replace(/"F32"/, '"F64"'),
  (header) => header.replace(/"F16"/, '"X16"'),
  (header) => header.replace(/\[4,3\]/, '[3,4,1]'),
  (header) => header.replace(/\[4,3\]/, '[4,-3]'),
  (header) => header.replace(/\[4,3\]/, '[4294967296,4294967296]'),
  (header, random) => header.replace(/\d+/, String(Math.floor(random() * 100))),
  (header, random) => header.replace(/(\d+)\]/, (_, n: string) => `${Number(n) + Math.floor(random() * 9) - 4}]`),
  (header) => header.replace('"pt"', '7'),
  (header) => header.replace('"format"', '"__proto__"'),
  (header) => header.replace('{', '['),
  (header, random) => header.slice(0, Math.floor(random() * header.length)),
  (header) => header.replace(/"data_offsets":\[\d+,\d+\]/, '"data_offsets":[0]'),
  (header) => header.replace('}', ',"x":null}'),
  (header) => header.replace(/"shape":\[[^\]]*\]/, '"shape":"big"'),
];

function mutate(original: Uint8Array, random: () => number): Uint8Array {
  const headerLength = Number(new DataView(original.buffer).getBigUint64(0, true));
  const kind = Math.floor(random() * 5);
  if (kind === 0) {
    // random byte flips anywhere
    const bytes = original.slice();
    const flips = 1 + Math.floor(random() * 4);
    for (let i = 0; i < flips; i++) {
      const at = Math.floor(random() * bytes.length);
      bytes[at] = (bytes[at] as number) ^ (1 << Math.floor(random() * 8));
    }
    return bytes;
  }
  if (kind === 1) {
    // truncation
    return original.slice(0, Math.floor(random() * original.length));
  }
  if (kind === 2) {
    // length forgery: the 8-byte prefix declares anything from 0 to 2^64-1
    const bytes = original.slice();
    const choices = [0n, 1n, BigInt(headerLength - 1), BigInt(headerLength + 1), 100_000_001n, 2n ** 63n, 2n ** 64n - 1n];
    const declared = random() < 0.5 ? choices[Math.floor(random() * choices.length)]! : BigInt(Math.floor(random() * 2 ** 40));
    new DataView(bytes.buffer).setBigUint64(0, declared, true);
    return bytes;
  }
  // header edits (kind 3, 4): rewrite the JSON and keep or drop the data
  const header = new TextDecoder().decode(original.subarray(8, 8 + headerLength)).trimEnd();
  const edit = HEADER_EDITS[Math.floor(random() * HEADER_EDITS.length)]!;
  const data = original.subarray(8 + headerLength);
  const edited = new TextEncoder().encode(edit(header, random));
  const bytes = rawSafetensors(edited, data.length);
  bytes.set(data, 8 + edited.length);
  return kind === 4 ? bytes.subarray(0, bytes.length - Math.floor(random() * 6)) : bytes;
}

describe('safetensors reader fuzz', () => {
  it(`parses or rejects with a LoraTleError on ${CASES} mutated files`, async () => {
    const random = seededRandom(20231205);
    const original = seedFile(random);
    const outcomes = { parsed: 0, rejected: 0 };
    for (let i = 0; i < CASES; i++) {
      const bytes = mutate(original, random);
      try {
        const reader = await openSafetensors(memoryByteSource(bytes), `case-${i}`);
        for (const name of reader.names()) {
          try {
            await reader.readTensor(name);
          } catch (error) {
            if (!isLoraTleError(error) || error.code !== 'E_SAFETENSORS_DTYPE') throw error;
          }
        }
        outcomes.parsed++;
      } catch (error) {
        if (!isLoraTleError(error)) throw new Error(`case ${i}: non-LoraTleError ${String(error)}`, { cause: error });
        outcomes.rejected++;
      }
    }
    expect(outcomes.parsed + outcomes.rejected).toBe(CASES);
    // Both paths must be exercised, or the mutations are too weak or too strong.
    expect(outcomes.parsed).toBeGreaterThan(100);
    expect(outcomes.rejected).toBeGreaterThan(CASES / 2);
  });
});
