// The engine on a real ONNX model pack: a random tiny Llama + three LoRA adapters built by
// @lora-tle/graph and run by @lora-tle/backend-node (onnxruntime-node, CPU). The oracle is
// @lora-tle/mixing's reference forward driven by a greedy loop written here, replaying the mixtures
// the engine reports. Covers what the in-memory backend cannot: left padding and explicit positions
// through GroupQueryAttention, the ORT KV cache, recompute without cache; the naive graph fed the
// paper's merge against the linear-peft0.4 pack; and the hidden embedder on the pack.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeBackend } from '@lora-tle/backend-node';
import { createRandomAdapter, createRandomLlama, writeModelPack, type AdapterSource } from '@lora-tle/graph';
import { createReferenceCache, mixCoefficients, referenceForward, type ReferenceModel } from '@lora-tle/mixing';
import type { BackendSession, Combination, MixCoefficients, StepInput } from '@lora-tle/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, generateText } from './engine.js';
import { createSessionHiddenEmbedder } from './session-hidden-embedder.js';
import type { DoneEvent, TokenEvent } from './events.js';
import { createNaiveMerger } from './naive-merge.js';
import type { ContextRouter } from './routing-mode.js';
import { argmax } from './sampling.js';
import { charTokenizer } from './test-support/reference-backend.js';

