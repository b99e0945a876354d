// Node helper: reads tokenizer.json (+ tokenizer_config.json when present) from a directory and
// loads them with loadTokenizer. It is the only file of this package that touches the file
// system, and it imports node:fs lazily so browser bundles of the package never pull it in.

import { LoraTleError } from '@lora-tle/spec';
import { loadTokenizer, type TextTokenizer } from './text-tokenizer.js';

async function readJson(path: string, required: boolean): Promise<unknown> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return undefined;
      throw new LoraTleError('E_NOT_FOUND', `${path} does not exist; point at a directory holding a Hugging Face tokenizer.json`, { cause });
    }
    throw new LoraTleError('E_IO', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new LoraTleError('E_TOKENIZER', `${path} is not valid JSON (${(cause as Error).message})`, { cause });
  }
}

export async function loadTokenizerFromDir(dir: string): Promise<TextTokenizer> {
  const { join } = await import('node:path');
  const tokenizerJson = await readJson(join(dir, 'tokenizer.json'), true);
  const tokenizerConfig = await readJson(join(dir, 'tokenizer_config.json'), false);
  return loadTokenizer({ tokenizerJson, tokenizerConfig });
}
