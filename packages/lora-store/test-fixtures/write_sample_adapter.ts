// Writes a sample adapter with writePeftAdapter for check_peft_load.py (not a test):
//   node --conditions=source --import tsx packages/lora-store/test-fixtures/write_sample_adapter.ts OUT_DIR
// Random A and B for q/k/v/o/gate/up/down of both layers of tiny-llama, use_rslora, a rank_pattern
// and an alpha_pattern, so PEFT has to resolve the same per-module ranks and scalings.

import { LLAMA_LINEAR_MODULES, type LoraAdapterConfig } from '@lora-tle/spec';
import { resolveModuleRankAlpha } from '@lora-tle/mixing';
import { linearFeatures, linearModulePath, parseLlamaConfig } from '../src/index.js';
import { writePeftAdapter } from '../src/node.js';
import { readFileSync } from 'node:fs';

const out = process.argv[2];
if (!out) throw new Error('usage: write_sample_adapter.ts OUT_DIR');
const architecture = parseLlamaConfig(JSON.parse(readFileSync(new URL('tiny-llama/config.json', import.meta.url), 'utf8')));
const config: LoraAdapterConfig = {
  r: 4, loraAlpha: 6, useRslora: true, rankPattern: { 'mlp.down_proj': 2 }, alphaPattern: { 'layers.1.self_attn.v_proj': 10 },
  targetModules: [...LLAMA_LINEAR_MODULES], layersToTransform: null, baseModelNameOrPath: 'tiny-llama', fanInFanOut: false, peftType: 'LORA',
};
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
const modules = [];
for (let layer = 0; layer < architecture.numLayers; layer++) {
  for (const name of LLAMA_LINEAR_MODULES) {
    const module = linearModulePath(layer, name);
    const { inFeatures, outFeatures } = linearFeatures(architecture, name);
    const { rank, alpha, scaling } = resolveModuleRankAlpha(config, module);
    modules.push({ module, rank, alpha, scaling, inFeatures, outFeatures,
      a: Float32Array.from({ length: rank * inFeatures }, random), b: Float32Array.from({ length: outFeatures * rank }, random) });
  }
}
await writePeftAdapter(out, { config, modules });
console.log(`wrote ${modules.length} modules to ${out}`);
