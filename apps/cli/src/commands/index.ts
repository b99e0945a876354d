// The list of `lora-tle` commands, in help order. Adding a command: write commands/<name>.ts
// exporting a CliCommand, and add it here — nothing else changes.

import type { CliCommand } from './command.js';
import { inspectCommand } from './inspect.js';
import { mergeCommand } from './merge.js';
import { generateCommand } from './generate.js';
import { demoCommand } from './demo.js';
import { storeCommand } from './store.js';
import { profileCommand } from './profile.js';
import { routeCommand } from './route.js';
import { evalCommand } from './eval.js';
import { benchCommand } from './bench.js';
import { buildCommand } from './build.js';

export const COMMANDS: readonly CliCommand[] = [inspectCommand, mergeCommand, generateCommand, demoCommand, storeCommand, profileCommand, routeCommand, evalCommand, benchCommand, buildCommand];
