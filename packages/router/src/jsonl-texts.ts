// Training texts for profiles: JSONL items formatted with the adapter's prompt template
// (@lora-tle/tokenizer). Platform neutral; readJsonlTexts (Node) reads the file lazily.

import { LoraTleError } from '@lora-tle/spec';
import { formatPrompt, type PromptItem, type PromptTemplate } from '@lora-tle/tokenizer';

export interface JsonlTextOptions {
  /** Append the answer (default true: profiles average what the adapter was trained on). */
  withAnswer?: boolean;
  /** Name shown in error messages (a path). */
  source?: string;
}

/** One formatted text per non-blank JSONL line. */
export function parseJsonlTexts(jsonl: string, template: string | PromptTemplate, options: JsonlTextOptions = {}): string[] {
  const { withAnswer = true, source = 'JSONL input' } = options;
  const texts: string[] = [];
  jsonl.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch (cause) {
      throw new LoraTleError('E_JSON', `${source} line ${index + 1} is not valid JSON; each line must be one JSON object`, { cause });
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new LoraTleError('E_JSON', `${source} line ${index + 1} is not a JSON object; each line must be one example object`);
    }
    texts.push(formatPrompt(template, item as PromptItem, { withAnswer }));
  });
  return texts;
}

/** Read a JSONL file (Node) and format each line; see parseJsonlTexts. */
export async function readJsonlTexts(path: string, template: string | PromptTemplate, options: JsonlTextOptions = {}): Promise<string[]> {
  const { readFile } = await import('node:fs/promises'); // lazy: the package stays importable in browsers
  let jsonl: string;
  try {
    jsonl = await readFile(path, 'utf8');
  } catch (cause) {
    const missing = (cause as { code?: string }).code === 'ENOENT';
    throw new LoraTleError(missing ? 'E_NOT_FOUND' : 'E_IO', `cannot read training texts from ${path}${missing ? ': no such file' : ''}`, { cause });
  }
  return parseJsonlTexts(jsonl, template, { source: path, ...options });
}
