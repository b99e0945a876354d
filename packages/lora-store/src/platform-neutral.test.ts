// The package root must be safe to bundle for the browser: nothing reachable from src/index.ts
// may import node:* (directly or through a relative import).

import { readFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = dirname(fileURLToPath(import.meta.url));

async function reachableImports(entry: string): Promise<{ files: string[]; external: string[] }> {
  const seen = new Set<string>();
  const external = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
      const specifier = match[1] as string;
      if (specifier.startsWith('.')) queue.push(normalize(join(dirname(file), specifier.replace(/\.js$/, '.ts'))));
      else external.add(specifier);
    }
  }
  return { files: [...seen], external: [...external] };
}

describe('browser safety of the package root', () => {
  it('reaches no node:* module from src/index.ts', async () => {
    const { files, external } = await reachableImports(join(srcDir, 'index.ts'));
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((file) => file.includes(`${join(srcDir, 'node')}`))).toEqual([]);
    expect(external.sort()).toEqual(['@lora-tle/mixing', '@lora-tle/spec']);
  });

  it('does reach node:fs from src/node.ts (the check above can fail)', async () => {
    const { external } = await reachableImports(join(srcDir, 'node.ts'));
    expect(external).toContain('node:fs/promises');
  });
});
