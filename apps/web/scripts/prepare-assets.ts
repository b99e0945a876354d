// Prepares the static files the page loads into apps/web/public/tiny-tle/ (gitignored): the
// embedded-default model pack and adapter store of the CLI (apps/cli/src/embedded-default.ts: pack
// + `hashing` profiles fitted over the train splits, built once into the lora-tle cache), copied as
//   pack/      pack.json, model.onnx, weight files, tokenizer.json, tokenizer_config.json
//   store/     manifest.json, profiles/*.safetensors and embedders/ (the hashing fit the profiles
//              were made with; the adapters' own weights stay out: the pack already holds them stacked)
//   samples.json  one prompt per task: the first item of each test split in its template (the
//                 prompts of `lora-tle demo`)
//   assets.json   the file list with sizes and sha256, a version over all of them (cache key), and
//                 the embedder ref of the store's profiles (with its fit hash: the worker restores it)
// While fixtures/tiny-tle has no adapters yet, a seeded synthetic stand-in is used (see
// synthetic-fixture.ts). Run: `npx tsx --conditions=source apps/web/scripts/prepare-assets.ts`
// (vite.config.ts runs it before `vite` and `vite build`). Not the page and not a pack builder.

import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLoraTleError } from '@lora-tle/spec';
import { openStore } from '@lora-tle/lora-store/node';
import { openStoreHashingEmbedder } from '@lora-tle/router';
import { demoPrompts } from '../../cli/src/commands/demo.js';
import { EMBEDDED_TASKS, embeddedFixtureDir, ensureEmbeddedDefault } from '../../cli/src/embedded-default.js';
import { createTerminal } from '../../cli/src/terminal.js';
import type { AssetIndex, SamplePrompt } from '../src/asset-index.js';
import { writeSyntheticFixture } from './synthetic-fixture.js';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_ASSET_DIR = join(APP_DIR, 'public', 'tiny-tle');

export interface PreparedAssets {
  assetDir: string;
  fixtureDir: string; // the fixture the assets were built from (the synthetic one's directory when synthetic)
  packDir: string; // inside assetDir
  storeDir: string; // the full store in the cache (adapters included), for Node-side comparisons
  index: AssetIndex;
}

/**
 * True when fixtures/tiny-tle is complete and settled: every file the page needs exists with the
 * sha256 recorded in hashes.json, which tools/fixtures/make_tiny_tle.py writes last — so a fixture
 * that is being regenerated right now is not used half-written. Otherwise the synthetic stand-in is used.
 */
export function realFixtureReady(fixtureDir: string = embeddedFixtureDir()): boolean {
  const needed = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
  for (const { name } of EMBEDDED_TASKS) needed.push(`adapters/${name}/adapter_config.json`, `adapters/${name}/adapter_model.safetensors`, `data/${name}/train.jsonl`, `data/${name}/test.jsonl`);
  let hashes: Record<string, unknown>;
  try {
    hashes = JSON.parse(readFileSync(join(fixtureDir, 'hashes.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return false; // absent or being written
  }
  return needed.every((file) => existsSync(join(fixtureDir, file)) && hashes[file] === createHash('sha256').update(readFileSync(join(fixtureDir, file))).digest('hex'));
}

function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(root, path) : [relative(root, path).split('\\').join('/')];
    });
}

export interface PrepareOptions {
  assetDir?: string; // default apps/web/public/tiny-tle
  /** The tiny-tle fixture to use; default $LORA_TLE_WEB_FIXTURE, else fixtures/tiny-tle. */
  fixtureDir?: string;
  env?: Record<string, string | undefined>;
  quiet?: boolean;
}

export async function prepareAssets(options: PrepareOptions = {}): Promise<PreparedAssets> {
  const assetDir = options.assetDir ?? DEFAULT_ASSET_DIR;
  const env = options.env ?? process.env;
  const realDir = options.fixtureDir ?? (env['LORA_TLE_WEB_FIXTURE'] || embeddedFixtureDir());
  const synthetic = !realFixtureReady(realDir);
  const fixtureDir = synthetic ? await writeSyntheticFixture(realDir, join(APP_DIR, '.cache', 'synthetic-tiny-tle')) : realDir;
  const terminal = createTerminal({
    stdout: process.stdout,
    stderr: options.quiet ? { write: () => true } : process.stderr,
    env: { ...env, NO_COLOR: '1' },
  });
  const built = await ensureEmbeddedDefault(terminal, env, fixtureDir);

  rmSync(assetDir, { recursive: true, force: true });
  mkdirSync(join(assetDir, 'store'), { recursive: true });
  cpSync(built.packDir, join(assetDir, 'pack'), { recursive: true });
  cpSync(join(built.storeDir, 'manifest.json'), join(assetDir, 'store', 'manifest.json'));
  cpSync(join(built.storeDir, 'profiles'), join(assetDir, 'store', 'profiles'), { recursive: true });
  if (existsSync(join(built.storeDir, 'embedders'))) cpSync(join(built.storeDir, 'embedders'), join(assetDir, 'store', 'embedders'), { recursive: true });
  const embedder = await openStoreHashingEmbedder(await openStore(built.storeDir)); // the one that made the profiles
  const samples: SamplePrompt[] = demoPrompts(fixtureDir); // the prompts `lora-tle demo` runs
  writeFileSync(join(assetDir, 'samples.json'), `${JSON.stringify(samples, null, 2)}\n`);

  const version = createHash('sha256');
  const files = filesUnder(assetDir).map((path) => {
    const bytes = readFileSync(join(assetDir, path));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    version.update(`${path} ${sha256}\n`);
    return { path, bytes: bytes.byteLength, sha256 };
  });
  const index: AssetIndex = {
    version: version.digest('hex').slice(0, 16),
    fixture: synthetic ? 'synthetic' : 'tiny-tle',
    adapters: EMBEDDED_TASKS.map((task) => task.name),
    embedder: { id: embedder.id, settings: { ...embedder.settings } },
    files,
  };
  writeFileSync(join(assetDir, 'assets.json'), `${JSON.stringify(index, null, 2)}\n`);
  if (!options.quiet) {
    const total = files.reduce((sum, file) => sum + file.bytes, 0);
    process.stderr.write(`web assets: ${files.length} files, ${(total / 1e6).toFixed(1)} MB (${index.fixture} fixture) in ${assetDir}\n`);
  }
  return { assetDir, fixtureDir, packDir: join(assetDir, 'pack'), storeDir: built.storeDir, index };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  prepareAssets().catch((error: unknown) => {
    process.stderr.write(`prepare-assets: ${isLoraTleError(error) ? error.toLine() : String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  });
}
