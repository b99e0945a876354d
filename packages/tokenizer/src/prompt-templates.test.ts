// Prompt templates: the four formats of the original LoRA-TLE project, checked on hand-written
// items and on the real dataset lines in ../shared/datasets (skipped when absent), and custom
// templates with {field} placeholders.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_TEMPLATES, createCustomTemplate, formatPrompt, splitPrompt } from './index.js';

const DATASETS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'datasets');
const HAS_DATASETS = existsSync(join(DATASETS, 'README.md'));
if (!HAS_DATASETS) console.warn(`prompt-templates.test: ${DATASETS} is absent; skipping the real-dataset checks`);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('built-in templates on hand-written items', () => {
  it('gsm8k', () => {
    const item = { question: 'What is 2+2?', answer: '2+2=4\n#### 4' };
    expect(formatPrompt('gsm8k', item, { withAnswer: true })).toBe('Question: What is 2+2?\n\nAnswer: 2+2=4\n#### 4');
    expect(formatPrompt('gsm8k', item)).toBe('Question: What is 2+2?\n\nAnswer:');
  });

  it('arc, with our choice format and with the Hugging Face one', () => {
    const item = { question: 'Which is a metal?', choices: [{ label: 'A', text: 'iron' }, { label: 'B', text: 'wood' }], answerKey: 'A' };
    const expected = 'Question: Which is a metal?\nChoices: A. iron\nB. wood\n\nAnswer: A';
    expect(formatPrompt('arc', item, { withAnswer: true })).toBe(expected);
    const hfItem = { ...item, choices: { label: ['A', 'B'], text: ['iron', 'wood'] } };
    expect(formatPrompt('arc', hfItem, { withAnswer: true })).toBe(expected);
    expect(formatPrompt('arc', item)).toBe('Question: Which is a metal?\nChoices: A. iron\nB. wood\n\nAnswer:');
  });

  it('codealpaca with and without input', () => {
    const withInput = { instruction: 'Reverse the list.', input: '[1, 2]', output: '[2, 1]' };
    expect(formatPrompt('codealpaca', withInput, { withAnswer: true })).toBe('Reverse the list.\nInput: [1, 2]\n\nAnswer: [2, 1]');
    const noInput = { instruction: 'Write hello world.', input: '', output: 'print("hello world")' };
    expect(formatPrompt('codealpaca', noInput, { withAnswer: true })).toBe('Write hello world.\n\nAnswer: print("hello world")');
    expect(formatPrompt('codealpaca', { instruction: 'Write hello world.' })).toBe('Write hello world.\n\nAnswer:');
  });

  it('squad, also with Hugging Face answers.text', () => {
    const item = { context: 'Paris is in France.', question: 'Where is Paris?', answer: 'France' };
    expect(formatPrompt('squad', item, { withAnswer: true })).toBe('Context:\nParis is in France.\n\nQuestion: Where is Paris?\n\nAnswer: France');
    const hfItem = { context: item.context, question: item.question, answers: { text: ['France', 'in France'] } };
    expect(formatPrompt('squad', hfItem, { withAnswer: true })).toBe(formatPrompt('squad', item, { withAnswer: true }));
  });

  it('prompt + completion is the training text, and the prompt ends in "Answer:" without a space', () => {
    const item = { question: 'Q?', answer: 'A' };
    for (const name of Object.keys(BUILT_IN_TEMPLATES)) {
      const parts = splitPrompt(name, { ...item, context: 'C', choices: [{ label: 'A', text: 't' }], answerKey: 'A', instruction: 'I', output: 'O' });
      expect(parts.prompt.endsWith('Answer:')).toBe(true);
      expect(parts.completion.startsWith(' ')).toBe(true);
    }
  });

  it('unknown template or missing field → E_TEMPLATE naming the problem', () => {
    expect(codeOf(() => formatPrompt('mmlu', { question: 'x' }))).toBe('E_TEMPLATE');
    expect(() => formatPrompt('mmlu', {})).toThrow(/unknown prompt template "mmlu"/);
    expect(codeOf(() => formatPrompt('gsm8k', { prompt: 'x' }))).toBe('E_TEMPLATE');
    expect(() => formatPrompt('gsm8k', { prompt: 'x' })).toThrow(/"question".*item has: prompt/);
    expect(codeOf(() => formatPrompt('gsm8k', { question: 'x' }, { withAnswer: true }))).toBe('E_TEMPLATE');
    expect(codeOf(() => formatPrompt('arc', { question: 'x', choices: 'A. y' }))).toBe('E_TEMPLATE');
  });
});

