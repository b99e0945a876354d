// The speed benchmark: base-only decoding, token-level routing (every token, every 2, every 4),
// prompt-level routing, the naive paper loop and, on request, the backend alone without the
// engine (`step`), all in one process and one run so that their
// ratios hold on a noisy machine. Modes are interleaved: every round runs each mode once, in a
// seeded random order of its own, and each metric is the median over rounds — noise from other
// processes then hits every mode alike, and no mode always runs right after the same other mode (a
// fixed cyclic order put base-only after naive in every round, and that neighbour changes speed).
// EOS is masked out of the logits (the model math is untouched), so every run generates exactly
// `tokens` tokens whatever the prompt. Given a `collectGarbage` function, a full collection runs
// (untimed) before every run, so that no run pays for the garbage of the one before it (the naive
// loop leaves megabytes of merged weights behind). Given a session of the pack's naive graph, the
// naive mode runs the paper's forward (its merged adapter fed every token); otherwise it recomputes
// on the pack's run-time mixture, and the report says which (`naiveForward`).
// Not the accuracy eval (eval-runner.ts).

import { argmax, createEngine, mulberry32, parseRoutingMode, type ContextRouter, type EngineTokenizer, type GenerateRequest, type AdapterWeightsSource } from '@lora-tle/engine';
import { LoraTleError, type BackendSession } from '@lora-tle/spec';
import { median, quantile } from './order-statistics.js';

export const DEFAULT_BENCH_MODES = ['base', 'token', 'every:2', 'every:4', 'prompt', 'naive'] as const;
export const DEFAULT_BENCH_PROMPT =
  'Question: A baker makes 24 muffins in the morning and 17 more in the afternoon. She sells 29 of them. How many muffins are left?\n\nAnswer:';

export interface BenchRun {
  mode: string;
  tokens: number;
  tokensPerSecond: number; // generated tokens / (request start → last token), prefill included
  msPerToken: { routing: number; model: number; sampling: number };
  ttftMs: number;
  peakRssMb: number; // largest resident set seen during the run (whole process)
  /** Process CPU time (user + system) per generated token: far less sensitive than wall time to
   * other processes on a shared machine (with one onnxruntime thread, all work is on this thread). */
  cpuMsPerToken: number;
}

export interface BenchReport {
  tokens: number;
  rounds: number;
  prompt: string;
  device: string;
  runs: BenchRun[]; // medians per mode, in mode order
  ratios: {
    routedOverBase: number; // tokens/s, medians
    routedOverNaive: number | null;
    routedOverPython?: number | null;
    /** The same ratios from CPU time per token (base cpu ms ÷ routed cpu ms). */
    routedOverBaseCpu: number;
    routedOverNaiveCpu: number | null;
  };
  /**
   * How much token ÷ base varies from round to round: the interquartile range [p25, p75] of the
   * per-round ratio (token and base-only of the same round), null without both modes.
   */
  spread: {
    routedOverBase: [number, number] | null;
    routedOverBaseCpu: [number, number] | null;
  };
  /**
   * The median of that per-round ratio, null without both modes: a paired estimate, in which a
   * slow stretch of the machine that hits both runs of a round cancels out (the ratios of medians
   * above compare medians taken over different moments).
   */
  roundMedian: {
    routedOverBase: number | null;
    routedOverBaseCpu: number | null;
  };
  /**
   * What naive mode's forward ran, null without naive: 'merged' = the pack's naive graph with the
   * merged adapter (the paper's forward); 'stacked' = the pack's run-time mixture of all adapters
   * (the merge paid and dropped; larger LoRA products than the paper's).
   */
  naiveForward?: 'merged' | 'stacked' | null;
  /** Where naive mode ran (its session's device: the naive graph's, else the main session's), null without naive. */
  naiveDevice?: string | null;
  /** Every measured run, for the record: [round][mode order of that round]. */
  roundsDetail?: BenchRun[][];
}

