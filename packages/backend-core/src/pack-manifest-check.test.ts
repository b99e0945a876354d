// checkPackManifest: a valid pack.json passes; each broken field gives E_PACK_INVALID (or
// E_PACK_VERSION) naming the pack and telling the user to rebuild it.

import { describe, expect, it } from 'vitest';
import { isLoraTleError, PACK_FORMAT_VERSION } from '@lora-tle/spec';
import { checkPackManifest } from './pack-manifest-check.js';
import { smallPack } from './test-support.js';

function refusal(value: unknown): { code: string; message: string; details: unknown } {
  try {
    checkPackManifest(value, 'model pack /packs/p', { packDir: '/packs/p' });
  } catch (error) {
    if (isLoraTleError(error)) return { code: error.code, message: error.message, details: error.details };
    throw error;
  }
  throw new Error('expected checkPackManifest to throw');
}

describe('checkPackManifest', () => {
  it('accepts a valid manifest', () => {
    expect(() => checkPackManifest(smallPack(), 'model pack /packs/p')).not.toThrow();
  });

  it('refuses a non-object, a missing or other format version', () => {
    expect(refusal([])).toEqual({ code: 'E_PACK_INVALID', message: 'model pack /packs/p: pack.json is not a JSON object; rebuild the pack with `lora-tle build`', details: { packDir: '/packs/p' } });
    expect(refusal(null).code).toBe('E_PACK_INVALID');
    expect(refusal({ ...smallPack(), formatVersion: undefined }).message).toContain('pack.json has no formatVersion');
    const future = refusal({ ...smallPack(), formatVersion: 99 });
    expect(future.code).toBe('E_PACK_VERSION');
    expect(future.message).toBe(`model pack /packs/p has format version 99, this backend reads version ${PACK_FORMAT_VERSION}; rebuild the pack with \`lora-tle build\` or update lora-tle`);
  });

  it('refuses a bad architecture, combination, adapters, io or files', () => {
    const pack = smallPack();
    expect(refusal({ ...pack, architecture: { ...pack.architecture, numKvHeads: 0 } }).message).toContain('architecture must have positive integer vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim');
    expect(refusal({ ...pack, combination: 'svd' }).message).toContain('unknown combination "svd"');
    expect(refusal({ ...pack, adapters: [{ rank: 2 }] }).message).toContain('adapters must be a list');
    expect(refusal({ ...pack, io: { inputIds: 'input_ids' } }).message).toContain('pack.json io is missing');
    expect(refusal({ ...pack, files: { model: 'model.onnx' } }).message).toContain('files.model / files.baseWeights missing');
  });
});
