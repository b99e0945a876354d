// Tests schedule parsing and the per-step decision.

import { describe, expect, it } from 'vitest';
import { formatSchedule, parseSchedule, shouldRoute } from './routing-schedule.js';

describe('routing schedules', () => {
  it('parses prompt, token and every:k, and formats them back', () => {
    expect(parseSchedule('prompt')).toEqual({ kind: 'prompt' });
    expect(parseSchedule('token')).toEqual({ kind: 'token' });
    expect(parseSchedule('every:3')).toEqual({ kind: 'every', k: 3 });
    for (const spec of ['prompt', 'token', 'every:2']) expect(formatSchedule(parseSchedule(spec))).toBe(spec);
  });

  it('rejects anything else with E_SCHEDULE naming the valid forms', () => {
    for (const spec of ['', 'tokens', 'every', 'every:0', 'every:-1', 'every:1.5', 'every:x']) {
      expect(() => parseSchedule(spec), spec).toThrow(expect.objectContaining({ code: 'E_SCHEDULE', message: expect.stringContaining('every:<k>') }));
    }
  });

  it('decides per step', () => {
    const steps = [0, 1, 2, 3, 4, 5, 6];
    expect(steps.map((step) => shouldRoute({ kind: 'prompt' }, step))).toEqual([true, false, false, false, false, false, false]);
    expect(steps.map((step) => shouldRoute({ kind: 'token' }, step))).toEqual([true, true, true, true, true, true, true]);
    expect(steps.map((step) => shouldRoute({ kind: 'every', k: 3 }, step))).toEqual([true, false, false, true, false, false, true]);
    expect(() => shouldRoute({ kind: 'every', k: 0 }, 1)).toThrow(expect.objectContaining({ code: 'E_SCHEDULE' }));
  });
});
