// The embedded default and `lora-tle demo` on a synthetic tiny-tle fixture (random Llama with the
// real tiny-tle tokenizer, four random PEFT adapters, the first lines of the real task data),
// written here in the Hugging Face / PEFT file formats. The real fixture is exercised by
// demo.fixture.test.ts when it exists.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandomAdapter, createRandomLlama } from '@lora-tle/graph';
import { writePeftAdapter, writeSafetensorsFile } from '@lora-tle/lora-store/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_TASKS, ensureEmbeddedDefault } from '../embedded-default.js';
import { createTerminal } from '../terminal.js';
import { runDemo } from './demo.js';

const realFixture = fileURLToPath(new URL('../../../../fixtures/tiny-tle/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lora-tle-cli-demo-'));
const fixtureDir = join(root, 'tiny-tle');
const env = { LORA_TLE_CACHE: join(root, 'cache') };

function captureTerminal() {
  const output = { stdout: '', stderr: '' };
  const terminal = createTerminal({
    stdout: { write: (text: string) => (output.stdout += text) },
    stderr: { write: (text: string) => (output.stderr += text) },
    env: { NO_COLOR: '1' },
  });
  return { terminal, output };
}

beforeAll(async () => {
  const llama = createRandomLlama({ vocabSize: 1024, maxPositionEmbeddings: 256, tieWordEmbeddings: false }, 8);
  const arch = llama.architecture;
  mkdirSync(fixtureDir, { recursive: true });
  writeFileSync(
    join(fixtureDir, 'config.json'),
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
  const shapes = new Map<string, number[]>();
  shapes.set('model.embed_tokens.weight', [arch.vocabSize, arch.hiddenSize]);
  shapes.set('lm_head.weight', [arch.vocabSize, arch.hiddenSize]);
  await writeSafetensorsFile(
    join(fixtureDir, 'model.safetensors'),
    [...llama.weights.entries()].map(([name, data]) => {
      const shape = shapes.get(name) ?? (name.endsWith('norm.weight') ? [data.length] : null);
      if (shape) return { name, shape, data };
      const inFeatures = name.includes('down_proj') ? arch.intermediateSize : name.includes('o_proj') ? arch.numHeads * arch.headDim : arch.hiddenSize;
      return { name, shape: [data.length / inFeatures, inFeatures], data };
    }),
    { format: 'pt' },
  );
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) writeFileSync(join(fixtureDir, file), readFileSync(join(realFixture, file)));
  for (const [i, { name }] of EMBEDDED_TASKS.entries()) {
    const targets = ['q_proj', 'v_proj', 'down_proj'] as const;
    const adapter = createRandomAdapter(arch, { name, rank: 4, targets }, 60 + i);
    await writePeftAdapter(join(fixtureDir, 'adapters', name), {
      config: { r: 4, loraAlpha: 8, useRslora: false, rankPattern: {}, alphaPattern: {}, targetModules: [...targets], layersToTransform: null, baseModelNameOrPath: null, fanInFanOut: false, peftType: 'LORA' },
      modules: [...adapter.modules.values()],
    });
    mkdirSync(join(fixtureDir, 'data', name), { recursive: true });
    for (const split of ['train', 'test']) {
      const lines = readFileSync(join(realFixture, 'data', name, `${split}.jsonl`), 'utf8').split('\n').filter(Boolean).slice(0, 60);
      writeFileSync(join(fixtureDir, 'data', name, `${split}.jsonl`), `${lines.join('\n')}\n`);
    }
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('embedded default', () => {
  it('builds the pack and the store once into the cache, then reuses them; a changed fixture rebuilds', async () => {
    const first = captureTerminal();
    const built = await ensureEmbeddedDefault(first.terminal, env, fixtureDir);
    expect(built.packDir.startsWith(join(root, 'cache', 'tiny-tle-'))).toBe(true);
    expect(first.output.stderr).toMatch(/building the embedded tiny-tle model pack/);
    const pack = JSON.parse(readFileSync(join(built.packDir, 'pack.json'), 'utf8')) as { adapters: { name: string }[] };
    expect(pack.adapters.map((adapter) => adapter.name)).toEqual(['math', 'science', 'code', 'reading']);
    const manifest = JSON.parse(readFileSync(join(built.storeDir, 'manifest.json'), 'utf8')) as { adapters: { name: string; profiles: unknown[] }[] };
    expect(manifest.adapters.map((entry) => [entry.name, entry.profiles.length])).toEqual([['math', 1], ['science', 1], ['code', 1], ['reading', 1]]);
    // every profile made by one hashing fit, saved next to them
    const fits = new Set(manifest.adapters.map((entry) => (entry.profiles[0] as { embedder: { settings: { fit?: string } } }).embedder.settings.fit));
    expect(fits.size).toBe(1);
    const [fit] = [...fits];
    expect(fit).toMatch(/^[0-9a-f]{16}$/);
    expect(existsSync(join(built.storeDir, 'embedders', `hashing-${fit}.safetensors`))).toBe(true);

    const builtAt = statSync(join(built.packDir, 'pack.json')).mtimeMs;
    const second = captureTerminal();
    expect(await ensureEmbeddedDefault(second.terminal, env, fixtureDir)).toEqual(built);
    expect(second.output.stderr).toBe('');
    expect(statSync(join(built.packDir, 'pack.json')).mtimeMs).toBe(builtAt);

    const trainFile = join(fixtureDir, 'data', 'code', 'train.jsonl');
    const original = readFileSync(trainFile, 'utf8');
    writeFileSync(trainFile, original.split('\n').slice(1).join('\n'));
    try {
      const rebuilt = await ensureEmbeddedDefault(captureTerminal().terminal, env, fixtureDir);
      expect(rebuilt.packDir).not.toBe(built.packDir);
    } finally {
      writeFileSync(trainFile, original);
    }
  });

  it('refuses an incomplete fixture with one clear error', async () => {
    await expect(ensureEmbeddedDefault(captureTerminal().terminal, env, join(root, 'empty'))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

describe('lora-tle demo', () => {
  it('generates for one prompt per task with token routing and prints, without a TTY, a per-token dominant-adapter summary and mean weights', async () => {
    const { terminal, output } = captureTerminal();
    await runDemo({ maxNewTokens: 6, mode: 'token', kv: 'reuse' }, terminal, fixtureDir);
    for (const { name } of EMBEDDED_TASKS) expect(output.stdout).toContain(`── ${name} ──`);
    const summaries = output.stdout.split('\n').filter((line) => line.startsWith('dominant adapter by token: '));
    expect(summaries).toHaveLength(4);
    for (const line of summaries) expect(line).toMatch(/^dominant adapter by token: (math|science|code|reading) ×\d+ /);
    const means = output.stdout.split('\n').filter((line) => line.startsWith('mean weights: '));
    expect(means).toHaveLength(4);
    for (const line of means) {
      const values = [...line.matchAll(/(math|science|code|reading) (\d\.\d\d)/g)].map((match) => Number(match[2]));
      expect(values).toHaveLength(4);
      expect(values.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 1);
    }
    expect(output.stdout).not.toMatch(/\u001b\[/); // no colour codes without a TTY
  });
});
