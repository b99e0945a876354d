// The sandbox against hostile candidates: each escape attempt must score as a failure, must not
// have its effect (no file read, no socket, no env leak), and must not stop the others from scoring.

import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCodeCandidates, type CodeCandidate } from './code-sandbox.js';

const add: CodeCandidate = {
  code: 'function add(a, b) {\n  return a + b;\n}',
  entryPoint: 'add',
  tests: [
    { args: [1, 2], expected: 3 },
    { args: [-4, 4], expected: 0 },
  ],
};

/** A candidate whose test passes only if `body` runs to the end without throwing and returns 1. */
function attempt(body: string): CodeCandidate {
  return { code: `function attack() {\n${body}\nreturn 1;\n}`, entryPoint: 'attack', tests: [{ args: [], expected: 1 }] };
}

describe('runCodeCandidates', () => {
  it('passes a correct function, fails wrong ones, on exact JSON equality', async () => {
    const results = await runCodeCandidates([
      add,
      { ...add, code: 'function add(a, b) { return a - b; }' },
      { ...add, code: 'function plus(a, b) { return a + b; }' }, // wrong name
      { ...add, code: 'this is not code' },
      { code: 'function has(arr) { return arr.includes(2); }', entryPoint: 'has', tests: [{ args: [[1, 2]], expected: true }, { args: [[3]], expected: false }] },
      { code: 'function pair(x) { return [x, { y: x }]; }', entryPoint: 'pair', tests: [{ args: [1], expected: [1, { y: 1 }] }] },
    ]);
    expect(results).toEqual([true, false, false, false, true, true]);
  });

  it('scores every escape attempt as a failure and keeps scoring the others', async () => {
    const secretName = 'LORA_TLE_SANDBOX_SECRET';
    process.env[secretName] = 'leaked';
    let connections = 0;
    const server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const attacks = [
        attempt(`const fs = require('fs'); fs.readFileSync('/etc/hostname');`), // read a file
        attempt(`process.mainModule.require('fs').readFileSync('/etc/hostname');`),
        attempt(`const net = require('net'); net.connect(${port}, '127.0.0.1');`), // open a socket
        attempt(`if (process.env.${secretName} !== 'leaked') throw new Error('no env');`), // read the environment
        attempt(`const p = this.constructor.constructor('return process')(); p.env;`), // escape via Function
        attempt(`const p = attack.constructor('return process')(); p.exit(0);`),
        attempt(`const p = ({}).constructor.constructor('return this')().process; p.version.length;`),
        attempt(`while (true) {}`), // loop forever
        attempt(`const all = []; while (true) all.push(new Array(1e6).fill(1));`), // unbounded heap
        attempt(`const all = []; while (true) all.push(new Float64Array(1e7));`), // unbounded off-heap
        attempt(`import('fs');`),
        attempt(`fetch('http://127.0.0.1:${port}/');`),
      ];
      const control = attempt(`const values = JSON.parse('[1, 2]'); if (values.length !== 2) throw new Error();`);
      const results = await runCodeCandidates([control, ...attacks, add], { timeoutMs: 500 }, 64);
      expect(results[0]).toBe(true); // the harness itself lets a harmless body pass
      expect(results.slice(1, -1)).toEqual(attacks.map(() => false));
      expect(results[results.length - 1]).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(connections).toBe(0);
    } finally {
      delete process.env[secretName];
      server.close();
    }
  }, 60_000);
});
