import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isLoraTleError, LoraTleError } from './index.js';

describe('LoraTleError', () => {
  it('carries a stable code and prints one line', () => {
    const error = new LoraTleError('E_SAFETENSORS_OFFSET', 'tensor "w" starts at 8, expected 0', {
      details: { tensor: 'w' },
    });
    expect(error.code).toBe('E_SAFETENSORS_OFFSET');
    expect(error.toLine()).toBe('[E_SAFETENSORS_OFFSET] tensor "w" starts at 8, expected 0');
    expect(error.details).toEqual({ tensor: 'w' });
    expect(isLoraTleError(error)).toBe(true);
    expect(isLoraTleError(new Error('x'))).toBe(false);
  });

  it('has codes that follow the E_UPPER_SNAKE convention and describe themselves', () => {
    for (const [code, description] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^E_[A-Z0-9_]+$/);
      expect(description.length).toBeGreaterThan(5);
    }
  });
});
