// Tests formatting JSONL training items with task templates, and file/line errors.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJsonlTexts, readJsonlTexts } from './jsonl-texts.js';

const GSM = '{"question": "What is 2 + 3?", "answer": "2 + 3 = 5\\n#### 5"}\n\n{"question": "What is 4 * 2?", "answer": "#### 8"}\n';

describe('JSONL training texts', () => {
  it('formats each line with the task template, with the answer by default', () => {
    expect(parseJsonlTexts(GSM, 'gsm8k')).toEqual(['Question: What is 2 + 3?\n\nAnswer: 2 + 3 = 5\n#### 5', 'Question: What is 4 * 2?\n\nAnswer: #### 8']);
    expect(parseJsonlTexts(GSM, 'gsm8k', { withAnswer: false })[0]).toBe('Question: What is 2 + 3?\n\nAnswer:');
    expect(parseJsonlTexts('{"q": "hi", "a": "yo"}', 'Q: {q} A: {a}')).toEqual(['Q: hi A: yo']);
  });

  it('reads a file, and says which line is broken or which file is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'router-jsonl-'));
    const good = join(dir, 'train.jsonl');
    writeFileSync(good, GSM);
    expect(await readJsonlTexts(good, 'gsm8k')).toHaveLength(2);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"question": "ok", "answer": "1"}\n{oops\n');
    await expect(readJsonlTexts(bad, 'gsm8k')).rejects.toMatchObject({ code: 'E_JSON', message: expect.stringContaining('bad.jsonl line 2') });
    await expect(readJsonlTexts(join(dir, 'absent.jsonl'), 'gsm8k')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    expect(() => parseJsonlTexts('[1, 2]', 'gsm8k')).toThrow(expect.objectContaining({ code: 'E_JSON' }));
    expect(() => parseJsonlTexts('{"prompt": "x"}', 'gsm8k')).toThrow(expect.objectContaining({ code: 'E_TEMPLATE' }));
  });
});
