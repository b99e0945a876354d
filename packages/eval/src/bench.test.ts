// The bench on the scripted backend: EOS is masked so every run has exactly `tokens` tokens, modes
// are interleaved in a seeded random order per round, medians and ratios come out of the measured runs.
// No timing assertion (the machine is shared): only structure and arithmetic.

import { describe, expect, it } from 'vitest';
import type { ContextRouter } from '@lora-tle/engine';
import { checkBenchModes, runBench, withoutEos } from './bench.js';
import { benchJson, benchSvg, benchTable } from './bench-report.js';
import { charTokenizer, createScriptedSession, EOS_ID, SCRIPTED_VOCAB } from './test-support/scripted-backend.js';

const session = createScriptedSession([{ adapter: 'math', answers: new Map(), otherwise: 'ok' }, { adapter: 'code', answers: new Map(), otherwise: 'x' }]);
const router: ContextRouter = {
  adapters: ['math', 'code'],
  async route({ step }) {
    return { adapters: ['math', 'code'], weights: Float32Array.from(step % 2 === 0 ? [0.9, 0.1] : [0.2, 0.8]) };
  },
};

describe('runBench', () => {
  it('masks EOS so the scripted model (which wants to stop at once) runs the full length', async () => {
    const input = { inputIds: Int32Array.from(charTokenizer.encode('Answer:')), batchSize: 1, sequenceLength: 8, mix: [{ a: new Float32Array(2), b: new Float32Array(2) }], cache: null };
    const raw = await session.doStep(input);
    expect(raw.logits[EOS_ID]).toBe(0); // base says " no idea": the first char, not EOS, is likeliest
    const masked = await withoutEos(session).doStep(input);
    expect(masked.logits[EOS_ID]).toBe(Number.NEGATIVE_INFINITY);
    expect(masked.logits.length).toBe(SCRIPTED_VOCAB);
  });

  it('interleaves modes in a seeded random order per round (each mode once per round) and takes medians', async () => {
    const seen: string[][] = [[], [], []];
    const report = await runBench({
      session, tokenizer: charTokenizer, router, tokens: 12, rounds: 3, modes: ['base', 'token', 'prompt'], warmupTokens: 2,
      onRun: (run, round) => void seen[round]!.push(run.mode),
    });
    for (const order of seen) expect([...order].sort()).toEqual(['base', 'prompt', 'token']);
    expect(new Set(seen.map((order) => order.join())).size).toBeGreaterThan(1); // not one fixed order
    const again: string[][] = [[], [], []];
    await runBench({ session, tokenizer: charTokenizer, router, tokens: 2, rounds: 3, modes: ['base', 'token', 'prompt'], warmupTokens: 0, onRun: (run, round) => void again[round]!.push(run.mode) });
    expect(again).toEqual(seen); // same seed, same orders
    expect(report.runs.map((run) => [run.mode, run.tokens])).toEqual([['base', 12], ['token', 12], ['prompt', 12]]);
    const medianOf = (mode: string) => {
      const values = report.roundsDetail!.flat().filter((run) => run.mode === mode).map((run) => run.tokensPerSecond).sort((a, b) => a - b);
      return values[1];
    };
    expect(report.runs[1]!.tokensPerSecond).toBe(medianOf('token'));
    expect(report.ratios.routedOverBase).toBeCloseTo(medianOf('token')! / medianOf('base')!, 12);
    expect(report.ratios.routedOverNaive).toBeNull();
    const json = JSON.parse(benchJson(report)) as { runs: { mode: string; msPerToken: Record<string, number> }[]; ratios: Record<string, unknown> };
    expect(Object.keys(json.runs[0]!.msPerToken)).toEqual(['routing', 'model', 'sampling']);
    expect(Object.keys(json.ratios)).toEqual(['routedOverBase', 'routedOverNaive', 'routedOverBaseCpu', 'routedOverNaiveCpu']);
    const cpuOf = (mode: string) => report.runs.find((run) => run.mode === mode)!.cpuMsPerToken;
    expect(report.ratios.routedOverBaseCpu).toBeCloseTo(cpuOf('base') / cpuOf('token'), 12);
    expect(cpuOf('token')).toBeGreaterThan(0);
    expect(benchTable(report)).toContain('token-level ÷ base-only');
    // spread: quartiles of the per-round token ÷ base (3 rounds: p25 = halfway between the two lowest)
    const perRound = report.roundsDetail!.map((round) => round.find((run) => run.mode === 'token')!.tokensPerSecond / round.find((run) => run.mode === 'base')!.tokensPerSecond).sort((a, b) => a - b);
    expect(report.spread.routedOverBase![0]).toBeCloseTo((perRound[0]! + perRound[1]!) / 2, 12);
    expect(report.spread.routedOverBase![1]).toBeCloseTo((perRound[1]! + perRound[2]!) / 2, 12);
    expect(report.roundMedian.routedOverBase).toBeCloseTo(perRound[1]!, 12); // the paired median
    expect(report.spread.routedOverBaseCpu![0]).toBeLessThanOrEqual(report.roundMedian.routedOverBaseCpu!);
    expect(report.roundMedian.routedOverBaseCpu!).toBeLessThanOrEqual(report.spread.routedOverBaseCpu![1]);
    expect(benchTable(report)).toContain(`per round: median ${perRound[1]!.toFixed(3)}, middle half`);
    const printed = JSON.parse(benchJson(report)) as { spread: object; roundMedian: Record<string, number>; roundsDetail: [string, number, number, number][][] };
    expect(Object.keys(printed.spread)).toEqual(['routedOverBase', 'routedOverBaseCpu']);
    // every run, one row per round in the order it ran: [mode, tokens/s, model ms/token, CPU ms/token]
    expect(printed.roundsDetail.map((round) => round.map(([mode]) => mode))).toEqual(seen);
    const [mode, tokensPerSecond, , cpu] = printed.roundsDetail[2]![0]!;
    const measured = report.roundsDetail![2]![0]!;
    expect([mode, tokensPerSecond, cpu]).toEqual([measured.mode, Math.round(measured.tokensPerSecond * 100) / 100, Math.round(measured.cpuMsPerToken * 1e4) / 1e4]);
    expect(printed.roundMedian.routedOverBase).toBeCloseTo(perRound[1]!, 4);
    const svg = benchSvg(report);
    expect((svg.match(/<rect /g) ?? []).length).toBe(1 + 3); // background + one bar per mode
    expect(svg).toContain('(1.00× base)'); // base against itself
  });

  it('collects garbage before every run, warm-up runs included, and never inside one', async () => {
    const events: string[] = [];
    await runBench({
      session, tokenizer: charTokenizer, router, tokens: 3, rounds: 2, modes: ['base', 'token'], warmupTokens: 1,
      collectGarbage: () => events.push('gc'),
      onRun: (run) => events.push(run.mode),
    });
    // 2 warm-up runs (not reported), then 2 rounds × 2 modes, each preceded by one collection
    expect(events.slice(0, 2)).toEqual(['gc', 'gc']);
    expect(events.slice(2).filter((_, i) => i % 2 === 0)).toEqual(['gc', 'gc', 'gc', 'gc']);
    expect(events.slice(2).filter((_, i) => i % 2 === 1).sort()).toEqual(['base', 'base', 'token', 'token']);
  });

  it("'step' runs the backend alone: prefill, then greedy decode steps at zero mixture, the ids base-only generates", async () => {
    const calls: { ids: number[]; weights: number[]; length: number }[] = [];
    const spied = { ...session, doStep: async (input: Parameters<typeof session.doStep>[0]) => {
      calls.push({ ids: Array.from(input.inputIds), weights: input.mix.flatMap((row) => Array.from(row.a)), length: input.sequenceLength });
      return session.doStep(input);
    } };
    const order: string[] = [];
    const report = await runBench({
      session: spied, tokenizer: charTokenizer, router, tokens: 6, rounds: 1, modes: ['base', 'step'], warmupTokens: 0,
      onRun: (run) => void order.push(run.mode),
    });
    // the spy cannot see which run is going on, so split the calls by run: each starts with a prefill
    const runs: (typeof calls)[] = [];
    for (const call of calls) (call.length > 1 ? runs.push([call]) : runs[runs.length - 1]!.push(call));
    expect(runs).toHaveLength(2);
    const byMode = Object.fromEntries(order.map((mode, i) => [mode, runs[i]!]));
    const decodeIds = (mode: string) => byMode[mode]!.slice(1).map((call) => call.ids[0]);
    expect(byMode['step']!).toHaveLength(6); // prefill + 5 decode steps for 6 tokens
    expect(decodeIds('step')).toEqual(decodeIds('base'));
    expect(byMode['step']!.every((call) => call.weights.every((weight) => weight === 0))).toBe(true);
    const step = report.runs.find((run) => run.mode === 'step')!;
    expect(step.tokens).toBe(6);
    expect(step.msPerToken.routing).toBe(0);
    expect(step.tokensPerSecond).toBeGreaterThan(0);
  });

  it("naive mode feeds a naive-graph session each token's merged adapter, and the report says which forward ran", async () => {
    const lora = (scale: number) => ({ module: 'model.layers.0.self_attn.q_proj', rank: 1, alpha: 1, scaling: 1, inFeatures: 2, outFeatures: 2, a: Float32Array.of(scale, 0), b: Float32Array.of(1, 1) });
    const adapterWeights = [[lora(1)], [lora(10)]]; // math, code
    const steps: { a: number[]; mixA: number[] }[] = [];
    const naiveSession = {
      ...session,
      pack: { ...session.pack, adapters: [{ ...session.pack.adapters[0]!, name: 'merged' }], factorInputs: [] },
      doStep: async (input: Parameters<typeof session.doStep>[0]) => {
        steps.push({ a: Array.from(input.adapterFactors![0]!.a), mixA: Array.from(input.mix[0]!.a) });
        return session.doStep({ ...input, mix: [{ a: new Float32Array(2), b: new Float32Array(2) }], adapterFactors: undefined });
      },
    };
    const merged = await runBench({ session, naiveSession, adapterWeights, tokenizer: charTokenizer, router, tokens: 4, rounds: 1, modes: ['token', 'naive'], warmupTokens: 0 });
    expect(merged.naiveForward).toBe('merged');
    expect(merged.naiveDevice).toBe(naiveSession.device);
    expect(steps).toHaveLength(4); // one recompute per token, all on the naive graph
    // PEFT 0.4 linear: A = Σ w_i s_i A_i under the router's weights of that step (0.9/0.1, then 0.2/0.8, …)
    expect(steps[0]!.a[0]).toBeCloseTo(0.9 * 1 + 0.1 * 10, 5);
    expect(steps[1]!.a[0]).toBeCloseTo(0.2 * 1 + 0.8 * 10, 5);
    expect(steps.every((step) => step.mixA.length === 1 && step.mixA[0] === 1)).toBe(true);
    expect(JSON.parse(benchJson(merged)).naiveForward).toBe('merged');
    expect(benchTable(merged)).toContain("naive's forward: the merged adapter on the naive graph");
    const elsewhere = await runBench({ session, naiveSession: { ...naiveSession, device: 'cpu (another backend)' }, adapterWeights, tokenizer: charTokenizer, router, tokens: 2, rounds: 1, modes: ['token', 'naive'], warmupTokens: 0 });
    expect(JSON.parse(benchJson(elsewhere)).naiveDevice).toBe('cpu (another backend)');
    expect(benchTable(elsewhere)).toContain('on cpu (another backend)'); // naive ran elsewhere than the routed modes
    const stacked = await runBench({ session, adapterWeights, tokenizer: charTokenizer, router, tokens: 2, rounds: 1, modes: ['naive'], warmupTokens: 0 });
    expect(stacked.naiveForward).toBe('stacked');
    expect(stacked.naiveDevice).toBe(session.device);
    expect(benchTable(stacked)).not.toContain('÷ base-only'); // no base and token modes: no NaN line
    const none = await runBench({ session, naiveSession, tokenizer: charTokenizer, router, tokens: 2, rounds: 1, modes: ['base'], warmupTokens: 0 });
    expect(none.naiveForward).toBeNull();
    expect(none.naiveDevice).toBeNull();
  });

  it('refuses the naive mode without adapter weights', async () => {
    await expect(runBench({ session, tokenizer: charTokenizer, router, modes: ['naive'] })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });

  it('refuses an unknown, repeated or missing mode before running anything', async () => {
    let steps = 0;
    const counted = { ...session, doStep: (input: Parameters<typeof session.doStep>[0]) => (steps++, session.doStep(input)) };
    await expect(runBench({ session: counted, tokenizer: charTokenizer, router, modes: ['base', 'sideways'] })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT', message: expect.stringContaining('"sideways"') });
    await expect(runBench({ session: counted, tokenizer: charTokenizer, router, modes: ['token', 'base', 'token'] })).rejects.toMatchObject({ message: expect.stringContaining('twice') });
    await expect(runBench({ session: counted, tokenizer: charTokenizer, router, modes: [] })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    expect(steps).toBe(0);
    for (const bad of [['every:0'], ['adapter:'], ['Token']]) expect(() => checkBenchModes(bad)).toThrow(/unknown bench mode/);
    expect(() => checkBenchModes(['base', 'token', 'every:2', 'every:4', 'prompt', 'uniform', 'adapter:math', 'naive', 'step'])).not.toThrow();
  });

  it('refuses runs that would not fit the model context, naming the longest that would', async () => {
    const prompt = 'Answer:';
    const room = session.pack.architecture.maxPositionEmbeddings - charTokenizer.encode(prompt).length;
    await expect(runBench({ session, tokenizer: charTokenizer, router, prompt, tokens: room + 1, modes: ['base'] })).rejects.toMatchObject({
      code: 'E_CONTEXT_OVERFLOW',
      message: expect.stringContaining(`run at most ${room} tokens per run`),
    });
    const report = await runBench({ session, tokenizer: charTokenizer, router, prompt, tokens: room, rounds: 1, modes: ['base'], warmupTokens: 0 });
    expect(report.runs[0]!.tokens).toBe(room);
  });
});
