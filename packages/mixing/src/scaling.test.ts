import { describe, expect, it } from 'vitest';
import { isLoraTleError } from '@lora-tle/spec';
import { loraScaling, matchPatternKey, resolveModuleRankAlpha } from './scaling.js';

const baseConfig = { r: 8, loraAlpha: 16, useRslora: false, rankPattern: {}, alphaPattern: {} };

describe('loraScaling', () => {
  it('is alpha / r, or alpha / sqrt(r) with rslora', () => {
    expect(loraScaling({ alpha: 16, rank: 8, useRslora: false })).toBe(2);
    expect(loraScaling({ alpha: 16, rank: 64, useRslora: true })).toBe(2);
    expect(loraScaling({ alpha: 16, rank: 64, useRslora: false })).toBe(0.25);
  });

  it('refuses a rank that is not a positive integer', () => {
    for (const rank of [0, -1, 2.5, Number.NaN]) {
      let caught: unknown;
      try {
        loraScaling({ alpha: 1, rank, useRslora: false });
      } catch (error) {
        caught = error;
      }
      expect(isLoraTleError(caught) && caught.code).toBe('E_ADAPTER_CONFIG');
    }
  });
});

describe('matchPatternKey (PEFT get_pattern_key)', () => {
  const path = 'model.layers.1.self_attn.q_proj';

  it('matches a key that is a dotted suffix of the path, or the whole path', () => {
    expect(matchPatternKey(['q_proj'], path)).toBe('q_proj');
    expect(matchPatternKey(['self_attn.q_proj'], path)).toBe('self_attn.q_proj');
    expect(matchPatternKey([path], path)).toBe(path);
  });

  it('does not match a suffix that is not at a dot boundary, or a key naming another layer', () => {
    expect(matchPatternKey(['_proj'], path)).toBeNull();
    expect(matchPatternKey(['proj'], path)).toBeNull();
    expect(matchPatternKey(['layers.0.self_attn.q_proj'], path)).toBeNull();
    expect(matchPatternKey(['q_pro'], path)).toBeNull();
  });

  it('treats keys as regular expressions', () => {
    expect(matchPatternKey(['.*_proj'], path)).toBe('.*_proj');
    expect(matchPatternKey(['layers\\.[0-9]+\\.self_attn\\.(q|k)_proj'], path)).toBe('layers\\.[0-9]+\\.self_attn\\.(q|k)_proj');
  });

  it('returns the first matching key in insertion order', () => {
    expect(matchPatternKey(['v_proj', 'q_proj', 'self_attn.q_proj'], path)).toBe('q_proj');
  });
});

describe('resolveModuleRankAlpha', () => {
  it('uses r and lora_alpha when no pattern matches', () => {
    expect(resolveModuleRankAlpha(baseConfig, 'model.layers.0.mlp.down_proj')).toEqual({ rank: 8, alpha: 16, scaling: 2 });
  });

  it('applies rank_pattern and alpha_pattern independently, first match wins', () => {
    const config = {
      ...baseConfig,
      rankPattern: { 'layers.1.self_attn.q_proj': 2, q_proj: 4 },
      alphaPattern: { v_proj: 32 },
    };
    expect(resolveModuleRankAlpha(config, 'model.layers.1.self_attn.q_proj')).toEqual({ rank: 2, alpha: 16, scaling: 8 });
    expect(resolveModuleRankAlpha(config, 'model.layers.0.self_attn.q_proj')).toEqual({ rank: 4, alpha: 16, scaling: 4 });
    expect(resolveModuleRankAlpha(config, 'model.layers.0.self_attn.v_proj')).toEqual({ rank: 8, alpha: 32, scaling: 4 });
  });

  it('uses sqrt(r) with rslora after pattern resolution', () => {
    const config = { ...baseConfig, useRslora: true, rankPattern: { q_proj: 4 } };
    expect(resolveModuleRankAlpha(config, 'model.layers.0.self_attn.q_proj').scaling).toBe(8);
  });

  it('refuses an invalid regular expression with E_ADAPTER_CONFIG', () => {
    expect(() => resolveModuleRankAlpha({ ...baseConfig, rankPattern: { '(': 2 } }, 'model.layers.0.self_attn.q_proj')).toThrow(
      expect.objectContaining({ code: 'E_ADAPTER_CONFIG' }),
    );
  });
});
