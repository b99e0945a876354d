// Node only: safetensors files on disk — open a reader on a path, write a file atomically.

import { encodeSafetensors, type TensorToWrite } from '../safetensors-encode.js';
import { openSafetensors, type SafetensorsReader } from '../safetensors-reader.js';
import { writeFileAtomic } from './atomic-write.js';
import { openFileByteSource } from './file-byte-source.js';

/** Opens and validates `path`; call close() on the reader when done. */
export async function openSafetensorsFile(path: string): Promise<SafetensorsReader> {
  const source = await openFileByteSource(path);
  try {
    return await openSafetensors(source, path);
  } catch (error) {
    await source.close();
    throw error;
  }
}

/** Writes a safetensors file via a temporary sibling and rename (readers never see half a file). */
export async function writeSafetensorsFile(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string> | null,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata).chunks);
}
