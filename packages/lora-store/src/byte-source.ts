// ByteSource: random access to the bytes of one file, wherever it lives (memory, a Node file
// handle, an HTTP server with Range support). Readers only ever ask for (offset, length) slices,
// so a 7B checkpoint is never loaded whole. This file holds the interface and the in-memory
// implementation; the Node and fetch implementations live in their own files.

import { LoraTleError } from '@lora-tle/spec';

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads exactly `length` bytes at `offset`; throws E_IO when the range is out of bounds. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the underlying handle; reading afterwards is an error. No-op for memory sources. */
  close(): Promise<void>;
}

/** Throws E_IO unless [offset, offset+length) lies within [0, size). */
export function assertRange(offset: number, length: number, size: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new LoraTleError(
      'E_IO',
      `read of ${length} bytes at offset ${offset} is outside ${what} (${size} bytes); the file is truncated or the caller is wrong`,
    );
  }
}

/** A ByteSource over bytes already in memory; `read` returns views, not copies. */
export function memoryByteSource(bytes: Uint8Array | ArrayBuffer): ByteSource {
  // A plain Uint8Array view even for a Node Buffer (whose slice() would not copy).
  const view = bytes instanceof Uint8Array ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
  return {
    size: view.byteLength,
    async read(offset, length) {
      assertRange(offset, length, view.byteLength, 'the in-memory buffer');
      return view.subarray(offset, offset + length);
    },
    async close() {},
  };
}
