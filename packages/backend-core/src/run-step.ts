// The skeleton of every backend's doStep: validate the step, then one run, or several runs when
// the step is longer than the device's max tokens per run (chunked-step.ts). Also the per-load
// options bag keyed by backend id. The session supplies the single run; no runtime here.

import { LoraTleError } from '@lora-tle/spec';
import type { BackendLoadOptions, PackManifest, StepInput, StepOutput } from '@lora-tle/spec';
import { stepInChunks } from './chunked-step.js';
import { validateStep } from './step-validation.js';

/**
 * Validates `input` for `session` (the owner its cache must have) and runs it through
 * `runOnce(step, past)`, in chunks when sequenceLength > maxTokensPerRun.
 */
export function runStep(
  pack: PackManifest,
  input: StepInput,
  session: object,
  maxTokensPerRun: number,
  runOnce: (step: StepInput, past: number) => Promise<StepOutput>,
): Promise<StepOutput> {
  const past = validateStep(pack, input, session);
  if (input.sequenceLength <= maxTokensPerRun) return runOnce(input, past);
  const { vocabSize, hiddenSize } = pack.architecture;
  return stepInChunks(input, past, { vocabSize, hiddenSize, maxTokensPerRun }, runOnce);
}

/** Factory options overridden by `backendOptions[backendId]` of one load; `example` shows a valid bag in the error. */
export function mergeBackendOptions<Options extends object>(factory: Options, load: BackendLoadOptions | undefined, backendId: string, example: string): Options {
  const perLoad = load?.backendOptions?.[backendId];
  if (perLoad !== undefined && (typeof perLoad !== 'object' || perLoad === null)) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `backendOptions.${backendId} must be an object such as ${example}`);
  }
  return { ...factory, ...(perLoad as Options | undefined) };
}