const ADAPTERS = ['math', 'science', 'code'];
const llama = createRandomLlama({}, 3);
const adapters: AdapterSource[] = ADAPTERS.map((name, i) =>
  createRandomAdapter(llama.architecture, { name, rank: 4, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, 10 + i),
);
const root = mkdtempSync(join(tmpdir(), 'lora-tle-engine-'));
const sessions: Partial<Record<Combination, BackendSession>> = {};
let naiveSession: BackendSession; // the cat pack's naive graph

beforeAll(async () => {
  for (const combination of ['cat', 'linear-peft0.4'] as const) {
    const destination = join(root, combination);
    await writeModelPack({ source: llama, adapters, destination, combination, withNaive: combination === 'cat' });
    sessions[combination] = await createNodeBackend().doLoad(destination);
  }
  naiveSession = await createNodeBackend().doLoad(join(root, 'cat'), { graph: 'naive' });
});

afterAll(async () => {
  for (const session of Object.values(sessions)) await session?.dispose();
  await naiveSession?.dispose();
  rmSync(root, { recursive: true, force: true });
});

const lengthRouter: ContextRouter = {
  adapters: ADAPTERS,
  async route({ text }) {
    const weights = new Float32Array(3);
    weights[text.length % 3] = 0.8;
    weights[(text.length + 2) % 3] = 0.2;
    return { adapters: ADAPTERS, weights };
  },
};

function oracle(combination: Combination, prompt: string, count: number, coefficientsAt: (step: number) => MixCoefficients): number[] {
  const model: ReferenceModel = { architecture: llama.architecture, weights: llama.weights, adapters, combination };
  const ids = Array.from(charTokenizer.encode(prompt));
  const V = llama.architecture.vocabSize;
  const cache = createReferenceCache(llama.architecture);
  let logits = referenceForward(model, ids, coefficientsAt(0), cache).logits;
  const out: number[] = [];
  for (let step = 0; step < count; step++) {
    const token = argmax(logits.slice(logits.length - V));
    out.push(token);
    logits = referenceForward(model, [token], coefficientsAt(step + 1), cache).logits;
  }
  return out;
}

const engineOn = (combination: Combination, extra: Partial<Parameters<typeof createEngine>[0]> = {}) =>
  createEngine({ session: sessions[combination]!, tokenizer: charTokenizer, router: lengthRouter, ...extra });

async function tokenEvents(events: AsyncIterable<{ type: string }>): Promise<TokenEvent[]> {
  const out: TokenEvent[] = [];
  for await (const event of events) if (event.type === 'token') out.push(event as TokenEvent);
  return out;
}

describe('engine on backend-node', () => {
  it('token routing with KV reuse equals the reference forward fed each token under the mixture of its step', async () => {
    const engine = engineOn('cat');
    const tokens = await tokenEvents(engine.generate({ prompt: 'the cat sat on a mat', mode: 'token', maxNewTokens: 10, stop: [] }));
    const mixes = tokens.map((event) => mixCoefficients(event.mix.weights, 'cat'));
    const expected = oracle('cat', 'the cat sat on a mat', tokens.length, (step) => mixes[Math.min(step, mixes.length - 1)]!);
    expect(tokens.map((event) => event.tokenId)).toEqual(expected);
    expect(new Set(tokens.map((event) => event.mix.weights.join(','))).size).toBeGreaterThan(1);
  });

  it('reuse with a constant mixture equals recompute; same seed, same sampled text', async () => {
    const engine = engineOn('cat');
    const request = { prompt: 'a constant mixture', mode: 'adapter:code', maxNewTokens: 10 };
    const reuse = await generateText(engine, { ...request, kv: 'reuse' });
    const recompute = await generateText(engine, { ...request, kv: 'recompute' });
    expect(recompute.tokenIds).toEqual(reuse.tokenIds);
    const sampled = (seed: number) => generateText(engine, { ...request, sampling: { temperature: 1.2, topP: 0.95, seed } });
    expect((await sampled(9)).tokenIds).toEqual((await sampled(9)).tokenIds);
  });

  async function batchVersusSingles(requests: { prompt: string; mode: string; maxNewTokens: number }[]) {
    const engine = engineOn('cat');
    const singles: DoneEvent[] = [];
    for (const request of requests) singles.push(await generateText(engine, request));
    const dones: (DoneEvent & { row: number })[] = [];
    for await (const event of engine.generateBatch(requests)) if (event.type === 'done') dones.push(event);
    dones.sort((left, right) => left.row - right.row);
    return { batch: dones.map((done) => done.tokenIds), singles: singles.map((single) => single.tokenIds) };
  }

  it('batch greedy output equals single-prompt output for equal-length prompts, each row its own mixture', async () => {
    const { batch, singles } = await batchVersusSingles([
      { prompt: 'the first row', mode: 'adapter:math', maxNewTokens: 6 },
      { prompt: 'the other one', mode: 'token', maxNewTokens: 8 },
      { prompt: 'and the third', mode: 'uniform', maxNewTokens: 4 },
    ]);
    expect(batch).toEqual(singles);
  });

  // Left padding: the pack masks pad positions through GroupQueryAttention's attention_bias, so
  // rows of different prompt lengths decode exactly as they would alone.
  it('batch greedy output equals single-prompt output with left padding', async () => {
    const { batch, singles } = await batchVersusSingles([
      { prompt: 'hi', mode: 'adapter:math', maxNewTokens: 6 },
      { prompt: 'a much longer prompt with words', mode: 'token', maxNewTokens: 8 },
      { prompt: 'medium prompt', mode: 'uniform', maxNewTokens: 4 },
    ]);
    expect(batch).toEqual(singles);
  });

  it('naive mode on a linear-peft0.4 pack gives the fast recompute loop tokens', async () => {
    const adapterWeights = adapters.map((adapter) => [...adapter.modules.values()]);
    const engine = engineOn('linear-peft0.4', { adapterWeights });
    const request = { prompt: 'paper loop', mode: 'token', maxNewTokens: 6 };
    const naive = await generateText(engine, { ...request, naive: true });
    const fast = await generateText(engine, { ...request, kv: 'recompute' });
    expect(naive.tokenIds).toEqual(fast.tokenIds);
  });

  it("the naive graph fed the PEFT-0.4 merge computes the linear-peft0.4 pack's mixture", async () => {
    const merger = await createNaiveMerger(adapters.map((adapter) => [...adapter.modules.values()]), ADAPTERS);
    const inputIds = Int32Array.from(charTokenizer.encode('merge every token'));
    const T = inputIds.length;
    const V = llama.architecture.vocabSize;
    for (const weights of [Float32Array.of(0.7, 0.2, 0.1), Float32Array.of(0, 1, 0), Float32Array.of(-0.3, 0.5, 0.8)]) {
      const step = (mix: MixCoefficients): StepInput => ({ inputIds, batchSize: 1, sequenceLength: T, mix: [mix], cache: null, logits: 'all', keepCache: false });
      const paper = await sessions['linear-peft0.4']!.doStep(step(mixCoefficients(weights, 'linear-peft0.4')));
      const naive = await naiveSession.doStep({ ...step({ a: Float32Array.of(1), b: Float32Array.of(1) }), adapterFactors: merger.merge({ adapters: ADAPTERS, weights }) });
      expect(naive.logits.length).toBe(T * V);
      let largest = 0;
      naive.logits.forEach((value, i) => (largest = Math.max(largest, Math.abs(value - paper.logits[i]!))));
      expect(largest).toBeLessThan(1e-4);
      // and not the cat pack's exact mixture: the cross terms show
      const exact = await sessions.cat!.doStep(step(mixCoefficients(weights, 'cat')));
      expect(Math.max(...naive.logits.map((value, i) => Math.abs(value - exact.logits[i]!)))).toBeGreaterThan(1e-2);
    }
  });

  it('naive mode with the naive graph runs the paper loop: the linear-peft0.4 recompute tokens, on a cat pack', async () => {
    const adapterWeights = adapters.map((adapter) => [...adapter.modules.values()]);
    const request = { prompt: 'paper loop', mode: 'token', maxNewTokens: 8 };
    const naive = await generateText(engineOn('cat', { adapterWeights, naiveSession }), { ...request, naive: true });
    const paper = await generateText(engineOn('linear-peft0.4'), { ...request, kv: 'recompute' });
    expect(naive.tokenIds).toHaveLength(8);
    expect(naive.tokenIds).toEqual(paper.tokenIds);
  });

  it('refuses a naive session of another kind, and factors on a mixing session', async () => {
    expect(() => engineOn('cat', { naiveSession: sessions['linear-peft0.4']! })).toThrow(/naive graph/);
    const merger = await createNaiveMerger(adapters.map((adapter) => [...adapter.modules.values()]), ADAPTERS);
    const adapterFactors = merger.merge({ adapters: ADAPTERS, weights: Float32Array.of(1, 0, 0) });
    const input: StepInput = { inputIds: Int32Array.of(5), batchSize: 1, sequenceLength: 1, mix: [mixCoefficients(Float32Array.of(1, 0, 0), 'cat')], cache: null };
    await expect(sessions.cat!.doStep({ ...input, adapterFactors })).rejects.toThrow(/naive graph/);
    const one = { a: Float32Array.of(1), b: Float32Array.of(1) };
    await expect(naiveSession.doStep({ ...input, mix: [one] })).rejects.toThrow(/adapterFactors/);
    await expect(naiveSession.doStep({ ...input, mix: [one], adapterFactors: adapterFactors.slice(1) })).rejects.toThrow(/no factors for model\.layers\.0/);
    const wrongRank = adapterFactors.map((factors, i) => (i === 0 ? { ...factors, rank: factors.rank + 1 } : factors));
    await expect(naiveSession.doStep({ ...input, mix: [one], adapterFactors: wrongRank })).rejects.toThrow(/the naive graph takes rank 4/);
  });
});

describe('hidden embedder on the pack', () => {
  it("embeds each text as the base model's pooled hidden state (all adapter weights 0), L2-normalised", async () => {
    const session = sessions.cat!;
    const embedder = createSessionHiddenEmbedder(session, charTokenizer);
    expect(embedder.id).toBe('hidden');
    const texts = ['the sum of', 'def f(x):'];
    const vectors = await embedder.embed(texts);
    const H = llama.architecture.hiddenSize;
    for (const [index, text] of texts.entries()) {
      const ids = Int32Array.from(charTokenizer.encode(text));
      const zero = { a: new Float32Array(ADAPTERS.length), b: new Float32Array(ADAPTERS.length) };
      const direct = await session.doStep({ inputIds: ids, batchSize: 1, sequenceLength: ids.length, mix: [zero], cache: null, hidden: true });
      direct.cache.dispose();
      const norm = Math.hypot(...direct.hidden!);
      const vector = vectors[index]!;
      expect(vector).toHaveLength(H);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
      for (let j = 0; j < H; j++) expect(vector[j]).toBeCloseTo(direct.hidden![j]! / norm, 6);
    }
    expect(Math.max(...vectors[0]!.map((value, j) => Math.abs(value - vectors[1]![j]!)))).toBeGreaterThan(1e-3); // different texts, different vectors
  });

  it('follows a growing text incrementally: the vectors of embedding it from scratch, running only the appended tokens', async () => {
    const steps: number[] = []; // tokens fed per backend step
    const keeps: (boolean | undefined)[] = []; // keepCache per backend step
    const inner = sessions.cat!;
    const spied: BackendSession = {
      ...inner, pack: inner.pack, device: inner.device, backendId: inner.backendId,
      doStep: (input) => (steps.push(input.sequenceLength), keeps.push(input.keepCache), inner.doStep(input)),
      dispose: () => inner.dispose(),
    };
    const embedder = createSessionHiddenEmbedder(spied, charTokenizer);
    const profiles = await embedder.embed(['the sum of two', 'def f(x):']);
    expect(keeps).toEqual([false, false]); // whole texts: no cache copied out
    const state = embedder.createIncremental!(profiles);
    const texts = ['the sum', 'the sum of', 'the sum of 2', 'the sum of 2', 'def f'];
    const statuses: string[] = [];
    const fed: number[][] = [];
    const updateKeeps: (boolean | undefined)[] = [];
    for (const text of texts) {
      steps.length = 0;
      keeps.length = 0;
      statuses.push(await state.update(text));
      fed.push([...steps]);
      updateKeeps.push(...keeps);
      steps.length = 0;
      const [direct] = await embedder.embed([text]);
      const embedding = state.embedding();
      expect(Math.max(...embedding.map((value, j) => Math.abs(value - direct![j]!)))).toBeLessThan(1e-5);
      const expected = profiles.map((profile) => profile.reduce((dot, value, j) => dot + value * direct![j]!, 0));
      Array.from(state.similarities()).forEach((similarity, i) => expect(similarity).toBeCloseTo(expected[i]!, 5));
    }
    expect(statuses).toEqual(['rebuilt', 'extended', 'extended', 'unchanged', 'rebuilt']);
    state.dispose!(); // drops the cache: the next text, though it extends the last, is run from scratch
    expect(await state.update('def f(x)')).toBe('rebuilt');
    const [direct] = await embedder.embed(['def f(x)']);
    expect(Math.max(...state.embedding().map((value, j) => Math.abs(value - direct![j]!)))).toBeLessThan(1e-5);
    const length = (text: string) => Array.from(charTokenizer.encode(text)).length;
    expect(fed).toEqual([[length('the sum')], [length('the sum of') - length('the sum')], [2], [], [length('def f')]]);
    expect(updateKeeps).toEqual([true, true, true, true]); // the incremental state continues its cache
  });

  it('refuses a pack built without the hidden output', async () => {
    const destination = join(root, 'no-hidden');
    await writeModelPack({ source: llama, adapters, destination, withHidden: false });
    const session = await createNodeBackend().doLoad(destination);
    try {
      expect(() => createSessionHiddenEmbedder(session, charTokenizer)).toThrow(expect.objectContaining({ code: 'E_EMBEDDER' }));
    } finally {
      await session.dispose();
    }
  });
});
