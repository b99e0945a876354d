#!/usr/bin/env node
// The `lora-tle` executable. It works from a fresh clone without a build: it imports the built
// CLI (../dist/main.js) when there is one, otherwise it re-runs this Node with tsx and the
// `source` export condition on the TypeScript entry (src/main.ts), so sibling workspace packages
// resolve to their src/ too. Exit code and signals of that child are passed through unchanged.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const builtEntry = new URL('../dist/main.js', import.meta.url);
const sourceEntry = fileURLToPath(new URL('../src/main.ts', import.meta.url));

if (existsSync(builtEntry)) {
  await import(builtEntry.href);
} else {
  let tsxLoader;
  try {
    tsxLoader = import.meta.resolve('tsx');
  } catch {
    process.stderr.write('lora-tle: [E_NOT_FOUND] neither apps/cli/dist/main.js nor tsx is available; run `npm install` at the repository root, or `npm run build`\n');
    process.exit(1);
  }
  const child = spawn(process.execPath, ['--conditions=source', '--import', tsxLoader, sourceEntry, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // The terminal delivers Ctrl-C to both processes; the parent only waits for the child.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
  child.on('error', (error) => {
    process.stderr.write(`lora-tle: internal error: cannot start ${process.execPath}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
