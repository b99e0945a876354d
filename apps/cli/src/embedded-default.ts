// The embedded default: the tiny-tle fixture (a small Llama, four task adapters, synthetic task
// data) built on first use into a cache directory — a model pack plus an adapter store with
// fitted `hashing` profiles from the train splits — so `lora-tle demo` and `generate` work with no
// arguments. The cache key hashes every source file and the graph builder's code, so a changed
// fixture or graph layout rebuilds. Built into a
// temporary directory and renamed into place, so an interrupted build leaves nothing half-done.
// Not a general build command (that is `lora-tle build`).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModelPack, graphCodeFingerprint } from '@lora-tle/graph';
import { LoraTleError } from '@lora-tle/spec';
import { createStoreWithProfiles } from './store-profiles.js';
import type { Terminal } from './terminal.js';

/**
 * Bump when what the cache holds changes shape outside the graph builder (store layout, profile
 * settings). A changed graph builder needs no bump: the key includes @lora-tle/graph's code
 * fingerprint. History:
 */
const EMBEDDED_LAYOUT_VERSION = 7; // 2: hashing embedder fitted over all adapters' texts (store/embedders/); 3: block-diagonal B in the pack graph; 4: fused residual + RMSNorm; 5: logits_to_keep; 6: RoPE in GroupQueryAttention, hidden per position, one Gather per mixing layout; 7: the naive graph

/** The tasks of tiny-tle in pack order, with the prompt template each adapter was trained on. */
export const EMBEDDED_TASKS = [
  { name: 'math', template: 'gsm8k', task: 'grade-school arithmetic word problems' },
  { name: 'science', template: 'arc', task: 'multiple-choice science questions' },
  { name: 'code', template: 'codealpaca', task: 'short JavaScript functions from instructions' },
  { name: 'reading', template: 'squad', task: 'answers quoted from a context paragraph' },
] as const;

export interface EmbeddedDefault {
  fixtureDir: string;
  packDir: string;
  storeDir: string;
}

/** A path inside the repository checkout. This module sits at apps/cli/src/ (or, built, apps/cli/dist/), so
 * the repository root is three levels up either way; files in deeper folders must not resolve their own. */
export function repositoryPath(relative: string): string {
  return fileURLToPath(new URL(`../../../${relative}`, import.meta.url));
}

export function embeddedFixtureDir(): string {
  return repositoryPath('fixtures/tiny-tle/');
}

export function cacheRoot(env: Record<string, string | undefined> = process.env): string {
  const configured = env['LORA_TLE_CACHE'];
  return configured !== undefined && configured !== '' ? configured : join(homedir(), '.cache', 'lora-tle');
}

function sourceFiles(fixtureDir: string): string[] {
  const files = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
  for (const { name } of EMBEDDED_TASKS) {
    files.push(`adapters/${name}/adapter_config.json`, `adapters/${name}/adapter_model.safetensors`, `data/${name}/train.jsonl`);
  }
  const missing = files.filter((file) => !existsSync(join(fixtureDir, file)));
  if (missing.length > 0) {
    throw new LoraTleError(
      'E_NOT_FOUND',
      `the embedded tiny-tle fixture is incomplete in ${fixtureDir} (missing ${missing.join(', ')}); regenerate it (tools/fixtures) or pass --pack and --store`,
    );
  }
  return files;
}

function fixtureHash(fixtureDir: string, files: readonly string[]): string {
  const hash = createHash('sha256').update(`layout ${EMBEDDED_LAYOUT_VERSION}\ngraph ${graphCodeFingerprint()}\n`);
  for (const file of files) hash.update(`${file}\n`).update(readFileSync(join(fixtureDir, file)));
  return hash.digest('hex').slice(0, 16);
}

/** Returns the cached pack and store, building them first when absent (with progress on stderr). */
export async function ensureEmbeddedDefault(
  terminal: Terminal,
  env: Record<string, string | undefined> = process.env,
  fixtureDir: string = embeddedFixtureDir(),
): Promise<EmbeddedDefault> {
  const files = sourceFiles(fixtureDir);
  const target = join(cacheRoot(env), `tiny-tle-${fixtureHash(fixtureDir, files)}`);
  const result = { fixtureDir, packDir: join(target, 'pack'), storeDir: join(target, 'store') };
  if (existsSync(join(target, 'complete'))) return result;

  terminal.stderr(`lora-tle: building the embedded tiny-tle model pack and routing profiles into ${target} (first run only)\n`);
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    let bar: ReturnType<Terminal['progress']> | null = null;
    let barPhase = '';
    await buildModelPack({
      checkpointDir: fixtureDir,
      adapters: EMBEDDED_TASKS.map(({ name }) => ({ name, dir: join(fixtureDir, 'adapters', name) })),
      destination: join(partial, 'pack'),
      combination: 'cat',
      withNaive: true, // so that `bench`'s naive mode runs the paper's forward
      onProgress: ({ phase, done, total }) => {
        if (total === 0) return;
        if (phase !== barPhase) {
          bar?.stop();
          bar = terminal.progress(`pack: ${phase}`, total);
          barPhase = phase;
        }
        bar!.update(done);
      },
    });
    (bar as ReturnType<Terminal['progress']> | null)?.stop();
    await createStoreWithProfiles({
      storeDir: join(partial, 'store'),
      adapters: EMBEDDED_TASKS.map(({ name, template, task }) => ({
        name,
        adapterDir: join(fixtureDir, 'adapters', name),
        task,
        template,
        dataFile: join(fixtureDir, 'data', name, 'train.jsonl'),
      })),
      terminal,
    });
    writeFileSync(join(partial, 'complete'), `${new Date().toISOString()}\n`); // written last: marks the build complete
    rmSync(target, { recursive: true, force: true });
    renameSync(partial, target);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  return result;
}
