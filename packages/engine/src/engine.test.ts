// The loop on a real miniature: @lora-tle/mixing's reference forward on a random tiny Llama with
// three LoRA adapters (test-support/reference-backend.ts). Expected tokens are computed here by
// running the reference forward directly (a loop written in the test), never by the engine.

import type { MixCoefficients } from '@lora-tle/spec';
import { createReferenceCache, mixCoefficients, referenceForward, type ReferenceModel } from '@lora-tle/mixing';
import { describe, expect, it } from 'vitest';
import { createEngine, generateText } from './engine.js';
import type { BatchEvent, DoneEvent, GenerationEvent, TokenEvent } from './events.js';
import type { ContextRouter, RoutingRequest } from './routing-mode.js';
import { argmax } from './sampling.js';
import { charTokenizer, createReferenceBackend, createTinyModel, TINY_ADAPTERS, type ReferenceBackendLog } from './test-support/reference-backend.js';

const model = createTinyModel('cat');

async function engineFor(tinyModel: ReferenceModel = model, router: ContextRouter | null = null, adjust?: (row: number, step: number, logits: Float32Array) => void) {
  const log: ReferenceBackendLog = { steps: [], caches: [] };
  const session = await createReferenceBackend(tinyModel, log, adjust).doLoad('memory');
  return { engine: createEngine({ session, tokenizer: charTokenizer, router }), log };
}

