// The synthetic fixture's options (used by tools/bench-scale): the architecture reaches config.json,
// the adapter rank and target modules reach the PEFT files (read back with lora-store's loader).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPeftAdapter } from '@lora-tle/lora-store/node';
import { LLAMA_LINEAR_MODULES } from '@lora-tle/spec';
import { embeddedFixtureDir } from './embedded-default.js';
import { writeSyntheticFixture } from './synthetic-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'lora-tle-synthetic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeSyntheticFixture', () => {
  it('writes adapters of the asked rank on the asked modules, and the asked architecture', async () => {
    const target = await writeSyntheticFixture(embeddedFixtureDir(), join(root, 'fixture'), {
      architecture: { hiddenSize: 64, numHeads: 2, numKvHeads: 1, headDim: 32, numLayers: 2, intermediateSize: 96 },
      dataLines: 5,
      adapterRank: 3,
      adapterTargets: LLAMA_LINEAR_MODULES,
    });
    const config = JSON.parse(readFileSync(join(target, 'config.json'), 'utf8')) as Record<string, number>;
    expect([config['hidden_size'], config['num_hidden_layers'], config['intermediate_size'], config['num_key_value_heads']]).toEqual([64, 2, 96, 1]);
    const adapter = await loadPeftAdapter(join(target, 'adapters', 'math'));
    try {
      const modules = await adapter.readModules();
      expect(modules).toHaveLength(2 * LLAMA_LINEAR_MODULES.length); // every module of both layers
      for (const module of modules) expect(module.rank).toBe(3);
      const down = modules.find((module) => module.module.endsWith('layers.1.mlp.down_proj'))!;
      expect([down.inFeatures, down.outFeatures]).toEqual([96, 64]);
    } finally {
      await adapter.close();
    }
    expect(readFileSync(join(target, 'data', 'code', 'train.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
  });
});
