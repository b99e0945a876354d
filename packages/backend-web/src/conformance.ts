// The backend conformance suite: the spec behaviour every Backend must show on the same packs —
// step shapes, cache growth and consumption (keepCache false included), one-hot mix = that adapter
// alone, zero mix = base, the pooled hidden state, a batch = its rows run separately, dispose.
// Framework-neutral (pass vitest's describe/it), no vitest import, so it is safe to export. Not a
// numerical reference test (backend-node has that).

import { isLoraTleError } from '@lora-tle/spec';
import type { Backend, BackendSession, Combination, KvCache, MixCoefficients, StepOutput } from '@lora-tle/spec';

export interface ConformanceTestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
  afterAll?(body: () => Promise<void>): void;
}

/** Two packs over one base model: `mixed` with ≥ 2 adapters (B ≠ 0), `firstAdapterOnly` with adapter 0 of it alone. */
export interface ConformancePacks {
  mixed: string;
  firstAdapterOnly: string;
}

export interface ConformanceSetup {
  name: string; // e.g. 'node (cpu)'
  makeBackend(): Backend;
  /** Locations (directory or URL) of the packs, built lazily on first use. */
  packs(): Promise<ConformancePacks>;
  /** Weights → fed coefficients: @lora-tle/mixing mixCoefficients. */
  mixFor(weights: readonly number[], combination: Combination): MixCoefficients;
  tolerance?: number; // max |Δlogit| for "equal"; default 1e-4
  timeoutMs?: number; // per test; default 60 s
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`conformance: ${message}`);
}

function maxAbsDifference(left: Float32Array, right: Float32Array): number {
  check(left.length === right.length, `compared logits have lengths ${left.length} and ${right.length}`);
  let max = 0;
  for (let i = 0; i < left.length; i++) max = Math.max(max, Math.abs((left[i] as number) - (right[i] as number)));
  return max;
}

async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isLoraTleError(error) ? error.code : `non-LoraTleError: ${(error as Error).message}`;
  }
  return 'resolved';
}

