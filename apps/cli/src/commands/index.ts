// The list of `lora-tle` commands, in help order. Adding a command: write commands/<name>.ts
// exporting a CliCommand, and add it here — nothing else changes.

import type { CliCommand } from './command.js';
import { inspectCommand } from './inspect.js';
import { mergeCommand } from './merge.js';
import { generateCommand } from './generate.js';

export const COMMANDS: readonly CliCommand[] = [inspectCommand, mergeCommand, generateCommand];
