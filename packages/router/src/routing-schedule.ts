// Routing schedules: when the router runs — once per prompt, every token, or every k tokens.
// Parsing the CLI form and deciding per step; the router keeps the last mix in between.

import { LoraTleError } from '@lora-tle/spec';
import type { RoutingSchedule } from '@lora-tle/spec';

const SCHEDULE_FORMS = '`prompt` (once), `token` (every token) or `every:<k>` (every k tokens, k ≥ 1)';

/** `prompt` | `token` | `every:<k>` → RoutingSchedule; anything else → E_SCHEDULE. */
export function parseSchedule(spec: string): RoutingSchedule {
  const trimmed = spec.trim();
  if (trimmed === 'prompt') return { kind: 'prompt' };
  if (trimmed === 'token') return { kind: 'token' };
  const every = /^every:(\d+)$/.exec(trimmed);
  if (every !== null) {
    const k = Number(every[1]);
    if (k >= 1 && Number.isSafeInteger(k)) return { kind: 'every', k };
  }
  throw new LoraTleError('E_SCHEDULE', `unknown routing schedule "${spec}"; use ${SCHEDULE_FORMS}`);
}

/** The CLI form of a schedule (inverse of parseSchedule). */
export function formatSchedule(schedule: RoutingSchedule): string {
  return schedule.kind === 'every' ? `every:${schedule.k}` : schedule.kind;
}

/** Whether to route at `step` (0 = the prompt, then one per generated token). */
export function shouldRoute(schedule: RoutingSchedule, step: number): boolean {
  switch (schedule.kind) {
    case 'prompt':
      return step === 0;
    case 'token':
      return true;
    case 'every':
      if (!Number.isInteger(schedule.k) || schedule.k < 1) {
        throw new LoraTleError('E_SCHEDULE', `every:k needs a whole k ≥ 1, got ${schedule.k}; use ${SCHEDULE_FORMS}`);
      }
      return step % schedule.k === 0;
  }
}
