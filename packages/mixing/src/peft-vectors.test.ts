// Cross-check against real PEFT (tools/peft-vectors/make_peft_vectors.py): scaling and
// rank/alpha pattern resolution, every add_weighted_adapter combination, and the run-time mixture.

import { describe, expect, it } from 'vitest';
import type { LoraModuleWeights, OfflineCombination } from '@lora-tle/spec';
import { RUNTIME_COMBINATIONS } from './combination.js';
import { loraDelta, mixedDelta } from './delta.js';
import { mergedRank, mergeModule } from './merge.js';
import { resolveModuleRankAlpha } from './scaling.js';
import { loadPeftVectors, type PeftCaseFixture } from './test-peft-vectors.js';
import { relativeError } from './test-random.js';

const vectors = loadPeftVectors();
const TOLERANCE = 1e-5; // relative Frobenius error on ΔW

/** Adapters of a case that have `path`, as LoraModuleWeights resolved by OUR code, with their weights. */
function presentModules(testCase: PeftCaseFixture, path: string): { modules: LoraModuleWeights[]; weights: number[] } {
  const modules: LoraModuleWeights[] = [];
  const weights: number[] = [];
  testCase.adapters.forEach((adapter, i) => {
    const facts = adapter.modules[path];
    if (facts === undefined) return;
    const { rank, alpha, scaling } = resolveModuleRankAlpha(adapter.config, path);
    modules.push({
      module: path,
      rank,
      alpha,
      scaling,
      a: vectors.tensor(`${testCase.name}/input/${adapter.name}/${path}/A`),
      b: vectors.tensor(`${testCase.name}/input/${adapter.name}/${path}/B`),
      inFeatures: facts.inFeatures,
      outFeatures: facts.outFeatures,
    });
    weights.push(testCase.weights[i]!);
  });
  return { modules, weights };
}

describe(`PEFT ${vectors.versions.peft} reference vectors`, () => {
  it('fixture adapters have B ≠ 0', () => {
    for (const testCase of vectors.cases) {
      for (const adapter of testCase.adapters) {
        for (const path of Object.keys(adapter.modules)) {
          expect(vectors.tensor(`${testCase.name}/input/${adapter.name}/${path}/B`).some((value) => value !== 0)).toBe(true);
        }
      }
    }
  });

  it('resolveModuleRankAlpha reproduces PEFT rank, alpha and scaling for every module', () => {
    let checked = 0;
    for (const testCase of vectors.cases) {
      for (const adapter of testCase.adapters) {
        for (const [path, facts] of Object.entries(adapter.modules)) {
          const resolved = resolveModuleRankAlpha(adapter.config, path);
          expect(resolved.rank).toBe(facts.rank);
          expect(resolved.alpha).toBe(facts.alpha);
          expect(resolved.scaling).toBeCloseTo(facts.scaling, 12);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  for (const testCase of vectors.cases) {
    describe(`case ${testCase.name}`, () => {
      for (const merge of testCase.merges) {
        it(`${merge.key}: merged ΔW matches (${merge.source})`, () => {
          const configs = testCase.adapters.map((adapter) => adapter.config);
          const newRank = mergedRank(configs, merge.combination, merge.svdRank ?? undefined);
          expect(newRank).toBe(merge.newRank);
          expect(configs[0]!.useRslora).toBe(merge.newUseRslora);
          for (const expected of merge.modules) {
            const { modules, weights } = presentModules(testCase, expected.path);
            const merged = mergeModule(modules, weights, merge.combination as OfflineCombination, {
              rank: newRank,
              useRslora: configs[0]!.useRslora,
            });
            const prefix = `${testCase.name}/merged/${merge.key}/${expected.path}`;
            expect(merged.rank, expected.path).toBe(expected.rank);
            expect(merged.scaling).toBeCloseTo(expected.scaling, 12);
            const peftDelta = vectors.tensor(`${prefix}/delta`);
            expect(relativeError(loraDelta(merged), peftDelta), expected.path).toBeLessThan(TOLERANCE);
            if (vectors.has(`${prefix}/A`) && !merge.combination.startsWith('svd')) {
              // deterministic factors: compare them too
              expect(relativeError(merged.a, vectors.tensor(`${prefix}/A`))).toBeLessThan(TOLERANCE);
              expect(relativeError(merged.b, vectors.tensor(`${prefix}/B`))).toBeLessThan(TOLERANCE);
            }
            if ((RUNTIME_COMBINATIONS as readonly string[]).includes(merge.combination)) {
              // run-time mixture = PEFT's merged ΔW without the merged adapter's own scaling
              const runtime = mixedDelta(modules, weights, merge.combination as 'cat');
              const unscaled = peftDelta.map((value) => value / expected.scaling);
              expect(relativeError(runtime, unscaled), `run-time ${expected.path}`).toBeLessThan(TOLERANCE);
            }
          }
        });
      }
    });
  }
});
