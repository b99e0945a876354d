// Type and factory test: createNodeBackend satisfies the spec Backend and reads per-load options.

import { describe, expect, it } from 'vitest';
import { isLoraTleError, type Backend } from '@lora-tle/spec';
import { createNodeBackend } from './index.js';

describe('createNodeBackend', () => {
  it('satisfies the spec Backend with id "node"', () => {
    const backend = createNodeBackend() satisfies Backend;
    expect(backend.id).toBe('node');
  });

  it('refuses backendOptions.node that is not an object', async () => {
    const error = await createNodeBackend()
      .doLoad('/nonexistent', { backendOptions: { node: 'cpu' } })
      .catch((caught: unknown) => caught);
    expect(isLoraTleError(error) && error.code).toBe('E_INVALID_ARGUMENT');
  });
});
