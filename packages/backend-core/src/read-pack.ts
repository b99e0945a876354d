// Reads and validates a model pack directory before any runtime touches it: pack.json shape and
// format version (checkPackManifest), the files it names, and every
// external-data reference of model.onnx (or, for graph 'naive', of the naive graph) against the size
// of its weight file. Errors say which file is wrong and what to do (rebuild the pack).
// Not a session: each backend loads the checked pack into its runtime.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { naiveGraphPack } from './naive-graph.js';
import { checkPackManifest, REBUILD_PACK } from './pack-manifest-check.js';
import { LoraTleError } from '@lora-tle/spec';
import type { PackManifest } from '@lora-tle/spec';
import { listExternalData } from './external-data-index.js';

function invalid(packDir: string, what: string): never {
  throw new LoraTleError('E_PACK_INVALID', `model pack ${packDir}: ${what}; ${REBUILD_PACK}`, { details: { packDir } });
}

/** A relative path inside the pack (no absolute paths, no `..`). */
function insidePack(packDir: string, relative: string, what: string): string {
  const normalized = normalize(relative);
  if (isAbsolute(relative) || normalized.startsWith('..')) invalid(packDir, `${what} "${relative}" points outside the pack`);
  return join(packDir, normalized);
}

export interface LoadedPack {
  manifest: PackManifest;
  modelPath: string;
}

/** `graph` 'naive': the manifest and model of the pack's naive graph (naiveGraphPack). */
export function readPack(packDir: string, graph: 'mixing' | 'naive' = 'mixing'): LoadedPack {
  if (!existsSync(packDir) || !statSync(packDir).isDirectory()) {
    throw new LoraTleError('E_NOT_FOUND', `model pack directory ${packDir} does not exist; build one with \`lora-tle build\``);
  }
  const manifestPath = join(packDir, 'pack.json');
  if (!existsSync(manifestPath)) invalid(packDir, 'pack.json is missing');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (cause) {
    throw new LoraTleError('E_PACK_INVALID', `model pack ${packDir}: pack.json is not valid JSON (${(cause as Error).message}); ${REBUILD_PACK}`, { cause });
  }
  checkPackManifest(parsed, `model pack ${packDir}`, { packDir });
  const manifest = graph === 'naive' ? naiveGraphPack(parsed, `model pack ${packDir}`) : parsed;
  const modelPath = insidePack(packDir, manifest.files.model, 'files.model');
  for (const [what, file] of Object.entries(manifest.files)) {
    if (file !== null && !existsSync(insidePack(packDir, file, `files.${what}`))) invalid(packDir, `files.${what} "${file}" is missing`);
  }

  let references;
  try {
    references = listExternalData(readFileSync(modelPath));
  } catch (cause) {
    throw new LoraTleError('E_PACK_INVALID', `model pack ${packDir}: ${manifest.files.model} is not a readable ONNX model (${(cause as Error).message}); ${REBUILD_PACK}`, { cause });
  }
  const sizes = new Map<string, number>();
  for (const reference of references) {
    const path = insidePack(packDir, reference.location, `external data of ${reference.tensor}`);
    if (!sizes.has(reference.location)) {
      if (!existsSync(path)) {
        throw new LoraTleError('E_PACK_EXTERNAL_DATA', `model pack ${packDir}: weight file ${reference.location} is missing; ${REBUILD_PACK}`);
      }
      sizes.set(reference.location, statSync(path).size);
    }
    const size = sizes.get(reference.location) as number;
    const end = reference.offset + (reference.length ?? 0);
    if (end > size) {
      throw new LoraTleError(
        'E_PACK_EXTERNAL_DATA',
        `model pack ${packDir}: ${reference.location} is ${size} bytes but tensor ${reference.tensor} needs bytes ${reference.offset}..${end} (truncated or wrong file); ${REBUILD_PACK}`,
        { details: { file: reference.location, size, needed: end } },
      );
    }
  }
  return { manifest, modelPath };
}
