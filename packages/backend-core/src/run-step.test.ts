// runStep validates before running and chunks only past maxTokensPerRun; mergeBackendOptions
// lets a load override the factory under its backend id and refuses a non-object bag.

import { describe, expect, it } from 'vitest';
import type { StepInput, StepOutput } from '@lora-tle/spec';
import { mergeBackendOptions, runStep } from './run-step.js';
import { smallPack, smallStep } from './test-support.js';

const pack = smallPack();

function recorder() {
  const runs: [number, number][] = []; // (T, past) per run
  const runOnce = async (step: StepInput, past: number): Promise<StepOutput> => {
    runs.push([step.sequenceLength, past]);
    return { logits: new Float32Array(step.batchSize * pack.architecture.vocabSize), logitsPositions: 1, cache: { backendId: 'test', batchSize: step.batchSize, length: past + step.sequenceLength, dispose() {} } };
  };
  return { runs, runOnce };
}

describe('runStep', () => {
  it('one run up to maxTokensPerRun, chunks beyond it, nothing run for an invalid step', async () => {
    const whole = recorder();
    await runStep(pack, smallStep(), {}, 3, whole.runOnce);
    expect(whole.runs).toEqual([[3, 0]]);
    const chunked = recorder();
    const output = await runStep(pack, smallStep(), {}, 2, chunked.runOnce);
    expect(chunked.runs).toEqual([[2, 0], [1, 2]]);
    expect(output.cache.length).toBe(3);
    const refused = recorder();
    expect(() => runStep(pack, smallStep({ sequenceLength: 2 }), {}, 2, refused.runOnce)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    expect(refused.runs).toEqual([]);
  });
});

describe('mergeBackendOptions', () => {
  it('per-load options under the backend id override the factory; others are ignored', () => {
    const factory = { device: 'cpu', threads: 2 };
    expect(mergeBackendOptions(factory, undefined, 'node', '{}')).toEqual(factory);
    expect(mergeBackendOptions(factory, { backendOptions: { node: { threads: 4 }, web: { device: 'wasm' } } }, 'node', '{}')).toEqual({ device: 'cpu', threads: 4 });
    expect(() => mergeBackendOptions(factory, { backendOptions: { node: 'fast' } }, 'node', '{ threads: 4 }')).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT', message: 'backendOptions.node must be an object such as { threads: 4 }' }),
    );
  });
});
