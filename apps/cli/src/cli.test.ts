// Tests of the `lora-tle` command on tiny adapters and checkpoints written with lora-store's
// writers: exit code, stdout and the one-line stderr. `run` starts the real bin/lora-tle.js as a
// child process (stderr is a pipe: no colour, no progress bar); each start costs about a second
// of CPU, so the remaining cases use `runInProcess` (runCli with captured streams, same code
// below process wiring).

import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from './cli.js';
import { loadPeftAdapter } from '@lora-tle/lora-store/node';
import { createTerminal } from './terminal.js';
import { expectOneCliErrorLine, runBin, runInProcess, type RunResult } from './test-cli-run.js';
import { TINY_ARCHITECTURE_CONFIG, writeTinyAdapter, writeTinyCheckpoint } from './test-adapters.js';

const run = runBin;

/** Exactly one stderr line, `lora-tle: [CODE] …`, and nothing that looks like a stack trace. */
function expectOneErrorLine(result: RunResult, code: string): void {
  expectOneCliErrorLine(result, code);
  expect(result.stderr).not.toContain('\x1b[');
}

let root = '';
const path = (name: string) => join(root, name);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lora-tle-cli-'));
  await writeTinyCheckpoint(path('base'));
  await writeTinyCheckpoint(path('wide-base'), { ...TINY_ARCHITECTURE_CONFIG, hidden_size: 32, intermediate_size: 64 });
  await writeTinyAdapter(path('math'), { seed: 1 });
  await writeTinyAdapter(path('code'), { seed: 2, targets: ['q_proj', 'k_proj'] });
  await writeTinyAdapter(path('rank2'), { seed: 3, rank: 2 });
  await writeTinyAdapter(path('other-base'), { seed: 4, base: 'someone/other-model' });
  await writeTinyAdapter(path('wide'), { seed: 5, config: { ...TINY_ARCHITECTURE_CONFIG, hidden_size: 32, intermediate_size: 64 }, base: null });
  await writeFile(path('corrupt.safetensors'), Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97]));
});

afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

async function leftovers(name: string): Promise<string[]> {
  return (await readdir(root)).filter((entry) => entry === name || entry.startsWith(`.${name}`));
}

describe('lora-tle --help', () => {
  it.concurrent('lists the commands, and every command has --help', async () => {
    const [top, inspect, merge] = await Promise.all([run(['--help']), runInProcess(['inspect', '--help']), runInProcess(['merge', '--help'])]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/inspect/);
    expect(top.stdout).toMatch(/merge/);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toMatch(/--json/);
    expect(merge.code).toBe(0);
    expect(merge.stdout).toMatch(/--combination/);
    expect(merge.stdout).toMatch(/svd-peft0\.4/);
    for (const result of [top, inspect, merge]) expect(result.stderr).toBe('');
  });

  it('every registered command and subcommand answers --help on stdout with exit 0', async () => {
    const program = buildProgram(createTerminal({ stdout: { write: () => true }, stderr: { write: () => true }, env: {} }));
    const paths: string[][] = [];
    const walk = (command: Command, path: string[]) => {
      for (const child of command.commands) {
        paths.push([...path, child.name()]);
        walk(child, [...path, child.name()]);
      }
    };
    walk(program, []);
    expect(paths.map((path) => path.join(' '))).toEqual(expect.arrayContaining(['inspect', 'merge']));
    for (const path of paths) {
      const result = await runInProcess([...path, '--help']);
      expect(result.code, path.join(' ')).toBe(0);
      expect(result.stdout).toContain(`Usage: lora-tle ${path.join(' ')}`);
      expect(result.stderr).toBe('');
    }
  });

  it.concurrent('usage errors exit 2 with one [E_USAGE] line', async () => {
    const [unknownOption, unknownCommand, missingArgument] = await Promise.all([run(['inspect', path('math'), '--bogus']), runInProcess(['frobnicate']), runInProcess(['inspect'])]);
    for (const result of [unknownOption, unknownCommand, missingArgument]) {
      expect(result.code).toBe(2);
      expectOneErrorLine(result, 'E_USAGE');
    }
    expect(unknownOption.stderr).toContain("'--bogus'");
    expect(unknownOption.stderr).toContain('see `lora-tle inspect --help`');
  });
});

