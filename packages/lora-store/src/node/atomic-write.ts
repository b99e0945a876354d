// Node only: write-then-rename helpers so a reader never sees a half-written file or directory.
// The temporary sibling lives in the same directory (same filesystem, so rename is atomic).

import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LoraTleError } from '@lora-tle/spec';

/** A hidden sibling path for `target`, unique per call. */
export function temporarySibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes `chunks` to `target` via a temporary sibling, fsync, rename. Replaces an existing file. */
export async function writeFileAtomic(target: string, chunks: readonly Uint8Array[] | string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const partial = temporarySibling(target);
  try {
    const handle = await open(partial, 'wx');
    try {
      if (typeof chunks === 'string') await handle.writeFile(chunks, 'utf8');
      else for (const chunk of chunks) await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, target);
  } catch (cause) {
    await rm(partial, { force: true });
    if (cause instanceof LoraTleError) throw cause;
    throw new LoraTleError('E_IO', `cannot write ${target}: ${(cause as Error).message}`, { cause, details: { path: target } });
  }
}
