// The CLI's error policy: every failure becomes exactly one line on stderr and an exit code.
//   LoraTleError      → `lora-tle: [E_CODE] message`, exit 1 (2 for E_USAGE)
//   anything else     → `lora-tle: internal error: <message> (run with --debug for the stack)`, exit 1
// With --debug the stack follows. Never a raw stack trace by default. Not here: commander's own
// usage errors, which cli.ts turns into E_USAGE before they reach this.

import { isLoraTleError } from '@lora-tle/spec';
import type { Terminal } from './terminal.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Messages are printed on one line: newlines and runs of whitespace collapse to one space. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

export function reportError(error: unknown, terminal: Terminal, debug: boolean): number {
  const colors = terminal.errorColors;
  const prefix = colors.bold('lora-tle:');
  let exitCode: number;
  if (isLoraTleError(error)) {
    terminal.stderr(`${prefix} ${colors.red(`[${error.code}]`)} ${oneLine(error.message)}\n`);
    exitCode = error.code === 'E_USAGE' ? EXIT_USAGE : EXIT_FAILURE;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    const hint = debug ? '' : ' (run with --debug for the stack)';
    terminal.stderr(`${prefix} ${colors.red('internal error:')} ${oneLine(message)}${hint}\n`);
    exitCode = EXIT_FAILURE;
  }
  if (debug && error instanceof Error && error.stack !== undefined) {
    terminal.stderr(`${colors.dim(error.stack)}\n`);
    let cause = error.cause;
    while (cause instanceof Error) {
      terminal.stderr(`${colors.dim(`caused by: ${cause.stack ?? cause.message}`)}\n`);
      cause = cause.cause;
    }
  }
  return exitCode;
}
