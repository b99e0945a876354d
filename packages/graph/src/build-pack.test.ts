// buildModelPack from directories (the HF parity fixture made by test-fixtures/make_hf_parity.py):
// what pack.json records about the sources, and bad directories refused with codes.

import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoraTleError } from '@lora-tle/spec';
import { buildModelPack } from './index.js';

const FIXTURE = fileURLToPath(new URL('../test-fixtures/hf-parity/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lora-tle-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const adapters = [
  { name: 'alpha', dir: join(FIXTURE, 'alpha') },
  { name: 'beta', dir: join(FIXTURE, 'beta') },
];

async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  return isLoraTleError(error) ? error.code : `not a LoraTleError: ${String(error)}`;
}

describe('buildModelPack', () => {
  it('records architecture, adapter ranks and targets, and sha256 of every source file', async () => {
    const manifest = await buildModelPack({ checkpointDir: join(FIXTURE, 'base'), adapters, destination: join(root, 'pack') });
    expect(manifest.architecture).toMatchObject({ numKvHeads: 2, headDim: 16, tieWordEmbeddings: true, attentionBias: true });
    expect(manifest.architecture.ropeScaling.type).toBe('llama3');
    expect(manifest.adapters.map((adapter) => [adapter.name, adapter.rank, [...adapter.targetModules].sort()])).toEqual([
      ['alpha', 4, ['down_proj', 'gate_proj', 'q_proj', 'v_proj']],
      ['beta', 4, ['k_proj', 'o_proj', 'q_proj', 'up_proj']],
    ]);
    const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(manifest.adapters[0]?.sourceHash).toBe(sha(join(FIXTURE, 'alpha', 'adapter_model.safetensors')));
    expect(manifest.sourceHashes['checkpoint/model.safetensors']).toBe(sha(join(FIXTURE, 'base', 'model.safetensors')));
    expect(JSON.parse(readFileSync(join(root, 'pack', 'pack.json'), 'utf8'))).toEqual(manifest);
  });

  it('refuses missing directories, an unsupported model_type and an existing destination', async () => {
    expect(await codeOf(buildModelPack({ checkpointDir: join(root, 'nowhere'), adapters: [], destination: join(root, 'a') }))).toBe('E_NOT_FOUND');
    expect(await codeOf(buildModelPack({ checkpointDir: join(FIXTURE, 'base'), adapters: [{ name: 'x', dir: join(root, 'nowhere') }], destination: join(root, 'b') }))).toBe('E_NOT_FOUND');
    const wrongBase = join(root, 'wrong-base');
    cpSync(join(FIXTURE, 'base'), wrongBase, { recursive: true });
    const config = JSON.parse(readFileSync(join(wrongBase, 'config.json'), 'utf8'));
    writeFileSync(join(wrongBase, 'config.json'), JSON.stringify({ ...config, model_type: 'gpt2' }));
    expect(await codeOf(buildModelPack({ checkpointDir: wrongBase, adapters: [], destination: join(root, 'c') }))).toBe('E_MODEL_TYPE');
    expect(await codeOf(buildModelPack({ checkpointDir: join(FIXTURE, 'base'), adapters, destination: join(root, 'pack') }))).toBe('E_OUTPUT_EXISTS');
  });
});
