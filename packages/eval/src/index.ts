// @lora-tle/eval: task suites (tiny-tle, real JSONL), scorers (math, science, reading, sandboxed
// code), the evaluation loop over modes × KV policies with a resumable results log, reports
// (table, markdown, JSON, SVG chart), routing accuracy, and the speed benchmark.

export { TASK_KINDS, TEMPLATE_OF_KIND, limitSuite, toEvalItem, type CodeTest, type EvalItem, type EvalSuite, type EvalTask, type TaskKind } from './suite.js';
export { KIND_OF_NAME, findTaskFiles, loadSuiteFromDir, loadTask, loadTinyTleSuite, parseJsonlObjects, type TaskFiles } from './suite-files.js';
export { exactMatch, extractChoiceLetter, extractMathAnswer, normalizeSquad, scoreMath, scoreScience, tokenF1 } from './text-scorers.js';
export { DEFAULT_SANDBOX_LIMITS, runCodeCandidates, type CodeCandidate, type SandboxLimits } from './code-sandbox.js';
export { scoreOutputs, type ItemScore } from './score-items.js';
export { defaultModes, mixtureChangesDuringGeneration, planRuns, type EvalRun } from './eval-plan.js';
export { plannedItems, resultKey, runEvaluation, type EvalRunnerOptions, type ItemResult } from './eval-runner.js';
export { ANSWER_SLACK_TOKENS, answerTokenBudget } from './answer-budget.js';
export { RESULTS_FILE, RUN_FILE, openResultsLog, parseResultsLog, type ResultsLog, type RunIdentity } from './results-log.js';
export { renderJson, renderMarkdown, renderTable, runLabel, summarize, type CellResult, type EvalReport, type RunAverage } from './report.js';
export { renderSvgChart, type ChartOptions } from './svg-chart.js';
export { buildSuiteProfiles, DEFAULT_SUITE_BANK_SIZE, evenlySpaced, taskForAdapter, type SuiteProfileOptions, type SuiteProfiles } from './suite-profiles.js';
export { measureRoutingAccuracy, renderRoutingTable, type RoutingAccuracy, type RoutingAccuracyOptions } from './routing-accuracy.js';
export { measureRoutingSwitch, renderSwitchTable, type RoutingSwitch, type RoutingSwitchOptions, type RoutingTokenizer, type SwitchPair } from './routing-switch.js';
export { checkBenchModes, DEFAULT_BENCH_MODES, DEFAULT_BENCH_PROMPT, runBench, withoutEos, type BenchOptions, type BenchReport, type BenchRun } from './bench.js';
export { benchJson, benchSvg, benchTable } from './bench-report.js';
