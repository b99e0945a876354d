// `lora-tle merge`: N PEFT adapters + weights → one new PEFT adapter directory, by one of PEFT's
// add_weighted_adapter combinations (cat, linear, svd, and the PEFT 0.4.0 variants the original
// LoRA-TLE ran). The output directory appears only when complete. Not here: the per-module
// merge (merge/run-merge.ts, imported only when the command runs) and its math (@lora-tle/mixing).

import { Command, Option } from 'commander';
import { LoraTleError } from '@lora-tle/spec';
import { OFFLINE_COMBINATIONS } from '@lora-tle/mixing';
import type { MergeFlags } from '../merge/run-merge.js';
import { collect, parseFiniteNumber, parsePositiveInteger } from '../options.js';
import type { CliCommand } from './command.js';

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
        const { runMerge } = await import('../merge/run-merge.js');
        await runMerge(flags, terminal);
      }),
};
