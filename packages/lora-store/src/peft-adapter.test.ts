import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LlamaArchitecture } from '@lora-tle/spec';
import { parseLlamaConfig } from './llama-config.js';
import { loadPeftAdapter, writePeftAdapter } from './node/peft-dir.js';
import { openSafetensorsFile, writeSafetensorsFile } from './node/safetensors-file.js';
import { peftConfigForModules } from './peft-encode.js';
import { withTempDir } from './test-support.js';

const fixtures = fileURLToPath(new URL('../test-fixtures/', import.meta.url));
const adapterDir = `${fixtures}tiny-adapter`;

async function baseArchitecture(): Promise<LlamaArchitecture> {
  return parseLlamaConfig(JSON.parse(await readFile(`${fixtures}tiny-llama/config.json`, 'utf8')));
}

/** Copies the fixture adapter to `dir`/a, applies `edit` to its config, returns the copy's path. */
async function editedAdapter(dir: string, edit: (config: Record<string, any>) => void = () => {}): Promise<string> {
  const copy = join(dir, 'a');
  await cp(adapterDir, copy, { recursive: true });
  const config = JSON.parse(await readFile(join(copy, 'adapter_config.json'), 'utf8'));
  edit(config);
  await writeFile(join(copy, 'adapter_config.json'), JSON.stringify(config));
  return copy;
}

/** Rewrites the copy's weights with renamed keys (and optional extra tensors). */
async function renameKeys(copy: string, rename: (key: string) => string, extra: Array<{ name: string; shape: number[] }> = []): Promise<void> {
  const path = join(copy, 'adapter_model.safetensors');
  const reader = await openSafetensorsFile(path);
  const tensors = [];
  for (const name of reader.names()) tensors.push({ name: rename(name), shape: reader.info(name).shape, data: await reader.readTensor(name) });
  await reader.close();
  for (const tensor of extra) tensors.push({ ...tensor, data: new Float32Array(tensor.shape.reduce((p, d) => p * d, 1)) });
  await writeSafetensorsFile(path, tensors);
}

describe('loadPeftAdapter', () => {
  it('resolves rank, alpha and scaling per module exactly as PEFT did for the fixture', async () => {
    const expected = JSON.parse(await readFile(join(adapterDir, 'expected.json'), 'utf8')) as Record<string, { rank: number; alpha: number; scaling: number; in: number; out: number }>;
    const adapter = await loadPeftAdapter(adapterDir, { base: await baseArchitecture() });
    expect(adapter.modules.map((info) => info.module)).toEqual([
      'model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.v_proj', 'model.layers.0.mlp.down_proj',
      'model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj', 'model.layers.1.mlp.down_proj',
    ]);
    for (const info of adapter.modules) {
      const reference = expected[info.module]!;
      expect({ rank: info.rank, alpha: info.alpha, scaling: info.scaling, in: info.inFeatures, out: info.outFeatures }).toEqual(reference);
    }
    const weights = await adapter.readModule('model.layers.1.mlp.down_proj');
    expect(weights.a).toHaveLength(2 * 24); // (r, in)
    expect(weights.b).toHaveLength(16 * 2); // (out, r)
    expect(weights.b.some((value) => value !== 0)).toBe(true);
    await adapter.close();
  });

  it('accepts keys with an adapter-name segment (.lora_A.default.weight)', async () => {
    await withTempDir(async (dir) => {
      const copy = await editedAdapter(dir);
      await renameKeys(copy, (key) => key.replace(/\.lora_([AB])\.weight$/, '.lora_$1.default.weight'));
      const adapter = await loadPeftAdapter(copy);
      const original = await loadPeftAdapter(adapterDir);
      expect(await adapter.readModules()).toEqual(await original.readModules());
      await adapter.close();
      await original.close();
    });
  });

  it('refuses a pickle-only adapter without reading it', async () => {
    await withTempDir(async (dir) => {
      const copy = await editedAdapter(dir);
      await rm(join(copy, 'adapter_model.safetensors'));
      await writeFile(join(copy, 'adapter_model.bin'), 'cos\nsystem\n(S"echo pwned"\ntR.');
      await expect(loadPeftAdapter(copy)).rejects.toMatchObject({ code: 'E_ADAPTER_PICKLE', message: expect.stringMatching(/safe_serialization/) });
    });
  });

  it('refuses DoRA, LoRA bias, modules_to_save and embedding LoRA with their own codes', async () => {
    await withTempDir(async (dir) => {
      const cases: Array<[(config: Record<string, any>) => void, string]> = [
        [(config) => (config.use_dora = true), 'E_ADAPTER_DORA'],
        [(config) => (config.lora_bias = true), 'E_ADAPTER_LORA_BIAS'],
        [(config) => (config.modules_to_save = ['lm_head']), 'E_ADAPTER_UNSUPPORTED'],
        [(config) => (config.target_modules = ['q_proj', 'embed_tokens']), 'E_ADAPTER_UNSUPPORTED'],
        [(config) => (config.fan_in_fan_out = true), 'E_ADAPTER_UNSUPPORTED'],
        [(config) => (config.peft_type = 'IA3'), 'E_ADAPTER_CONFIG'],
        [(config) => (config.r = 'four'), 'E_ADAPTER_CONFIG'],
      ];
      for (const [edit, code] of cases) {
        await rm(join(dir, 'a'), { recursive: true, force: true });
        await expect(loadPeftAdapter(await editedAdapter(dir, edit)), code).rejects.toMatchObject({ code });
      }
      await rm(join(dir, 'a'), { recursive: true });
      const copy = await editedAdapter(dir);
      await renameKeys(copy, (key) => key, [{ name: 'base_model.model.model.embed_tokens.lora_embedding_A', shape: [4, 32] }]);
      await expect(loadPeftAdapter(copy)).rejects.toMatchObject({ code: 'E_ADAPTER_UNSUPPORTED', message: expect.stringMatching(/embedding/) });
      await renameKeys(copy, (key) => key.replace('lora_embedding_A', 'lora_magnitude_vector'));
      await expect(loadPeftAdapter(copy)).rejects.toMatchObject({ code: 'E_ADAPTER_DORA' });
    });
  });

  it('refuses weights whose rank differs from the config, or modules the config does not target', async () => {
    await withTempDir(async (dir) => {
      await expect(loadPeftAdapter(await editedAdapter(dir, (config) => (config.r = 3)))).rejects.toMatchObject({
        code: 'E_ADAPTER_SHAPE',
        message: expect.stringMatching(/q_proj: lora_A is \[4,16\].*\[3, in\]/),
      });
      await rm(join(dir, 'a'), { recursive: true });
      await expect(loadPeftAdapter(await editedAdapter(dir, (config) => (config.target_modules = ['q_proj', 'v_proj'])))).rejects.toMatchObject({
        code: 'E_ADAPTER_MODULE',
        message: expect.stringMatching(/down_proj/),
      });
      await rm(join(dir, 'a'), { recursive: true });
      await expect(loadPeftAdapter(await editedAdapter(dir, (config) => (config.layers_to_transform = [0])))).rejects.toMatchObject({
        code: 'E_ADAPTER_MODULE',
        message: expect.stringMatching(/layers\.1/),
      });
    });
  });

  it('checks modules and shapes against a base architecture', async () => {
    const base = await baseArchitecture();
    await expect(loadPeftAdapter(adapterDir, { base: { ...base, hiddenSize: 32 } })).rejects.toMatchObject({
      code: 'E_ADAPTER_SHAPE',
      message: expect.stringMatching(/model\.layers\.0\.self_attn\.q_proj: lora_A is \[4, 16\].*needs \[4, 32\]/),
    });
    await expect(loadPeftAdapter(adapterDir, { base: { ...base, numLayers: 1 } })).rejects.toMatchObject({
      code: 'E_ADAPTER_MODULE',
      message: expect.stringMatching(/layers\.1.*1 layers/),
    });
    await withTempDir(async (dir) => {
      const copy = await editedAdapter(dir, (config) => config.target_modules.push('c_attn'));
      await expect(loadPeftAdapter(copy, { base })).rejects.toMatchObject({ code: 'E_ADAPTER_MODULE', message: expect.stringMatching(/c_attn/) });
    });
  });
});

