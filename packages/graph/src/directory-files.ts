// A lora-store FileSet over a local directory, for buildModelPack. It mirrors
// @lora-tle/lora-store/node's directoryFileSet, which this package cannot import until
// lora-store's package.json exports "./node"; replace this file with that import then.

import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { assertRange, assertRelativeName, type FileSet } from '@lora-tle/lora-store';
import { LoraTleError } from '@lora-tle/spec';

export function directoryFiles(dir: string): FileSet {
  const pathOf = (name: string): string => {
    assertRelativeName(name, dir);
    return join(dir, name);
  };
  const failure = (path: string, cause: unknown): LoraTleError => {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    return new LoraTleError(missing ? 'E_NOT_FOUND' : 'E_IO', `cannot read ${path}: ${missing ? 'no such file' : (cause as Error).message}`, { cause, details: { path } });
  };
  return {
    label: dir,
    async exists(name) {
      try {
        return (await stat(pathOf(name))).isFile();
      } catch {
        return false;
      }
    },
    async readText(name) {
      try {
        return await readFile(pathOf(name), 'utf8');
      } catch (cause) {
        throw failure(pathOf(name), cause);
      }
    },
    async openBytes(name) {
      const path = pathOf(name);
      const handle = await open(path, 'r').catch((cause: unknown) => {
        throw failure(path, cause);
      });
      const size = (await handle.stat()).size;
      return {
        size,
        async read(offset, length) {
          assertRange(offset, length, size, path);
          const buffer = new Uint8Array(length);
          for (let filled = 0; filled < length; ) {
            const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
            if (bytesRead === 0) throw new LoraTleError('E_IO', `${path} shrank while reading`);
            filled += bytesRead;
          }
          return buffer;
        },
        close: () => handle.close(),
      };
    },
  };
}
