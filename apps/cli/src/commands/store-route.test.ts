// `lora-tle store`, `profile` and `route` end to end on a temporary store: PEFT adapters written
// here (random LoRA factors, real files), profiles from the tiny-tle train splits, routing of the
// tiny-tle test prompts; profile and route with the hidden embedder on a random pack. Most runs go
// through runCli in-process; one child process checks the binary.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandomAdapter, createRandomLlama, TINY_ARCHITECTURE, writeModelPack } from '@lora-tle/graph';
import { writePeftAdapter } from '@lora-tle/lora-store/node';
import { formatPrompt } from '@lora-tle/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { createTerminal } from '../terminal.js';

const bin = fileURLToPath(new URL('../../bin/lora-tle.js', import.meta.url));
const data = fileURLToPath(new URL('../../../../fixtures/tiny-tle/data/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lora-tle-cli-store-'));
const storeDir = join(root, 'store');
const TASKS = [
  ['math', 'gsm8k'],
  ['science', 'arc'],
  ['reading', 'squad'],
] as const;

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const terminal = createTerminal({
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { NO_COLOR: '1' },
  });
  const code = await runCli(args, terminal);
  return { code, stdout, stderr };
}

const firstLines = (file: string, count: number) => readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '').slice(0, count);

beforeAll(async () => {
  for (const [i, [task]] of TASKS.entries()) {
    const adapter = createRandomAdapter(TINY_ARCHITECTURE, { name: task, rank: 2, targets: ['q_proj', 'v_proj'] }, 40 + i);
    await writePeftAdapter(join(root, 'adapters', task), {
      config: { r: 2, loraAlpha: 4, useRslora: false, rankPattern: {}, alphaPattern: {}, targetModules: ['q_proj', 'v_proj'], layersToTransform: null, baseModelNameOrPath: null, fanInFanOut: false, peftType: 'LORA' },
      modules: [...adapter.modules.values()],
    });
    writeFileSync(join(root, `${task}.jsonl`), `${firstLines(join(data, task, 'train.jsonl'), 200).join('\n')}\n`);
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lora-tle store / profile / route', () => {
  it('init, add, profile, list, route, remove, validate', async () => {
    expect((await cli('store', 'init', '--store', storeDir)).code).toBe(0);
    for (const [task, template] of TASKS) {
      const added = await cli('store', 'add', '--store', storeDir, '--name', task, '--adapter', join(root, 'adapters', task), '--task', `${task} questions`, '--format', template);
      expect(added.stderr).toBe('');
      expect(added.stdout).toContain(`added adapter "${task}"`);
      const profiled = await cli('profile', '--store', storeDir, '--adapter', task, '--data', join(root, `${task}.jsonl`));
      expect(profiled.code).toBe(0);
      expect(profiled.stdout).toMatch(new RegExp(`profile of "${task}": 200 examples, embedder hashing`));
    }
    const listed = (await cli('store', 'list', '--store', storeDir, '--json')).stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; profiles: unknown[] });
    expect(listed.map((entry) => [entry.name, entry.profiles.length])).toEqual([['math', 1], ['science', 1], ['reading', 1]]);

    // route the first test prompt of each task: the right adapter on top
    const inputFile = join(root, 'route.jsonl');
    writeFileSync(
      inputFile,
      TASKS.map(([task, template]) => JSON.stringify({ id: task, text: formatPrompt(template, JSON.parse(firstLines(join(data, task, 'test.jsonl'), 1)[0]!)) })).join('\n'),
    );
    const routed = await cli('route', '--store', storeDir, '--input', inputFile, '--json');
    expect(routed.code).toBe(0);
    const lines = routed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: string; weights: Record<string, number>; top: string });
    expect(lines.map((line) => line.top)).toEqual(['math', 'science', 'reading']);
    for (const line of lines) {
      expect(Object.keys(line.weights)).toEqual(['math', 'science', 'reading']);
      expect(Object.values(line.weights).reduce((sum, w) => sum + w, 0)).toBeCloseTo(1, 3);
    }
    const single = await cli('route', '--store', storeDir, '--text', 'Question: How many apples are left?\n\nAnswer:');
    expect(single.stdout).toMatch(/^text\tmath\t/);

    expect((await cli('store', 'validate', '--store', storeDir)).stdout).toMatch(/^ok: 3 adapters/);
    expect((await cli('store', 'remove', '--store', storeDir, '--name', 'science')).code).toBe(0);
    expect((await cli('store', 'list', '--store', storeDir)).stdout.split('\n').filter(Boolean).map((line) => line.split('\t')[0])).toEqual(['math', 'reading']);

    // a changed adapter file is reported by validate: one error line, non-zero exit
    writeFileSync(join(root, 'adapters', 'math', 'adapter_config.json'), readFileSync(join(root, 'adapters', 'math', 'adapter_config.json'), 'utf8').replace('"r": 2', '"r":  2'));
    const invalid = await cli('store', 'validate', '--store', storeDir);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^lora-tle: \[E_STORE_HASH\] adapter "math"/);
  });

  it('store fit: refits over every adapter, routes more decisively, and profile reuses the fit', async () => {
    const fitted = join(root, 'fitted-store');
    const unfitted = join(root, 'unfitted-store');
    for (const dir of [fitted, unfitted]) {
      expect((await cli('store', 'init', '--store', dir)).code).toBe(0);
      for (const [task, template] of TASKS) expect((await cli('store', 'add', '--store', dir, '--name', task, '--adapter', join(root, 'adapters', task), '--format', template)).code).toBe(0);
    }
    for (const [task] of TASKS) expect((await cli('profile', '--store', unfitted, '--adapter', task, '--data', join(root, `${task}.jsonl`))).code).toBe(0);
    const dataFlags = TASKS.flatMap(([task]) => ['--data', `${task}=${join(root, `${task}.jsonl`)}`]);
    const fit = await cli('store', 'fit', '--store', fitted, ...dataFlags);
    expect(fit.code).toBe(0);
    const fitHash = /fit ([0-9a-f]{16})/.exec(fit.stdout)?.[1];
    expect(fitHash).toBeDefined();
    expect(readFileSync(join(fitted, 'embedders', `hashing-${fitHash}.safetensors`)).byteLength).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(fitted, 'manifest.json'), 'utf8')) as { adapters: { profiles: { embedder: { settings: Record<string, unknown> } }[] }[] };
    expect(manifest.adapters.map((entry) => entry.profiles.map((profile) => profile.embedder.settings['fit']))).toEqual(TASKS.map(() => [fitHash]));
    expect((await cli('store', 'validate', '--store', fitted)).code).toBe(0); // embedders/ is tolerated

    // the first 5 test prompts of each task: same argmax, more weight on the right adapter when fitted
    const inputFile = join(root, 'route-fit.jsonl');
    writeFileSync(
      inputFile,
      TASKS.flatMap(([task, template]) => firstLines(join(data, task, 'test.jsonl'), 5).map((line, i) => JSON.stringify({ id: `${task}-${i}`, text: formatPrompt(template, JSON.parse(line)) }))).join('\n'),
    );
    const rightWeight = async (dir: string) => {
      const routed = await cli('route', '--store', dir, '--input', inputFile, '--json');
      expect(routed.code).toBe(0);
      const lines = routed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: string; weights: Record<string, number>; top: string });
      for (const line of lines) expect(line.top).toBe(line.id.split('-')[0]);
      return lines.reduce((sum, line) => sum + line.weights[line.id.split('-')[0]!]!, 0) / lines.length;
    };
    const [fittedWeight, unfittedWeight] = [await rightWeight(fitted), await rightWeight(unfitted)];
    expect(fittedWeight).toBeGreaterThan(unfittedWeight + 0.05);

    // profile on a fitted store reuses the fit, so routing still accepts every profile
    const reprofiled = await cli('profile', '--store', fitted, '--adapter', 'math', '--data', join(root, 'math.jsonl'));
    expect(reprofiled.stdout).toContain(`embedder hashing (the store's fit ${fitHash})`);
    expect(await rightWeight(fitted)).toBeCloseTo(fittedWeight, 6);

    for (const [args, pattern] of [
      [['store', 'fit', '--store', fitted, '--data', `math=${join(root, 'math.jsonl')}`], /\[E_USAGE\].*--data science=<jsonl> --data reading=<jsonl>/],
      [['store', 'fit', '--store', fitted, ...dataFlags, '--data', `poetry=${join(root, 'math.jsonl')}`], /\[E_UNKNOWN_ADAPTER\]/],
      [['store', 'fit', '--store', fitted, '--data', 'math'], /\[E_USAGE\]/],
    ] as [string[], RegExp][]) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(pattern);
    }
  });

  it("profile and route with the hidden embedder: a pack's base model embeds both sides; profiles of another pack are not used", async () => {
    const packDir = join(root, 'hidden-pack');
    await writeModelPack({ source: createRandomLlama({ vocabSize: 1024, numLayers: 1 }, 9), adapters: [], destination: packDir, tokenizerFiles: { tokenizer: join(data, '..', 'tokenizer.json') } });
    const hiddenStore = join(root, 'hidden-store');
    expect((await cli('store', 'init', '--store', hiddenStore)).code).toBe(0);
    for (const [task, template] of TASKS) {
      expect((await cli('store', 'add', '--store', hiddenStore, '--name', task, '--adapter', join(root, 'adapters', task), '--task', task, '--format', template)).code).toBe(0);
      const profiled = await cli('profile', '--store', hiddenStore, '--adapter', task, '--data', join(root, `${task}.jsonl`), '--embedder', 'hidden', '--pack', packDir);
      expect(profiled.stderr).not.toContain('[E_');
      expect(profiled.stdout).toMatch(new RegExp(`profile of "${task}": 200 examples, embedder hidden`));
    }
    const routed = await cli('route', '--store', hiddenStore, '--text', 'Question: what is 2 + 3?', '--embedder', 'hidden', '--pack', packDir, '--json');
    expect(routed.stderr).not.toContain('[E_');
    const line = JSON.parse(routed.stdout) as { weights: Record<string, number>; top: string };
    expect(Object.keys(line.weights)).toEqual(['math', 'science', 'reading']);
    expect(Object.values(line.weights).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    // hashing routing finds no hidden profiles; another pack's hidden embedder does not match them either
    expect((await cli('route', '--store', hiddenStore, '--text', 'x', '--embedder', 'hashing')).stderr).toMatch(/\[E_PROFILE/);
    const otherPack = join(root, 'other-pack');
    await writeModelPack({ source: createRandomLlama({ vocabSize: 1024, numLayers: 1 }, 10), adapters: [], destination: otherPack, sourceHashes: { 'checkpoint/model.safetensors': 'another-checkpoint' }, tokenizerFiles: { tokenizer: join(data, '..', 'tokenizer.json') } });
    expect((await cli('route', '--store', hiddenStore, '--text', 'x', '--embedder', 'hidden', '--pack', otherPack)).stderr).toMatch(/\[E_PROFILE/);
  }, 60_000);

  it('bad input gives one line and a non-zero exit', async () => {
    const cases: [string[], RegExp][] = [
      [['store', 'list', '--store', join(root, 'nowhere')], /\[E_STORE_MANIFEST\]/],
      [['store', 'init', '--store', storeDir], /\[E_OUTPUT_EXISTS\]/],
      [['store', 'add', '--store', storeDir, '--name', 'x', '--adapter', join(root, 'nowhere')], /\[E_NOT_FOUND\]|\[E_ADAPTER_CONFIG\]/],
      [['profile', '--store', storeDir, '--adapter', 'poetry', '--data', join(root, 'math.jsonl')], /\[E_UNKNOWN_ADAPTER\]/],
      [['profile', '--store', storeDir, '--adapter', 'reading', '--data', join(root, 'nowhere.jsonl')], /\[E_NOT_FOUND\]/],
      [['route', '--store', storeDir], /\[E_USAGE\]/],
      [['route', '--store', storeDir, '--text', 'x', '--embedder', 'minilm'], /\[E_EMBEDDER\]/],
      [['route', '--store', storeDir, '--text', 'x', '--strategy', 'bogus'], /\[E_STRATEGY\]/],
    ];
    for (const [args, pattern] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr, args.join(' ')).toMatch(pattern);
    }
  });

  it('the binary prints one error line and exits non-zero', () => {
    const result = spawnSync(process.execPath, [bin, 'route', '--store', join(root, 'nowhere'), '--text', 'x'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^lora-tle: \[E_STORE_MANIFEST\]/);
  });
});