describe('custom templates', () => {
  it('fills {field} placeholders; the last placeholder is the answer', () => {
    const template = 'Task: {task}\nQ: {q}\nA: {a}';
    const item = { task: 'math', q: '1+1', a: '2' };
    expect(formatPrompt(template, item, { withAnswer: true })).toBe('Task: math\nQ: 1+1\nA: 2');
    expect(formatPrompt(template, { task: 'math', q: '1+1' })).toBe('Task: math\nQ: 1+1\nA:');
    expect(splitPrompt(template, item)).toEqual({ prompt: 'Task: math\nQ: 1+1\nA:', completion: ' 2' });
  });

  it('keeps {{ and }} as literal braces and accepts a template object', () => {
    const template = createCustomTemplate('JSON {{"q": "{q}"}}\n{answer}', 'json');
    expect(template.answerField).toBe('answer');
    expect(formatPrompt(template, { q: 'hi', answer: 'ok' }, { withAnswer: true })).toBe('JSON {"q": "hi"}\nok');
    expect(formatPrompt(template, { q: 'hi' })).toBe('JSON {"q": "hi"}\n');
  });

  it('rejects a template without placeholders and an item without the field', () => {
    expect(codeOf(() => createCustomTemplate('no fields here'))).toBe('E_TEMPLATE');
    expect(codeOf(() => formatPrompt('Q: {question}\nA: {answer}', { q: 'x' }))).toBe('E_TEMPLATE');
  });
});

interface DatasetFormat {
  folder: string;
  template: string;
  /** The README's format, written out independently of prompt-templates.ts. */
  expected: (item: Record<string, any>) => string;
}

const FORMATS: DatasetFormat[] = [
  { folder: 'gsm8k', template: 'gsm8k', expected: (item) => `Question: ${item.question}\n\nAnswer: ${item.answer}` },
  {
    folder: 'arc-challenge',
    template: 'arc',
    expected: (item) => `Question: ${item.question}\nChoices: ${item.choices.map((choice: { label: string; text: string }) => choice.label + '. ' + choice.text).join('\n')}\n\nAnswer: ${item.answerKey}`,
  },
  {
    folder: 'codealpaca',
    template: 'codealpaca',
    expected: (item) => (item.input === '' ? `${item.instruction}\n\nAnswer: ${item.output}` : `${item.instruction}\nInput: ${item.input}\n\nAnswer: ${item.output}`),
  },
  { folder: 'squad', template: 'squad', expected: (item) => `Context:\n${item.context}\n\nQuestion: ${item.question}\n\nAnswer: ${item.answer}` },
];

describe.skipIf(!HAS_DATASETS)('built-in templates on the real datasets (../shared/datasets)', () => {
  it('the README still states the formats these tests encode', () => {
    const readme = readFileSync(join(DATASETS, 'README.md'), 'utf8');
    expect(readme).toContain('`Question: {question}\\n\\nAnswer: {answer}`');
    expect(readme).toContain('`Question: {question}\\nChoices: {A. text\\nB. text ...}\\n\\nAnswer: {answerKey}`');
    expect(readme).toContain('`{instruction}\\nInput: {input}\\n\\nAnswer: {output}` (without the Input line when input is empty)');
    expect(readme).toContain('`Context:\\n{context}\\n\\nQuestion: {question}\\n\\nAnswer: {answer}`');
  });

  it.each(FORMATS)('$folder train lines match the README format', ({ folder, template, expected }) => {
    const lines = readFileSync(join(DATASETS, folder, 'train.jsonl'), 'utf8').split('\n').filter((line) => line.trim() !== '');
    const items = lines.slice(0, 300).map((line) => JSON.parse(line) as Record<string, any>);
    expect(items.length).toBeGreaterThan(100);
    for (const item of items) {
      const full = formatPrompt(template, item, { withAnswer: true });
      expect(full).toBe(expected(item));
      const prompt = formatPrompt(template, item);
      expect(prompt.endsWith('Answer:')).toBe(true);
      expect(full.startsWith(prompt + ' ')).toBe(true);
    }
    if (folder === 'codealpaca') {
      // Both branches of the Input line are exercised by real data.
      expect(items.some((item) => item.input === '')).toBe(true);
      expect(items.some((item) => item.input !== '')).toBe(true);
    }
  });
});
