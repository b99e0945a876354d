// `lora-tle inspect <path>`: says what a safetensors file, PEFT adapter, Hugging Face checkpoint
// or model pack is, summarises its tensors and config, and gives a validation verdict (and, with
// --base, whether an adapter fits a base model). Not here: the per-kind logic (inspect/), which is
// imported only when the command runs, so `lora-tle --help` and other commands stay fast.

import { Command } from 'commander';
import { LoraTleError } from '@lora-tle/spec';
import type { CliCommand } from './command.js';

interface InspectFlags {
  json?: boolean;
  all?: boolean;
  base?: string;
}

export const inspectCommand: CliCommand = {
  name: 'inspect',
  create: ({ terminal }) =>
    new Command('inspect')
      .description('describe and validate a safetensors file, a PEFT adapter dir, a Hugging Face checkpoint dir or a model pack')
      .argument('<path>', 'file or directory to inspect')
      .option('--json', 'print the report as JSON on stdout')
      .option('--all', 'list every tensor (text output shows the first few)')
      .option('--base <dir>', 'also check that the adapter at <path> fits this base checkpoint (exit 1 if not)')
      .action(async (path: string, flags: InspectFlags) => {
        const { inspectPath } = await import('../inspect/path-inspectors.js');
        const { renderReport } = await import('../inspect/render-report.js');
        const report = await inspectPath(path, flags.base === undefined ? {} : { base: flags.base });
        terminal.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, flags.all === true, terminal.outputColors));
        const problem = report.verdict.compatibility?.problem;
        // The report is printed either way; the failure is then reported (one line, exit 1).
        if (problem) throw new LoraTleError(problem.code, problem.message);
      }),
};
