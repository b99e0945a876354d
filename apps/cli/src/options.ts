// Parsers for option values shared by commands: each turns a bad value into an E_USAGE error
// that names the option and what is expected. Not here: option declarations (each command).

import { LoraTleError } from '@lora-tle/spec';

export function parseFiniteNumber(optionName: string, value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) {
    throw new LoraTleError('E_USAGE', `${optionName} must be a number, got "${value}"`);
  }
  return parsed;
}

export function parsePositiveInteger(optionName: string, value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new LoraTleError('E_USAGE', `${optionName} must be a positive integer, got "${value}"`);
  }
  return parsed;
}

/** Commander collector for repeatable options (`--adapter a --adapter b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
