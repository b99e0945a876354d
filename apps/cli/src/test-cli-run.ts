// Test support (not a test): runs the CLI as users do — the real bin in a child process — or
// in-process through runCli with a captured terminal, and checks the one-line error contract.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { createTerminal } from './terminal.js';

const BIN = fileURLToPath(new URL('../bin/lora-tle.js', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real `lora-tle` bin with `args`, colours neither forced nor disabled unless `env` says so. */
export function runBin(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** runCli in this process, with a non-TTY terminal that captures both streams. */
export async function runInProcess(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const terminal = createTerminal({
    stdout: { isTTY: false, write: (text: string) => (stdout += text) },
    stderr: { isTTY: false, write: (text: string) => (stderr += text) },
    env,
  });
  const code = await runCli(args, terminal);
  return { code, stdout, stderr };
}

/** Exactly one stderr line, `lora-tle: [CODE] …`, and nothing that looks like a stack trace. */
export function expectOneCliErrorLine(result: RunResult, code: string): void {
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^lora-tle: \\[${code}\\] \\S`));
  expect(result.stderr).not.toMatch(/\n\s+at /);
}
