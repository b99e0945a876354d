// Node only: open a Hugging Face checkpoint from a local directory.

import { openCheckpoint, type Checkpoint, type OpenCheckpointOptions } from '../checkpoint.js';
import { directoryFileSet } from './directory-file-set.js';

export function loadCheckpoint(dir: string, options: OpenCheckpointOptions = {}): Promise<Checkpoint> {
  return openCheckpoint(directoryFileSet(dir), options);
}
