// Runs untrusted generated JavaScript against hidden tests, isolated: a child `node` process per
// batch, started with the permission model (`--experimental-permission` with no grants: no file
// reads or writes, no child processes, no workers, no native addons), an empty environment, a heap
// cap (`--max-old-space-size`), an address-space cap (`ulimit -v`, Linux: typed arrays live outside
// the heap) and a wall-clock kill. Inside, each candidate runs in a fresh `vm` context with no
// `require`, `process`, timers or host objects (arguments are parsed from JSON *inside* the
// context, results leave as JSON strings), so `net` is out of reach even though Node 20's
// permission model does not block sockets, and `this.constructor.constructor('return process')()`
// finds only the context's own Function. Synchronous loops stop at the vm timeout; anything that
// kills the child (heap exhaustion, a hang past the wall clock) fails that batch, and then every
// candidate of it is re-run alone so one bad candidate cannot fail the others.
// Not the scoring rule (score-items.ts). No generated code ever runs in the calling process.

import { LoraTleError } from '@lora-tle/spec';
import type { CodeTest } from './suite.js';

export interface CodeCandidate {
  code: string; // the generated text (a function declaration, maybe with stray text)
  entryPoint: string;
  tests: readonly CodeTest[];
}

export interface SandboxLimits {
  /** Per candidate: vm timeout for defining it and for each test call, in ms (default 1000). */
  timeoutMs: number;
  /** Heap cap of the child in MB (default 64). */
  memoryMb: number;
  /** Address-space cap of the child in MB (Linux: `ulimit -v`; default 2048). Caps typed-array memory, which lives outside the heap. */
  addressSpaceMb: number;
  /** Wall-clock budget of a child: fixed part + timeoutMs × (tests + 1) per candidate (default 3000). */
  startupMs: number;
  /** The node binary (default the running one). */
  nodePath: string;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  timeoutMs: 1000,
  memoryMb: 64,
  addressSpaceMb: 2048,
  startupMs: 3000,
  nodePath: '',
});

// The child's program, passed with -e so the permission model needs no file-read grant for it.
// stdin: JSON [{code, entryPoint, tests}]; stdout: JSON [true|false, …].
const CHILD_PROGRAM = String.raw`
const vm = require('node:vm');
const timeout = Number(process.argv[1]);
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const candidates = JSON.parse(input);
  const results = candidates.map(({ code, entryPoint, tests }) => {
    try {
      const context = vm.createContext(Object.create(null), { codeGeneration: { strings: true, wasm: false }, microtaskMode: 'afterEvaluate' });
      vm.runInContext(code + '\n;globalThis.__candidate = ' + entryPoint + ';', context, { timeout });
      if (vm.runInContext('typeof __candidate', context, { timeout }) !== 'function') return false;
      for (const test of tests) {
        const call = '(() => { const __args = JSON.parse(' + JSON.stringify(JSON.stringify(test.args)) + ');' +
          ' const __result = Array.isArray(__args) ? __candidate(...__args) : __candidate(__args);' +
          ' const __text = JSON.stringify(__result); return typeof __text === "string" ? __text : "undefined"; })()';
        const actual = vm.runInContext(call, context, { timeout });
        if (typeof actual !== 'string' || actual !== JSON.stringify(test.expected)) return false;
      }
      return true;
    } catch {
      return false;
    }
  });
  process.stdout.write(JSON.stringify(results));
});
`;

interface ChildOutcome {
  results: boolean[] | null; // null: the child died, timed out or printed garbage
}

async function runChild(candidates: readonly CodeCandidate[], limits: SandboxLimits): Promise<ChildOutcome> {
  const { spawn } = await import('node:child_process');
  const wallMs = limits.startupMs + candidates.reduce((sum, candidate) => sum + limits.timeoutMs * (candidate.tests.length + 1), 0);
  const node = limits.nodePath || process.execPath;
  const nodeArgs = ['--experimental-permission', `--max-old-space-size=${limits.memoryMb}`, '--no-warnings', '-e', CHILD_PROGRAM, String(limits.timeoutMs)];
  // On Linux a shell sets the address-space limit and then becomes node (exec): one process.
  const [command, args]: [string, string[]] =
    process.platform === 'linux'
      ? ['/bin/sh', ['-c', `ulimit -v ${Math.round(limits.addressSpaceMb * 1024)} && exec "$0" "$@"`, node, ...nodeArgs]]
      : [node, nodeArgs];
  const child = spawn(command, args, { env: {}, stdio: ['pipe', 'pipe', 'pipe'], cwd: '/' });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    if (stdout.length < 1_000_000) stdout += chunk;
  });
  child.stderr.resume(); // drained, not kept: candidates may print anything
  child.stdin.on('error', () => {}); // a child that dies early closes the pipe; the exit code tells
  child.stdin.end(JSON.stringify(candidates));
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), wallMs);
    child.on('error', () => {
      clearTimeout(killer);
      resolve({ results: null });
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      if (code !== 0) return resolve({ results: null });
      try {
        const parsed = JSON.parse(stdout) as unknown;
        const valid = Array.isArray(parsed) && parsed.length === candidates.length && parsed.every((value) => typeof value === 'boolean');
        resolve({ results: valid ? (parsed as boolean[]) : null });
      } catch {
        resolve({ results: null });
      }
    });
  });
}

/**
 * Runs every candidate against its tests; true = all tests pass. Candidates go to one child per
 * batch of `batchSize`; a batch whose child fails is retried one candidate per child.
 */
export async function runCodeCandidates(
  candidates: readonly CodeCandidate[],
  limits: Partial<SandboxLimits> = {},
  batchSize = 32,
): Promise<boolean[]> {
  const resolved: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS, ...limits };
  if (!(resolved.timeoutMs > 0) || !(resolved.memoryMb >= 8) || !(resolved.startupMs > 0)) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `sandbox limits must be positive (timeoutMs ${resolved.timeoutMs}, memoryMb ≥ 8: ${resolved.memoryMb}, startupMs ${resolved.startupMs})`);
  }
  for (const candidate of candidates) {
    if (!/^[A-Za-z_$][\w$]*$/.test(candidate.entryPoint)) {
      throw new LoraTleError('E_SUITE', `code entry point "${candidate.entryPoint}" is not a JavaScript identifier`);
    }
  }
  const results: boolean[] = [];
  for (let start = 0; start < candidates.length; start += batchSize) {
    const batch = candidates.slice(start, start + batchSize);
    const outcome = await runChild(batch, resolved);
    if (outcome.results) {
      results.push(...outcome.results);
      continue;
    }
    for (const candidate of batch) {
      const alone = batch.length === 1 ? outcome : await runChild([candidate], resolved);
      results.push(alone.results?.[0] ?? false);
    }
  }
  return results;
}
