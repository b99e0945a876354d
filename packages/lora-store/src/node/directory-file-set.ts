// Node only: a FileSet over a local directory.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LoraTleError } from '@lora-tle/spec';
import { assertRelativeName, type FileSet } from '../file-set.js';
import { openFileByteSource } from './file-byte-source.js';

export function directoryFileSet(dir: string): FileSet {
  const pathOf = (name: string) => {
    assertRelativeName(name, dir);
    return join(dir, name);
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
        const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
        throw new LoraTleError(missing ? 'E_NOT_FOUND' : 'E_IO', `cannot read ${pathOf(name)}: ${missing ? 'no such file' : (cause as Error).message}`, {
          cause,
          details: { path: pathOf(name) },
        });
      }
    },
    openBytes: (name) => openFileByteSource(pathOf(name)),
  };
}