async function collect<T>(events: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const oneHot = (index: number) => {
  const weights = new Float32Array(TINY_ADAPTERS.length);
  if (index >= 0) weights[index] = 1;
  return weights;
};

/** Greedy decoding written directly against the reference forward, the independent oracle. */
function oracleGreedy(prompt: string, count: number, coefficientsAt: (step: number) => MixCoefficients, recompute: boolean): number[] {
  const ids = Array.from(charTokenizer.encode(prompt));
  const out: number[] = [];
  let cache = createReferenceCache(model.architecture);
  let logits = referenceForward(model, ids, coefficientsAt(0), cache).logits;
  for (let step = 0; step < count; step++) {
    const V = model.architecture.vocabSize;
    const token = argmax(logits.slice(logits.length - V));
    out.push(token);
    ids.push(token);
    if (recompute) {
      cache = createReferenceCache(model.architecture);
      logits = referenceForward(model, ids, coefficientsAt(step + 1), cache).logits;
    } else {
      logits = referenceForward(model, [token], coefficientsAt(step + 1), cache).logits;
    }
  }
  return out;
}

/** A router whose choice depends on the context length: a changing mixture the oracle can replay. */
const lengthRouter: ContextRouter = {
  adapters: TINY_ADAPTERS,
  async route({ text }) {
    const weights = new Float32Array(3);
    weights[text.length % 3] = 0.7;
    weights[(text.length + 1) % 3] = 0.3;
    return { adapters: TINY_ADAPTERS, weights };
  },
};

describe('engine on the reference forward', () => {
  it('greedy adapter:<name> output equals a hand-written greedy loop on the reference forward', async () => {
    const { engine } = await engineFor();
    const done = await generateText(engine, { prompt: 'what is two plus two?', mode: 'adapter:science', maxNewTokens: 8 });
    const expected = oracleGreedy('what is two plus two?', 8, () => mixCoefficients(oneHot(1), 'cat'), false);
    const eosAt = expected.indexOf(2);
    expect(done.tokenIds).toEqual(eosAt === -1 ? expected : expected.slice(0, eosAt));
    expect(done.finishReason).toBe(done.tokenIds.length === 8 ? 'length' : 'eos');
    expect(done.text).toBe(charTokenizer.decode(done.tokenIds));
  });

  it('base, uniform and a one-hot adapter give different continuations; unknown adapter is refused', async () => {
    const { engine } = await engineFor();
    const texts = await Promise.all(
      ['base', 'uniform', 'adapter:math', 'adapter:code'].map(async (mode) => (await generateText(engine, { prompt: 'solve: x plus one', mode, maxNewTokens: 6 })).tokenIds.join(',')),
    );
    expect(new Set(texts).size).toBeGreaterThan(2);
    await expect(generateText(engine, { prompt: 'hi', mode: 'adapter:poetry' })).rejects.toMatchObject({ code: 'E_UNKNOWN_ADAPTER' });
  });

  it('token routing: the mixture in each event is the one the router chose for that context, and reproduces the tokens', async () => {
    const { engine } = await engineFor(model, lengthRouter);
    const events = await collect(engine.generate({ prompt: 'read this: the cat sat.', mode: 'token', maxNewTokens: 6, kv: 'recompute' }));
    const tokens = events.filter((event): event is TokenEvent => event.type === 'token');
    const prompt = 'read this: the cat sat.';
    let text = prompt;
    for (const event of tokens) {
      const expected = (await lengthRouter.route({ text, tokenIds: [], step: 0 })).weights;
      expect([...event.mix.weights]).toEqual([...expected]);
      text += charTokenizer.decode([event.tokenId]);
    }
    const mixes = tokens.map((event) => mixCoefficients(event.mix.weights, 'cat'));
    const oracle = oracleGreedy(prompt, tokens.length, (step) => mixes[Math.min(step, mixes.length - 1)]!, true);
    expect(tokens.map((event) => event.tokenId)).toEqual(oracle);
  });

  it('hands the router each step\'s own token ids, also when it reads them only after later steps', async () => {
    const requests: RoutingRequest[] = [];
    const keeping: ContextRouter = { adapters: TINY_ADAPTERS, route: (request) => (requests.push(request), lengthRouter.route(request)) };
    const { engine } = await engineFor(model, keeping, (_row, _step, logits) => (logits[2] = -1e9));
    const done = await generateText(engine, { prompt: 'keep ids', mode: 'token', maxNewTokens: 5 });
    const promptIds = Array.from(charTokenizer.encode('keep ids'));
    expect(requests.map((request) => request.tokenIds)).toEqual(requests.map((_, step) => [...promptIds, ...done.tokenIds.slice(0, step)]));
    expect(requests.map((request) => request.text)).toEqual(requests.map((_, step) => 'keep ids' + charTokenizer.decode(done.tokenIds.slice(0, step))));
  });

  it('every:k and prompt modes call the router only on their steps; a window shows it the last W tokens', async () => {
    const seen: { step: number; text: string; tokens: number }[] = [];
    const recording: ContextRouter = {
      adapters: TINY_ADAPTERS,
      route: (request) => (seen.push({ step: request.step, text: request.text, tokens: request.tokenIds.length }), lengthRouter.route(request)),
    };
    const { engine } = await engineFor(model, recording, (_row, _step, logits) => (logits[2] = -1e9));
    const events = await collect(engine.generate({ prompt: 'every third', mode: 'every:3', maxNewTokens: 7 }));
    const tokens = events.filter((event): event is TokenEvent => event.type === 'token');
    expect(seen.map((call) => call.step)).toEqual([0, 3, 6]);
    expect(tokens.map((event) => event.mix)).toEqual([0, 0, 0, 3, 3, 3, 6].map((step) => tokens[step]!.mix));
    expect(tokens[1]!.mix).toBe(tokens[0]!.mix);
    expect(seen[1]!.text).toBe('every third' + charTokenizer.decode(tokens.slice(0, 3).map((event) => event.tokenId)));

    seen.length = 0;
    await generateText(engine, { prompt: 'once only', mode: 'prompt', maxNewTokens: 5 });
    expect(seen.map((call) => call.step)).toEqual([0]);

    seen.length = 0;
    await generateText(engine, { prompt: 'a long prompt here', mode: 'token', maxNewTokens: 3, routingWindow: 4 });
    expect(seen.map((call) => call.tokens)).toEqual([4, 4, 4]);
    expect(seen[0]!.text).toBe('here');
  });

  it('reuse with a constant mixture equals recompute; reuse steps one token at a time after the prefill, recompute keeps no cache', async () => {
    const { engine, log } = await engineFor();
    const reuse = await generateText(engine, { prompt: 'a b c d', mode: 'uniform', maxNewTokens: 7, kv: 'reuse' });
    expect(log.steps.map((step) => step.sequenceLength)).toEqual([8, 1, 1, 1, 1, 1, 1].slice(0, reuse.tokenIds.length));
    expect(log.steps.slice(1).every((step) => step.cache !== null)).toBe(true);
    expect(log.steps.every((step) => step.keepCache === undefined)).toBe(true);
    log.steps.length = 0;
    const recompute = await generateText(engine, { prompt: 'a b c d', mode: 'uniform', maxNewTokens: 7, kv: 'recompute' });
    expect(recompute.tokenIds).toEqual(reuse.tokenIds);
    expect(log.steps.every((step) => step.cache === null && step.keepCache === false)).toBe(true); // nothing to copy out
    expect(log.steps.map((step) => step.sequenceLength)).toEqual(log.steps.map((_, i) => 8 + i));
  });

  it('reuse under token routing equals the oracle that feeds each token once under the mixture of its step', async () => {
    const { engine } = await engineFor(model, lengthRouter);
    const events = await collect(engine.generate({ prompt: 'the cat sat', mode: 'token', maxNewTokens: 6 }));
    const tokens = events.filter((event): event is TokenEvent => event.type === 'token');
    const mixes = tokens.map((event) => mixCoefficients(event.mix.weights, 'cat'));
    const oracle = oracleGreedy('the cat sat', tokens.length, (step) => mixes[Math.min(step, mixes.length - 1)]!, false);
    expect(tokens.map((event) => event.tokenId)).toEqual(oracle);
  });

  it('same seed gives the same sampled text, another seed another text', async () => {
    const { engine } = await engineFor();
    const run = (seed: number) => generateText(engine, { prompt: 'once upon a time', mode: 'uniform', maxNewTokens: 12, sampling: { temperature: 1.5, seed } });
    const [first, again, other] = await Promise.all([run(1), run(1), run(2)]);
    expect(again.tokenIds).toEqual(first.tokenIds);
    expect(other.tokenIds).not.toEqual(first.tokenIds);
  });

  it('stops at EOS without emitting it, and at a stop string without emitting the stop string', async () => {
    const forceEos = (_row: number, step: number, logits: Float32Array) => {
      if (step === 3) logits[2] = 1e9;
    };
    const { engine } = await engineFor(model, null, forceEos);
    const events = await collect(engine.generate({ prompt: 'hello', mode: 'base', maxNewTokens: 10 }));
    const done = events.at(-1) as DoneEvent;
    expect(done.finishReason).toBe('eos');
    expect(done.tokenIds.length).toBe(3);
    expect(done.tokenIds).not.toContain(2);
    expect(events.filter((event) => event.type === 'token').length).toBe(3);

    const { engine: free } = await engineFor();
    const full = await generateText(free, { prompt: 'hello', mode: 'base', maxNewTokens: 12 });
    const stop = full.text.slice(4, 6); // a stop string inside the greedy continuation
    const cut = full.text.indexOf(stop);
    const stopEvents = await collect(free.generate({ prompt: 'hello', mode: 'base', maxNewTokens: 12, stop: [stop] }));
    const stopped = stopEvents.at(-1) as DoneEvent;
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.text).toBe(full.text.slice(0, cut));
    const streamed = stopEvents.filter((event): event is TokenEvent => event.type === 'token').map((event) => event.text).join('');
    expect(streamed + stopped.tail).toBe(stopped.text);
  });

  it('a character split across tokens is streamed whole: no U+FFFD in deltas or in the router\'s text, full text at the end', async () => {
    // A byte tokenizer: ids 3.. are single bytes, so "é" (C3 A9) and "€" (E2 82 AC) span tokens.
    const bytes = [0x61, 0xc3, 0xa9, 0x62, 0xe2, 0x82, 0xac, 0x63, 0x3a, 0xe2]; // a é b € c : then half a €
    const byteTokenizer = {
      encode: (text: string) => [1, ...Array.from(new TextEncoder().encode(text), (byte) => 3 + Math.max(0, bytes.indexOf(byte)))],
      decode: (ids: readonly number[]) => new TextDecoder().decode(Uint8Array.from(ids.filter((id) => id >= 3), (id) => bytes[id - 3]!)),
    };
    const forced = (step: number) => 3 + (step + 1) % bytes.length; // after the prompt "a": é b € c : € …
    const seen: string[] = [];
    const recordingRouter: ContextRouter = {
      adapters: TINY_ADAPTERS,
      async route({ text }) {
        seen.push(text);
        return { adapters: TINY_ADAPTERS, weights: oneHot(0) };
      },
    };
    const run = async (maxNewTokens: number, stop?: string[]) => {
      const session = await createReferenceBackend(model, { steps: [], caches: [] }, (_row, step, logits) => logits.fill(-1e9).fill(0, forced(step), forced(step) + 1)).doLoad('memory');
      const engine = createEngine({ session, tokenizer: byteTokenizer, router: recordingRouter });
      const events = await collect(engine.generate({ prompt: 'a', mode: 'token', maxNewTokens, ...(stop ? { stop } : {}) }));
      const done = events.at(-1) as DoneEvent;
      const deltas = events.filter((event): event is TokenEvent => event.type === 'token').map((event) => event.text);
      return { done, deltas };
    };
    const whole = await run(9); // ends one byte into a second "€"
    expect(whole.done.finishReason).toBe('length');
    expect(whole.deltas.join('') + whole.done.tail).toBe('éb€c:\uFFFD');
    expect(whole.done.text).toBe('éb€c:\uFFFD'); // what decode(all ids) gives: the cut character is not hidden
    expect(whole.deltas.slice(0, 6)).toEqual(['', 'é', 'b', '', '', '€']);
    expect(seen.slice(0, 9)).toEqual(['a', 'a', 'aé', 'aéb', 'aéb', 'aéb', 'aéb€', 'aéb€c', 'aéb€c:']);
    const stopped = await run(9, ['€c']);
    expect(stopped.done.finishReason).toBe('stop');
    expect(stopped.done.text).toBe('éb');
    expect(stopped.deltas.join('') + stopped.done.tail).toBe('éb');
  });

  it('abort stops cleanly with finishReason aborted and disposes the cache', async () => {
    const { engine, log } = await engineFor(model, null, (_row, _step, logits) => (logits[2] = -1e9));
    const controller = new AbortController();
    const events: GenerationEvent[] = [];
    for await (const event of engine.generate({ prompt: 'count with me', mode: 'uniform', maxNewTokens: 20 }, { signal: controller.signal })) {
      events.push(event);
      if (events.length === 3) controller.abort();
    }
    const done = events.at(-1) as DoneEvent;
    expect(done.finishReason).toBe('aborted');
    expect(done.tokenIds.length).toBe(3);
    expect(log.caches.at(-1)!.disposed).toBe(true);
  });

  it('breaking out of the stream disposes the cache too', async () => {
    const { engine, log } = await engineFor();
    for await (const event of engine.generate({ prompt: 'count', mode: 'base', maxNewTokens: 20 })) if (event.type === 'token') break;
    expect(log.caches.at(-1)!.disposed).toBe(true);
  });

  it('refuses an empty prompt, a prompt that overflows the context, and bad sampling', async () => {
    const { engine } = await engineFor();
    await expect(generateText(engine, { prompt: '  ' })).rejects.toMatchObject({ code: 'E_PROMPT_EMPTY' });
    const long = 'a'.repeat(40); // 41 tokens with BOS; context 48
    await expect(generateText(engine, { prompt: long, maxNewTokens: 10 })).rejects.toMatchObject({ code: 'E_CONTEXT_OVERFLOW' });
    const truncated = await generateText(engine, { prompt: long, maxNewTokens: 10, truncate: 'left' });
    expect(truncated.promptTokens).toBe(38);
    await expect(generateText(engine, { prompt: 'x', maxNewTokens: 4, sampling: { topP: 0 } })).rejects.toMatchObject({ code: 'E_SAMPLING' });
    await expect(generateText(engine, { prompt: 'x', mode: 'token' })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });

  it('reports timings per token and for the request', async () => {
    const { engine } = await engineFor(model, lengthRouter);
    const events = await collect(engine.generate({ prompt: 'abc', maxNewTokens: 4 }));
    const done = events.at(-1) as DoneEvent;
    const tokens = events.filter((event): event is TokenEvent => event.type === 'token');
    for (const event of tokens) for (const value of Object.values(event.timing)) expect(value).toBeGreaterThanOrEqual(0);
    expect(done.timing.totalMs).toBeGreaterThanOrEqual(done.timing.ttftMs);
    expect(done.timing.modelMs).toBeCloseTo(tokens.reduce((sum, event) => sum + event.timing.modelMs, 0), 6);
    expect(done.timing.tokensPerSecond).toBeCloseTo((tokens.length * 1000) / done.timing.totalMs, 6);
  });
});

describe('naive mode (the paper loop)', () => {
  it('on a linear-peft0.4 pack computes what the fast recompute loop computes, from whole-text routing', async () => {
    const peftModel = createTinyModel('linear-peft0.4');
    const adapterWeights = peftModel.adapters.map((adapter) => [...adapter.modules.values()]);
    const seen: string[] = [];
    const recordingRouter: ContextRouter = { adapters: TINY_ADAPTERS, route: (request) => (seen.push(request.text), lengthRouter.route(request)) };
    const log: ReferenceBackendLog = { steps: [], caches: [] };
    const session = await createReferenceBackend(peftModel, log).doLoad('memory');
    const engine = createEngine({ session, tokenizer: charTokenizer, router: recordingRouter, adapterWeights });
    const request = { prompt: 'the naive loop', mode: 'token', maxNewTokens: 5, routingWindow: 3 };
    const naive = await generateText(engine, { ...request, naive: true });
    expect(log.steps.every((step) => step.cache === null)).toBe(true); // no KV cache
    expect(seen.every((text) => text.startsWith('the naive loop'))).toBe(true); // whole text, window ignored
    const fast = await generateText(engine, { ...request, routingWindow: undefined, kv: 'recompute' });
    expect(naive.tokenIds).toEqual(fast.tokenIds);
    await expect(generateText(createEngine({ session, tokenizer: charTokenizer }), { prompt: 'x', mode: 'base', maxNewTokens: 2, naive: true })).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
    });
  });
});

