// Keeps docs/cli.md in step with the commands: every registered command, subcommand and long
// option must appear in it. When this fails after adding a command or option, document it there.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './cli.js';
import { createTerminal } from './terminal.js';

const DOC_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'cli.md');

function commandTree(): Array<{ path: string[]; command: Command }> {
  const program = buildProgram(createTerminal({ stdout: { write: () => true }, stderr: { write: () => true }, env: {} }));
  const found: Array<{ path: string[]; command: Command }> = [];
  const walk = (command: Command, path: string[]) => {
    for (const child of command.commands) {
      found.push({ path: [...path, child.name()], command: child });
      walk(child, [...path, child.name()]);
    }
  };
  walk(program, []);
  return found;
}

describe('docs/cli.md', () => {
  const doc = readFileSync(DOC_PATH, 'utf8');
  const lines = doc.split('\n');

  it.each(commandTree().map(({ path, command }) => [path.join(' '), command] as const))('documents `lora-tle %s` and its options', (name, command) => {
    const path = name.split(' ');
    if (path.length === 1) {
      expect(doc, `docs/cli.md has no \`lora-tle ${name}\` section`).toContain(`\`lora-tle ${name}`);
    } else {
      const parent = path.slice(0, -1).join(' ');
      const leaf = path[path.length - 1]!;
      expect(lines.some((line) => line.includes(parent) && line.includes(leaf)), `docs/cli.md does not mention "${name}"`).toBe(true);
    }
    for (const option of command.options) {
      if (option.long === undefined || option.long === '--help') continue;
      expect(doc, `docs/cli.md does not mention ${option.long} of lora-tle ${name}`).toContain(option.long);
    }
  });
});
