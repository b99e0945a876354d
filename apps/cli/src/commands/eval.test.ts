// `lora-tle eval` and `lora-tle bench` in-process on a real ONNX pack: a random tiny Llama with the
// tiny-tle tokenizer and four adapters named like the tiny-tle tasks (so profiles come from the
// fixture's train splits). A random model scores ~0, so these tests check the plumbing: the JSON
// shape, incremental results, resume, the SVG file, routing-only (also with the hidden embedder),
// the bench JSON. Accuracy numbers are measured by docs/results.md runs on the trained fixture,
// not here.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandomAdapter, createRandomLlama, writeModelPack } from '@lora-tle/graph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { createTerminal } from '../terminal.js';

const fixture = fileURLToPath(new URL('../../../../fixtures/tiny-tle/', import.meta.url));
const hasFixtureData = ['math', 'science', 'code', 'reading'].every((task) => existsSync(join(fixture, 'data', task, 'train.jsonl')));
const root = mkdtempSync(join(tmpdir(), 'lora-tle-cli-eval-'));
const packDir = join(root, 'pack');

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const terminal = createTerminal({
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { NO_COLOR: '1', LORA_TLE_CACHE: join(root, 'cache') },
  });
  const code = await runCli(args, terminal);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  const llama = createRandomLlama({ vocabSize: 1024, maxPositionEmbeddings: 512 }, 4);
  const adapters = ['math', 'science', 'code', 'reading'].map((name, i) =>
    createRandomAdapter(llama.architecture, { name, rank: 4, targets: ['q_proj', 'v_proj', 'down_proj'] }, 30 + i),
  );
  await writeModelPack({
    source: llama,
    adapters,
    destination: packDir,
    tokenizerFiles: { tokenizer: join(fixture, 'tokenizer.json'), tokenizerConfig: join(fixture, 'tokenizer_config.json') },
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!hasFixtureData)('lora-tle eval', () => {
  it('runs modes × kv, writes results as it goes, resumes, prints JSON and an SVG chart', async () => {
    const out = join(root, 'run');
    const svg = join(root, 'chart.svg');
    const args = ['eval', '--pack', packDir, '--tasks', 'math,code', '--limit', '2', '--modes', 'base,adapter:code,token', '--max-new-tokens', '6', '--out', out];
    const first = await cli(...args, '--json', '--svg', svg);
    expect(first.stderr).not.toContain('[E_');
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as { suite: string; results: { task: string; mode: string; kv: string; n: number; accuracy: number }[] };
    expect(report.suite).toBe('tiny-tle');
    expect(report.results.map((r) => `${r.task}/${r.mode}/${r.kv}/${r.n}`)).toEqual([
      'math/base/reuse/2', 'math/adapter:code/reuse/2', 'math/token/reuse/2', 'math/token/recompute/2',
      'code/base/reuse/2', 'code/adapter:code/reuse/2', 'code/token/reuse/2', 'code/token/recompute/2',
    ]);
    for (const result of report.results) expect(result.accuracy).toBeGreaterThanOrEqual(0);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(16);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);

    const again = await cli(...args);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[E_OUTPUT_EXISTS]');

    const resumed = await cli(...args, '--limit', '3', '--resume', '--markdown');
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('(16 already done)');
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(24);
    expect(resumed.stdout.split('\n')[0]).toBe('| mode | math | code | average | n |');

    const otherWindow = await cli(...args, '--resume', '--window', '8');
    expect(otherWindow.code).toBe(1);
    expect(otherWindow.stderr.trim()).toMatch(/^lora-tle: \[E_INVALID_ARGUMENT\] cannot resume .*window: unset → 8/);
  }, 120_000);

  it('measures routing accuracy without a model', async () => {
    const result = await cli('eval', '--routing-only', '--limit', '20', '--json');
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as { accuracy: number; confusion: number[][]; tasks: string[] };
    expect(parsed.tasks).toEqual(['math', 'science', 'code', 'reading']);
    expect(parsed.confusion.flat().reduce((a, b) => a + b, 0)).toBe(80);
    expect(parsed.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('routes with knn (the suite profiles keep example banks) and with the unfitted hashing embedder', async () => {
    for (const flags of [['--strategy', 'knn'], ['--embedder', 'hashing:unfitted']]) {
      const result = await cli('eval', '--routing-only', '--limit', '20', '--json', ...flags);
      expect(result.stderr).not.toContain('[E_');
      expect(result.code).toBe(0);
      const parsed = JSON.parse(result.stdout) as { accuracy: number; confusion: number[][] };
      expect(parsed.confusion.flat().reduce((a, b) => a + b, 0)).toBe(80);
      expect(parsed.accuracy).toBeGreaterThanOrEqual(0.95); // tiny-tle's tasks separate under both
    }
  });

  it('measures task switches (--switch): a window lets routing follow a new task that the whole context hides', async () => {
    type Switch = { window: number | null; tasks: string[]; pairs: { from: string; to: string; n: number; switched: number }[]; switched: number };
    const whole = await cli('eval', '--switch', '--limit', '10', '--json');
    expect(whole.stderr).not.toContain('[E_');
    const wholeResult = JSON.parse(whole.stdout) as Switch;
    expect(wholeResult.window).toBeNull();
    expect(wholeResult.pairs).toHaveLength(12); // every ordered pair of the four tasks
    expect(wholeResult.pairs.every((pair) => pair.n === 10 && pair.from !== pair.to)).toBe(true);
    const windowed = JSON.parse((await cli('eval', '--switch', '--window', '32', '--limit', '10', '--json')).stdout) as Switch;
    expect(windowed.window).toBe(32);
    // measured on tiny-tle: 29% of the switches followed on the whole context, 95% with a 32-token window
    expect(wholeResult.switched).toBeLessThan(0.5);
    expect(windowed.switched).toBeGreaterThan(0.9);
    const table = await cli('eval', '--switch', '--limit', '2', '--tasks', 'math,code');
    expect(table.stdout).toContain('task switches on tiny-tle, whole context');
    expect(table.stdout).toMatch(/^ +math +— +\d+% · /m);
  });

  it('routes on the last W tokens of each prompt with --window, and refuses a window of 0', async () => {
    const accuracy = async (...flags: string[]) => (JSON.parse((await cli('eval', '--routing-only', '--limit', '20', '--json', ...flags)).stdout) as { accuracy: number }).accuracy;
    expect(await accuracy()).toBeGreaterThanOrEqual(0.95);
    expect(await accuracy('--window', '16')).toBeLessThan(0.9); // 16 tiny-tle tokens are a few words: 79% measured
    expect((await cli('eval', '--routing-only', '--window', '0')).stderr.trim()).toBe('lora-tle: [E_USAGE] --window must be a positive integer, got "0"');
  });

  it('names a --data suite after its directory', async () => {
    const dataDir = join(root, 'my-suite');
    for (const task of ['math', 'science', 'code', 'reading']) {
      mkdirSync(join(dataDir, task), { recursive: true });
      for (const split of ['train', 'test']) {
        const lines = readFileSync(join(fixture, 'data', task, `${split}.jsonl`), 'utf8').split('\n').filter(Boolean).slice(0, 30);
        writeFileSync(join(dataDir, task, `${split}.jsonl`), `${lines.join('\n')}\n`);
      }
    }
    const result = await cli('eval', '--routing-only', '--data', `${dataDir}/`, '--limit', '5', '--json');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { suite: string }).suite).toBe('my-suite');
  });

  it("routes with the hidden embedder (the pack's base model) and refuses a pack built without the hidden output", async () => {
    const result = await cli('eval', '--pack', packDir, '--routing-only', '--embedder', 'hidden', '--limit', '3', '--json');
    expect(result.stderr).not.toContain('[E_');
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as { confusion: number[][]; tasks: string[] };
    expect(parsed.tasks).toEqual(['math', 'science', 'code', 'reading']);
    expect(parsed.confusion.flat().reduce((a, b) => a + b, 0)).toBe(12); // a random model: routing accuracy is not the point here
    const noHidden = join(root, 'pack-no-hidden');
    const llama = createRandomLlama({ vocabSize: 1024, numLayers: 1 }, 5);
    await writeModelPack({ source: llama, adapters: [], destination: noHidden, withHidden: false, tokenizerFiles: { tokenizer: join(fixture, 'tokenizer.json') } });
    const refused = await cli('eval', '--pack', noHidden, '--routing-only', '--embedder', 'hidden', '--limit', '1');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('[E_EMBEDDER]');
    expect(refused.stderr).toContain('--no-hidden');
  }, 120_000);

  it('refuses bad input with a code', async () => {
    expect((await cli('eval', '--resume')).stderr).toContain('[E_USAGE]');
    expect((await cli('eval', '--pack', packDir, '--modes', 'sideways')).stderr).toContain('[E_SCHEDULE]');
    expect((await cli('eval', '--data', join(root, 'nowhere'), '--routing-only')).stderr).toContain('[E_NOT_FOUND]');
  });
});

describe.skipIf(!hasFixtureData)('lora-tle bench', () => {
  it('prints the promised JSON with every mode at the full length', async () => {
    const result = await cli('bench', '--pack', packDir, '--tokens', '6', '--rounds', '2', '--modes', 'base,token,every:2,prompt', '--json');
    expect(result.stderr).not.toContain('[E_');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { runs: { mode: string; tokens: number; tokensPerSecond: number; msPerToken: Record<string, number>; ttftMs: number; peakRssMb: number }[]; ratios: Record<string, number | null> };
    expect(report.runs.map((run) => [run.mode, run.tokens])).toEqual([['base', 6], ['token', 6], ['every:2', 6], ['prompt', 6]]);
    for (const run of report.runs) {
      expect(run.tokensPerSecond).toBeGreaterThan(0);
      expect(run.peakRssMb).toBeGreaterThan(0);
    }
    expect(report.runs[0]!.msPerToken["routing"]!).toBeLessThan(report.runs[1]!.msPerToken["routing"]!); // base never embeds
    expect(report.ratios.routedOverBase).toBeCloseTo(report.runs[1]!.tokensPerSecond / report.runs[0]!.tokensPerSecond, 2);
    expect(report.ratios.routedOverNaive).toBeNull();
  }, 120_000);

  it('refuses a misspelt mode in one line before opening the pack', async () => {
    const result = await cli('bench', '--pack', join(root, 'no-pack-here'), '--modes', 'base,tokn');
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'lora-tle: [E_USAGE] --modes: unknown bench mode "tokn"; use base, token, every:<k ≥ 1>, prompt, uniform, adapter:<name>, naive or step',
    ]);
  });

  it('reads --prompt-file, and refuses it next to --prompt or when missing with one line', async () => {
    const promptFile = join(root, 'bench-prompt.txt');
    writeFileSync(promptFile, 'Context: Lena lives in Tunis. Irene plays the violin.\n\nQuestion: Where does Lena live?\n\nAnswer:');
    const result = await cli('bench', '--pack', packDir, '--tokens', '3', '--rounds', '1', '--modes', 'base', '--prompt-file', promptFile, '--json');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { runs: { tokens: number }[] }).runs[0]!.tokens).toBe(3);
    const both = await cli('bench', '--pack', packDir, '--prompt', 'x', '--prompt-file', promptFile);
    expect(both.code).not.toBe(0);
    expect(both.stderr.trim().split('\n')).toEqual(['lora-tle: [E_USAGE] pass either --prompt or --prompt-file, not both']);
    const missing = await cli('bench', '--pack', packDir, '--prompt-file', join(root, 'no-such-prompt.txt'));
    expect(missing.stderr).toContain('[E_NOT_FOUND]');
  }, 120_000);
});
