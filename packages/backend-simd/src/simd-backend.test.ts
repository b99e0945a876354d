// The simd backend's own parts: the committed kernels are kernels.wat as assembled; each kernel
// against a plain loop on shapes that are not multiples of 4; the allocator's reuse; and loading
// or stepping wrongly — every failure a LoraTleError with a stable code.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandomAdapter, createRandomLlama } from '@lora-tle/graph';
import { isLoraTleError, type Backend } from '@lora-tle/spec';
import { buildPack, maxAbsDifference, mix, tempDirs } from '../../backend-node/src/test-support.js';
import { createSimdBackend, openSimdSession } from './index.js';
import { KERNELS_WASM_BASE64 } from './kernels-wasm.js';
import { assembleKernels } from './test-support.js';
import { PANEL_COLUMNS, panelsOf, WasmHeap } from './wasm-heap.js';

const dirs = tempDirs('simd');
afterAll(() => dirs.cleanup());
const backend = createSimdBackend() satisfies Backend;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isLoraTleError(error) ? error.code : `not a LoraTleError: ${String(error)}`;
  }
  return 'resolved';
}

/** |got − sum| within float32 rounding of a sum whose terms' magnitudes add up to `magnitude`. */
function expectSum(got: number | undefined, sum: number, magnitude: number): void {
  expect(Math.abs((got as number) - sum)).toBeLessThanOrEqual(1e-6 * magnitude + 1e-7);
}

/** Deterministic values in [-1, 1). */
function values(count: number, seed: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) % 1);
}

