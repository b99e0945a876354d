// Builds the `lora-tle` program from the command list and runs it: parses argv, runs the chosen
// command, and maps every outcome to an exit code (report-error.ts for failures). Commander's own
// usage errors (unknown option, missing argument) become one `[E_USAGE]` line and exit code 2.
// Not here: the commands themselves (commands/), process wiring (main.ts).

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { LoraTleError } from '@lora-tle/spec';
import { COMMANDS } from './commands/index.js';
import { EXIT_OK, EXIT_USAGE, reportError } from './report-error.js';
import type { Terminal } from './terminal.js';

function cliVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildProgram(terminal: Terminal): Command {
  const program = new Command('lora-tle')
    .description('Token-level routing of LoRA adapters: inspect, merge, build and run adapter mixtures.')
    .version(cliVersion(), '-V, --version', 'print the version')
    .option('--debug', 'print the stack trace of an error')
    .helpOption('-h, --help', 'show help for the command')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => terminal.stdout(text),
      writeErr: (text) => terminal.stderr(text),
      outputError: () => {}, // runCli prints the one-line form
    });
  for (const command of COMMANDS) {
    const subcommand = command.create({ terminal });
    program.addCommand(subcommand);
    inheritSettings(subcommand, program);
  }
  return program;
}

/**
 * Gives a command and all its nested subcommands (`store add`, …) the program's error handling
 * and output settings; commander copies them only to subcommands made with .command().
 */
function inheritSettings(command: Command, parent: Command): void {
  command.copyInheritedSettings(parent);
  for (const child of command.commands) inheritSettings(child, command);
}

/** The command path argv selects, e.g. `store add`, for the "see … --help" hint. */
function commandPathIn(program: Command, argv: readonly string[]): string {
  const path: string[] = [];
  let current = program;
  for (const arg of argv) {
    const next = current.commands.find((command) => command.name() === arg);
    if (next === undefined) continue;
    path.push(arg);
    current = next;
  }
  return path.join(' ');
}

/** Runs the CLI with argv (without node and script), returns the exit code. */
export async function runCli(argv: readonly string[], terminal: Terminal): Promise<number> {
  const debug = argv.includes('--debug');
  let program: Command | null = null;
  try {
    program = buildProgram(terminal);
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version "errors" are normal exits; everything else is a usage error
      if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
      if (error.code === 'commander.help') return EXIT_USAGE;
      const command = program === null ? '' : commandPathIn(program, argv);
      const message = error.message.replace(/^error:\s*/i, '');
      const hint = `see \`lora-tle${command === '' ? '' : ` ${command}`} --help\``;
      return reportError(new LoraTleError('E_USAGE', `${message} (${hint})`), terminal, debug);
    }
    return reportError(error, terminal, debug);
  }
}
