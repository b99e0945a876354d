// Tests the hidden-state embedder wrapper: delegation, normalisation, shape errors, and the
// incremental state it hands the router (same mixes as embedding every text, one update at a time).

import { describe, expect, it } from 'vitest';
import { createHiddenEmbedder, type IncrementalHiddenState } from './hidden-embedder.js';
import { createRouter } from './router.js';
import { buildProfile } from './task-profile.js';
import { l2Norm } from './vector.js';

/** A stand-in "hidden state" of a text: letter counts, so texts about different things differ. */
const fakeHidden = (text: string): Float32Array => Float32Array.from(['a', 'e', 'o', 'x', ' '], (letter) => 1 + text.split(letter).length - 1);

describe('hidden embedder', () => {
  it('delegates to the injected function and L2-normalises; the pack hash is in the ref', async () => {
    const seen: string[][] = [];
    const embedder = createHiddenEmbedder({
      dimension: 2,
      packHash: 'abc123',
      embedHidden: async (texts) => (seen.push([...texts]), texts.map((text) => Float32Array.from([text.length, 0]))),
    });
    expect(embedder).toMatchObject({ id: 'hidden', dimension: 2, settings: { packHash: 'abc123', dimension: 2, pooling: 'mean', layer: -1 } });
    const vectors = await embedder.embed(['abc', 'de']);
    expect(seen).toEqual([['abc', 'de']]);
    expect(vectors.map((vector) => Array.from(vector))).toEqual([[1, 0], [1, 0]]);
    const [tilted] = await createHiddenEmbedder({ dimension: 2, packHash: 'p', embedHidden: async () => [Float32Array.from([3, 4])] }).embed(['x']);
    expect(l2Norm(tilted!)).toBeCloseTo(1, 6);
  });

  it('refuses wrong shapes and missing identity with E_EMBEDDER', async () => {
    const wrongSize = createHiddenEmbedder({ dimension: 3, packHash: 'p', embedHidden: async () => [new Float32Array(2)] });
    await expect(wrongSize.embed(['x'])).rejects.toMatchObject({ code: 'E_EMBEDDER' });
    const wrongCount = createHiddenEmbedder({ dimension: 2, packHash: 'p', embedHidden: async () => [] });
    await expect(wrongCount.embed(['x'])).rejects.toMatchObject({ code: 'E_EMBEDDER' });
    expect(() => createHiddenEmbedder({ dimension: 0, packHash: 'p', embedHidden: async () => [] })).toThrow(expect.objectContaining({ code: 'E_EMBEDDER' }));
    expect(() => createHiddenEmbedder({ dimension: 2, packHash: '', embedHidden: async () => [] })).toThrow(expect.objectContaining({ code: 'E_EMBEDDER' }));
  });

  it('hands the router an incremental state: the mixes equal embedding every text, updates never overlap', async () => {
    const embedHidden = async (texts: readonly string[]) => texts.map(fakeHidden);
    const updates: string[] = [];
    const events: string[] = [];
    let running = 0;
    const createIncrementalState = (): IncrementalHiddenState => {
      let current = '';
      return {
        dispose() {
          expect(running).toBe(0); // never in the middle of an update
          events.push('dispose');
          current = '';
        },
        async update(text) {
          running++;
          expect(running).toBe(1); // the router runs one update at a time
          updates.push(text);
          events.push(`update ${text}`);
          await new Promise((resolve) => setTimeout(resolve, 1)); // a model step
          const extended = current !== '' && text.startsWith(current);
          current = text;
          running--;
          return extended ? 'extended' : 'rebuilt';
        },
        mean: () => fakeHidden(current),
      };
    };
    const plain = createHiddenEmbedder({ dimension: 5, packHash: 'p', embedHidden });
    const incremental = createHiddenEmbedder({ dimension: 5, packHash: 'p', embedHidden, createIncrementalState });
    expect(plain.createIncremental).toBeUndefined();
    expect(incremental.createIncremental).toBeTypeOf('function');
    const profilesOf = async (embedder: typeof plain) => [
      await buildProfile({ adapter: 'vowels', embedder, texts: ['aeo aeo', 'oe ae'] }),
      await buildProfile({ adapter: 'xs', embedder, texts: ['xxx x', 'x xx'] }),
    ];
    const viaEmbed = createRouter({ embedder: plain, profiles: await profilesOf(plain) });
    const viaState = createRouter({ embedder: incremental, profiles: await profilesOf(incremental) });
    const texts = ['aeo', 'aeo x', 'aeo xx', 'xx oe'];
    for (const [step, text] of texts.entries()) {
      const expected = await viaEmbed.route({ text, tokenIds: [], step });
      const got = await viaState.route({ text, tokenIds: [], step });
      expect(Array.from(got!.weights)).toEqual(Array.from(expected!.weights));
    }
    expect(updates).toEqual(texts);
    // two routes at once on one router: their updates run one after the other
    const [first, second] = await Promise.all([viaState.route({ text: 'aaa', tokenIds: [], step: 4 }), viaState.route({ text: 'aaa x', tokenIds: [], step: 5 })]);
    expect(updates.slice(-2)).toEqual(['aaa', 'aaa x']);
    expect(Array.from(first!.weights)).toEqual(Array.from((await viaEmbed.route({ text: 'aaa', tokenIds: [], step: 6 }))!.weights));
    expect(Array.from(second!.weights)).toEqual(Array.from((await viaEmbed.route({ text: 'aaa x', tokenIds: [], step: 7 }))!.weights));
    // dispose waits for an update in progress, releases the state, and routing starts over after it
    events.length = 0;
    const during = viaState.route({ text: 'ooo', tokenIds: [], step: 8 });
    await viaState.dispose();
    await during;
    expect(events).toEqual(['update ooo', 'dispose']);
    const after = await viaState.route({ text: 'ooo x', tokenIds: [], step: 9 });
    expect(Array.from(after!.weights)).toEqual(Array.from((await viaEmbed.route({ text: 'ooo x', tokenIds: [], step: 10 }))!.weights));
  });
});
