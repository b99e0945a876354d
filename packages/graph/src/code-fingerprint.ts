// A fingerprint of this package's code: sha256 over the code files next to this module (src/*.ts
// when run from source, the dist bundle when built). Caches of built packs key on it (the CLI's
// embedded default), so a changed graph builder rebuilds them without a version bumped by hand.
// Not a hash of a built pack: pack.json's modelSha256 is that.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CODE_FILE = /\.(?:[cm]?js|ts)$/;

/** sha256 (hex) over the names and bytes of the code files directly in `directory`, in name order. */
export function codeFingerprint(directory: string): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(directory).filter((name) => CODE_FILE.test(name)).sort()) {
    hash.update(`${file}\n`).update(readFileSync(join(directory, file)));
  }
  return hash.digest('hex');
}

let cached: string | null = null;

/** codeFingerprint of this package's own code (computed once per process). */
export function graphCodeFingerprint(): string {
  cached ??= codeFingerprint(dirname(fileURLToPath(import.meta.url)));
  return cached;
}
