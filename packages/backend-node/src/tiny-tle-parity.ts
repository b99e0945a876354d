// The tiny-tle parity check every CPU backend runs (test support, not exported): a backend's logits
// and greedy ids on the real fixture fixtures/tiny-tle (a trained small Llama and four adapters)
// against the references transformers + PEFT made (tools/fixtures/stage_reference.py, see its
// README). Each backend's *.tiny-tle.test.ts calls describeTinyTleParity with its loader.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors, memoryByteSource } from '@lora-tle/lora-store';
import type { BackendSession, Combination } from '@lora-tle/spec';
import { buildTinyTlePacks, maxAbsDifference, mix, readTinyTleReferenceIndex, tempDirs, TINY_TLE_FIXTURE, TINY_TLE_REFERENCE_INDEX } from './test-support.js';

/**
 * Parity with transformers + PEFT on fixtures/tiny-tle for one backend (`load` opens a pack
 * directory): packs built with cat and linear; for every reference run and prompt, the logits after
 * prefill and at each greedy step within 1e-4 and the same greedy ids (the token-level run
 * recomputes the whole sequence per step). Skipped, with a message, without the fixture's references.
 */
export function describeTinyTleParity(backendName: string, load: (packDir: string) => Promise<BackendSession>): void {
  const FIXTURE = TINY_TLE_FIXTURE;
  const index = readTinyTleReferenceIndex();
  const present = index !== null;
  if (!present) console.warn(`tiny-tle parity skipped: ${TINY_TLE_REFERENCE_INDEX} not found (run tools/fixtures/make_tiny_tle.py)`);
  const TOLERANCE = 1e-4;
  const dirs = tempDirs('tiny-tle');
  const sessions: Partial<Record<Combination, BackendSession>> = {};

  describe.skipIf(!present)(`${backendName} backend vs transformers + PEFT on fixtures/tiny-tle`, () => {
    beforeAll(async () => {
      const packs = await buildTinyTlePacks(dirs, index!, ['cat', 'linear'] as const);
      for (const [combination, packDir] of Object.entries(packs) as [Combination, string][]) sessions[combination] = await load(packDir);
    });
    afterAll(async () => {
      for (const session of Object.values(sessions)) await session.dispose();
      dirs.cleanup();
    });

    for (const run of index?.runs ?? []) {
      it(`${run.name}: every prompt, prefill + ${index!.steps} greedy steps`, async () => {
        const session = sessions[run.combination ?? 'cat'] as BackendSession;
        const combination = session.pack.combination;
        const V = index!.vocab_size;
        const reader = await openSafetensors(memoryByteSource(readFileSync(join(FIXTURE, 'reference', run.file))), run.file);
        const logits = await reader.readTensor('logits'); // (P, steps+1, V)
        const stepsPlusOne = index!.steps + 1;
        let worst = 0;
        for (const [p, prompt] of index!.prompts.entries()) {
          const expectedIds = run.generated_ids[p] as number[];
          const expectedAt = (k: number): Float32Array => logits.subarray((p * stepsPlusOne + k) * V, (p * stepsPlusOne + k + 1) * V);
          const ours: number[] = [];
          if (run.mode === 'token') {
            // recompute: the whole sequence under step k's weights, no cache
            for (let k = 0; k <= index!.steps; k++) {
              const tokens = [...prompt.prompt_ids, ...expectedIds.slice(0, k)];
              const output = await session.doStep({ inputIds: Int32Array.from(tokens), batchSize: 1, sequenceLength: tokens.length, mix: [mix(run.weights_per_step![k]!, combination)], cache: null });
              output.cache.dispose();
              worst = Math.max(worst, maxAbsDifference(output.logits, expectedAt(k)));
              if (k < index!.steps) ours.push(output.logits.indexOf(Math.max(...output.logits)));
            }
          } else {
            const coefficients = [mix(run.weights as number[], combination)];
            let output = await session.doStep({ inputIds: Int32Array.from(prompt.prompt_ids), batchSize: 1, sequenceLength: prompt.prompt_ids.length, mix: coefficients, cache: null });
            for (let k = 0; k <= index!.steps; k++) {
              if (k > 0) output = await session.doStep({ inputIds: Int32Array.of(expectedIds[k - 1] as number), batchSize: 1, sequenceLength: 1, mix: coefficients, cache: output.cache });
              worst = Math.max(worst, maxAbsDifference(output.logits, expectedAt(k)));
              if (k < index!.steps) ours.push(output.logits.indexOf(Math.max(...output.logits)));
            }
            output.cache.dispose();
          }
          expect(ours, `greedy ids of prompt ${p} (${prompt.task})`).toEqual(expectedIds);
        }
        await reader.close();
        expect(worst).toBeLessThanOrEqual(TOLERANCE);
      });
    }
  });
}
