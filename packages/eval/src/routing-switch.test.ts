// Tests measureRoutingSwitch (and measureRoutingAccuracy's window) on a suite where the numbers can
// be worked out by hand: a character tokenizer, and an embedder that counts the letters m and c (math
// profile (1, 0), code (0, 1)), so the paper strategy's largest weight goes to whichever letter the
// routed text holds more of.

import type { Embedder } from '@lora-tle/spec';
import { describe, expect, it } from 'vitest';
import { measureRoutingAccuracy } from './routing-accuracy.js';
import { measureRoutingSwitch, renderSwitchTable, type RoutingTokenizer } from './routing-switch.js';
import type { EvalSuite } from './suite.js';
import { buildSuiteProfiles } from './suite-profiles.js';

const letterCounts: Embedder = {
  id: 'letter-counts',
  settings: {},
  dimension: 2,
  async embed(texts) {
    return texts.map((text) => {
      const m = text.split('m').length - 1;
      const c = text.split('c').length - 1;
      const norm = Math.hypot(m, c) || 1;
      return Float32Array.of(m / norm, c / norm);
    });
  },
};

const characters: RoutingTokenizer = {
  encode: (text) => Array.from(text, (char) => char.charCodeAt(0)),
  decode: (ids) => String.fromCharCode(...ids),
};

// answered math item "mmmmm mm\n\n" holds 7 m; answered code item "cccccccccc cc\n\n" holds 12 c
const SUITE: EvalSuite = {
  name: 'letters',
  tasks: [
    { name: 'math', kind: 'math', template: 'gsm8k', items: [{ id: 'm1', prompt: 'mmmmm', gold: 'mm' }], trainTexts: ['mmm'] },
    { name: 'code', kind: 'code', template: 'codealpaca', items: [{ id: 'c1', prompt: 'cccccccccc', gold: 'cc' }], trainTexts: ['ccc'] },
  ],
};

/** The paper rule on cosine similarities (largest × 4, softmax): the code adapter's weight. */
function paperCodeWeight(m: number, c: number): number {
  const norm = Math.hypot(m, c);
  const [sm, sc] = [m / norm, c / norm];
  const [lm, lc] = sc >= sm ? [sm, 4 * sc] : [4 * sm, sc];
  return Math.exp(lc) / (Math.exp(lm) + Math.exp(lc));
}

async function measure(window?: number) {
  const { embedder, profiles } = await buildSuiteProfiles({ suite: SUITE, adapters: ['math', 'code'], embedder: letterCounts });
  return measureRoutingSwitch({ suite: SUITE, profiles, embedder, strategy: 'paper', tokenizer: characters, window });
}

describe('measureRoutingSwitch', () => {
  it('on the whole context, routing follows a new task only once its text outweighs the earlier one', async () => {
    const result = await measure();
    expect(result.window).toBeNull();
    expect(result.pairs.map((pair) => `${pair.from}>${pair.to}`)).toEqual(['math>code', 'code>math']);
    const [toCode, toMath] = result.pairs;
    // 7 m before; c leads from the 8th c on, and the prompt ends with 10 c
    expect(toCode).toMatchObject({ n: 1, switched: 1, medianTokens: 8, medianPromptTokens: 10 });
    expect(toCode!.meanFinalWeight).toBeCloseTo(paperCodeWeight(7, 10), 5);
    // 12 c before, and the math prompt has only 5 m: never switches
    expect(toMath).toMatchObject({ n: 1, switched: 0, medianTokens: null, medianPromptTokens: 5 });
    expect(toMath!.meanFinalWeight).toBeCloseTo(1 - paperCodeWeight(5, 12), 5);
    expect(result.switched).toBe(0.5);
    expect(result.medianTokens).toBe(8);
  });

  it('with a window of W tokens, routing sees only the last W and switches within a few tokens', async () => {
    const result = await measure(5);
    expect(result.window).toBe(5);
    const [toCode, toMath] = result.pairs;
    // "m\n\nc" after "m": 2 m, 1 c at the first token; "m\n\ncc" at the second: c leads from then on
    expect(toCode).toMatchObject({ switched: 1, medianTokens: 2 });
    expect(toCode!.meanFinalWeight).toBeCloseTo(paperCodeWeight(0, 5), 5);
    // "cc\n\nm" (c leads), then "c\n\nmm": m leads from the second token
    expect(toMath).toMatchObject({ switched: 1, medianTokens: 2 });
    expect(result.switched).toBe(1);
  });

  it('counts the lead from the last time the new task took it, not the first', async () => {
    const suite: EvalSuite = { ...SUITE, tasks: [SUITE.tasks[0]!, { ...SUITE.tasks[1]!, items: [{ id: 'c2', prompt: 'ccmmccc', gold: 'c' }] }] };
    const { embedder, profiles } = await buildSuiteProfiles({ suite, adapters: ['math', 'code'], embedder: letterCounts });
    const result = await measureRoutingSwitch({ suite, profiles, embedder, strategy: 'paper', tokenizer: characters, window: 3 });
    // windows "\n\nc" "\ncc" "ccm" lead with c, "cmm" "mmc" with m, "mcc" "ccc" with c again: for good from the 6th
    expect(result.pairs[0]).toMatchObject({ from: 'math', to: 'code', switched: 1, medianTokens: 6 });
  });

  it('refuses a suite of one task', async () => {
    const { embedder, profiles } = await buildSuiteProfiles({ suite: SUITE, adapters: ['math', 'code'], embedder: letterCounts });
    const single = { ...SUITE, tasks: SUITE.tasks.slice(0, 1) };
    await expect(measureRoutingSwitch({ suite: single, profiles, embedder, strategy: 'paper', tokenizer: characters })).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
      message: expect.stringContaining('the suite has math'),
    });
  });

  it('prints one row per earlier task, one column per next task', async () => {
    const table = renderSwitchTable(await measure());
    expect(table).toContain('whole context');
    const rows = table.trim().split('\n');
    expect(rows[3]!.trim().split(/\s{2,}/)).toEqual(['math', '—', '100% · 8/10']);
    expect(rows[4]!.trim().split(/\s{2,}/)).toEqual(['code', '0% · —/5', '—']);
    expect(rows[5]).toBe('all pairs: 50.0% switched; median 8 tokens');
  });
});

describe('measureRoutingAccuracy with a window', () => {
  it('routes each prompt on its last W tokens only', async () => {
    // "cccmm": 3 c in all (code), but its last 2 characters are m (math)
    const suite: EvalSuite = { ...SUITE, tasks: [{ ...SUITE.tasks[0]!, items: [{ id: 'm2', prompt: 'cccmm', gold: '' }] }, SUITE.tasks[1]!] };
    const { embedder, profiles } = await buildSuiteProfiles({ suite, adapters: ['math', 'code'], embedder: letterCounts });
    const whole = await measureRoutingAccuracy({ suite, profiles, embedder, strategy: 'paper' });
    expect(whole.confusion).toEqual([[0, 1], [0, 1]]);
    const windowed = await measureRoutingAccuracy({ suite, profiles, embedder, strategy: 'paper', window: { tokens: 2, tokenizer: characters } });
    expect(windowed.confusion).toEqual([[1, 0], [0, 1]]);
  });
});
