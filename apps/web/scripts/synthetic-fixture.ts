// The web app's stand-in for fixtures/tiny-tle while its trained model and adapters are not there
// yet: the CLI's synthetic fixture with a smaller random Llama (2 layers, hidden 64) so the browser
// loads it in seconds. Not a trained model: its text is noise; only the plumbing is real.

import { writeSyntheticFixture as writeCliSyntheticFixture } from '../../cli/src/synthetic-fixture.js';

const DATA_LINES = 200; // per split: enough for distinct profiles, small enough to build in seconds

/** Writes the synthetic fixture into `target` (skipped when `target/complete` exists). */
export function writeSyntheticFixture(realFixtureDir: string, target: string): Promise<string> {
  return writeCliSyntheticFixture(realFixtureDir, target, {
    architecture: { hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, maxPositionEmbeddings: 512 },
    dataLines: DATA_LINES,
  });
}
