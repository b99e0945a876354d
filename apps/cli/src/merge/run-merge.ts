// Runs `lora-tle merge` once its options are parsed: validates the request, loads the adapters,
// merges them (merge-adapters.ts) with a progress bar, writes the new adapter atomically.
// Not here: option declarations and help (commands/merge.ts).

import { stat } from 'node:fs/promises';
import { LoraTleError, type OfflineCombination } from '@lora-tle/spec';
import type { PeftAdapter } from '@lora-tle/lora-store';
import { loadPeftAdapter, writePeftAdapter } from '@lora-tle/lora-store/node';
import { parseFiniteNumber } from '../options.js';
import type { Progress, Terminal } from '../terminal.js';
import { mergeAdapters } from './merge-adapters.js';

export interface MergeFlags {
  adapter?: string[];
  weight?: string[];
  combination: OfflineCombination;
  svdRank?: number;
  svdClamp?: number;
  dtype: 'F32' | 'F16' | 'BF16';
  out: string;
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function runMerge(flags: MergeFlags, terminal: Terminal): Promise<void> {
  const adapterDirs = flags.adapter ?? [];
  const weights = (flags.weight ?? []).map((value) => parseFiniteNumber('--weight', value));
  if (adapterDirs.length === 0) throw new LoraTleError('E_USAGE', 'give at least one --adapter <dir> (with its --weight <w>)');
  if (weights.length !== adapterDirs.length) {
    throw new LoraTleError('E_USAGE', `got ${adapterDirs.length} --adapter and ${weights.length} --weight; give one --weight after each --adapter`);
  }
  if ((flags.svdRank !== undefined || flags.svdClamp !== undefined) && !flags.combination.startsWith('svd')) {
    throw new LoraTleError('E_USAGE', `--svd-rank and --svd-clamp apply to svd combinations only, not "${flags.combination}"`);
  }
  // Refuse early, before any work; writePeftAdapter re-checks atomically at the end.
  if (await pathExists(flags.out)) {
    throw new LoraTleError('E_OUTPUT_EXISTS', `${flags.out} already exists; choose a new --out directory or remove it first`);
  }
  const adapters: PeftAdapter[] = [];
  const progress: { bar: Progress | null } = { bar: null }; // created when the module count is known
  try {
    for (const dir of adapterDirs) adapters.push(await loadPeftAdapter(dir));
    const merged = await mergeAdapters({
      adapters,
      weights,
      combination: flags.combination,
      ...(flags.svdRank === undefined ? {} : { svdRank: flags.svdRank }),
      ...(flags.svdClamp === undefined ? {} : { svdClamp: flags.svdClamp }),
      onModule: (done, total) => {
        progress.bar ??= terminal.progress('merging modules', total);
        progress.bar.update(done);
      },
    });
    progress.bar?.stop();
    progress.bar = null;
    const provenance = { combination: flags.combination, adapters: adapterDirs, weights, svdRank: flags.svdRank ?? null, svdClamp: flags.svdClamp ?? null };
    await writePeftAdapter(flags.out, { config: merged.config, modules: merged.modules, dtype: flags.dtype, metadata: { lora_tle_merge: JSON.stringify(provenance) } });
    terminal.stdout(`wrote ${flags.out}: ${merged.modules.length} modules, rank ${merged.config.r}, lora_alpha ${merged.config.loraAlpha}, combination ${flags.combination}\n`);
  } finally {
    progress.bar?.stop();
    await Promise.all(adapters.map((adapter) => adapter.close()));
  }
}
