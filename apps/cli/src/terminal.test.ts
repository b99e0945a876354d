// The terminal rules: colour only for a TTY (NO_COLOR off, FORCE_COLOR on), and progress without
// a TTY as occasional plain lines on stderr, never on stdout.

import { describe, expect, it } from 'vitest';
import { createTerminal } from './terminal.js';

function capture(isTTY: boolean) {
  const stream = { isTTY, text: '', write(chunk: string) { stream.text += chunk; return true; } };
  return stream;
}

describe('createTerminal', () => {
  it('colours a TTY unless NO_COLOR, and a pipe only with FORCE_COLOR', () => {
    const tty = capture(true);
    const pipe = capture(false);
    expect(createTerminal({ stdout: pipe, stderr: tty, env: {} }).errorColors.red('x')).toContain('\x1b[');
    expect(createTerminal({ stdout: pipe, stderr: tty, env: { NO_COLOR: '1' } }).errorColors.red('x')).toBe('x');
    expect(createTerminal({ stdout: pipe, stderr: pipe, env: {} }).errorColors.red('x')).toBe('x');
    expect(createTerminal({ stdout: pipe, stderr: pipe, env: { FORCE_COLOR: '1' } }).errorColors.red('x')).toContain('\x1b[');
    expect(createTerminal({ stdout: pipe, stderr: tty, env: {} }).outputColors.red('x')).toBe('x');
  });

  it('without a TTY, progress prints a plain line at most every 5 s, to stderr only', () => {
    const stdout = capture(false);
    const stderr = capture(false);
    let clock = 0;
    const terminal = createTerminal({ stdout, stderr, env: {}, now: () => clock });
    const progress = terminal.progress('merging modules', 10);
    progress.update(1);
    clock = 4_999;
    progress.update(2);
    expect(stderr.text).toBe('');
    clock = 5_000;
    progress.update(3);
    clock = 6_000;
    progress.update(4);
    progress.stop();
    expect(stderr.text).toBe('merging modules: 3/10\n');
    expect(stdout.text).toBe('');
  });
});
