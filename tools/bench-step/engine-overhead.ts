// What the engine and the router cost per token without a model: the real engine, tokenizer and
// fitted router of `lora-tle bench` over a backend session that does no work (each step returns
// logits whose argmax replays a fixed token sequence, and an empty cache). base-only and token-level
// runs alternate in one process; their ms per token are lora-tle's own per-token cost, and their
// difference is what token-level routing adds. With --evict-mb n, every step also reads one value
// per cache line of an n MB buffer (outside the timing's model share, like a real step streaming the
// model's weights through the caches), so routing runs with cold caches, as it does in a real run.
//
//   npx tsx tools/bench-step/engine-overhead.ts <pack dir> <data dir> [--rounds 30] [--tokens 128] [--evict-mb 0]
//       [--prompt-file <text file>]   (default: bench's default prompt)

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { contextRouterFrom, createEngine, engineTokenizerFrom, generateText } from '@lora-tle/engine';
import { buildSuiteProfiles, DEFAULT_BENCH_PROMPT, loadSuiteFromDir } from '@lora-tle/eval';
import { createRouter } from '@lora-tle/router';
import type { BackendSession, KvCache, PackManifest } from '@lora-tle/spec';
import { loadTokenizerFromDir } from '@lora-tle/tokenizer';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '30' },
    tokens: { type: 'string', default: '128' },
    'evict-mb': { type: 'string', default: '0' },
    'prompt-file': { type: 'string' },
  },
});
const [packDir, dataDir] = positionals;
if (!packDir || !dataDir) {
  console.error('usage: engine-overhead.ts <pack dir> <data dir> [--rounds n] [--tokens n] [--evict-mb n] [--prompt-file path]');
  process.exit(2);
}
const pack = JSON.parse(readFileSync(join(packDir, 'pack.json'), 'utf8')) as PackManifest;
const tokenizer = await loadTokenizerFromDir(packDir);
const V = pack.architecture.vocabSize;
// a fixed, realistic token sequence to replay: the encoded text of a reading context, cycled
const replay = Array.from(tokenizer.encode('Context: Alma works as a pilot. Victor lives in Athens. The favorite food of Victor is pizza. '));
const eos = new Set(pack.architecture.eosTokenIds);
const usable = replay.filter((id) => !eos.has(id));

const evict = new Float32Array((Number(values['evict-mb']) * 2 ** 20) / 4);
const evictSink = new Float64Array(1); // the reads' sum is stored, so they are not optimised away

function nullSession(): BackendSession {
  let served = 0;
  const cache = (length: number): KvCache => ({ backendId: 'null', batchSize: 1, length, dispose() {} });
  return {
    backendId: 'null',
    pack,
    device: 'none (no model)',
    async doStep(input) {
      let sum = 0;
      for (let i = 0; i < evict.length; i += 16) sum += evict[i] as number; // one read per 64-byte line
      evictSink[0] = sum;
      const logits = new Float32Array(input.batchSize * V);
      logits[usable[served++ % usable.length]!] = 1;
      return { logits, logitsPositions: 1, cache: cache((input.cache?.length ?? 0) + input.sequenceLength) };
    },
    async dispose() {},
  };
}

const adapters = pack.adapters.map((adapter) => adapter.name);
const { embedder, profiles } = await buildSuiteProfiles({ suite: await loadSuiteFromDir(dataDir), adapters });
const router = createRouter({ embedder, profiles, adapters, strategy: 'paper', schedule: 'token' });
const engine = createEngine({ session: nullSession(), tokenizer: engineTokenizerFrom(tokenizer), router: contextRouterFrom(router) });
const tokens = Number(values.tokens);
const prompt = values['prompt-file'] === undefined ? DEFAULT_BENCH_PROMPT : readFileSync(values['prompt-file'], 'utf8');
const modes = ['base', 'token'] as const;
const perToken: Record<string, number[]> = { base: [], token: [] };
const routingPerToken: number[] = []; // token mode: time inside the router's route call
for (let round = -3; round < Number(values.rounds); round++) {
  for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
    const done = await generateText(engine, { prompt, mode, maxNewTokens: tokens, sampling: { temperature: 0 } });
    if (round >= 0) perToken[mode]!.push(done.timing.totalMs / done.tokenIds.length);
    if (round >= 0 && mode === 'token') routingPerToken.push(done.timing.routingMs / done.tokenIds.length);
  }
}
await router.dispose();
const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[numbers.length >> 1]!;
console.log(`engine + router per token with no model (${tokens} tokens after a ${tokenizer.encode(prompt).length}-token prompt, median of ${values.rounds} alternating rounds, ${values['evict-mb']} MB evicted per step):`);
for (const mode of modes) console.log(`  ${mode.padEnd(6)} ${(1000 * median(perToken[mode]!)).toFixed(1)} µs`);
console.log(`  token-level routing adds ${(1000 * (median(perToken.token!) - median(perToken.base!))).toFixed(1)} µs per token, ${(1000 * median(routingPerToken)).toFixed(1)} µs of it inside route()`);