describe('kernels', () => {
  it('kernels-wasm.ts holds kernels.wat as assembled (run `npm run kernels -w @lora-tle/backend-simd` after editing it)', async () => {
    expect(Buffer.from(await assembleKernels()).toString('base64')).toBe(KERNELS_WASM_BASE64);
  });

  it('matvec and matvecT (matmulT of one token) equal plain loops, with and without accumulating, on odd shapes', async () => {
    const heap = await WasmHeap.create();
    for (const [rows, cols] of [[1, 1], [3, 5], [4, 4], [7, 13], [9, 33], [130, 67]] as const) {
      const w = heap.alloc(rows * cols, 'w');
      const x = heap.alloc(Math.max(rows, cols), 'x');
      const y = heap.alloc(Math.max(rows, cols), 'y');
      const weights = values(rows * cols, rows);
      const input = values(Math.max(rows, cols), cols);
      heap.f32.set(weights, w / 4);
      heap.f32.set(input, x / 4);
      heap.f32.fill(0.5, y / 4, y / 4 + Math.max(rows, cols));
      heap.matvec(w, x, y, rows, cols, true);
      const row = (r: number): number[] => Array.from({ length: cols }, (_, c) => (weights[r * cols + c] as number) * (input[c] as number));
      const total = (terms: number[]): number => terms.reduce((a, b) => a + b, 0);
      const magnitude = (terms: number[]): number => total(terms.map(Math.abs));
      for (let r = 0; r < rows; r++) expectSum(heap.f32[y / 4 + r], 0.5 + total(row(r)), magnitude(row(r)));
      heap.matvec(w, x, y, rows, cols, false);
      for (let r = 0; r < rows; r++) expectSum(heap.f32[y / 4 + r], total(row(r)), magnitude(row(r)));
      heap.f32.fill(0.25, y / 4, y / 4 + cols);
      heap.matmulT(w, x, rows, y, cols, rows, cols, 1); // one token: the matvecT kernel
      for (let c = 0; c < cols; c++) {
        const terms = Array.from({ length: rows }, (_, r) => (weights[r * cols + c] as number) * (input[r] as number));
        expectSum(heap.f32[y / 4 + c], 0.25 + total(terms), magnitude(terms));
      }
      for (const at of [w, x, y]) heap.release(at);
    }
  });

  it('matmulT (four tokens per kernel call, the rest one at a time) equals matvecT token by token, with strides', async () => {
    const heap = await WasmHeap.create();
    for (const [rows, cols, tokens] of [[5, 3, 4], [7, 13, 9], [16, 8, 5], [33, 21, 11]] as const) {
      const xStride = rows + 3;
      const yStride = cols + 2;
      const w = heap.alloc(rows * cols, 'w');
      const x = heap.alloc(tokens * xStride, 'x');
      const y = heap.alloc(tokens * yStride, 'y');
      const weights = values(rows * cols, rows + cols);
      const input = values(tokens * xStride, tokens);
      heap.f32.set(weights, w / 4);
      heap.f32.set(input, x / 4);
      heap.f32.fill(0.5, y / 4, y / 4 + tokens * yStride);
      heap.matmulT(w, x, xStride, y, yStride, rows, cols, tokens);
      for (let t = 0; t < tokens; t++) {
        for (let c = 0; c < cols; c++) {
          const terms = Array.from({ length: rows }, (_, r) => (weights[r * cols + c] as number) * (input[t * xStride + r] as number));
          expectSum(heap.f32[y / 4 + t * yStride + c], 0.5 + terms.reduce((a, b) => a + b, 0), terms.reduce((a, b) => a + Math.abs(b), 0));
        }
        for (let c = cols; c < yStride && t < tokens - 1; c++) expect(heap.f32[y / 4 + t * yStride + c]).toBe(0.5); // the stride's gap untouched
      }
      for (const at of [w, x, y]) heap.release(at);
    }
  });

  it('panelProduct on weights placed in panels of 16 equals a plain loop, one to nine tokens, with strides, overwriting or accumulating', async () => {
    const heap = await WasmHeap.create();
    for (const [rows, cols, tokens] of [[1, 1, 1], [5, 16, 4], [7, 13, 9], [16, 33, 5], [33, 50, 3]] as const) {
      const padded = panelsOf(cols) * PANEL_COLUMNS;
      const xStride = rows + 3;
      const yStride = padded + 5;
      const weights = values(rows * cols, rows + cols);
      const w = heap.placePanels(rows, cols, (r, c) => weights[r * cols + c] as number, 'w');
      const x = heap.alloc(tokens * xStride, 'x');
      const y = heap.alloc(tokens * yStride, 'y');
      const input = values(tokens * xStride, tokens);
      heap.f32.set(input, x / 4);
      for (const accumulate of [false, true]) {
        heap.f32.fill(0.5, y / 4, y / 4 + tokens * yStride);
        heap.panelProduct(w, x, xStride, y, yStride, rows, panelsOf(cols), tokens, accumulate);
        for (let t = 0; t < tokens; t++) {
          for (let c = 0; c < cols; c++) {
            const terms = Array.from({ length: rows }, (_, r) => (weights[r * cols + c] as number) * (input[t * xStride + r] as number));
            expectSum(heap.f32[y / 4 + t * yStride + c], (accumulate ? 0.5 : 0) + terms.reduce((a, b) => a + b, 0), terms.reduce((a, b) => a + Math.abs(b), 0));
          }
          for (let c = cols; c < padded; c++) expect(heap.f32[y / 4 + t * yStride + c]).toBe(accumulate ? 0.5 : 0); // zero padding columns
          for (let c = padded; c < yStride; c++) expect(heap.f32[y / 4 + t * yStride + c]).toBe(0.5); // the stride's gap untouched
        }
      }
      for (const at of [w, x, y]) heap.release(at);
    }
  });

  it('softmax and silu(gate)·up agree with Math.exp to float32 precision', async () => {
    const heap = await WasmHeap.create();
    const n = 301;
    const scores = heap.alloc(n, 'scores');
    const input = Float32Array.from(values(n, 3), (v) => v * 60);
    heap.f32.set(input, scores / 4);
    heap.softmax(scores, n, 0.125);
    const scaled = Array.from(input, (v) => Math.fround(v * 0.125));
    const max = Math.max(...scaled);
    const sum = scaled.reduce((total, v) => total + Math.exp(v - max), 0);
    for (let i = 0; i < n; i++) expect(Math.abs((heap.f32[scores / 4 + i] as number) - Math.exp((scaled[i] as number) - max) / sum)).toBeLessThan(1e-7);

    const gate = heap.alloc(n, 'gate');
    const up = heap.alloc(n, 'up');
    const gates = Float32Array.from(values(n, 5), (v) => v * 40);
    heap.f32.set(gates, gate / 4);
    heap.f32.set(values(n, 6), up / 4);
    const ups = heap.f32.slice(up / 4, up / 4 + n);
    heap.siluMul(gate, up, gate, n);
    for (let i = 0; i < n; i++) {
      const g = gates[i] as number;
      const expected = Math.fround(Math.fround(g / (1 + Math.exp(-g))) * (ups[i] as number));
      expect(Math.abs((heap.f32[gate / 4 + i] as number) - expected)).toBeLessThanOrEqual(Math.abs(expected) * 2e-7);
    }
  });

  it('reuses released blocks, merged with their free neighbours, before growing memory', async () => {
    const heap = await WasmHeap.create();
    const first = heap.alloc(1000, 'a');
    const second = heap.alloc(1000, 'b');
    const third = heap.alloc(10, 'c');
    const size = heap.byteLength;
    heap.release(first);
    heap.release(second);
    const merged = heap.alloc(2000, 'd'); // fits only in the two merged blocks
    expect(merged).toBe(first);
    expect(heap.byteLength).toBe(size);
    expect(heap.f32[merged / 4 + 1999]).toBe(0); // zeroed
    expect(third).toBeGreaterThan(second);
  });
});

