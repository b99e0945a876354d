// Writes sample adapters with writePeftAdapter for check_peft_load.py (not a test):
//   node --conditions=source --import tsx packages/lora-store/test-fixtures/write_sample_adapter.ts OUT_DIR
// OUT_DIR/patterns: use_rslora, a rank_pattern and an alpha_pattern written by hand.
// OUT_DIR/derived:  a different rank and alpha per module, config from peftConfigForModules.
// Random A and B for all seven projections of both tiny-llama layers. OUT_DIR/expected.json holds
// the rank, alpha and scaling lora-store resolved per module, for Python to compare with PEFT.

import { readFileSync, writeFileSync } from 'node:fs';
import { LLAMA_LINEAR_MODULES, type LoraAdapterConfig, type LoraModuleWeights } from '@lora-tle/spec';
import { loraScaling, resolveModuleRankAlpha } from '@lora-tle/mixing';
import { linearFeatures, linearModulePath, parseLlamaConfig, peftConfigForModules } from '../src/index.js';
import { writePeftAdapter } from '../src/node.js';

const out = process.argv[2];
if (!out) throw new Error('usage: write_sample_adapter.ts OUT_DIR');
const architecture = parseLlamaConfig(JSON.parse(readFileSync(new URL('tiny-llama/config.json', import.meta.url), 'utf8')));
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;

function moduleWeights(rankAlphaOf: (module: string) => { rank: number; alpha: number }, useRslora: boolean): LoraModuleWeights[] {
  const modules: LoraModuleWeights[] = [];
  for (let layer = 0; layer < architecture.numLayers; layer++) {
    for (const name of LLAMA_LINEAR_MODULES) {
      const module = linearModulePath(layer, name);
      const { inFeatures, outFeatures } = linearFeatures(architecture, name);
      const { rank, alpha } = rankAlphaOf(module);
      modules.push({
        module, rank, alpha, scaling: loraScaling({ alpha, rank, useRslora }), inFeatures, outFeatures,
        a: Float32Array.from({ length: rank * inFeatures }, random), // (r, in)
        b: Float32Array.from({ length: outFeatures * rank }, random), // (out, r)
      });
    }
  }
  return modules;
}

const patterns: LoraAdapterConfig = {
  r: 4, loraAlpha: 6, useRslora: true, rankPattern: { 'mlp.down_proj': 2 }, alphaPattern: { 'layers.1.self_attn.v_proj': 10 },
  targetModules: [...LLAMA_LINEAR_MODULES], layersToTransform: null, baseModelNameOrPath: 'tiny-llama', fanInFanOut: false, peftType: 'LORA',
};
const patternModules = moduleWeights((module) => resolveModuleRankAlpha(patterns, module), true);
await writePeftAdapter(`${out}/patterns`, { config: patterns, modules: patternModules });

let index = 0;
const derivedModules = moduleWeights(() => ({ rank: 1 + (index % 3 === 0 ? 3 : index % 2), alpha: [4, 4, 2.5, 7][index++ % 4] as number }), false);
await writePeftAdapter(`${out}/derived`, { config: peftConfigForModules(derivedModules, { baseModelNameOrPath: 'tiny-llama' }), modules: derivedModules });

const describe = (modules: LoraModuleWeights[]) => Object.fromEntries(modules.map((m) => [m.module, { rank: m.rank, alpha: m.alpha, scaling: m.scaling }]));
writeFileSync(`${out}/expected.json`, JSON.stringify({ patterns: describe(patternModules), derived: describe(derivedModules) }, null, 1));
console.log(`wrote ${out}/patterns and ${out}/derived (${patternModules.length} modules each)`);
