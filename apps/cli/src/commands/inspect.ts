// `lora-tle inspect`: placeholder.
import { Command } from 'commander';
import type { CliCommand } from './command.js';
export const inspectCommand: CliCommand = { name: 'inspect', create: () => new Command('inspect').argument('<path>').option('--json').description('inspect').action(() => { throw new Error('boom\nsecond line'); }) };
