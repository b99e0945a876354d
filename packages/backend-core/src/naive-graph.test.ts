import { isLoraTleError } from '@lora-tle/spec';
import type { LoraModuleWeights, PackManifest } from '@lora-tle/spec';
import { describe, expect, it } from 'vitest';
import { stepFeedArrays } from './feed-arrays.js';
import { checkAdapterFactors, factorFeedArrays, NAIVE_ADAPTER_NAME, naiveGraphPack } from './naive-graph.js';
import { checkPackManifest } from './pack-manifest-check.js';
import { smallPack, smallStep } from './test-support.js';

const Q = 'model.layers.0.self_attn.q_proj';
const K = 'model.layers.0.self_attn.k_proj';

/** smallPack with a naive graph: q and k (in 8; out 8 and 4; rank 2) share one A input, each its own B. */
function packWithNaive(): PackManifest {
  const q = { module: Q, rank: 2, inFeatures: 8, outFeatures: 8 };
  const k = { module: K, rank: 2, inFeatures: 8, outFeatures: 4 };
  return {
    ...smallPack(),
    naive: {
      model: 'naive.onnx',
      modelSha256: 'f'.repeat(64),
      factorInputs: [
        { name: 'qk.lora_a_t', side: 'a', modules: [q, k] },
        { name: 'q.lora_b_t', side: 'b', modules: [q] },
        { name: 'k.lora_b_t', side: 'b', modules: [k] },
      ],
    },
  };
}

/** Factors whose every entry tells module, side, row and column apart. */
function factors(module: string, rank: number, inFeatures: number, outFeatures: number, scaling: number, tag: number): LoraModuleWeights {
  return {
    module, rank, alpha: scaling * rank, scaling, inFeatures, outFeatures,
    a: Float32Array.from({ length: rank * inFeatures }, (_, i) => tag + i), // (r, in)
    b: Float32Array.from({ length: outFeatures * rank }, (_, i) => -(tag + i)), // (out, r)
  };
}

describe('naive graph', () => {
  it("derives the session manifest: its model, one adapter, no hidden or appended output, the factor inputs", () => {
    const pack = packWithNaive();
    const naive = naiveGraphPack(pack);
    expect(naive.files.model).toBe('naive.onnx');
    expect(naive.files.adapterWeights).toBeNull();
    expect(naive.files.baseWeights).toBe(pack.files.baseWeights);
    expect(naive.modelSha256).toBe('f'.repeat(64));
    expect(naive.adapters.map((adapter) => adapter.name)).toEqual([NAIVE_ADAPTER_NAME]);
    expect(naive.combination).toBe('cat');
    expect([naive.io.hidden, naive.io.appended, naive.naive]).toEqual([null, null, null]);
    expect(naive.factorInputs).toBe(pack.naive!.factorInputs);
    try {
      naiveGraphPack(smallPack(), 'model pack /p');
      expect.unreachable();
    } catch (error) {
      expect(isLoraTleError(error) && error.code).toBe('E_NOT_FOUND');
      expect((error as Error).message).toMatch(/model pack \/p has no naive graph.*--naive-graph/);
    }
  });

  it('lays the factors out as the graph takes them: Aᵀ side by side with the scaling folded in, Bᵀ per module', () => {
    const q = factors(Q, 2, 8, 8, 0.5, 100);
    const k = factors(K, 2, 8, 4, 3, 200);
    const feeds = factorFeedArrays(packWithNaive().naive!.factorInputs, [k, q]); // order of the list does not matter
    const a = feeds['qk.lora_a_t']!;
    expect(a.dims).toEqual([8, 4]); // (in, r_q + r_k)
    for (let i = 0; i < 8; i++) {
      for (let row = 0; row < 2; row++) {
        expect(a.data[i * 4 + row]).toBe(q.a[row * 8 + i]! * 0.5);
        expect(a.data[i * 4 + 2 + row]).toBe(k.a[row * 8 + i]! * 3);
      }
    }
    const bq = feeds['q.lora_b_t']!;
    expect(bq.dims).toEqual([2, 8]); // (r, out)
    for (let o = 0; o < 8; o++) for (let row = 0; row < 2; row++) expect(bq.data[row * 8 + o]).toBe(q.b[o * 2 + row]);
    expect(feeds['k.lora_b_t']!.dims).toEqual([2, 4]);
    expect(Array.from(feeds['k.lora_b_t']!.data as Float32Array).slice(0, 4)).toEqual([k.b[0], k.b[2], k.b[4], k.b[6]]);
  });

  it('adds the factor feeds to a naive-graph step', () => {
    const pack = naiveGraphPack(packWithNaive());
    const adapterFactors = [factors(Q, 2, 8, 8, 1, 1), factors(K, 2, 8, 4, 1, 2)];
    const feeds = stepFeedArrays(pack, smallStep({ mix: [{ a: Float32Array.of(1), b: Float32Array.of(1) }], adapterFactors }), 0);
    expect(Object.keys(feeds)).toEqual(expect.arrayContaining(['qk.lora_a_t', 'q.lora_b_t', 'k.lora_b_t', 'mix_a']));
    expect(feeds.mix_a!.dims).toEqual([1, 1]);
  });

  it('checks the factors of a step against the inputs', () => {
    const naive = naiveGraphPack(packWithNaive());
    const good = [factors(Q, 2, 8, 8, 1, 1), factors(K, 2, 8, 4, 1, 2)];
    expect(() => checkAdapterFactors(naive, good)).not.toThrow();
    expect(() => checkAdapterFactors(smallPack(), undefined)).not.toThrow();
    expect(() => checkAdapterFactors(smallPack(), good)).toThrow(/graph 'naive'/);
    expect(() => checkAdapterFactors(naive, undefined)).toThrow(/pass its factors as adapterFactors/);
    expect(() => checkAdapterFactors(naive, [good[0]!])).toThrow(/no factors for model\.layers\.0\.self_attn\.k_proj/);
    expect(() => checkAdapterFactors(naive, [good[0]!, factors(K, 3, 8, 4, 1, 2)])).toThrow(/k_proj is rank 3 \[4, 8\], the naive graph takes rank 2 \[4, 8\]/);
    expect(() => checkAdapterFactors(naive, [...good, factors('model.layers.1.self_attn.q_proj', 2, 8, 8, 1, 3)])).toThrow(/layers\.1\.self_attn\.q_proj, which the naive graph does not adapt/);
    expect(() => checkAdapterFactors(naive, [good[0]!, { ...good[1]!, a: new Float32Array(3) }])).toThrow(/a\/b sizes/);
  });

  it('pack.json validation accepts a naive graph and refuses a malformed one', () => {
    expect(() => checkPackManifest(packWithNaive(), 'p')).not.toThrow();
    expect(() => checkPackManifest({ ...smallPack(), naive: null }, 'p')).not.toThrow();
    const broken = (naive: unknown) => () => checkPackManifest({ ...smallPack(), naive }, 'p');
    expect(broken({ model: 'naive.onnx' })).toThrow(/naive must be/);
    const inputs = packWithNaive().naive!.factorInputs;
    expect(broken({ ...packWithNaive().naive, factorInputs: [{ ...inputs[0], side: 'c' }] })).toThrow(/naive must be/);
    expect(broken({ ...packWithNaive().naive, factorInputs: [{ ...inputs[1], modules: inputs[0]!.modules }] })).toThrow(/naive must be/); // a b input has one module
    expect(broken({ ...packWithNaive().naive, factorInputs: [{ ...inputs[0], modules: [{ module: Q, rank: 0, inFeatures: 8, outFeatures: 8 }] }] })).toThrow(/naive must be/);
  });
});
