// Tests of `lora-tle build` on tiny checkpoints and adapters written with lora-store's writers:
// the pack it writes (adapter names and order, combination, hidden output, overwrite), the
// summary (numbers checked against pack.json and the files on disk), and bad input refused with
// one `lora-tle: [E_CODE]` line and no output left behind. The refusals that come from loading
// files run the real bin/lora-tle.js as a child process (about a second each, run concurrently);
// the rest run in-process through runCli.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PackManifest } from '@lora-tle/spec';
import { expectOneCliErrorLine, runBin, runInProcess, type RunResult } from '../test-cli-run.js';
import { TINY_ARCHITECTURE_CONFIG, writeTinyAdapter, writeTinyCheckpoint } from '../test-adapters.js';
import { parseAdapterArgument } from './build.js';

function expectOneErrorLine(result: RunResult, code: string): void {
  expectOneCliErrorLine(result, code);
  expect(result.stdout).toBe('');
}

let root = '';
const path = (name: string): string => join(root, name);
const readManifest = (pack: string): PackManifest => JSON.parse(readFileSync(join(pack, 'pack.json'), 'utf8')) as PackManifest;

/** Entries of root that are `name` or a hidden staging sibling of it. */
async function leftovers(name: string): Promise<string[]> {
  return (await readdir(root)).filter((entry) => entry === name || entry.startsWith(`.${name}`));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lora-tle-build-cli-'));
  await writeTinyCheckpoint(path('base'));
  await writeFile(path('base/tokenizer.json'), '{"model": {}}');
  await writeTinyAdapter(path('math'), { seed: 1 });
  await writeTinyAdapter(path('code'), { seed: 2, rank: 2, targets: ['q_proj', 'k_proj', 'down_proj'] });
  await writeTinyAdapter(path('wide'), { seed: 5, config: { ...TINY_ARCHITECTURE_CONFIG, hidden_size: 32, intermediate_size: 64 }, base: null });
  await writeTinyAdapter(path('deep'), { seed: 6, config: { ...TINY_ARCHITECTURE_CONFIG, num_hidden_layers: 3 }, base: null });
  // valid weights under a config.json the builder must refuse
  for (const [name, config] of [
    ['gpt2', { ...TINY_ARCHITECTURE_CONFIG, model_type: 'gpt2' }],
    ['yarn', { ...TINY_ARCHITECTURE_CONFIG, rope_scaling: { rope_type: 'yarn', factor: 4 } }],
  ] as const) {
    await writeTinyCheckpoint(path(name));
    await writeFile(join(path(name), 'config.json'), JSON.stringify(config));
  }
  await mkdir(path('no-weights'));
  await writeFile(path('no-weights/config.json'), JSON.stringify(TINY_ARCHITECTURE_CONFIG));
});

afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

describe('parseAdapterArgument', () => {
  it('takes name=dir, or names the adapter after its directory', () => {
    expect(parseAdapterArgument('sci=adapters/science')).toEqual({ name: 'sci', dir: 'adapters/science' });
    expect(parseAdapterArgument('/data/adapters/math/')).toEqual({ name: 'math', dir: '/data/adapters/math' });
    expect(parseAdapterArgument('x=/a=b')).toEqual({ name: 'x', dir: '/a=b' });
    expect(() => parseAdapterArgument('/data/my adapter')).toThrow(/--adapter <name>=<dir>/);
    expect(() => parseAdapterArgument('/data/a=b')).toThrow(/cannot name the adapter/); // "/data/a" is not a name, "a=b" is not either
  });
});

