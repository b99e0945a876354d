// Loading broken packs and feeding bad steps: every failure is a LoraTleError with a stable code.

import { cpSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandomAdapter, createRandomLlama } from '@lora-tle/graph';
import { isLoraTleError } from '@lora-tle/spec';
import { createNodeBackend, listExternalData } from './index.js';
import { buildPack, mix, tempDirs } from './test-support.js';

const dirs = tempDirs('manifest');
const backend = createNodeBackend({ threads: 1 });
const model = createRandomLlama({ numLayers: 1 }, 9);
const adapters = [createRandomAdapter(model.architecture, { name: 'x', rank: 2, targets: ['q_proj'] }, 4)];
let packDir = '';
let copies = 0;

beforeAll(async () => {
  packDir = await buildPack(dirs, 'good', model, adapters);
});
afterAll(() => dirs.cleanup());

/** A fresh copy of the good pack, modified by `change`. */
function brokenCopy(change: (dir: string) => void): string {
  const dir = dirs.make(`copy-${copies++}`);
  cpSync(packDir, dir, { recursive: true });
  change(dir);
  return dir;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(isLoraTleError(error), `expected LoraTleError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

describe('loading a pack', () => {
  it('lists the external data of model.onnx with offsets inside the weight files', () => {
    const references = listExternalData(readFileSync(join(packDir, 'model.onnx')));
    expect(new Set(references.map((reference) => reference.location))).toEqual(new Set(['base.weights', 'adapters.weights']));
    const baseEnd = Math.max(...references.filter((reference) => reference.location === 'base.weights').map((reference) => reference.offset + (reference.length ?? 0)));
    expect(baseEnd).toBe(statSync(join(packDir, 'base.weights')).size);
  });

  it('refuses a missing directory, a missing or corrupt pack.json and an unknown format version', async () => {
    await expectCode(backend.doLoad(dirs.make('nowhere')), 'E_NOT_FOUND');
    await expectCode(backend.doLoad(brokenCopy((dir) => rmSync(join(dir, 'pack.json')))), 'E_PACK_INVALID');
    await expectCode(backend.doLoad(brokenCopy((dir) => writeFileSync(join(dir, 'pack.json'), '{"formatVersion": 1,'))), 'E_PACK_INVALID');
    const future = (dir: string): void => {
      const manifest = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8'));
      writeFileSync(join(dir, 'pack.json'), JSON.stringify({ ...manifest, formatVersion: 99 }));
    };
    await expectCode(backend.doLoad(brokenCopy(future)), 'E_PACK_VERSION');
  });

  it('refuses missing files and truncated or missing external data', async () => {
    await expectCode(backend.doLoad(brokenCopy((dir) => rmSync(join(dir, 'model.onnx')))), 'E_PACK_INVALID');
    await expectCode(backend.doLoad(brokenCopy((dir) => rmSync(join(dir, 'adapters.weights')))), 'E_PACK_INVALID');
    await expectCode(backend.doLoad(brokenCopy((dir) => truncateSync(join(dir, 'base.weights'), 1000))), 'E_PACK_EXTERNAL_DATA');
    await expectCode(backend.doLoad(brokenCopy((dir) => truncateSync(join(dir, 'adapters.weights'), statSync(join(dir, 'adapters.weights')).size - 4))), 'E_PACK_EXTERNAL_DATA');
    await expectCode(backend.doLoad(brokenCopy((dir) => writeFileSync(join(dir, 'model.onnx'), 'not a model'))), 'E_PACK_INVALID');
  });
});

describe('stepping', () => {
  it('refuses malformed steps and consumed caches with codes', async () => {
    const session = await backend.doLoad(packDir);
    const coefficients = mix([1], 'cat');
    const step = { inputIds: Int32Array.of(1, 2), batchSize: 1, sequenceLength: 2, mix: [coefficients], cache: null };
    await expectCode(session.doStep({ ...step, sequenceLength: 3 }), 'E_INVALID_ARGUMENT');
    await expectCode(session.doStep({ ...step, inputIds: Int32Array.of(1, 999) }), 'E_INVALID_ARGUMENT');
    await expectCode(session.doStep({ ...step, mix: [mix([1, 0], 'cat')] }), 'E_INVALID_ARGUMENT');
    const farPositions = Int32Array.of(0, model.architecture.maxPositionEmbeddings);
    await expectCode(session.doStep({ ...step, positionIds: farPositions }), 'E_CONTEXT_OVERFLOW');
    const first = await session.doStep(step);
    const second = await session.doStep({ ...step, inputIds: Int32Array.of(3), sequenceLength: 1, cache: first.cache });
    expect(second.cache.length).toBe(3);
    await expectCode(session.doStep({ ...step, inputIds: Int32Array.of(3), sequenceLength: 1, cache: first.cache }), 'E_BACKEND_DISPOSED');
    await session.dispose();
    await expectCode(session.doStep(step), 'E_BACKEND_DISPOSED');
  });
});
