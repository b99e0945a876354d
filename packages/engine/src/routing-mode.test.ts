import type { AdapterMix } from '@lora-tle/spec';
import { describe, expect, it } from 'vitest';
import { alignMix, fixedMix, MixPlanner, parseRoutingMode, type ContextRouter, type RoutingRequest } from './routing-mode.js';

const adapters = ['math', 'science', 'code', 'reading'];

describe('routing modes', () => {
  it('parses every mode and rejects the rest', () => {
    expect(parseRoutingMode('token')).toEqual({ kind: 'token' });
    expect(parseRoutingMode('every:1')).toEqual({ kind: 'token' });
    expect(parseRoutingMode('every:3')).toEqual({ kind: 'every', k: 3 });
    expect(parseRoutingMode('adapter:code')).toEqual({ kind: 'adapter', name: 'code' });
    for (const bad of ['every:0', 'every:x', 'adapter:', 'tokens', '']) {
      expect(() => parseRoutingMode(bad)).toThrowError(expect.objectContaining({ code: 'E_SCHEDULE' }));
    }
  });

  it('fixed modes: base zeros, uniform 1/N, adapter one-hot, unknown adapter refused', () => {
    expect([...fixedMix({ kind: 'base' }, adapters).weights]).toEqual([0, 0, 0, 0]);
    expect([...fixedMix({ kind: 'uniform' }, adapters).weights]).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect([...fixedMix({ kind: 'adapter', name: 'code' }, adapters).weights]).toEqual([0, 0, 1, 0]);
    expect(() => fixedMix({ kind: 'adapter', name: 'poetry' }, adapters)).toThrowError(
      expect.objectContaining({ code: 'E_UNKNOWN_ADAPTER', message: expect.stringContaining('math, science, code, reading') }),
    );
  });

  it('aligns a router mixture to pack order by name', () => {
    const mix: AdapterMix = { adapters: ['reading', 'math', 'code', 'science'], weights: Float32Array.from([0.4, 0.3, 0.2, 0.1]) };
    expect([...alignMix(mix, adapters).weights].map((w) => Math.round(w * 10) / 10)).toEqual([0.3, 0.1, 0.2, 0.4]);
    expect(() => alignMix({ adapters: ['poetry'], weights: Float32Array.from([1]) }, adapters)).toThrowError(
      expect.objectContaining({ code: 'E_UNKNOWN_ADAPTER' }),
    );
  });

  it('routes at the steps its schedule names and keeps the mixture in between', async () => {
    const seen: RoutingRequest[] = [];
    const router: ContextRouter = {
      adapters,
      async route(request) {
        seen.push(request);
        const weights = new Float32Array(4);
        weights[request.step % 4] = 1;
        return { adapters, weights };
      },
    };
    const planner = new MixPlanner({ kind: 'every', k: 2 }, adapters, router);
    const used: number[][] = [];
    for (let step = 0; step < 5; step++) {
      used.push([...(await planner.mixFor(step, () => ({ text: `t${step}`, tokenIds: [], step }))).weights]);
    }
    expect(seen.map((request) => request.step)).toEqual([0, 2, 4]);
    expect(used.map((weights) => weights.indexOf(1))).toEqual([0, 0, 2, 2, 0]);
    const once = new MixPlanner({ kind: 'prompt' }, adapters, router);
    seen.length = 0;
    for (let step = 0; step < 3; step++) await once.mixFor(step, () => ({ text: '', tokenIds: [], step }));
    expect(seen.length).toBe(1);
    expect(() => new MixPlanner({ kind: 'token' }, adapters, null)).toThrowError(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });

  it('takes a synchronous mix from routeSync, awaits route only where routeSync cannot, and keeps aligning to pack order', async () => {
    const reversed = [...adapters].reverse();
    const calls: string[] = [];
    const router: ContextRouter = {
      adapters: reversed,
      routeSync(request) {
        calls.push(`sync ${request.step}`);
        if (request.step === 2) return undefined; // e.g. an embedder that has to run a model this step
        return { adapters: request.step === 3 ? adapters : reversed, weights: Float32Array.from([0.1, 0.2, 0.3, 0.4]) };
      },
      async route(request) {
        calls.push(`async ${request.step}`);
        return { adapters: reversed, weights: Float32Array.from([0.4, 0.3, 0.2, 0.1]) };
      },
    };
    const planner = new MixPlanner({ kind: 'token' }, adapters, router);
    const planned = [0, 1, 2, 3].map((step) => planner.mixFor(step, () => ({ text: '', tokenIds: [], step })));
    expect(planned.map((mix) => mix instanceof Promise)).toEqual([false, false, true, false]);
    const weights = await Promise.all(planned.map(async (mix) => [...(await mix).weights].map((w) => Math.round(w * 10) / 10)));
    expect(weights).toEqual([
      [0.4, 0.3, 0.2, 0.1], // reversed order back to pack order, every step (the same array object each time)
      [0.4, 0.3, 0.2, 0.1],
      [0.1, 0.2, 0.3, 0.4],
      [0.1, 0.2, 0.3, 0.4], // already in pack order
    ]);
    expect(calls).toEqual(['sync 0', 'sync 1', 'sync 2', 'async 2', 'sync 3']);
  });
});
