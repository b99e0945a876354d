// Pack writing: files and pack.json contents, atomic output, and bad input refused with codes.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoraTleError, type LlamaArchitecture, type PackManifest } from '@lora-tle/spec';
import { createRandomAdapter, createRandomLlama, writeModelPack } from './index.js';
import type { AdapterSource } from './llama-source.js';

const root = mkdtempSync(join(tmpdir(), 'lora-tle-graph-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const model = createRandomLlama({}, 3);
const arch = model.architecture;
const adapterA = createRandomAdapter(arch, { name: 'a', rank: 4, targets: ['q_proj', 'v_proj'] }, 1);
const adapterB = createRandomAdapter(arch, { name: 'b', rank: 2, targets: ['q_proj', 'down_proj'], layers: [1] }, 2);

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(isLoraTleError(error), `expected LoraTleError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

describe('writeModelPack', () => {
  it('writes model.onnx, the weight files, tokenizer copies and a pack.json that describes them', async () => {
    const tokenizerDir = join(root, 'tok');
    mkdirSync(tokenizerDir);
    writeFileSync(join(tokenizerDir, 'tokenizer.json'), '{"model":{}}');
    const destination = join(root, 'pack');
    const phases: string[] = [];
    await writeModelPack({
      source: model,
      adapters: [adapterA, adapterB],
      destination,
      tokenizerFiles: { tokenizer: join(tokenizerDir, 'tokenizer.json'), tokenizerConfig: join(tokenizerDir, 'missing.json') },
      onProgress: (progress) => phases.push(`${progress.done}/${progress.total}`),
    });
    expect(readdirSync(destination).sort()).toEqual(['adapters.weights', 'base.weights', 'model.onnx', 'pack.json', 'tokenizer.json']);
    const manifest = JSON.parse(readFileSync(join(destination, 'pack.json'), 'utf8')) as PackManifest;
    expect(manifest.combination).toBe('cat');
    expect(manifest.adapters.map((adapter) => [adapter.name, adapter.rank, [...adapter.targetModules].sort()])).toEqual([
      ['a', 4, ['q_proj', 'v_proj']],
      ['b', 2, ['down_proj', 'q_proj']],
    ]);
    expect(manifest.files).toMatchObject({ model: 'model.onnx', baseWeights: 'base.weights', adapterWeights: 'adapters.weights', tokenizer: 'tokenizer.json', tokenizerConfig: null });
    expect(manifest.io.mixA).toBe('mix_a');
    expect(manifest.modelSha256).toBe(createHash('sha256').update(readFileSync(join(destination, 'model.onnx'))).digest('hex'));
    // adapter bytes: Σ over modules of (in + out)·r fp32, plus the zeros of each layer's
    // block-diagonal Bᵀ of q/k/v (q and v adapted: (R_q + R_v, Σ out) instead of R_q·out_q + R_v·out_v),
    // plus alignment padding < 64 per tensor
    const loraFloats = [adapterA, adapterB].reduce((sum, adapter) => sum + [...adapter.modules.values()].reduce((moduleSum, lora) => moduleSum + (lora.inFeatures + lora.outFeatures) * lora.rank, 0), 0);
    const [outQ, outKv] = [arch.numHeads * arch.headDim, arch.numKvHeads * arch.headDim];
    const blockZeros = Array.from({ length: arch.numLayers }, (_, layer) => {
      const [rankQ, rankV] = [4 + (layer === 1 ? 2 : 0), 4];
      return (rankQ + rankV) * (outQ + 2 * outKv) - (rankQ * outQ + rankV * outKv);
    }).reduce((sum, zeros) => sum + zeros, 0);
    const adapterFloats = loraFloats + blockZeros;
    const size = statSync(join(destination, 'adapters.weights')).size;
    expect(size).toBeGreaterThanOrEqual(adapterFloats * 4);
    expect(size).toBeLessThan(adapterFloats * 4 + 64 * 2 * 6);
    expect(phases.at(-1)).toBe(`${arch.numLayers + 2}/${arch.numLayers + 2}`);
    expect(readdirSync(root).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('with the naive graph: naive.onnx on the same base weight file, its factor inputs in pack.json', async () => {
    const equalRanks = createRandomAdapter(arch, { name: 'c', rank: 4, targets: ['q_proj', 'down_proj'], layers: [1] }, 3);
    const plain = join(root, 'plain');
    const destination = join(root, 'with-naive');
    await writeModelPack({ source: model, adapters: [adapterA, equalRanks], destination: plain });
    const phases: string[] = [];
    const manifest = await writeModelPack({ source: model, adapters: [adapterA, equalRanks], destination, withNaive: true, onProgress: ({ phase, done, total }) => void (done === total && phases.push(phase)) });
    expect(phases).toEqual(['graph', 'naive graph']);
    expect(readdirSync(destination).sort()).toEqual(['adapters.weights', 'base.weights', 'model.onnx', 'naive.onnx', 'pack.json']);
    expect(readFileSync(join(destination, 'base.weights')).equals(readFileSync(join(plain, 'base.weights')))).toBe(true); // written once, shared
    expect(readFileSync(join(destination, 'model.onnx')).equals(readFileSync(join(plain, 'model.onnx')))).toBe(true);
    expect(JSON.parse(readFileSync(join(destination, 'pack.json'), 'utf8'))).toEqual(manifest);
    const naive = manifest.naive!;
    expect(naive.model).toBe('naive.onnx');
    expect(naive.modelSha256).toBe(createHash('sha256').update(readFileSync(join(destination, 'naive.onnx'))).digest('hex'));
    // layer 0: q and v of adapter a share an A input (q/k/v read one input); layer 1 also down_proj of c
    const layer0 = naive.factorInputs.filter((input) => input.modules.every((module) => module.module.startsWith('model.layers.0.')));
    expect(layer0.map((input) => [input.name, input.side, input.modules.map((module) => `${module.module.split('.').at(-1)}:${module.rank}`)])).toEqual([
      ['model.layers.0.q_proj+k_proj+v_proj.lora_a_t', 'a', ['q_proj:4', 'v_proj:4']],
      ['model.layers.0.self_attn.q_proj.lora_b_t', 'b', ['q_proj:4']],
      ['model.layers.0.self_attn.v_proj.lora_b_t', 'b', ['v_proj:4']],
    ]);
    const modules = new Set(naive.factorInputs.flatMap((input) => input.modules.map((module) => module.module)));
    expect(modules).toEqual(new Set([...adapterA.modules.keys(), ...equalRanks.modules.keys()]));
    expect(naive.factorInputs.filter((input) => input.side === 'b')).toHaveLength(modules.size);
  });

  it('refuses a naive graph for unequal ranks of one module, or without adapters', async () => {
    await expectCode(writeModelPack({ source: model, adapters: [adapterA, adapterB], destination: join(root, 'naive-ranks'), withNaive: true }), 'E_RANK_MISMATCH');
    await expectCode(writeModelPack({ source: model, adapters: [], destination: join(root, 'naive-none'), withNaive: true }), 'E_INVALID_ARGUMENT');
    expect(existsSync(join(root, 'naive-ranks'))).toBe(false);
  });

  it('refuses an existing destination unless overwrite is set', async () => {
    const destination = join(root, 'exists');
    mkdirSync(destination);
    await expectCode(writeModelPack({ source: model, adapters: [], destination }), 'E_OUTPUT_EXISTS');
    await writeModelPack({ source: model, adapters: [], destination, overwrite: true });
    expect(existsSync(join(destination, 'pack.json'))).toBe(true);
  });

  it('refuses an adapter for a module the base model lacks and leaves nothing behind', async () => {
    const extra = new Map(adapterA.modules);
    const lora = [...adapterA.modules.values()][0]!;
    extra.set('model.layers.7.self_attn.q_proj', { ...lora, module: 'model.layers.7.self_attn.q_proj' });
    const destination = join(root, 'bad-module');
    await expectCode(writeModelPack({ source: model, adapters: [{ ...adapterA, modules: extra }], destination }), 'E_ADAPTER_MODULE');
    expect(existsSync(destination)).toBe(false);
  });

  it('refuses adapter factors whose shape does not match the base model, without a partial pack', async () => {
    const broken = new Map(adapterA.modules);
    const module = 'model.layers.1.self_attn.v_proj';
    const lora = broken.get(module)!;
    broken.set(module, { ...lora, inFeatures: lora.inFeatures + 1, a: new Float32Array(lora.rank * (lora.inFeatures + 1)) });
    const destination = join(root, 'bad-shape');
    await expectCode(writeModelPack({ source: model, adapters: [{ ...adapterA, modules: broken } satisfies AdapterSource], destination }), 'E_ADAPTER_SHAPE');
    expect(existsSync(destination)).toBe(false);
    expect(readdirSync(root).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('refuses unequal ranks for the linear combinations and unknown combinations', async () => {
    await expectCode(writeModelPack({ source: model, adapters: [adapterA, adapterB], destination: join(root, 'linear'), combination: 'linear' }), 'E_RANK_MISMATCH');
    await expectCode(writeModelPack({ source: model, adapters: [], destination: join(root, 'svd'), combination: 'svd' as 'cat' }), 'E_COMBINATION');
  });

  it('refuses unsupported model types and rope types', async () => {
    const withArchitecture = (changes: Partial<LlamaArchitecture>) => ({ ...model, architecture: { ...arch, ...changes } });
    await expectCode(writeModelPack({ source: withArchitecture({ modelType: 'mistral' }), adapters: [], destination: join(root, 'mt') }), 'E_MODEL_TYPE');
    const yarn = { type: 'yarn', factor: 4 } as unknown as LlamaArchitecture['ropeScaling'];
    await expectCode(writeModelPack({ source: withArchitecture({ ropeScaling: yarn }), adapters: [], destination: join(root, 'rt') }), 'E_ROPE_TYPE');
  });

  it('refuses checkpoint tensors that do not match config.json', async () => {
    const weights = new Map(model.weights);
    weights.set('model.norm.weight', new Float32Array(3));
    const source = { architecture: arch, tensor: (name: string) => weights.get(name)! };
    await expectCode(writeModelPack({ source, adapters: [], destination: join(root, 'bad-tensor') }), 'E_CONFIG_INVALID');
  });
});
