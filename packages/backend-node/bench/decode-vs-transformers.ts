// Benchmark (not a test): base-only greedy decode tokens/s of a model pack on onnxruntime-node
// (CPU) next to transformers generate() in PyTorch, same checkpoint, prompt, token count and thread
// count, measured in one run (the Python side is spawned from here), printed as a ratio.
//
//   node --conditions=source --import tsx packages/backend-node/bench/decode-vs-transformers.ts [checkpointDir] [--tokens 64] [--threads 2]
//
// The checkpoint defaults to fixtures/tiny-tle/base when present, otherwise a random 8-layer,
// H = 512 Llama written by decode_transformers.py. Rates: (N − 1) decode tokens over their time,
// prefill excluded, best of 3 after a warm-up, on both sides.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModelPack } from '@lora-tle/graph';
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
  const fixture = fileURLToPath(new URL('../../../fixtures/tiny-tle/base', import.meta.url));
  if (!checkpointDir && existsSync(join(fixture, 'config.json'))) checkpointDir = fixture;
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

  const session = await createNodeBackend({ threads }).doLoad(packDir);
  const noAdapters = [mixCoefficients([], 'cat')];
  const greedy = async (count: number): Promise<{ seconds: number; tokens: number[] }> => {
    let output = await session.doStep({ inputIds: Int32Array.from(prompt), batchSize: 1, sequenceLength: prompt.length, mix: noAdapters, cache: null });
    const tokens: number[] = [];
    const argmax = (logits: Float32Array): number => logits.indexOf(Math.max(...logits));
    tokens.push(argmax(output.logits));
    const start = performance.now();
    while (tokens.length < count) {
      output = await session.doStep({ inputIds: Int32Array.of(tokens.at(-1) as number), batchSize: 1, sequenceLength: 1, mix: noAdapters, cache: output.cache });
      tokens.push(argmax(output.logits));
    }
    output.cache.dispose();
    return { seconds: (performance.now() - start) / 1000, tokens };
  };
  await greedy(4); // warm-up
  let best = 0;
  let tokens: number[] = [];
  for (let run = 0; run < 3; run++) {
    const result = await greedy(newTokens);
    best = Math.max(best, (newTokens - 1) / result.seconds);
    tokens = result.tokens;
  }
  await session.dispose();

  const torchOutput = execFileSync('python3', [python, 'run', checkpointDir, JSON.stringify(prompt), String(newTokens), String(threads)], { encoding: 'utf8' });
  const torch = JSON.parse(torchOutput.trim().split('\n').at(-1) as string) as { decode_tokens_per_s: number; tokens: number[]; torch: string };
  const sameTokens = torch.tokens.length === tokens.length && torch.tokens.every((token, i) => token === tokens[i]);

  console.log(`checkpoint      ${checkpointDir} (${arch.numLayers} layers, H ${arch.hiddenSize}, V ${arch.vocabSize})`);
  console.log(`pack build      ${buildSeconds.toFixed(2)} s`);
  console.log(`prompt          ${prompt.length} tokens, ${newTokens} new tokens, ${threads} threads, greedy, base only`);
  console.log(`onnxruntime     ${best.toFixed(1)} tokens/s (backend-node, cpu)`);
  console.log(`transformers    ${torch.decode_tokens_per_s.toFixed(1)} tokens/s (generate, torch ${torch.torch})`);
  console.log(`ratio           ${(best / torch.decode_tokens_per_s).toFixed(2)}× (onnxruntime / transformers)`);
  console.log(`same greedy ids ${sameTokens}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
