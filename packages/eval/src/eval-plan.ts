// Which (mode, kv) combinations an evaluation runs. Modes are written as on the CLI: `base`,
// `adapter:<name>`, `uniform`, `prompt`, `token`, `every:<k>`. A mode whose mixture is constant over
// the whole generation (base, adapter, uniform, prompt-level) gives the same tokens with `reuse` and
// `recompute` KV — every cached K/V was computed under the one mixture — so it runs once (reported
// as kv `reuse`); token-level and every:k run with each requested KV policy.
// Not the runner (eval-runner.ts).

import { formatRoutingMode, parseRoutingMode, type KvPolicy } from '@lora-tle/engine';
import { LoraTleError } from '@lora-tle/spec';

export interface EvalRun {
  mode: string; // canonical CLI spelling
  kv: KvPolicy;
}

/** base, each adapter alone, uniform, prompt-level, token-level every token and every 2 tokens. */
export function defaultModes(adapters: readonly string[]): string[] {
  return ['base', ...adapters.map((name) => `adapter:${name}`), 'uniform', 'prompt', 'token', 'every:2'];
}

/** True when the mixture can change during generation (so reuse and recompute differ). */
export function mixtureChangesDuringGeneration(mode: string): boolean {
  const parsed = parseRoutingMode(mode);
  return parsed.kind === 'token' || parsed.kind === 'every';
}

/** Expands modes × kv policies, dropping duplicates and the KV variants that cannot differ. */
export function planRuns(modes: readonly string[], kvPolicies: readonly KvPolicy[] = ['reuse', 'recompute']): EvalRun[] {
  if (modes.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', 'an evaluation needs at least one mode, e.g. base or token');
  if (kvPolicies.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', 'an evaluation needs at least one kv policy: reuse and/or recompute');
  for (const kv of kvPolicies) {
    if (kv !== 'reuse' && kv !== 'recompute') throw new LoraTleError('E_INVALID_ARGUMENT', `kv policy must be reuse or recompute, got "${String(kv)}"`);
  }
  const runs: EvalRun[] = [];
  const seen = new Set<string>();
  for (const written of modes) {
    const mode = formatRoutingMode(parseRoutingMode(written.trim()));
    const policies = mixtureChangesDuringGeneration(mode) ? kvPolicies : (['reuse'] as const);
    for (const kv of policies) {
      const key = `${mode}|${kv}`;
      if (seen.has(key)) continue;
      seen.add(key);
      runs.push({ mode, kv });
    }
  }
  return runs;
}
