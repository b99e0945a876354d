import { describe, expect, it } from 'vitest';
import { fitPromptToContext } from './context-policy.js';
import { extendMask, leftPad } from './batch-inputs.js';

describe('context policy', () => {
  const prompt = [1, 10, 11, 12, 13, 14, 15, 16]; // BOS + 7 tokens

  it('keeps a prompt that fits', () => {
    expect(fitPromptToContext(prompt, 8, 16, 'none', 1)).toEqual(prompt);
  });

  it('refuses an overflow by default, naming the limits', () => {
    expect(() => fitPromptToContext(prompt, 9, 16, 'none', 1)).toThrowError(
      expect.objectContaining({ code: 'E_CONTEXT_OVERFLOW', message: expect.stringMatching(/8 tokens \+ 9 new tokens exceeds the model context of 16/) }),
    );
  });

  it("truncate 'left' keeps BOS and the end of the prompt so that prompt + new tokens fit", () => {
    const kept = fitPromptToContext(prompt, 12, 16, 'left', 1);
    expect(kept).toEqual([1, 14, 15, 16]);
    expect(kept.length + 12).toBe(16);
    expect(fitPromptToContext([10, 11, 12], 14, 16, 'left', 1)).toEqual([11, 12]);
    expect(() => fitPromptToContext(prompt, 15, 16, 'left', 1)).toThrowError(expect.objectContaining({ code: 'E_CONTEXT_OVERFLOW' }));
  });
});

describe('batch inputs', () => {
  it('left-pads with a mask and per-row positions, then extends the mask', () => {
    const batch = leftPad([[5, 6, 7], [8]], 0);
    expect([...batch.inputIds]).toEqual([5, 6, 7, 0, 0, 8]);
    expect([...batch.attentionMask]).toEqual([1, 1, 1, 0, 0, 1]);
    expect([...batch.positionIds]).toEqual([0, 1, 2, 0, 0, 0]);
    expect([...extendMask(batch.attentionMask, 2)]).toEqual([1, 1, 1, 1, 0, 0, 1, 1]);
  });
});
