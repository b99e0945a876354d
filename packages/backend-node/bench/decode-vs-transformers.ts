// Benchmark (not a test): base-only greedy decode tokens/s of a model pack on onnxruntime-node
// (CPU) next to transformers generate() in PyTorch, same checkpoint, prompt, token count and thread
// count, measured in one run (the Python side is spawned from here), printed as a ratio.
//
//   node --conditions=source --import tsx packages/backend-node/bench/decode-vs-transformers.ts [checkpointDir | --random] [--tokens 64] [--threads 2]
//
// The checkpoint defaults to fixtures/tiny-tle when present; --random (or no fixture) uses a random
// 8-layer, H = 512 Llama written by decode_transformers.py. Rates: (N − 1) decode tokens over their time,
// prefill excluded, best of 3 after a warm-up, on both sides. Also prints the rate with 4 random
// rank-8 adapters mixed with a new mixture every token, next to base-only (the cost of mixing).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModelPack, createRandomAdapter, writeModelPack } from '@lora-tle/graph';
import { loadCheckpoint } from '@lora-tle/lora-store/node';
import type { BackendSession, MixCoefficients } from '@lora-tle/spec';
import { mixCoefficients } from '@lora-tle/mixing';
import { createNodeBackend } from '../src/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const python = join(here, 'decode_transformers.py');
const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const newTokens = flag('--tokens', 64);
const threads = flag('--threads', 2);
const work = mkdtempSync(join(tmpdir(), 'lora-tle-bench-'));

try {
  let checkpointDir = args.find((arg, index) => !arg.startsWith('--') && !(args[index - 1] ?? '').startsWith('--'));
  const fixture = fileURLToPath(new URL('../../../fixtures/tiny-tle', import.meta.url));
  if (!checkpointDir && !args.includes('--random') && existsSync(join(fixture, 'config.json'))) checkpointDir = fixture;
  if (!checkpointDir) {
    checkpointDir = join(work, 'random-llama');
    execFileSync('python3', [python, 'make-random', checkpointDir], { stdio: 'inherit' });
  }
  const packDir = join(work, 'pack');
  const buildStart = performance.now();
  const manifest = await buildModelPack({ checkpointDir, adapters: [], destination: packDir });
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const arch = manifest.architecture;
  const prompt = Array.from({ length: 16 }, (_, i) => (7 + 13 * i) % arch.vocabSize);

  // the same base with 4 random rank-8 adapters on every linear module, mixed with new weights every token
  const checkpoint = await loadCheckpoint(checkpointDir);
  const allModules = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
  const adapters = [0, 1, 2, 3].map((i) => createRandomAdapter(arch, { name: `a${i}`, rank: 8, targets: allModules }, 50 + i));
  const mixedPackDir = join(work, 'mixed-pack');
  await writeModelPack({ source: { architecture: arch, tensor: (name) => checkpoint.readTensor(name) }, adapters, destination: mixedPackDir });
  await checkpoint.close();

  const backend = createNodeBackend({ threads });
  const noAdapters = (): MixCoefficients[] => [mixCoefficients([], 'cat')];
  const perToken = (step: number): MixCoefficients[] => [mixCoefficients([0, 1, 2, 3].map((i) => ((i + step) % 4) / 6), 'cat')];
  const tokensPerSecond = async (session: BackendSession, mixAt: (step: number) => MixCoefficients[]): Promise<{ rate: number; tokens: number[] }> => {
    const greedy = async (count: number): Promise<{ seconds: number; tokens: number[] }> => {
      let output = await session.doStep({ inputIds: Int32Array.from(prompt), batchSize: 1, sequenceLength: prompt.length, mix: mixAt(0), cache: null });
      const tokens: number[] = [];
      const argmax = (logits: Float32Array): number => logits.indexOf(Math.max(...logits));
      tokens.push(argmax(output.logits));
      const start = performance.now();
      while (tokens.length < count) {
        output = await session.doStep({ inputIds: Int32Array.of(tokens.at(-1) as number), batchSize: 1, sequenceLength: 1, mix: mixAt(tokens.length), cache: output.cache });
        tokens.push(argmax(output.logits));
      }
      output.cache.dispose();
      return { seconds: (performance.now() - start) / 1000, tokens };
    };
    await greedy(4); // warm-up
    let rate = 0;
    let tokens: number[] = [];
    for (let run = 0; run < 3; run++) {
      const result = await greedy(newTokens);
      rate = Math.max(rate, (newTokens - 1) / result.seconds);
      tokens = result.tokens;
    }
    await session.dispose();
    return { rate, tokens };
  };
  const { rate: best, tokens } = await tokensPerSecond(await backend.doLoad(packDir), noAdapters);
  const { rate: mixedRate } = await tokensPerSecond(await backend.doLoad(mixedPackDir), perToken);

  const torchOutput = execFileSync('python3', [python, 'run', checkpointDir, JSON.stringify(prompt), String(newTokens), String(threads)], { encoding: 'utf8' });
  const torch = JSON.parse(torchOutput.trim().split('\n').at(-1) as string) as { decode_tokens_per_s: number; tokens: number[]; torch: string };
  const sameTokens = torch.tokens.length === tokens.length && torch.tokens.every((token, i) => token === tokens[i]);

  console.log(`checkpoint      ${checkpointDir} (${arch.numLayers} layers, H ${arch.hiddenSize}, V ${arch.vocabSize})`);
  console.log(`pack build      ${buildSeconds.toFixed(2)} s`);
  console.log(`prompt          ${prompt.length} tokens, ${newTokens} new tokens, ${threads} threads, greedy, base only`);
  console.log(`onnxruntime     ${best.toFixed(1)} tokens/s (backend-node, cpu)`);
  console.log(`transformers    ${torch.decode_tokens_per_s.toFixed(1)} tokens/s (generate, torch ${torch.torch})`);
  console.log(`ratio           ${(best / torch.decode_tokens_per_s).toFixed(2)}× (onnxruntime / transformers)`);
  console.log(`mixed per token ${mixedRate.toFixed(1)} tokens/s (4 rank-8 adapters on all modules, new cat mixture every token) = ${(mixedRate / best).toFixed(2)}× base-only`);
  console.log(`same greedy ids ${sameTokens}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
