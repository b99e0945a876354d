// Loading suites from disk (Node; node:fs is imported lazily so the package stays importable in a
// browser): the tiny-tle fixture's four splits, and real JSONL in the original four formats laid out
// like ../shared/datasets (gsm8k/, arc-challenge/, codealpaca/, squad/ with test.jsonl and
// train.jsonl) or as per-task files (gsm8k.jsonl, gsm8k.train.jsonl, …). Not parsing of one item
// (suite.ts) and not scoring.

import { LoraTleError } from '@lora-tle/spec';
import { formatPrompt, type PromptItem } from '@lora-tle/tokenizer';
import { TEMPLATE_OF_KIND, toEvalItem, type EvalSuite, type EvalTask, type TaskKind } from './suite.js';

/** Folder or file base names and the task kind they hold. tiny-tle names come first. */
export const KIND_OF_NAME: Readonly<Record<string, TaskKind>> = Object.freeze({
  math: 'math',
  science: 'science',
  code: 'code',
  reading: 'reading',
  gsm8k: 'math',
  'arc-challenge': 'science',
  arc: 'science',
  codealpaca: 'code',
  squad: 'reading',
});

export interface TaskFiles {
  name: string;
  kind: TaskKind;
  test: string; // JSONL path
  train: string | null;
}

/** Parses JSONL text into objects; a bad line → E_SUITE naming the file and line. */
export function parseJsonlObjects(text: string, source: string): PromptItem[] {
  const items: PromptItem[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new LoraTleError('E_SUITE', `${source} line ${index + 1} is not valid JSON; each line must be one JSON object`, { cause });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new LoraTleError('E_SUITE', `${source} line ${index + 1} is not a JSON object`);
    }
    items.push(value as PromptItem);
  });
  return items;
}

async function readText(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const missing = (cause as { code?: string }).code === 'ENOENT';
    throw new LoraTleError(missing ? 'E_NOT_FOUND' : 'E_IO', `cannot read ${path}${missing ? ': no such file' : ''}`, { cause });
  }
}

export async function loadTask(files: TaskFiles): Promise<EvalTask> {
  const rawItems = parseJsonlObjects(await readText(files.test), files.test);
  if (rawItems.length === 0) throw new LoraTleError('E_SUITE', `${files.test} holds no test items`);
  const items = rawItems.map((raw, index) => toEvalItem(files.kind, files.name, index, raw));
  const template = TEMPLATE_OF_KIND[files.kind];
  const trainTexts =
    files.train === null ? [] : parseJsonlObjects(await readText(files.train), files.train).map((raw) => formatPrompt(template, raw, { withAnswer: true }));
  return { name: files.name, kind: files.kind, template, items, trainTexts };
}

/**
 * Finds the task files under `dir`: sub-folders `<name>/test.jsonl` (+ `train.jsonl`), or files
 * `<name>.jsonl` (+ `<name>.train.jsonl`), for every known name. Kinds present twice → E_SUITE.
 */
export async function findTaskFiles(dir: string): Promise<TaskFiles[]> {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  if (!existsSync(dir)) throw new LoraTleError('E_NOT_FOUND', `data directory ${dir} does not exist`);
  const found: TaskFiles[] = [];
  for (const [name, kind] of Object.entries(KIND_OF_NAME)) {
    const folderTest = join(dir, name, 'test.jsonl');
    const fileTest = join(dir, `${name}.jsonl`);
    if (existsSync(folderTest)) {
      const train = join(dir, name, 'train.jsonl');
      found.push({ name, kind, test: folderTest, train: existsSync(train) ? train : null });
    } else if (existsSync(fileTest)) {
      const train = join(dir, `${name}.train.jsonl`);
      found.push({ name, kind, test: fileTest, train: existsSync(train) ? train : null });
    }
  }
  if (found.length === 0) {
    throw new LoraTleError(
      'E_SUITE',
      `no task data in ${dir}; expected sub-folders like gsm8k/, arc-challenge/, codealpaca/, squad/ (or math/, science/, code/, reading/) ` +
        'each with test.jsonl (and train.jsonl for routing profiles), or files like gsm8k.jsonl',
    );
  }
  const kinds = found.map((files) => files.kind);
  const twice = kinds.find((kind, index) => kinds.indexOf(kind) !== index);
  if (twice !== undefined) {
    throw new LoraTleError('E_SUITE', `${dir} holds two ${twice} tasks (${found.filter((f) => f.kind === twice).map((f) => f.name).join(', ')}); keep one`);
  }
  return found;
}

/** The suite in `dir`, named `name` (default: the directory's own name, e.g. `datasets`). */
export async function loadSuiteFromDir(dir: string, name = directoryName(dir)): Promise<EvalSuite> {
  const files = await findTaskFiles(dir);
  const tasks: EvalTask[] = [];
  for (const taskFiles of files) tasks.push(await loadTask(taskFiles));
  return { name, tasks };
}

function directoryName(dir: string): string {
  return dir.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || 'jsonl';
}

/** The tiny-tle suite: `<fixtureDir>/data/{math,science,code,reading}/{test,train}.jsonl`. */
export async function loadTinyTleSuite(fixtureDir: string): Promise<EvalSuite> {
  const { join } = await import('node:path');
  const suite = await loadSuiteFromDir(join(fixtureDir, 'data'), 'tiny-tle');
  const missing = ['math', 'science', 'code', 'reading'].filter((name) => !suite.tasks.some((task) => task.name === name));
  if (missing.length > 0) throw new LoraTleError('E_SUITE', `the tiny-tle fixture in ${fixtureDir} lacks the ${missing.join(', ')} split(s); regenerate it (tools/fixtures)`);
  return suite;
}
