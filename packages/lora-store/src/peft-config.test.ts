import { describe, expect, it } from 'vitest';
import { parseAdapterConfig, targetsModule } from './peft-config.js';
import { parsePeftKey } from './peft-keys.js';

const base = { peft_type: 'LORA', r: 8, lora_alpha: 16 };
const q0 = 'model.layers.0.self_attn.q_proj';
const q1 = 'model.layers.1.self_attn.q_proj';
const down0 = 'model.layers.0.mlp.down_proj';

describe('parseAdapterConfig', () => {
  it("applies PEFT's defaults (r 8, alpha 8, q_proj and v_proj for Llama)", () => {
    const { config } = parseAdapterConfig({ peft_type: 'LORA' });
    expect(config).toMatchObject({ r: 8, loraAlpha: 8, useRslora: false, targetModules: ['q_proj', 'v_proj'], layersToTransform: null, rankPattern: {} });
  });

  it('turns a single layers_to_transform index into a list and "all-linear" into the seven projections', () => {
    const { config } = parseAdapterConfig({ ...base, layers_to_transform: 3, target_modules: 'all-linear' });
    expect(config.layersToTransform).toEqual([3]);
    expect(config.targetModules).toHaveLength(7);
  });

  it('refuses invalid pattern values and regexes', () => {
    expect(() => parseAdapterConfig({ ...base, rank_pattern: { q_proj: 0 } })).toThrow(/rank_pattern/);
    expect(() => parseAdapterConfig({ ...base, target_modules: '(' })).toThrow(/regular expression/);
  });
});

describe('targetsModule (PEFT check_target_module_exists)', () => {
  it('matches list entries by equality or "." suffix, not by substring', () => {
    const parsed = parseAdapterConfig({ ...base, target_modules: ['q_proj', 'mlp.down_proj'] });
    expect(targetsModule(parsed, q0)).toBe(true);
    expect(targetsModule(parsed, down0)).toBe(true);
    expect(targetsModule(parsed, 'model.layers.0.self_attn.k_proj')).toBe(false);
    expect(targetsModule(parseAdapterConfig({ ...base, target_modules: ['proj'] }), q0)).toBe(false);
  });

  it('full-matches a regex string', () => {
    const parsed = parseAdapterConfig({ ...base, target_modules: '.*layers\\.1\\..*(q|v)_proj' });
    expect(targetsModule(parsed, q1)).toBe(true);
    expect(targetsModule(parsed, q0)).toBe(false);
    expect(targetsModule(parseAdapterConfig({ ...base, target_modules: 'q_proj' }), q0)).toBe(false);
  });

  it('honours layers_to_transform and exclude_modules', () => {
    expect(targetsModule(parseAdapterConfig({ ...base, target_modules: ['q_proj'], layers_to_transform: [1] }), q0)).toBe(false);
    expect(targetsModule(parseAdapterConfig({ ...base, target_modules: ['q_proj'], layers_to_transform: [1] }), q1)).toBe(true);
    expect(targetsModule(parseAdapterConfig({ ...base, target_modules: ['q_proj'], exclude_modules: ['layers.1.self_attn.q_proj'] }), q1)).toBe(false);
  });
});

describe('parsePeftKey', () => {
  it('maps PEFT keys to module paths and classifies refused features', () => {
    expect(parsePeftKey(`base_model.model.${q0}.lora_A.weight`)).toEqual({ kind: 'lora', module: q0, side: 'A', adapterName: null });
    expect(parsePeftKey(`base_model.model.${q0}.lora_B.default.weight`)).toEqual({ kind: 'lora', module: q0, side: 'B', adapterName: 'default' });
    expect(parsePeftKey('base_model.model.model.embed_tokens.lora_embedding_A').kind).toBe('embedding');
    expect(parsePeftKey(`base_model.model.${q0}.lora_magnitude_vector`).kind).toBe('dora');
    expect(parsePeftKey(`base_model.model.${q0}.lora_B.bias`).kind).toBe('lora-bias');
    expect(parsePeftKey('base_model.model.lm_head.modules_to_save.default.weight').kind).toBe('other');
  });
});