describe('batch generation', () => {
  it('greedy batch output equals single-prompt output, each row with its own routing', async () => {
    const requests = [
      { prompt: 'short', mode: 'adapter:math', maxNewTokens: 5 },
      { prompt: 'a much longer prompt here', mode: 'token', maxNewTokens: 7 },
      { prompt: 'mid length one', mode: 'base', maxNewTokens: 3 },
    ];
    const { engine } = await engineFor(model, lengthRouter);
    const singles = await Promise.all(requests.map((request) => generateText(engine, request)));
    const { engine: batchEngine, log } = await engineFor(model, lengthRouter);
    const events = await collect(batchEngine.generateBatch(requests));
    const dones = events.filter((event): event is BatchEvent & DoneEvent => event.type === 'done').sort((a, b) => a.row - b.row);
    expect(dones.map((done) => done.tokenIds)).toEqual(singles.map((single) => single.tokenIds));
    expect(dones.map((done) => done.text)).toEqual(singles.map((single) => single.text));
    // one backend step per token for the whole batch
    expect(log.steps.length).toBe(Math.max(...singles.map((single) => single.tokenIds.length)));
    expect(log.steps[0]!.batchSize).toBe(3);
    // finished rows emit nothing after their done event
    for (const done of dones) {
      const doneAt = events.indexOf(done);
      expect(events.slice(doneAt + 1).some((event) => event.row === done.row)).toBe(false);
    }
  });

  it('batch recompute equals batch reuse under a constant mixture', async () => {
    const requests = [
      { prompt: 'one', mode: 'uniform', maxNewTokens: 4 },
      { prompt: 'two and three', mode: 'adapter:code', maxNewTokens: 4 },
    ];
    const { engine } = await engineFor();
    const run = async (kv: 'reuse' | 'recompute') =>
      (await collect(engine.generateBatch(requests.map((request) => ({ ...request, kv })))))
        .filter((event) => event.type === 'done')
        .sort((a, b) => a.row - b.row)
        .map((event) => (event as DoneEvent).tokenIds);
    expect(await run('recompute')).toEqual(await run('reuse'));
  });
});