export interface BenchOptions {
  session: BackendSession;
  tokenizer: EngineTokenizer;
  router: ContextRouter; // routed modes
  adapterWeights?: AdapterWeightsSource; // naive mode
  /** A session of the pack's naive graph: naive mode then runs the paper's forward (see naiveForward). */
  naiveSession?: BackendSession | null;
  prompt?: string;
  tokens?: number; // default 128
  rounds?: number; // default 5
  modes?: readonly string[];
  /** Seed of the per-round mode orders (default 1). */
  orderSeed?: number;
  /** Generate this many tokens per mode once before measuring (default 8; 0 = no warm-up). */
  warmupTokens?: number;
  onRun?: (run: BenchRun, round: number) => void;
  /** A full garbage collection (Node: see the CLI's bench command), run untimed before every run. */
  collectGarbage?: () => void;
}

/**
 * Throws unless every mode is one the bench runs — a routing mode (`base`, `token`, `every:<k>`,
 * `prompt`, `uniform`, `adapter:<name>`), `naive` or `step` — and none is given twice. Adapter names
 * are checked later, against the pack.
 */
export function checkBenchModes(modes: readonly string[]): void {
  if (modes.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', `bench needs at least one mode, e.g. ${DEFAULT_BENCH_MODES.join(',')}`);
  const seen = new Set<string>();
  for (const mode of modes) {
    if (seen.has(mode)) throw new LoraTleError('E_INVALID_ARGUMENT', `bench mode "${mode}" is given twice; each mode runs once per round`);
    seen.add(mode);
    if (mode === 'naive' || mode === 'step') continue;
    try {
      parseRoutingMode(mode);
    } catch {
      throw new LoraTleError('E_INVALID_ARGUMENT', `unknown bench mode "${mode}"; use base, token, every:<k ≥ 1>, prompt, uniform, adapter:<name>, naive or step`);
    }
  }
}

/** A session whose logits never allow EOS: bench runs are exactly `tokens` long. */
export function withoutEos(session: BackendSession): BackendSession {
  const eos = session.pack.architecture.eosTokenIds;
  const vocab = session.pack.architecture.vocabSize;
  return {
    backendId: session.backendId,
    pack: session.pack,
    device: session.device,
    async doStep(input) {
      const output = await session.doStep(input);
      for (let row = 0; row < output.logits.length / vocab; row++) for (const id of eos) output.logits[row * vocab + id] = Number.NEGATIVE_INFINITY;
      return output;
    },
    dispose: () => session.dispose(),
  };
}

function requestFor(mode: string, prompt: string, tokens: number): GenerateRequest {
  const base: GenerateRequest = { prompt, maxNewTokens: tokens, sampling: { temperature: 0 } };
  // the paper loop: per-token merge, recompute without cache, whole text re-embedded, every token
  if (mode === 'naive') return { ...base, mode: 'token', kv: 'recompute', naive: true };
  return { ...base, mode, kv: 'reuse' };
}

/**
 * The `step` mode: the backend alone, without the engine — prefill the prompt, then `count` decode
 * steps of the base model (zero mixture), each feeding back its argmax. No routing, detokenizing or
 * stop strings: base-only ÷ step is what the engine's loop costs on top of the backend.
 */
async function measureBackendSteps(session: BackendSession, promptIds: readonly number[], count: number): Promise<Omit<BenchRun, 'mode' | 'peakRssMb' | 'cpuMsPerToken'>> {
  const V = session.pack.architecture.vocabSize;
  const mix = [{ a: new Float32Array(session.pack.adapters.length), b: new Float32Array(session.pack.adapters.length) }];
  const startedAt = performance.now();
  let modelMs = 0;
  let samplingMs = 0;
  let ttftMs = 0;
  let stepAt = performance.now();
  let output = await session.doStep({ inputIds: Int32Array.from(promptIds), batchSize: 1, sequenceLength: promptIds.length, mix, cache: null, logits: 'last' });
  for (let generated = 0; generated < count; generated++) {
    const sampledAt = performance.now();
    modelMs += sampledAt - stepAt;
    const next = argmax(output.logits.subarray(output.logits.length - V));
    samplingMs += performance.now() - sampledAt;
    if (generated === 0) ttftMs = performance.now() - startedAt;
    if (generated === count - 1) break;
    stepAt = performance.now();
    output = await session.doStep({ inputIds: Int32Array.of(next), batchSize: 1, sequenceLength: 1, mix, cache: output.cache, logits: 'last' });
  }
  output.cache.dispose();
  const totalMs = performance.now() - startedAt;
  return { tokens: count, tokensPerSecond: (count * 1000) / totalMs, msPerToken: { routing: 0, model: modelMs / count, sampling: samplingMs / count }, ttftMs };
}

function cpuMs(): number {
  const usage = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process?.cpuUsage?.();
  return usage ? (usage.user + usage.system) / 1000 : 0;
}

function rssMb(): number {
  const memory = (globalThis as { process?: { memoryUsage?: { rss?: () => number } } }).process?.memoryUsage;
  return memory?.rss ? memory.rss() / 2 ** 20 : 0;
}

/** Fisher–Yates with `random` in [0, 1). */
function shuffled<Item>(items: readonly Item[], random: () => number): Item[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/** [p25, p50, p75] of token ÷ base within each round (`measure` is tokens/s or, inverted, CPU ms). */
function roundQuartiles(detail: readonly BenchRun[][], measure: (run: BenchRun) => number, inverted: boolean): [number, number, number] | null {
  const ratios: number[] = [];
  for (const round of detail) {
    const token = round.find((run) => run.mode === 'token');
    const base = round.find((run) => run.mode === 'base');
    if (!token || !base) continue;
    const ratio = inverted ? measure(base) / measure(token) : measure(token) / measure(base);
    if (Number.isFinite(ratio)) ratios.push(ratio);
  }
  return ratios.length === 0 ? null : [quantile(ratios, 0.25), quantile(ratios, 0.5), quantile(ratios, 0.75)];
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const tokens = options.tokens ?? 128;
  const rounds = options.rounds ?? 5;
  const prompt = options.prompt ?? DEFAULT_BENCH_PROMPT;
  const modes = [...(options.modes ?? DEFAULT_BENCH_MODES)];
  checkBenchModes(modes);
  if (!Number.isInteger(tokens) || tokens < 1) throw new LoraTleError('E_INVALID_ARGUMENT', `bench tokens must be a whole number ≥ 1, got ${tokens}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new LoraTleError('E_INVALID_ARGUMENT', `bench rounds must be a whole number ≥ 1, got ${rounds}`);
  if (modes.includes('naive') && !options.adapterWeights) {
    throw new LoraTleError('E_INVALID_ARGUMENT', 'the naive mode merges adapter weights every token and needs them (adapterWeights); drop naive from the modes or pass the adapters');
  }
  const promptTokens = options.tokenizer.encode(prompt).length;
  const context = options.session.pack.architecture.maxPositionEmbeddings;
  if (promptTokens + tokens > context) {
    throw new LoraTleError(
      'E_CONTEXT_OVERFLOW',
      `bench prompt of ${promptTokens} tokens + ${tokens} tokens per run exceeds the model context of ${context} tokens; run at most ${Math.max(0, context - promptTokens)} tokens per run (--tokens) or shorten the prompt`,
      { details: { promptTokens, tokens, contextLength: context } },
    );
  }
  const session = withoutEos(options.session);
  const naiveSession = modes.includes('naive') && options.naiveSession ? withoutEos(options.naiveSession) : null;
  const engine = createEngine({ session, tokenizer: options.tokenizer, router: options.router, adapterWeights: options.adapterWeights, naiveSession });

  const measure = async (mode: string, count: number): Promise<BenchRun> => {
    options.collectGarbage?.();
    let peak = rssMb();
    const cpuAtStart = cpuMs();
    if (mode === 'step') {
      const run = await measureBackendSteps(session, Array.from(options.tokenizer.encode(prompt)), count);
      return { mode, ...run, peakRssMb: Math.max(peak, rssMb()), cpuMsPerToken: (cpuMs() - cpuAtStart) / count };
    }
    for await (const event of engine.generate(requestFor(mode, prompt, count))) {
      if (event.type === 'token') {
        if (event.step % 8 === 0) peak = Math.max(peak, rssMb());
        continue;
      }
      peak = Math.max(peak, rssMb());
      const generated = event.tokenIds.length;
      const perToken = (ms: number) => (generated === 0 ? 0 : ms / generated);
      return {
        mode,
        tokens: generated,
        tokensPerSecond: event.timing.tokensPerSecond,
        msPerToken: { routing: perToken(event.timing.routingMs), model: perToken(event.timing.modelMs), sampling: perToken(event.timing.samplingMs) },
        ttftMs: event.timing.ttftMs,
        peakRssMb: peak,
        cpuMsPerToken: perToken(cpuMs() - cpuAtStart),
      };
    }
    throw new LoraTleError('E_ABORTED', `bench mode ${mode} ended without a result`);
  };

  const warmup = options.warmupTokens ?? 8;
  if (warmup > 0) for (const mode of modes) await measure(mode, warmup);
  const detail: BenchRun[][] = [];
  for (let round = 0; round < rounds; round++) {
    const order = shuffled(modes, mulberry32((options.orderSeed ?? 1) * 1000003 + round));
    const measured: BenchRun[] = [];
    for (const mode of order) {
      const run = await measure(mode, tokens);
      measured.push(run);
      options.onRun?.(run, round);
    }
    detail.push(measured);
  }
  const runs = modes.map((mode): BenchRun => {
    const own = detail.flat().filter((run) => run.mode === mode);
    return {
      mode,
      tokens: median(own.map((run) => run.tokens)),
      tokensPerSecond: median(own.map((run) => run.tokensPerSecond)),
      msPerToken: {
        routing: median(own.map((run) => run.msPerToken.routing)),
        model: median(own.map((run) => run.msPerToken.model)),
        sampling: median(own.map((run) => run.msPerToken.sampling)),
      },
      ttftMs: median(own.map((run) => run.ttftMs)),
      peakRssMb: Math.max(...own.map((run) => run.peakRssMb)),
      cpuMsPerToken: median(own.map((run) => run.cpuMsPerToken)),
    };
  });
  const speed = (mode: string) => runs.find((run) => run.mode === mode)?.tokensPerSecond;
  const routed = speed('token');
  const base = speed('base');
  const naive = speed('naive');
  const cpu = (mode: string) => runs.find((run) => run.mode === mode)?.cpuMsPerToken;
  const routedCpu = cpu('token');
  const baseCpu = cpu('base');
  const naiveCpu = cpu('naive');
  const wall = roundQuartiles(detail, (run) => run.tokensPerSecond, false);
  const cpuTime = roundQuartiles(detail, (run) => run.cpuMsPerToken, true);
  return {
    tokens,
    rounds,
    prompt,
    device: options.session.device,
    runs,
    ratios: {
      routedOverBase: routed !== undefined && base ? routed / base : Number.NaN,
      routedOverNaive: routed !== undefined && naive ? routed / naive : null,
      routedOverBaseCpu: routedCpu && baseCpu !== undefined ? baseCpu / routedCpu : Number.NaN,
      routedOverNaiveCpu: routedCpu && naiveCpu !== undefined ? naiveCpu / routedCpu : null,
    },
    spread: { routedOverBase: wall && [wall[0], wall[2]], routedOverBaseCpu: cpuTime && [cpuTime[0], cpuTime[2]] },
    roundMedian: { routedOverBase: wall?.[1] ?? null, routedOverBaseCpu: cpuTime?.[1] ?? null },
    naiveForward: modes.includes('naive') ? (naiveSession ? 'merged' : 'stacked') : null,
    naiveDevice: modes.includes('naive') ? (naiveSession ?? session).device : null,
    roundsDetail: detail,
  };
}