describe('lora-tle inspect', () => {
  it.concurrent('describes a PEFT adapter as text and as JSON', async () => {
    const [text, json] = await Promise.all([run(['inspect', path('math')]), run(['inspect', path('math'), '--json'])]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/PEFT LoRA adapter/);
    expect(text.stdout).toMatch(/base model\s+tiny-base/);
    expect(text.stdout).toMatch(/rank\s+4\n/);
    expect(text.stdout).toMatch(/scaling\s+2 \(α\/r\)/);
    expect(text.stdout).toMatch(/valid\s+yes/);
    const report = JSON.parse(json.stdout);
    expect(report.kind).toBe('peft-adapter');
    expect(report.config.r).toBe(4);
    expect(report.tensors.count).toBe(8); // 2 layers × (q, v) × (A, B)
    expect(report.tensors.parameters).toBe(2 * (4 * 16 + 16 * 4 + 4 * 16 + 8 * 4)); // q: 16→16, v: 16→8 (1 kv head × d 8)
    expect(report.verdict.valid).toBe(true);
  });

  it.concurrent('describes a checkpoint and a single safetensors file', async () => {
    const [checkpoint, file] = await Promise.all([runInProcess(['inspect', path('base'), '--json']), runInProcess(['inspect', join(path('math'), 'adapter_model.safetensors'), '--json'])]);
    expect(checkpoint.code).toBe(0);
    const report = JSON.parse(checkpoint.stdout);
    expect(report.kind).toBe('checkpoint');
    expect(report.facts.layers).toBe(2);
    // V·H embed + lm_head, per layer 2 norms (H) + q,k,v,o + gate,up,down, final norm
    const H = 16, V = 64, I = 32, kv = 8;
    expect(report.tensors.parameters).toBe(2 * V * H + 2 * (2 * H + H * H + 2 * kv * H + H * H + 3 * H * I) + H);
    const fileReport = JSON.parse(file.stdout);
    expect(fileReport.kind).toBe('safetensors');
    expect(fileReport.tensors.count).toBe(8);
    expect(fileReport.config).toEqual({ format: 'pt' });
  });

  it.concurrent('--base: compatible adapter passes, an adapter for another shape fails with the report and one error line', async () => {
    const [fits, misfits] = await Promise.all([runInProcess(['inspect', path('math'), '--base', path('base')]), runInProcess(['inspect', path('wide'), '--base', path('base')])]);
    expect(fits.code).toBe(0);
    expect(fits.stdout).toMatch(/compatible\s+yes/);
    expect(misfits.code).toBe(1);
    expect(misfits.stdout).toMatch(/compatible\s+no/);
    expectOneErrorLine(misfits, 'E_ADAPTER_SHAPE');
  });

  it.concurrent('describes a model pack through backend-node\'s readPack, and refuses an unknown format version', async () => {
    const manifest = {
      formatVersion: 1,
      createdBy: 'test',
      architecture: { modelType: 'llama', vocabSize: 64, hiddenSize: 16, numLayers: 2, numHeads: 2, numKvHeads: 1, headDim: 8 },
      combination: 'cat',
      adapters: [{ name: 'math', rank: 4, targetModules: ['q_proj'], sourceHash: 'x', baseModelNameOrPath: null }],
      dtype: 'float32',
      opset: { 'ai.onnx': 17, 'com.microsoft': 1 },
      io: { logits: 'logits' },
      files: { model: 'model.onnx', baseWeights: 'base.weights', adapterWeights: null, tokenizer: null, tokenizerConfig: null },
      sourceHashes: {},
    };
    const ios = { pack: { logits: 'logits', appended: 'appended_key_values' }, 'pack-v99': manifest.io, 'pack-per-layer': { logits: 'logits', appendedKey: 'appended.{i}.key', appendedValue: 'appended.{i}.value' }, 'pack-webgpu': { logits: 'logits', appended: null }, 'pack-older': manifest.io };
    for (const [name, version] of [['pack', 1], ['pack-v99', 99], ['pack-per-layer', 1], ['pack-webgpu', 1], ['pack-older', 1]] as const) {
      await mkdir(path(name));
      await writeFile(join(path(name), 'pack.json'), JSON.stringify({ ...manifest, io: ios[name], formatVersion: version }));
      await writeFile(join(path(name), 'model.onnx'), new Uint8Array(0));
      await writeFile(join(path(name), 'base.weights'), new Uint8Array(0));
    }
    const [pack, future] = await Promise.all([runInProcess(['inspect', path('pack'), '--json']), runInProcess(['inspect', path('pack-v99')])]);
    expect(pack.code, pack.stderr).toBe(0);
    const report = JSON.parse(pack.stdout);
    expect(report.kind).toBe('model-pack');
    expect(report.facts.adapters).toBe('math (r=4; q_proj)');
    expect(report.facts['kv cache']).toMatch(/^in lora-tle's own arrays .*appended_key_values/);
    const kvFact = async (name: string) => JSON.parse((await runInProcess(['inspect', path(name), '--json'])).stdout).facts['kv cache'] as string;
    expect(await kvFact('pack-per-layer')).toMatch(/one appended\.\* output per layer, which this version does not read; rebuild/);
    expect(await kvFact('pack-webgpu')).toMatch(/copied out .* \(built with --no-appended, for WebGPU\)$/);
    expect(await kvFact('pack-older')).toMatch(/built before the appended rows' output; rebuild/);
    expect(future.code).toBe(1);
    expectOneErrorLine(future, 'E_PACK_VERSION');
  });

  it.concurrent('a corrupt file and a missing path fail with one line each', async () => {
    const [corrupt, missing] = await Promise.all([run(['inspect', path('corrupt.safetensors')]), run(['inspect', path('no-such-dir')])]);
    expect(corrupt.code).toBe(1);
    expectOneErrorLine(corrupt, 'E_SAFETENSORS_HEADER_TOO_LARGE');
    expect(corrupt.stderr).toContain('corrupt.safetensors');
    expect(corrupt.stdout).toBe('');
    expect(missing.code).toBe(1);
    expectOneErrorLine(missing, 'E_NOT_FOUND');
    expect(missing.stderr).toContain('no-such-dir');
  });
});

describe('lora-tle merge', () => {
  it.concurrent('cat-merges two adapters into a PEFT adapter whose ΔW is Σ w_i s_i B_i A_i', async () => {
    const result = await runInProcess(['merge', '--adapter', path('math'), '--weight', '0.7', '--adapter', path('code'), '--weight', '-0.25', '--combination', 'cat', '--out', path('merged-cat')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/rank 8/);
    const merged = await loadPeftAdapter(path('merged-cat'));
    const inputs = [await loadPeftAdapter(path('math')), await loadPeftAdapter(path('code'))];
    try {
      expect(merged.config.r).toBe(8);
      expect(merged.config.loraAlpha).toBe(8);
      expect(merged.modules.map((info) => info.module).sort()).toEqual(
        ['q_proj', 'v_proj', 'k_proj'].flatMap((kind) => [0, 1].map((layer) => `model.layers.${layer}.self_attn.${kind}`)).sort(),
      );
      // ΔW by plain loops, independently of the mixing package: (out, in) = Σ_k B[o,k] A[k,i]
      const deltaOf = (module: { a: Float32Array; b: Float32Array; rank: number; scaling: number; inFeatures: number; outFeatures: number }, factor: number, into: Float64Array) => {
        for (let o = 0; o < module.outFeatures; o++)
          for (let i = 0; i < module.inFeatures; i++) {
            let sum = 0;
            for (let k = 0; k < module.rank; k++) sum += module.b[o * module.rank + k]! * module.a[k * module.inFeatures + i]!;
            into[o * module.inFeatures + i]! += factor * module.scaling * sum;
          }
      };
      for (const name of ['model.layers.1.self_attn.q_proj', 'model.layers.0.self_attn.k_proj']) {
        const ours = await merged.readModule(name);
        const expected = new Float64Array(ours.outFeatures * ours.inFeatures);
        for (const [index, weight] of [0.7, -0.25].entries()) {
          const input = inputs[index]!;
          if (input.modules.some((info) => info.module === name)) deltaOf(await input.readModule(name), weight, expected);
        }
        const actual = new Float64Array(expected.length);
        deltaOf(ours, 1, actual);
        const largest = Math.max(...expected.map(Math.abs));
        expect(largest).toBeGreaterThan(0.01);
        for (let j = 0; j < expected.length; j++) expect(Math.abs(actual[j]! - expected[j]!)).toBeLessThan(1e-5 * largest + 1e-6);
      }
    } finally {
      await Promise.all([merged, ...inputs].map((adapter) => adapter.close()));
    }
  });

  it.concurrent('refuses unequal ranks for linear, different bases, and missing adapters — nothing written', async () => {
    const [ranks, bases, missing] = await Promise.all([
      run(['merge', '--adapter', path('math'), '--weight', '0.5', '--adapter', path('rank2'), '--weight', '0.5', '--combination', 'linear', '--out', path('out-ranks')]),
      run(['merge', '--adapter', path('math'), '--weight', '0.5', '--adapter', path('other-base'), '--weight', '0.5', '--combination', 'cat', '--out', path('out-bases')]),
      runInProcess(['merge', '--adapter', path('math'), '--weight', '0.5', '--adapter', path('nope'), '--weight', '0.5', '--combination', 'cat', '--out', path('out-missing')]),
    ]);
    expect(ranks.code).toBe(1);
    expectOneErrorLine(ranks, 'E_RANK_MISMATCH');
    expect(bases.code).toBe(1);
    expectOneErrorLine(bases, 'E_ADAPTER_BASE_MISMATCH');
    expect(bases.stderr).toContain('someone/other-model');
    expect(missing.code).toBe(1);
    expectOneErrorLine(missing, 'E_NOT_FOUND');
    for (const out of ['out-ranks', 'out-bases', 'out-missing']) expect(await leftovers(out)).toEqual([]);
  });

  it.concurrent('module shapes from different bases are a base mismatch even without base names', async () => {
    const result = await runInProcess(['merge', '--adapter', path('wide'), '--weight', '1', '--adapter', path('rank2'), '--weight', '1', '--combination', 'cat', '--out', path('out-shapes')]);
    expect(result.code).toBe(1);
    expectOneErrorLine(result, 'E_ADAPTER_BASE_MISMATCH');
    expect(await leftovers('out-shapes')).toEqual([]);
  });

  it.concurrent('an existing --out is refused and left untouched; bad option values are usage errors', async () => {
    const [exists, badWeight, badCombination, unpaired] = await Promise.all([
      runInProcess(['merge', '--adapter', path('math'), '--weight', '1', '--combination', 'cat', '--out', path('code')]),
      runInProcess(['merge', '--adapter', path('math'), '--weight', 'heavy', '--combination', 'cat', '--out', path('out-weight')]),
      runInProcess(['merge', '--adapter', path('math'), '--weight', '1', '--combination', 'ties', '--out', path('out-combination')]),
      runInProcess(['merge', '--adapter', path('math'), '--adapter', path('code'), '--weight', '1', '--combination', 'cat', '--out', path('out-unpaired')]),
    ]);
    expect(exists.code).toBe(1);
    expectOneErrorLine(exists, 'E_OUTPUT_EXISTS');
    expect(existsSync(join(path('code'), 'adapter_model.safetensors'))).toBe(true);
    for (const result of [badWeight, badCombination, unpaired]) {
      expect(result.code).toBe(2);
      expectOneErrorLine(result, 'E_USAGE');
    }
    for (const out of ['out-weight', 'out-combination', 'out-unpaired']) expect(await leftovers(out)).toEqual([]);
  });
});

describe('error output', () => {
  it.concurrent('is coloured only when asked (FORCE_COLOR) and plain otherwise', async () => {
    const [plain, coloured] = await Promise.all([runInProcess(['inspect', path('nope')]), runInProcess(['inspect', path('nope')], { FORCE_COLOR: '1' })]);
    expect(plain.stderr).not.toContain('\x1b[');
    expect(coloured.stderr).toContain('\x1b[');
    expect(coloured.stderr.replace(/\x1b\[[0-9;]*m/g, '')).toBe(plain.stderr);
  });

  it.concurrent('--debug adds the stack after the one-line message', async () => {
    const result = await runInProcess(['inspect', path('nope'), '--debug']);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toMatch(/^lora-tle: \[E_NOT_FOUND\]/);
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});