describe('writePeftAdapter', () => {
  it('writes an adapter that loads back identically, with PEFT key names, atomically', async () => {
    await withTempDir(async (dir) => {
      const source = await loadPeftAdapter(adapterDir);
      const modules = await source.readModules();
      const out = join(dir, 'out', 'written');
      await writePeftAdapter(out, { config: source.config, modules });
      expect(await readdir(join(dir, 'out'))).toEqual(['written']);
      expect((await readdir(out)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
      const written = await loadPeftAdapter(out, { base: await baseArchitecture() });
      expect(written.config).toEqual(source.config);
      expect(await written.readModules()).toEqual(modules);
      const config = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8'));
      expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, rank_pattern: { down_proj: 2 }, use_dora: false });
      const reader = await openSafetensorsFile(join(out, 'adapter_model.safetensors'));
      expect(reader.names()).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
      await reader.close();
      await expect(writePeftAdapter(out, { config: source.config, modules })).rejects.toMatchObject({ code: 'E_OUTPUT_EXISTS' });
      await source.close();
      await written.close();
    });
  });

  it('refuses modules whose rank or alpha the config would not resolve to', async () => {
    await withTempDir(async (dir) => {
      const source = await loadPeftAdapter(adapterDir);
      const modules = await source.readModules();
      await expect(writePeftAdapter(join(dir, 'x'), { config: { ...source.config, rankPattern: {} }, modules })).rejects.toMatchObject({
        code: 'E_ADAPTER_CONFIG',
        message: expect.stringMatching(/down_proj has rank 2.*resolves rank 4/),
      });
      expect(await readdir(dir)).toEqual([]);
      await source.close();
    });
  });
});

describe('peftConfigForModules', () => {
  it('derives a config that resolves every module back to its own rank and alpha', async () => {
    await withTempDir(async (dir) => {
      const source = await loadPeftAdapter(adapterDir);
      const modules = (await source.readModules()).map((weights) =>
        weights.module === 'model.layers.1.self_attn.v_proj' ? { ...weights, alpha: 3, scaling: 3 / weights.rank } : weights,
      );
      await source.close();
      const config = peftConfigForModules(modules, { baseModelNameOrPath: 'tiny' });
      expect(config).toMatchObject({ r: 4, loraAlpha: 8, rankPattern: { 'model\\.layers\\.0\\.mlp\\.down_proj': 2, 'model\\.layers\\.1\\.mlp\\.down_proj': 2 } });
      // the fixture's own alpha_pattern gives layer 1 q_proj alpha 16; v_proj was edited to 3 above
      expect(config.alphaPattern).toEqual({ 'model\\.layers\\.1\\.self_attn\\.q_proj': 16, 'model\\.layers\\.1\\.self_attn\\.v_proj': 3 });
      await writePeftAdapter(join(dir, 'derived'), { config, modules });
      const reloaded = await loadPeftAdapter(join(dir, 'derived'));
      expect(await reloaded.readModules()).toEqual(modules);
      await reloaded.close();
    });
  });
});
