// Parsers for option values shared by commands: each turns a bad value into an E_USAGE error
// that names the option and what is expected; and the prompt of --prompt / --prompt-file. Not
// here: option declarations (each command).

import { readFileSync } from 'node:fs';
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

/** The text of --prompt or --prompt-file (not both); `fallback` when neither, else an E_USAGE error. */
export function promptFromFlags(flags: { prompt?: string; promptFile?: string }, fallback?: string): string {
  if (flags.prompt !== undefined && flags.promptFile !== undefined) {
    throw new LoraTleError('E_USAGE', 'pass either --prompt or --prompt-file, not both');
  }
  if (flags.promptFile !== undefined) {
    try {
      return readFileSync(flags.promptFile, 'utf8');
    } catch (cause) {
      throw new LoraTleError('E_NOT_FOUND', `cannot read --prompt-file ${flags.promptFile}: ${(cause as Error).message}`, { cause });
    }
  }
  if (flags.prompt !== undefined) return flags.prompt;
  if (fallback !== undefined) return fallback;
  throw new LoraTleError('E_USAGE', 'give the text to continue with --prompt <text> or --prompt-file <path>');
}
