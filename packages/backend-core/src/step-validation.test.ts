// validateStep: each malformed step is refused with its code and a message that names the fix;
// a good step returns the past length.

import { describe, expect, it } from 'vitest';
import { isLoraTleError } from '@lora-tle/spec';
import type { PackManifest } from '@lora-tle/spec';
import { BackendKvCache } from './kv-cache-base.js';
import { validateStep } from './step-validation.js';
import { mixRow, smallPack, smallStep } from './test-support.js';

class TestCache extends BackendKvCache<{ dispose(): void }> {
  readonly backendId = 'test';
}

const pack = smallPack();
const session = {};

function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isLoraTleError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected validateStep to throw');
}

describe('validateStep', () => {
  it('returns 0 without a cache and cache.length with one', () => {
    expect(validateStep(pack, smallStep(), session)).toBe(0);
    const cache = new TestCache(1, 5, [], [], session);
    expect(validateStep(pack, smallStep({ cache }), session)).toBe(5);
  });

  it('refuses bad shapes, ids out of the vocabulary and mix rows of the wrong size', () => {
    expect(refusal(() => validateStep(pack, smallStep({ sequenceLength: 0 }), session))).toEqual({ code: 'E_INVALID_ARGUMENT', message: 'batchSize and sequenceLength must be positive integers, got 1 and 0' });
    expect(refusal(() => validateStep(pack, smallStep({ sequenceLength: 2 }), session)).message).toBe('inputIds has 3 ids, expected batchSize·sequenceLength = 2');
    expect(refusal(() => validateStep(pack, smallStep({ inputIds: Int32Array.of(3, 11, 5) }), session)).message).toBe('token id 11 is outside the vocabulary [0, 11)');
    expect(refusal(() => validateStep(pack, smallStep({ inputIds: Int32Array.of(-1, 4, 5) }), session)).code).toBe('E_INVALID_ARGUMENT');
    expect(refusal(() => validateStep(pack, smallStep({ mix: [] }), session)).message).toBe('mix has 0 rows, expected one per batch row (1)');
    expect(refusal(() => validateStep(pack, smallStep({ mix: [mixRow(1, 0)] }), session)).message).toBe('mix row 0 has 2/2 coefficients, the pack has 3 adapters');
    expect(refusal(() => validateStep(pack, smallStep({ hidden: true }), session)).message).toContain('rebuild the pack with the hidden output');
  });

  it("refuses another session's cache, a cache of another batch size and a multi-token batch step on a cache", () => {
    expect(refusal(() => validateStep(pack, smallStep({ cache: new TestCache(1, 3, [], [], {}) }), session)).message).toContain('not produced by this session');
    const foreign = { backendId: 'other', batchSize: 1, length: 3, dispose() {} };
    expect(refusal(() => validateStep(pack, smallStep({ cache: foreign }), session)).code).toBe('E_INVALID_ARGUMENT');
    expect(refusal(() => validateStep(pack, smallStep({ cache: new TestCache(2, 3, [], [], session) }), session)).message).toBe('the cache holds 2 rows but the step has 1');
    const batch = smallStep({ inputIds: Int32Array.of(1, 2, 3, 4), batchSize: 2, sequenceLength: 2, mix: [mixRow(1, 0, 0), mixRow(0, 1, 0)] });
    expect(validateStep(pack, batch, session)).toBe(0);
    expect(refusal(() => validateStep(pack, { ...batch, cache: new TestCache(2, 3, [], [], session) }, session)).message).toContain('needs batch size 1');
  });

  it('checks mask and position lengths against past + T, and positions against max_position_embeddings', () => {
    const cache = new TestCache(1, 4, [], [], session);
    expect(refusal(() => validateStep(pack, smallStep({ cache, attentionMask: new Uint8Array(3).fill(1) }), session)).message).toBe('attentionMask has 3 entries, expected batch·(cache.length + T) = 7');
    expect(validateStep(pack, smallStep({ cache, attentionMask: new Uint8Array(7).fill(1) }), session)).toBe(4);
    expect(refusal(() => validateStep(pack, smallStep({ positionIds: Int32Array.of(0, 1) }), session)).message).toBe('positionIds has 2 entries, expected 3');
    expect(refusal(() => validateStep(pack, smallStep({ positionIds: Int32Array.of(0, 1, -1) }), session)).message).toBe('positionIds must be ≥ 0');
    expect(refusal(() => validateStep(pack, smallStep({ positionIds: Int32Array.of(0, 1, 16) }), session)).code).toBe('E_CONTEXT_OVERFLOW');
    // default positions run to past + T − 1: 14 + 3 − 1 = 16 ≥ 16 positions
    const overflow = refusal(() => validateStep(pack, smallStep({ cache: new TestCache(1, 14, [], [], session) }), session));
    expect(overflow.code).toBe('E_CONTEXT_OVERFLOW');
    expect(overflow.message).toContain('position 16 is beyond the model');
    expect(validateStep(pack, smallStep({ cache: new TestCache(1, 13, [], [], session) }), session)).toBe(13);
  });

  it('allows hidden when the pack has the output', () => {
    const withHidden: PackManifest = { ...pack, io: { ...pack.io, hidden: 'hidden' } };
    expect(validateStep(withHidden, smallStep({ hidden: true }), session)).toBe(0);
  });
});
