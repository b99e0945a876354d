// `lora-tle merge`: placeholder while lora-store's PEFT reader/writer lands.
import { Command } from 'commander';
import type { CliCommand } from './command.js';
export const mergeCommand: CliCommand = { name: 'merge', create: () => new Command('merge').description('merge adapters').action(() => {}) };
