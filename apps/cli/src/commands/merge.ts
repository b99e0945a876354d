// `lora-tle merge`: N PEFT adapters + weights → one new PEFT adapter directory, by one of PEFT's
// add_weighted_adapter combinations (cat, linear, svd, and the PEFT 0.4.0 variants the original
// LoRA-TLE ran). The output directory appears only when complete. Not here: the per-module
// merge (merge/merge-adapters.ts) and its math (@lora-tle/mixing).

import { stat } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { LoraTleError, type OfflineCombination } from '@lora-tle/spec';
import { OFFLINE_COMBINATIONS } from '@lora-tle/mixing';
import type { PeftAdapter } from '@lora-tle/lora-store';
import { loadPeftAdapter, writePeftAdapter } from '../lora-store-node.js';
import { mergeAdapters } from '../merge/merge-adapters.js';
import { collect, parseFiniteNumber, parsePositiveInteger } from '../options.js';
import type { Progress } from '../terminal.js';
import type { CliCommand } from './command.js';

interface MergeFlags {
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

function parseClamp(value: string): number {
  const quantile = parseFiniteNumber('--svd-clamp', value);
  if (quantile < 0 || quantile > 1) throw new LoraTleError('E_USAGE', `--svd-clamp is a quantile in [0, 1], got ${value}`);
  return quantile;
}

export const mergeCommand: CliCommand = {
  name: 'merge',
  create: ({ terminal }) =>
    new Command('merge')
      .description('merge PEFT LoRA adapters into one adapter (PEFT add_weighted_adapter semantics)')
      .option('--adapter <dir>', 'a PEFT adapter directory (repeat for each adapter)', collect)
      .option('--weight <w>', 'the weight of the --adapter at the same position (repeat)', collect)
      .addOption(new Option('--combination <type>', 'how to combine').choices([...OFFLINE_COMBINATIONS]).makeOptionMandatory())
      .option('--svd-rank <k>', 'rank of the merged adapter for svd / svd-peft0.4 (default: the largest input rank)', (value) => parsePositiveInteger('--svd-rank', value))
      .option('--svd-clamp <q>', 'svd only: clamp the factors at this quantile (svd-peft0.4 always clamps at 0.99)', parseClamp)
      .addOption(new Option('--dtype <dtype>', 'storage dtype of the merged tensors').choices(['F32', 'F16', 'BF16']).default('F32'))
      .requiredOption('--out <dir>', 'output adapter directory (must not exist)')
      .addHelpText(
        'after',
        `
Combinations (k_i = w_i · s_i, s_i = lora_alpha_i / r_i):
  cat             A = vstack(k_i A_i), B = hstack(B_i), r = Σ r_i          exact ΔW = Σ k_i B_i A_i
  linear          A = Σ sign(k_i)√|k_i| A_i, B = Σ √|k_i| B_i               equal ranks; cross terms
  linear-peft0.4  A = Σ k_i A_i, B = Σ B_i (PEFT 0.4.0, the paper's code)  equal ranks; cross terms
  svd             truncated SVD of Σ k_i B_i A_i to --svd-rank
  svd-peft0.4     the same, clamped at the 0.99 quantile (PEFT 0.4.0)
The merged adapter has lora_alpha = r (scaling 1).

Example:
  lora-tle merge --adapter math --weight 0.7 --adapter code --weight 0.3 --combination cat --out mixed`,
      )
      .action(async (flags: MergeFlags) => {
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
        try {
          for (const dir of adapterDirs) adapters.push(await loadPeftAdapter(dir));
          const progress: { bar: Progress | null } = { bar: null }; // created when the module count is known
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
          const provenance = { combination: flags.combination, adapters: adapterDirs, weights, svdRank: flags.svdRank ?? null, svdClamp: flags.svdClamp ?? null };
          await writePeftAdapter(flags.out, { config: merged.config, modules: merged.modules, dtype: flags.dtype, metadata: { lora_tle_merge: JSON.stringify(provenance) } });
          terminal.stdout(`wrote ${flags.out}: ${merged.modules.length} modules, rank ${merged.config.r}, lora_alpha ${merged.config.loraAlpha}, combination ${flags.combination}\n`);
        } finally {
          await Promise.all(adapters.map((adapter) => adapter.close()));
        }
      }),
};