export function describeBackendConformance(api: ConformanceTestApi, setup: ConformanceSetup): void {
  const tolerance = setup.tolerance ?? 1e-4;
  const timeout = setup.timeoutMs ?? 60_000;
  const loaded = new Map<keyof ConformancePacks, Promise<BackendSession>>();
  const session = (which: keyof ConformancePacks): Promise<BackendSession> => {
    let pending = loaded.get(which);
    if (!pending) {
      pending = setup.packs().then((packs) => setup.makeBackend().doLoad(packs[which]));
      loaded.set(which, pending);
    }
    return pending;
  };
  api.afterAll?.(async () => {
    for (const pending of loaded.values()) await (await pending).dispose();
  });

  const tokens = (count: number, vocab: number, seed: number): Int32Array => Int32Array.from({ length: count }, (_, i) => (seed + i * 7) % vocab);
  const mixOf = (s: BackendSession, weights: readonly number[]) => setup.mixFor(weights, s.pack.combination);
  /** Prefill `prompt` then decode `next` one token at a time; the logits of every step, last position. */
  const run = async (s: BackendSession, weights: readonly number[], prompt: Int32Array, next: readonly number[]): Promise<Float32Array[]> => {
    const mix = [mixOf(s, weights)];
    let output = await s.doStep({ inputIds: prompt, batchSize: 1, sequenceLength: prompt.length, mix, cache: null });
    const logits = [output.logits];
    for (const token of next) {
      output = await s.doStep({ inputIds: Int32Array.of(token), batchSize: 1, sequenceLength: 1, mix, cache: output.cache });
      logits.push(output.logits);
    }
    output.cache.dispose();
    return logits;
  };
  const worst = (left: Float32Array[], right: Float32Array[]): number => Math.max(...left.map((logits, i) => maxAbsDifference(logits, right[i] as Float32Array)));

  api.describe(`backend conformance: ${setup.name}`, () => {
    api.it('prefill gives (B, 1, V) or (B, T, V) logits and a cache of length T; decode grows it by one', async () => {
      const s = await session('mixed');
      const { vocabSize: V } = s.pack.architecture;
      const N = s.pack.adapters.length;
      check(N >= 2, `the mixed pack needs ≥ 2 adapters, has ${N}`);
      const weights = Array.from({ length: N }, (_, i) => 1 / (i + 2));
      const mix = [mixOf(s, weights), mixOf(s, weights)];
      const prompt = Int32Array.of(...tokens(5, V, 1), ...tokens(5, V, 2)); // (2, 5)
      const all = await s.doStep({ inputIds: prompt, batchSize: 2, sequenceLength: 5, mix, cache: null, logits: 'all' });
      check(all.logits.length === 2 * 5 * V && all.logitsPositions === 5, `logits 'all' has ${all.logits.length} values / ${all.logitsPositions} positions, expected 2·5·${V} / 5`);
      check(all.cache.length === 5 && all.cache.batchSize === 2, `cache length ${all.cache.length} batch ${all.cache.batchSize}, expected 5 and 2`);
      all.cache.dispose();
      const last = await s.doStep({ inputIds: prompt, batchSize: 2, sequenceLength: 5, mix, cache: null });
      check(last.logits.length === 2 * V && last.logitsPositions === 1, `logits 'last' has ${last.logits.length} values, expected 2·${V}`);
      for (let row = 0; row < 2; row++) {
        const fromAll = all.logits.subarray((row * 5 + 4) * V, (row * 5 + 5) * V);
        check(maxAbsDifference(fromAll, last.logits.subarray(row * V, (row + 1) * V)) <= tolerance, `row ${row}: 'last' differs from the last position of 'all'`);
      }
      let cache: KvCache = last.cache;
      for (let step = 1; step <= 2; step++) {
        const out: StepOutput = await s.doStep({ inputIds: Int32Array.of(3, 4), batchSize: 2, sequenceLength: 1, mix, cache });
        check(out.cache.length === 5 + step, `after decode step ${step} the cache length is ${out.cache.length}, expected ${5 + step}`);
        check(out.logits.length === 2 * V, `decode logits have ${out.logits.length} values, expected 2·${V}`);
        const reused = await rejectionCode(s.doStep({ inputIds: Int32Array.of(3, 4), batchSize: 2, sequenceLength: 1, mix, cache }));
        check(reused === 'E_BACKEND_DISPOSED', `feeding a consumed cache gave ${reused}, expected E_BACKEND_DISPOSED`);
        cache = out.cache;
      }
      cache.dispose();
    }, timeout);

    api.it('keepCache false gives the same logits and a cache that is already disposed', async () => {
      const s = await session('mixed');
      const mix = [mixOf(s, [0.5, 0.5])];
      const prompt = tokens(7, s.pack.architecture.vocabSize, 5);
      const kept = await s.doStep({ inputIds: prompt, batchSize: 1, sequenceLength: 7, mix, cache: null, logits: 'all' });
      const dropped = await s.doStep({ inputIds: prompt, batchSize: 1, sequenceLength: 7, mix, cache: null, logits: 'all', keepCache: false });
      check(maxAbsDifference(kept.logits, dropped.logits) <= tolerance, 'keepCache false changed the logits');
      check(dropped.cache.length === 7, `the dropped cache says length ${dropped.cache.length}, expected 7`);
      const reused = await rejectionCode(s.doStep({ inputIds: Int32Array.of(3), batchSize: 1, sequenceLength: 1, mix, cache: dropped.cache }));
      check(reused === 'E_BACKEND_DISPOSED', `feeding a keepCache-false cache gave ${reused}, expected E_BACKEND_DISPOSED`);
      // a kept cache that goes through a step with keepCache false is consumed as usual
      const last = await s.doStep({ inputIds: Int32Array.of(3), batchSize: 1, sequenceLength: 1, mix, cache: kept.cache, keepCache: false });
      check(last.logits.length === s.pack.architecture.vocabSize, `decode logits have ${last.logits.length} values`);
      const again = await rejectionCode(s.doStep({ inputIds: Int32Array.of(3), batchSize: 1, sequenceLength: 1, mix, cache: kept.cache }));
      check(again === 'E_BACKEND_DISPOSED', `feeding a consumed cache gave ${again}, expected E_BACKEND_DISPOSED`);
    }, timeout);

    api.it('a one-hot mix equals that adapter alone, and different adapters give different logits', async () => {
      const mixed = await session('mixed');
      const single = await session('firstAdapterOnly');
      const N = mixed.pack.adapters.length;
      const prompt = tokens(6, mixed.pack.architecture.vocabSize, 3);
      const oneHot = (index: number) => Array.from({ length: N }, (_, i) => (i === index ? 1 : 0));
      const viaMix = await run(mixed, oneHot(0), prompt, [5, 9]);
      const alone = await run(single, [1], prompt, [5, 9]);
      check(worst(viaMix, alone) <= tolerance, `one-hot(0) differs from adapter 0 alone by ${worst(viaMix, alone)}`);
      const other = await run(mixed, oneHot(1), prompt, [5, 9]);
      check(worst(viaMix, other) > 1e-3, `one-hot(0) and one-hot(1) agree to ${worst(viaMix, other)}: the adapters have no effect`);
    }, timeout);

    api.it('an all-zero mix equals the base model', async () => {
      const mixed = await session('mixed');
      const single = await session('firstAdapterOnly');
      const prompt = tokens(6, mixed.pack.architecture.vocabSize, 4);
      const zeroMixed = await run(mixed, new Array<number>(mixed.pack.adapters.length).fill(0), prompt, [1, 2]);
      const zeroSingle = await run(single, [0], prompt, [1, 2]);
      check(worst(zeroMixed, zeroSingle) <= tolerance, `zero mixes of the two packs differ by ${worst(zeroMixed, zeroSingle)}`);
      const withAdapter = await run(single, [1], prompt, [1, 2]);
      check(worst(zeroSingle, withAdapter) > 1e-3, 'weight 0 and weight 1 agree: the adapter has no effect');
    }, timeout);

    api.it('hidden comes only when asked: (B, H), a left-padded row pooled over its real tokens only', async () => {
      const s = await session('mixed');
      const { vocabSize: V, hiddenSize: H } = s.pack.architecture;
      check(s.pack.io.hidden !== null, 'the mixed pack needs the hidden output');
      const mix = [mixOf(s, new Array<number>(s.pack.adapters.length).fill(0.5))];
      const short = tokens(3, V, 6);
      const alone = await s.doStep({ inputIds: short, batchSize: 1, sequenceLength: 3, mix, cache: null, hidden: true });
      check(alone.hidden?.length === H, `hidden has ${alone.hidden?.length} values, expected H = ${H}`);
      const without = await s.doStep({ inputIds: short, batchSize: 1, sequenceLength: 3, mix, cache: null });
      check(without.hidden === undefined, 'a step that did not ask for hidden got it');
      // row 0: two pads then the short prompt; row 1: five real tokens
      const batch = await s.doStep({
        inputIds: Int32Array.of(0, 0, ...short, ...tokens(5, V, 7)),
        attentionMask: Uint8Array.of(0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
        positionIds: Int32Array.of(0, 0, 0, 1, 2, 0, 1, 2, 3, 4),
        batchSize: 2,
        sequenceLength: 5,
        mix: [mix[0]!, mix[0]!],
        cache: null,
        hidden: true,
      });
      check(batch.hidden?.length === 2 * H, `batched hidden has ${batch.hidden?.length} values, expected 2·H`);
      const padded = maxAbsDifference(batch.hidden!.subarray(0, H), alone.hidden!);
      check(padded <= tolerance, `the padded row's hidden differs from the row alone by ${padded}`);
      const decode = await s.doStep({ inputIds: Int32Array.of(9), batchSize: 1, sequenceLength: 1, mix, cache: alone.cache, hidden: true });
      check(decode.hidden?.length === H && decode.hidden.some((value) => value !== 0), 'a decode step asked for hidden got no state of its token');
      for (const output of [without, batch, decode]) output.cache.dispose();
    }, timeout);

    api.it('a batch equals its rows run separately, each with its own mix', async () => {
      const s = await session('mixed');
      const { vocabSize: V } = s.pack.architecture;
      const N = s.pack.adapters.length;
      const rows = [
        { prompt: tokens(4, V, 5), weights: Array.from({ length: N }, (_, i) => (i === 0 ? 0.8 : 0.2 / (N - 1))), next: [7, 8] },
        { prompt: tokens(4, V, 6), weights: Array.from({ length: N }, (_, i) => (i === N - 1 ? 1 : 0)), next: [2, 11] },
      ];
      const separate = [];
      for (const row of rows) separate.push(await run(s, row.weights, row.prompt, row.next));
      const mix = rows.map((row) => mixOf(s, row.weights));
      let output = await s.doStep({ inputIds: Int32Array.of(...rows[0]!.prompt, ...rows[1]!.prompt), batchSize: 2, sequenceLength: 4, mix, cache: null });
      for (let step = 0; step <= 2; step++) {
        for (let row = 0; row < 2; row++) {
          const batched = output.logits.subarray(row * V, (row + 1) * V);
          const difference = maxAbsDifference(batched, separate[row]![step]!);
          check(difference <= tolerance, `step ${step} row ${row}: batched logits differ from the separate run by ${difference}`);
        }
        if (step === 2) break;
        const nextTokens = Int32Array.of(rows[0]!.next[step]!, rows[1]!.next[step]!);
        output = await s.doStep({ inputIds: nextTokens, batchSize: 2, sequenceLength: 1, mix, cache: output.cache });
      }
      output.cache.dispose();
    }, timeout);

    api.it('after dispose, doStep rejects with E_BACKEND_DISPOSED; dispose twice is harmless', async () => {
      const packs = await setup.packs();
      const s = await setup.makeBackend().doLoad(packs.firstAdapterOnly);
      await s.dispose();
      await s.dispose();
      const code = await rejectionCode(s.doStep({ inputIds: Int32Array.of(1), batchSize: 1, sequenceLength: 1, mix: [mixOf(s, [1])], cache: null }));
      check(code === 'E_BACKEND_DISPOSED', `doStep after dispose gave ${code}`);
    }, timeout);
  });
}