describe('loading and stepping', () => {
  let packDir = '';
  beforeAll(async () => {
    const model = createRandomLlama({ numLayers: 2 }, 5);
    packDir = await buildPack(dirs, 'pack', model, [createRandomAdapter(model.architecture, { name: 'a', rank: 4, targets: ['q_proj', 'up_proj'] }, 6)]);
  });

  it('refuses a missing pack, the naive graph and truncated weights with the codes every backend uses', async () => {
    expect(await codeOf(backend.doLoad(join(packDir, 'nowhere')))).toBe('E_NOT_FOUND');
    expect(await codeOf(backend.doLoad(packDir, { graph: 'naive' }))).toBe('E_INVALID_ARGUMENT');
    const truncated = dirs.make('truncated');
    await buildPack(dirs, 'truncated', createRandomLlama({ numLayers: 2 }, 5), []);
    const weights = join(truncated, 'base.weights');
    writeFileSync(weights, readFileSync(weights).subarray(0, 1000));
    expect(await codeOf(backend.doLoad(truncated))).toBe('E_PACK_EXTERNAL_DATA');
  });

  it('refuses a pack whose stored adapter factors do not have the ranks pack.json gives', async () => {
    const copy = dirs.make('lying');
    await buildPack(dirs, 'lying', createRandomLlama({ numLayers: 2 }, 5), [createRandomAdapter(createRandomLlama({ numLayers: 2 }, 5).architecture, { name: 'a', rank: 4, targets: ['q_proj'] }, 6)]);
    const manifest = JSON.parse(readFileSync(join(copy, 'pack.json'), 'utf8'));
    manifest.adapters[0].rank = 3;
    writeFileSync(join(copy, 'pack.json'), JSON.stringify(manifest));
    expect(await codeOf(backend.doLoad(copy))).toBe('E_BACKEND_UNSUPPORTED');
  });

  it('opens a session on a pack\'s bytes, and refuses a missing or short weight file and a model that is not ONNX', async () => {
    const manifest = JSON.parse(readFileSync(join(packDir, 'pack.json'), 'utf8'));
    const model = readFileSync(join(packDir, 'model.onnx'));
    const file = (path: string) => ({ path, data: readFileSync(join(packDir, path)) });
    const files = { manifest, model, externalData: [file('base.weights'), file('adapters.weights')] };
    const session = await openSimdSession(files);
    const fromDirectory = await backend.doLoad(packDir);
    const step = { inputIds: Int32Array.of(1, 2, 3), batchSize: 1, sequenceLength: 3, mix: [mix([0.5], 'cat')], cache: null };
    expect(Array.from((await session.doStep(step)).logits)).toEqual(Array.from((await fromDirectory.doStep(step)).logits));
    expect(await codeOf(openSimdSession({ ...files, externalData: [file('base.weights')] }))).toBe('E_PACK_EXTERNAL_DATA');
    expect(await codeOf(openSimdSession({ ...files, externalData: [{ path: 'base.weights', data: file('base.weights').data.subarray(0, 4096) }, file('adapters.weights')] }))).toBe('E_PACK_EXTERNAL_DATA');
    expect(await codeOf(openSimdSession({ ...files, model: new Uint8Array([0xff, 0xff, 0xff]) }))).toBe('E_PACK_INVALID');
  });

  it('runs a left-padded batch with a mixture per row as each row alone, prefill and decode', async () => {
    const session = await backend.doLoad(packDir);
    const prompts = [[5, 6, 7, 8, 9], [11, 12, 13]];
    const mixes = [mix([0.9], 'cat'), mix([-0.4], 'cat')];
    const width = 5;
    const ids = Int32Array.from(prompts.flatMap((prompt) => [...new Array<number>(width - prompt.length).fill(0), ...prompt]));
    const positions = Int32Array.from(prompts.flatMap((prompt) => [...new Array<number>(width - prompt.length).fill(0), ...prompt.map((_, i) => i)]));
    let mask = Uint8Array.from(prompts.flatMap((prompt) => [...new Array<number>(width - prompt.length).fill(0), ...new Array<number>(prompt.length).fill(1)]));
    let batch = await session.doStep({ inputIds: ids, positionIds: positions, attentionMask: mask, batchSize: 2, sequenceLength: width, mix: mixes, cache: null });
    const alone = await Promise.all(prompts.map((prompt, row) => session.doStep({ inputIds: Int32Array.from(prompt), batchSize: 1, sequenceLength: prompt.length, mix: [mixes[row]!], cache: null })));
    const V = session.pack.architecture.vocabSize;
    const rowLogits = (logits: Float32Array, row: number) => logits.subarray(row * V, (row + 1) * V);
    let worst = Math.max(...alone.map((output, row) => maxAbsDifference(rowLogits(batch.logits, row), output.logits)));
    let caches = alone.map((output) => output.cache);
    for (let step = 1; step <= 4; step++) {
      const next = [step + 20, step + 30];
      mask = Uint8Array.from([0, 1].flatMap((row) => [...mask.subarray(row * (width + step - 1), (row + 1) * (width + step - 1)), 1]));
      const stepPositions = Int32Array.from(prompts.map((prompt) => prompt.length + step - 1));
      batch = await session.doStep({ inputIds: Int32Array.from(next), positionIds: stepPositions, attentionMask: mask, batchSize: 2, sequenceLength: 1, mix: mixes, cache: batch.cache });
      const outputs = await Promise.all([0, 1].map((row) => session.doStep({ inputIds: Int32Array.of(next[row]!), batchSize: 1, sequenceLength: 1, mix: [mixes[row]!], cache: caches[row]! })));
      worst = Math.max(worst, ...outputs.map((output, row) => maxAbsDifference(rowLogits(batch.logits, row), output.logits)));
      caches = outputs.map((output) => output.cache);
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
    await session.dispose();
  });

  it('refuses naive-graph factors, a consumed cache and a disposed session', async () => {
    const session = await backend.doLoad(packDir);
    const coefficients = [mix([1], 'cat')];
    const step = { inputIds: Int32Array.of(1, 2), batchSize: 1, sequenceLength: 2, mix: coefficients, cache: null };
    expect(await codeOf(session.doStep({ ...step, adapterFactors: [] }))).toBe('E_INVALID_ARGUMENT');
    const first = await session.doStep(step);
    const second = await session.doStep({ ...step, inputIds: Int32Array.of(3), sequenceLength: 1, cache: first.cache });
    expect(second.cache.length).toBe(3);
    expect(await codeOf(session.doStep({ ...step, inputIds: Int32Array.of(3), sequenceLength: 1, cache: first.cache }))).toBe('E_BACKEND_DISPOSED');
    await session.dispose();
    expect(await codeOf(session.doStep(step))).toBe('E_BACKEND_DISPOSED');
  });
});
