// Node only: a ByteSource over a file handle. Opens once, reads at offsets with
// FileHandle.read, closes explicitly. Each read allocates exactly the bytes asked for.

import { open, type FileHandle } from 'node:fs/promises';
import { LoraTleError } from '@lora-tle/spec';
import { assertRange, type ByteSource } from '../byte-source.js';

export async function openFileByteSource(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'E_NOT_FOUND' : 'E_IO';
    throw new LoraTleError(code, `cannot open ${path}: ${(cause as Error).message}`, { cause, details: { path } });
  }
  const size = (await handle.stat()).size;
  let closed = false;
  return {
    size,
    async read(offset, length) {
      if (closed) throw new LoraTleError('E_IO', `${path} was read after close()`);
      assertRange(offset, length, size, path);
      const buffer = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) throw new LoraTleError('E_IO', `${path} shrank while reading (got ${filled} of ${length} bytes at ${offset})`);
        filled += bytesRead;
      }
      return buffer;
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}