describe('lora-tle build', () => {
  it('writes a pack with the adapters in order (default and explicit names) and prints a summary that matches it', async () => {
    const result = await runInProcess(['build', '--base', path('base'), '--adapter', path('math'), '--adapter', `coder=${path('code')}`, '--out', path('pack')]);
    expect(result.code, result.stderr).toBe(0);
    const manifest = readManifest(path('pack'));
    expect(manifest.adapters.map((adapter) => [adapter.name, adapter.rank, [...adapter.targetModules].sort()])).toEqual([
      ['math', 4, ['q_proj', 'v_proj']],
      ['coder', 2, ['down_proj', 'k_proj', 'q_proj']],
    ]);
    expect(manifest.combination).toBe('cat');
    expect(manifest.io).toMatchObject({ hidden: 'last_hidden_state', hiddenPerPosition: true, appended: 'appended_key_values' });
    expect(manifest.files.tokenizer).toBe('tokenizer.json');
    const summary = result.stdout.replace(/\n/g, ' ');
    expect(summary).toMatch(new RegExp(`^Built ${path('pack')} in \\d+\\.\\d s: llama with 2 layers \\(hidden 16, 2 heads / 1 kv heads, head_dim 8,`));
    expect(summary).toContain('2 adapters in mixing order: math (r=4; q_proj, v_proj), coder (r=2; q_proj, k_proj, down_proj)');
    expect(summary).toContain('combination cat, with the hidden output (last_hidden_state)');
    let total = 0;
    for (const file of ['model.onnx', 'base.weights', 'adapters.weights', 'tokenizer.json', 'pack.json']) {
      const bytes = statSync(join(path('pack'), file)).size;
      total += bytes;
      const shown = bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
      expect(summary).toContain(`${file} ${shown}`);
    }
    expect(summary).toContain(total >= 1024 * 1024 ? `${(total / 1024 ** 2).toFixed(2)} MiB in all` : `${(total / 1024).toFixed(1)} KiB in all`);
    expect(result.stdout.split('\n').every((line) => line.length <= 100)).toBe(true);
    expect(await leftovers('pack')).toEqual(['pack']);
  });

  it('--combination, --no-hidden and --no-appended reach the pack; --overwrite replaces a pack', async () => {
    const first = await runInProcess(['build', '--base', path('base'), '--adapter', path('math'), '--out', path('linear')]);
    expect(first.code, first.stderr).toBe(0);
    expect(readManifest(path('linear')).combination).toBe('cat');
    const again = await runInProcess(['build', '--base', path('base'), '--adapter', path('math'), '--adapter', `m2=${path('math')}`, '--out', path('linear'), '--combination', 'linear', '--no-hidden', '--no-appended', '--overwrite']);
    expect(again.code, again.stderr).toBe(0);
    const manifest = readManifest(path('linear'));
    expect(manifest.combination).toBe('linear');
    expect(manifest.io.hidden).toBeNull();
    expect(manifest.io.appended).toBeNull();
    expect(manifest.adapters.map((adapter) => adapter.name)).toEqual(['math', 'm2']);
    expect(again.stdout.replace(/\n/g, ' ')).toContain('without the hidden output, without the appended_key_values output');
    expect(await leftovers('linear')).toEqual(['linear']);
  });

  it('--naive-graph adds naive.onnx, and inspect and the node backend load it', async () => {
    const result = await runInProcess(['build', '--base', path('base'), '--adapter', path('math'), '--out', path('naive'), '--naive-graph']);
    expect(result.code, result.stderr).toBe(0);
    const manifest = readManifest(path('naive'));
    expect(manifest.naive?.model).toBe('naive.onnx');
    expect(result.stdout.replace(/\n/g, ' ')).toMatch(/with the naive graph \(naive\.onnx\).*naive\.onnx \d/);
    const inspected = await runInProcess(['inspect', path('naive'), '--json']);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout).facts['naive graph']).toMatch(/^naive\.onnx: one adapter on \d+ modules, its factors fed as \d+ inputs/);
    const { createNodeBackend } = await import('@lora-tle/backend-node');
    const naive = await createNodeBackend().doLoad(path('naive'), { graph: 'naive' });
    expect(naive.pack.factorInputs).toEqual(manifest.naive!.factorInputs);
    await naive.dispose();
    await expect(createNodeBackend().doLoad(path('linear'), { graph: 'naive' })).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringContaining('--naive-graph') });
  });

  it('refuses bad input files with one line and exit 1, leaving nothing behind (real bin)', async () => {
    const build = (base: string, adapters: string[], out: string, ...extra: string[]) =>
      runBin(['build', '--base', path(base), ...adapters.flatMap((adapter) => ['--adapter', path(adapter)]), '--out', path(out), ...extra]);
    const cases = [
      { result: build('base', ['math', 'deep'], 'out-module'), code: 'E_ADAPTER_MODULE', out: 'out-module', mentions: 'layers' },
      { result: build('base', ['wide'], 'out-shape'), code: 'E_ADAPTER_SHAPE', out: 'out-shape', mentions: 'wide' },
      { result: build('gpt2', [], 'out-model-type'), code: 'E_MODEL_TYPE', out: 'out-model-type', mentions: 'gpt2' },
      { result: build('yarn', ['math'], 'out-rope'), code: 'E_ROPE_TYPE', out: 'out-rope', mentions: 'yarn' },
      { result: build('no-weights', [], 'out-missing'), code: 'E_NOT_FOUND', out: 'out-missing', mentions: 'model.safetensors' },
      // fails while the graph is written, after the staging directory exists
      { result: build('base', ['math', 'code'], 'out-ranks', '--combination', 'linear'), code: 'E_RANK_MISMATCH', out: 'out-ranks', mentions: 'rank' },
    ];
    const results = await Promise.all(cases.map((testCase) => testCase.result));
    for (const [index, testCase] of cases.entries()) {
      const result = results[index]!;
      expect(result.code, `${testCase.code}: ${result.stderr}`).toBe(1);
      expectOneErrorLine(result, testCase.code);
      expect(result.stderr).toContain(testCase.mentions);
      expect(await leftovers(testCase.out)).toEqual([]);
    }
  }, 60_000);

  it('refuses an existing --out, duplicate names and an --out that holds an input before any work', async () => {
    await mkdir(path('occupied'));
    await writeFile(path('occupied/notes.txt'), 'keep me');
    const [exists, notAPack, duplicate, overlap, badCombination] = await Promise.all([
      runBin(['build', '--base', path('base'), '--adapter', path('math'), '--out', path('occupied')]),
      runInProcess(['build', '--base', path('base'), '--out', path('occupied'), '--overwrite']),
      runInProcess(['build', '--base', path('base'), '--adapter', path('math'), '--adapter', `math=${path('code')}`, '--out', path('out-dup')]),
      runInProcess(['build', '--base', path('base'), '--out', root, '--overwrite']),
      runInProcess(['build', '--base', path('base'), '--out', path('out-svd'), '--combination', 'svd']),
    ]);
    expect(exists.code).toBe(1);
    expectOneErrorLine(exists, 'E_OUTPUT_EXISTS');
    expect(notAPack.code).toBe(1);
    expectOneErrorLine(notAPack, 'E_OUTPUT_EXISTS');
    expect(notAPack.stderr).toContain('not a model pack');
    expect(readFileSync(path('occupied/notes.txt'), 'utf8')).toBe('keep me');
    for (const result of [duplicate, overlap, badCombination]) {
      expect(result.code, result.stderr).toBe(2);
      expectOneErrorLine(result, 'E_USAGE');
    }
    expect(duplicate.stderr).toContain('two adapters are named "math"');
    expect(overlap.stderr).toContain('contains the input directory');
    expect(existsSync(path('base/model.safetensors'))).toBe(true);
    expect(await leftovers('out-dup')).toEqual([]);
    expect(await leftovers('out-svd')).toEqual([]);
  }, 30_000);
});
