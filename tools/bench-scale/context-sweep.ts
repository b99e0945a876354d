// How the speed ratios of `lora-tle bench` change with the context length: builds prompts of
// growing length from the reading split of a fixture (passages joined until the pack's tokenizer
// counts the target, then one question), runs the built CLI's bench on each (base, token-level,
// naive; one process per length, so each row's ratios come from one run) and prints one table.
// tiny-tle stops at 256 positions; a random model with tiny-tle's sizes and more positions
// (make-random-fixture.ts) carries the sweep to long contexts. Speed only.
//
//   npx tsx tools/bench-scale/context-sweep.ts <fixture dir> <pack dir> [--lengths 16,86,225,486,885,1390,1881]
//       [--rounds 6] [--tokens 128] [--threads 1] [--out sweep.json]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchReport, BenchRun } from '@lora-tle/eval';
import { loadTokenizerFromDir } from '@lora-tle/tokenizer';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    lengths: { type: 'string', default: '16,86,225,486,885,1390,1881' },
    rounds: { type: 'string', default: '6' },
    tokens: { type: 'string', default: '128' },
    threads: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const [fixtureDir, packDir] = positionals;
if (fixtureDir === undefined || packDir === undefined) {
  console.error('usage: context-sweep.ts <fixture dir> <pack dir> [--lengths a,b,…] [--rounds n] [--tokens n] [--threads n] [--out file]');
  process.exit(2);
}
const cli = resolve(import.meta.dirname, '../../apps/cli/bin/lora-tle.js');
const tokenizer = await loadTokenizerFromDir(packDir);
const passages = readFileSync(join(fixtureDir, 'data/reading/test.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => (JSON.parse(line) as { context: string }).context);
const question = "Question: What is Irene's job? Answer:";
const tokensOf = (text: string): number => tokenizer.encode(text).length; // BOS included, as the engine feeds it

/** The longest run of passages plus the question within `target` tokens. */
function promptOf(target: number): string {
  let text = '';
  for (let index = 0; ; index++) {
    const longer = `${text}${passages[index % passages.length]!} `;
    if (tokensOf(longer + question) > target) return text + question;
    text = longer;
  }
}

interface SweepRow {
  promptTokens: number;
  report: BenchReport;
}
const rows: SweepRow[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'lora-tle-context-sweep-'));
for (const target of values.lengths.split(',').map(Number)) {
  const prompt = promptOf(target);
  const promptTokens = tokensOf(prompt);
  console.error(`context-sweep: ${promptTokens}-token prompt …`);
  const promptFile = join(scratch, `prompt-${promptTokens}.txt`); // a file: one argument is limited to 128 KB
  writeFileSync(promptFile, prompt);
  const json = execFileSync(process.execPath, [
    cli, 'bench', '--pack', packDir, '--adapters', join(fixtureDir, 'adapters'), '--data', join(fixtureDir, 'data'),
    '--modes', 'base,token,naive', '--rounds', values.rounds, '--tokens', values.tokens, '--threads', values.threads, '--prompt-file', promptFile, '--json',
  ], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  rows.push({ promptTokens, report: JSON.parse(json) as BenchReport });
}
rmSync(scratch, { recursive: true, force: true });

const msPerToken = (run: BenchRun | undefined): number => (run === undefined ? Number.NaN : run.msPerToken.routing + run.msPerToken.model + run.msPerToken.sampling);
const generated = Number(values.tokens);
console.log(`${generated} generated tokens per run, median of ${values.rounds} interleaved rounds per prompt; ms per token is routing + model + sampling`);
console.log('prompt tokens  positions   base ms  token ms  naive ms  token ÷ base  token ÷ naive (wall, CPU)');
for (const { promptTokens, report } of rows) {
  const run = (mode: string) => report.runs.find((candidate) => candidate.mode === mode);
  const { routedOverBase, routedOverNaive, routedOverNaiveCpu } = report.ratios;
  console.log(
    String(promptTokens).padStart(13),
    `${promptTokens + 1}–${promptTokens + generated}`.padStart(10),
    msPerToken(run('base')).toFixed(3).padStart(9),
    msPerToken(run('token')).toFixed(3).padStart(9),
    msPerToken(run('naive')).toFixed(2).padStart(9),
    (routedOverBase ?? Number.NaN).toFixed(3).padStart(13),
    `${(routedOverNaive ?? Number.NaN).toFixed(1)}×, ${(routedOverNaiveCpu ?? Number.NaN).toFixed(1)}×`.padStart(26),
  );
}
if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify({ generatedTokens: generated, rounds: Number(values.rounds), rows }, null, 2)}\n`);
