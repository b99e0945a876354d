// Writes a random Llama of a chosen size with four random rank-8 adapters on all seven linear
// modules, in the Hugging Face / PEFT file formats, with the tiny-tle tokenizer and task data: a
// stand-in for measuring how the `lora-tle bench` ratios change with model size (docs/results.md).
// Speed does not depend on the weights being trained; its text is noise. Not a fixture for accuracy.
//
//   npx tsx tools/bench-scale/make-random-fixture.ts <out dir> [hidden 512] [layers 8] [intermediate 1536] [max positions 1024]

import { resolve } from 'node:path';
import { LLAMA_LINEAR_MODULES } from '@lora-tle/spec';
import { writeSyntheticFixture } from '../../apps/cli/src/synthetic-fixture.js';

const [out, hidden = '512', layers = '8', intermediate = '1536', maxPositions = '1024'] = process.argv.slice(2);
if (out === undefined) {
  console.error('usage: make-random-fixture.ts <out dir> [hidden] [layers] [intermediate] [max positions]');
  process.exit(2);
}
const hiddenSize = Number(hidden);
const headDim = 64;
const numHeads = hiddenSize / headDim;
if (!Number.isInteger(numHeads) || numHeads < 2) {
  console.error(`hidden must be a multiple of ${headDim} (≥ ${2 * headDim}), got ${hidden}`);
  process.exit(2);
}
const repository = resolve(import.meta.dirname, '../..');
const target = await writeSyntheticFixture(resolve(repository, 'fixtures/tiny-tle'), resolve(out), {
  architecture: {
    hiddenSize,
    numLayers: Number(layers),
    intermediateSize: Number(intermediate),
    numHeads,
    numKvHeads: numHeads / 2,
    headDim,
    maxPositionEmbeddings: Number(maxPositions),
  },
  dataLines: 300,
  adapterRank: 8,
  adapterTargets: LLAMA_LINEAR_MODULES,
});
console.log(`random fixture in ${target}`);
