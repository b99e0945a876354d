// Entry point of the `lora-tle` command (bin/lora-tle.js runs this file, built or through tsx):
// wires the process streams into the CLI, sets the exit code, and routes stray async failures
// through the same one-line error policy. The only module in the CLI with side effects.

import { runCli } from './cli.js';
import { reportError } from './report-error.js';
import { createTerminal } from './terminal.js';

const terminal = createTerminal({ stdout: process.stdout, stderr: process.stderr, env: process.env });
const argv = process.argv.slice(2);
const debug = argv.includes('--debug');

// `lora-tle inspect x --json | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    process.exitCode = reportError(error, terminal, debug);
    process.exit();
  });
}

process.exitCode = await runCli(argv, terminal);
