// The library example in README.md, run for real: the ```ts block is extracted, pointed at the
// embedded tiny-tle pack and store (built into a temporary cache), and executed with tsx. Keeps the
// README honest: a renamed export or changed signature fails here, not in a user's editor.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureEmbeddedDefault } from './embedded-default.js';
import { createTerminal } from './terminal.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cache = mkdtempSync(join(tmpdir(), 'lora-tle-readme-'));
// inside the repository so that @lora-tle/* resolve through the workspace
const script = join(repoRoot, 'apps/cli/src', `.readme-example-${process.pid}.ts`);

afterAll(() => {
  rmSync(cache, { recursive: true, force: true });
  rmSync(script, { force: true });
});

function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!match?.[1]) throw new Error('README.md has no ```ts block');
  return match[1];
}

describe('README library example', () => {
  it('runs against the embedded default pack and store and streams routed text', async () => {
    const silent = { write: () => {} };
    const terminal = createTerminal({ stdout: silent, stderr: silent, env: { NO_COLOR: '1' } });
    const { packDir, storeDir } = await ensureEmbeddedDefault(terminal, { LORA_TLE_CACHE: cache });
    const source = readmeExample();
    expect(source).toContain("'path/to/pack'");
    expect(source).toContain("'path/to/store'");
    writeFileSync(script, source.replace("'path/to/pack'", JSON.stringify(packDir)).replace("'path/to/store'", JSON.stringify(storeDir)));

    const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim().length).toBeGreaterThan(0);
  }, 180_000);
});
