// A synthetic stand-in for fixtures/tiny-tle: a random Llama with the real tiny-tle tokenizer
// (vocab 1024), four random PEFT adapters named like the real ones (math, science, code, reading)
// and the first lines of the real task data, written in the Hugging Face / PEFT file formats, so the
// embedded-default build runs on it unchanged. Used by the CLI's demo tests and by the web app while
// the trained fixture is absent. Seeded: the same bytes every time, so cache keys stay stable.
// Not a trained model: its text is noise; only the plumbing is real.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRandomAdapter, createRandomLlama } from '@lora-tle/graph';
import { writePeftAdapter, writeSafetensorsFile } from '@lora-tle/lora-store/node';
import type { LlamaArchitecture, LlamaLinearModule } from '@lora-tle/spec';
import { EMBEDDED_TASKS } from './embedded-default.js';

export interface SyntheticFixtureOptions {
  /** Overrides of the random Llama (vocab 1024 and untied embeddings always). */
  architecture?: Partial<LlamaArchitecture>;
  /** Lines per data split copied from the real fixture. */
  dataLines?: number;
  /** The random adapters' rank and target modules (default rank 4 on q_proj, v_proj, down_proj). */
  adapterRank?: number;
  adapterTargets?: readonly LlamaLinearModule[];
}

/** Writes the synthetic fixture into `target` (skipped when `target/complete` exists). */
export async function writeSyntheticFixture(realFixtureDir: string, target: string, options: SyntheticFixtureOptions = {}): Promise<string> {
  if (existsSync(join(target, 'complete'))) return target;
  const dataLines = options.dataLines ?? 200;
  const llama = createRandomLlama({ ...options.architecture, vocabSize: 1024, tieWordEmbeddings: false }, 8);
  const arch = llama.architecture;
  mkdirSync(target, { recursive: true });
  writeFileSync(
    join(target, 'config.json'),
    JSON.stringify({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: arch.vocabSize,
      hidden_size: arch.hiddenSize,
      intermediate_size: arch.intermediateSize,
      num_hidden_layers: arch.numLayers,
      num_attention_heads: arch.numHeads,
      num_key_value_heads: arch.numKvHeads,
      head_dim: arch.headDim,
      rms_norm_eps: arch.rmsNormEps,
      rope_theta: arch.ropeTheta,
      max_position_embeddings: arch.maxPositionEmbeddings,
      tie_word_embeddings: false,
      attention_bias: false,
      mlp_bias: false,
      hidden_act: 'silu',
      bos_token_id: 1,
      eos_token_id: 2,
      torch_dtype: 'float32',
    }),
  );
  const inFeaturesOf = (name: string): number =>
    name.includes('down_proj') ? arch.intermediateSize : name.includes('o_proj') ? arch.numHeads * arch.headDim : arch.hiddenSize;
  await writeSafetensorsFile(
    join(target, 'model.safetensors'),
    [...llama.weights.entries()].map(([name, data]) => {
      if (name.endsWith('norm.weight')) return { name, shape: [data.length], data };
      if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return { name, shape: [arch.vocabSize, arch.hiddenSize], data };
      return { name, shape: [data.length / inFeaturesOf(name), inFeaturesOf(name)], data };
    }),
    { format: 'pt' },
  );
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) writeFileSync(join(target, file), readFileSync(join(realFixtureDir, file)));
  const targets = options.adapterTargets ?? (['q_proj', 'v_proj', 'down_proj'] as const);
  const rank = options.adapterRank ?? 4;
  for (const [index, { name }] of EMBEDDED_TASKS.entries()) {
    const adapter = createRandomAdapter(arch, { name, rank, targets }, 60 + index);
    await writePeftAdapter(join(target, 'adapters', name), {
      config: { r: rank, loraAlpha: 2 * rank, useRslora: false, rankPattern: {}, alphaPattern: {}, targetModules: [...targets], layersToTransform: null, baseModelNameOrPath: null, fanInFanOut: false, peftType: 'LORA' },
      modules: [...adapter.modules.values()],
    });
    mkdirSync(join(target, 'data', name), { recursive: true });
    for (const split of ['train', 'test']) {
      const lines = readFileSync(join(realFixtureDir, 'data', name, `${split}.jsonl`), 'utf8').split('\n').filter(Boolean).slice(0, dataLines);
      writeFileSync(join(target, 'data', name, `${split}.jsonl`), `${lines.join('\n')}\n`);
    }
  }
  writeFileSync(join(target, 'complete'), 'synthetic tiny-tle stand-in\n');
  return target;
}
