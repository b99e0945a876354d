// `lora-tle generate` as a user runs it: a child process on a real model pack (a random tiny Llama
// with the tiny-tle tokenizer and three adapters, built here by @lora-tle/graph).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandomAdapter, createRandomLlama, writeModelPack } from '@lora-tle/graph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { createTerminal } from '../terminal.js';

const bin = fileURLToPath(new URL('../../bin/lora-tle.js', import.meta.url));
const fixture = fileURLToPath(new URL('../../../../fixtures/tiny-tle/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lora-tle-cli-generate-'));
const packDir = join(root, 'pack');

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', LORA_TLE_CACHE: join(root, 'cache') } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same CLI in this process (no child start-up cost), for the many bad-input cases. */
async function cliInProcess(...args: string[]) {
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
  const llama = createRandomLlama({ vocabSize: 1024, maxPositionEmbeddings: 128 }, 4);
  const adapters = ['math', 'science', 'code'].map((name, i) =>
    createRandomAdapter(llama.architecture, { name, rank: 4, targets: ['q_proj', 'v_proj', 'down_proj'] }, 20 + i),
  );
  await writeModelPack({
    source: llama,
    adapters,
    destination: packDir,
    tokenizerFiles: { tokenizer: join(fixture, 'tokenizer.json'), tokenizerConfig: join(fixture, 'tokenizer_config.json') },
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lora-tle generate', () => {
  it('--json prints text, token ids, per-step weights and timing; greedy is deterministic; text streams otherwise', async () => {
    const args = ['generate', '--pack', packDir, '--prompt', 'Question: what is 2 + 3?', '--mode', 'adapter:science', '--max-new-tokens', '6', '--json'];
    const first = cli(...args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as {
      text: string;
      tokenIds: number[];
      steps: { tokenId: number; text: string; weights: Record<string, number> }[];
      timing: { ttftMs: number; tokensPerSecond: number };
      finishReason: string;
    };
    expect(result.steps.map((step) => step.tokenId)).toEqual(result.tokenIds);
    expect(result.steps.every((step) => JSON.stringify(step.weights) === JSON.stringify({ math: 0, science: 1, code: 0 }))).toBe(true);
    expect(result.tokenIds.length).toBeLessThanOrEqual(6);
    expect(result.timing.tokensPerSecond).toBeGreaterThan(0);
    expect(JSON.parse((await cliInProcess(...args)).stdout).tokenIds).toEqual(result.tokenIds);

    const plain = await cliInProcess('generate', '--pack', packDir, '--prompt', 'Question: what is 2 + 3?', '--mode', 'adapter:science', '--max-new-tokens', '6');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(`${result.text}\n`);
    expect(plain.stderr).toMatch(/tokens, (length|eos), .* tok\/s/);
  });

  it('reads --prompt-file and samples reproducibly with a seed', async () => {
    const promptFile = join(root, 'prompt.txt');
    writeFileSync(promptFile, 'Context:\nThe sky is blue.\n\nQuestion: What colour is the sky?\n\nAnswer:');
    const run = async (seed: string) =>
      JSON.parse((await cliInProcess('generate', '--pack', packDir, '--prompt-file', promptFile, '--mode', 'uniform', '--temperature', '1', '--seed', seed, '--max-new-tokens', '8', '--json')).stdout)
        .tokenIds as number[];
    expect(await run('3')).toEqual(await run('3'));
  });

  it('--backend simd generates the tokens node does (same pack, same mixture), and an unknown backend is a usage error', async () => {
    const args = ['generate', '--pack', packDir, '--prompt', 'Question: what is 2 + 3?', '--mode', 'uniform', '--max-new-tokens', '8', '--json'];
    const node = JSON.parse((await cliInProcess(...args)).stdout) as { tokenIds: number[] };
    const simd = await cliInProcess(...args, '--backend', 'simd');
    expect(simd.code).toBe(0);
    expect((JSON.parse(simd.stdout) as { tokenIds: number[] }).tokenIds).toEqual(node.tokenIds);
    const unknown = await cliInProcess(...args, '--backend', 'gpu');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/\[E_USAGE\] --backend: unknown backend "gpu"; use node or simd/);
  });

  it('bad input gives one line on stderr and a non-zero exit', async () => {
    const cases: [string[], RegExp][] = [
      [['--prompt', 'hi', '--mode', 'adapter:poetry'], /\[E_UNKNOWN_ADAPTER\]/],
      [['--prompt', 'hi', '--mode', 'token'], /\[E_USAGE\].*--store/],
      [['--prompt', '', '--mode', 'base'], /\[E_PROMPT_EMPTY\]/],
      [['--prompt', 'hi', '--temperature', '-1'], /\[E_SAMPLING\]/],
      [['--prompt', 'hi', '--top-p', '2'], /\[E_SAMPLING\]/],
      [['--prompt', 'hi', '--kv', 'sometimes'], /\[E_USAGE\]/],
      [['--prompt', 'word '.repeat(200), '--mode', 'base'], /\[E_CONTEXT_OVERFLOW\].*context of 128/],
      [['--mode', 'base'], /\[E_USAGE\].*--prompt/],
    ];
    for (const [args, pattern] of cases) {
      const result = await cliInProcess('generate', '--pack', packDir, ...args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr, args.join(' ')).toMatch(pattern);
    }
    const missing = cli('generate', '--pack', join(root, 'nope'), '--prompt', 'hi', '--mode', 'base');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
});
