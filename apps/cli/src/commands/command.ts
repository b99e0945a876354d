// What a CLI command is: a name and a factory for its commander Command. Each command lives in
// its own file under commands/ and is registered in commands/index.ts. Not here: parsing,
// error reporting (cli.ts, report-error.ts).

import type { Command } from 'commander';
import type { Terminal } from '../terminal.js';

export interface CliContext {
  terminal: Terminal;
}

export interface CliCommand {
  name: string;
  create(context: CliContext): Command;
}
