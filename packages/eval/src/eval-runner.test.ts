// The eval loop end to end on a scripted backend (each adapter a specialist of its task): the real
// engine, router (fitted hashing embedder, paper strategy, profiles from train texts), scorers and code
// sandbox. Expected accuracies follow from the script: a specialist is right on its own task only,
// base is never right, uniform behaves like the first adapter (ties go to it), routing picks the
// right specialist on these clearly separated tasks.

import { contextRouterFrom, createEngine } from '@lora-tle/engine';
import { createRouter } from '@lora-tle/router';
import { describe, expect, it } from 'vitest';
import { planRuns, defaultModes } from './eval-plan.js';
import { resultKey, runEvaluation, type ItemResult } from './eval-runner.js';
import { summarize } from './report.js';
import { toEvalItem, type EvalSuite, type EvalTask, type TaskKind } from './suite.js';
import { buildSuiteProfiles } from './suite-profiles.js';
import { charTokenizer, createScriptedSession, type Specialist } from './test-support/scripted-backend.js';
import { formatPrompt } from '@lora-tle/tokenizer';

const RAW: Record<TaskKind, Record<string, unknown>[]> = {
  math: [
    { id: 'm0', question: 'Tom has 3 apples and buys 4 more. How many apples?', answer: '3 + 4 = 7.\n#### 7' },
    { id: 'm1', question: 'A box holds 12 pens; 5 are taken. How many pens are left?', answer: '12 - 5 = 7.\n#### 7' },
    { id: 'm2', question: 'Sara reads 6 pages a day for 3 days. How many pages?', answer: '6 * 3 = 18.\n#### 18' },
  ],
  science: [
    { id: 's0', question: 'Which organ pumps blood?', choices: [{ label: 'A', text: 'lung' }, { label: 'B', text: 'heart' }, { label: 'C', text: 'skin' }, { label: 'D', text: 'bone' }], answerKey: 'B' },
    { id: 's1', question: 'What do plants need for photosynthesis?', choices: [{ label: 'A', text: 'sunlight' }, { label: 'B', text: 'sand' }, { label: 'C', text: 'salt' }, { label: 'D', text: 'iron' }], answerKey: 'A' },
  ],
  code: [
    { id: 'c0', instruction: 'Write a JavaScript function that returns its argument plus 4.', input: 'function name: addFour', output: 'function addFour(x) {\n  return x + 4;\n}', entryPoint: 'addFour', tests: [{ args: [1], expected: 5 }, { args: [-4], expected: 0 }] },
    { id: 'c1', instruction: 'Write a JavaScript function that checks whether an array contains 2.', input: 'function name: hasTwo', output: 'function hasTwo(arr) {\n  return arr.includes(2);\n}', entryPoint: 'hasTwo', tests: [{ args: [[1, 2]], expected: true }, { args: [[3]], expected: false }] },
  ],
  reading: [
    { id: 'r0', context: 'Dora has a white van. Hanna lives in Lima.', question: 'Where does Hanna live?', answer: 'Lima' },
    { id: 'r1', context: 'Bruno plays the drums. The favorite food of Bruno is rice.', question: 'What is the favorite food of Bruno?', answer: 'rice' },
  ],
};

function makeSuite(): EvalSuite {
  const tasks: EvalTask[] = (Object.keys(RAW) as TaskKind[]).map((kind) => {
    const template = { math: 'gsm8k', science: 'arc', code: 'codealpaca', reading: 'squad' }[kind];
    return {
      name: kind,
      kind,
      template,
      items: RAW[kind].map((raw, i) => toEvalItem(kind, kind, i, raw)),
      trainTexts: RAW[kind].map((raw) => formatPrompt(template, raw, { withAnswer: true })),
    };
  });
  return { name: 'scripted', tasks };
}

function specialists(suite: EvalSuite): Specialist[] {
  return suite.tasks.map((task) => ({
    adapter: task.name,
    answers: new Map(task.items.map((item) => [item.prompt, item.gold])),
    otherwise: 'nothing useful',
  }));
}

async function setup() {
  const suite = makeSuite();
  const session = createScriptedSession(specialists(suite));
  const adapters = suite.tasks.map((task) => task.name);
  const { embedder, profiles } = await buildSuiteProfiles({ suite, adapters }); // hashing, fitted over the train texts
  const router = contextRouterFrom(createRouter({ embedder, profiles, adapters, strategy: 'paper', schedule: 'token' }));
  const engine = createEngine({ session, tokenizer: charTokenizer, router });
  return { suite, session, engine, adapters };
}

describe('runEvaluation', () => {
  it('scores every mode as the script dictates, batch by batch', async () => {
    const { suite, engine, adapters } = await setup();
    const runs = planRuns(defaultModes(adapters));
    expect(runs.map((run) => `${run.mode}/${run.kv}`)).toEqual([
      'base/reuse', 'adapter:math/reuse', 'adapter:science/reuse', 'adapter:code/reuse', 'adapter:reading/reuse',
      'uniform/reuse', 'prompt/reuse', 'token/reuse', 'token/recompute', 'every:2/reuse', 'every:2/recompute',
    ]);
    const results: ItemResult[] = [];
    const cells: string[] = [];
    await runEvaluation({
      engine, suite, runs, batchSize: 2, maxNewTokens: () => 64,
      onResult: (result) => void results.push(result),
      onCell: (cell) => void cells.push(`${cell.task}/${cell.mode}/${cell.kv}`),
    });
    expect(results).toHaveLength(9 * runs.length);
    expect(cells).toHaveLength(4 * runs.length);
    const report = summarize(suite.name, adapters, runs, results);
    const accuracy = (task: string, mode: string, kv = 'reuse') => report.results.find((c) => c.task === task && c.mode === mode && c.kv === kv)!.accuracy;
    for (const task of adapters) {
      expect(accuracy(task, 'base')).toBe(0);
      for (const adapter of adapters) expect(accuracy(task, `adapter:${adapter}`)).toBe(task === adapter ? 1 : 0);
      expect(accuracy(task, 'uniform')).toBe(task === 'math' ? 1 : 0);
      for (const mode of ['prompt', 'token', 'every:2']) expect(accuracy(task, mode)).toBe(1);
      expect(accuracy(task, 'token', 'recompute')).toBe(1);
    }
    // the reading cell carries F1; the average weighs tasks equally
    expect(report.results.find((c) => c.task === 'reading' && c.mode === 'token')!.f1).toBe(1);
    expect(report.averages.find((a) => a.mode === 'adapter:code')!.accuracy).toBe(0.25);
    const codeOutput = results.find((r) => r.task === 'code' && r.mode === 'token' && r.id === 'c0')!;
    expect(codeOutput.output).toBe('function addFour(x) {\n  return x + 4;\n}');
    expect(codeOutput.tokens).toBe(codeOutput.output.length + 1); // " " + text, EOS not counted
  }, 60_000);

  it('shows routed modes only the last routingWindow tokens of the context', async () => {
    const suite = makeSuite();
    const adapters = suite.tasks.map((task) => task.name);
    const { embedder, profiles } = await buildSuiteProfiles({ suite, adapters });
    const inner = contextRouterFrom(createRouter({ embedder, profiles, adapters, strategy: 'paper', schedule: 'token' }));
    const seen: { text: string; ids: number }[] = [];
    const router = { adapters: inner.adapters, route: (request: Parameters<typeof inner.route>[0]) => (seen.push({ text: request.text, ids: request.tokenIds.length }), inner.route(request)) };
    const engine = createEngine({ session: createScriptedSession(specialists(suite)), tokenizer: charTokenizer, router });
    const runs = planRuns(['token'], ['reuse']);
    await runEvaluation({ engine, suite: { ...suite, tasks: suite.tasks.slice(0, 1) }, runs, maxNewTokens: () => 16, routingWindow: 12, onResult: () => {} });
    expect(seen.length).toBeGreaterThan(3);
    for (const request of seen) {
      expect(request.ids).toBe(12); // every prompt is longer than 12 characters
      expect(request.text.length).toBeLessThanOrEqual(12);
    }
    seen.length = 0;
    await runEvaluation({ engine, suite: { ...suite, tasks: suite.tasks.slice(0, 1) }, runs, maxNewTokens: () => 16, onResult: () => {} });
    expect(Math.min(...seen.map((request) => request.text.length))).toBeGreaterThan(12); // no window: the whole context
  }, 60_000);

  it('skips items already done (resume) and reports progress over all planned items', async () => {
    const { suite, session, engine } = await setup();
    const runs = planRuns(['adapter:math', 'token'], ['reuse']);
    const first: ItemResult[] = [];
    await runEvaluation({ engine, suite, runs, batchSize: 4, maxNewTokens: () => 64, onResult: (r) => void first.push(r) });
    const stepsAfterFirst = session.steps;
    const done = new Set(first.filter((r) => r.task !== 'reading').map(resultKey));
    const second: ItemResult[] = [];
    const progress: number[] = [];
    await runEvaluation({
      engine, suite, runs, batchSize: 4, maxNewTokens: () => 64, done,
      onResult: (r) => void second.push(r),
      onProgress: (finished, total) => void progress.push(finished / total),
    });
    expect(second.map((r) => `${r.task}/${r.mode}/${r.id}`)).toEqual(['reading/adapter:math/r0', 'reading/adapter:math/r1', 'reading/token/r0', 'reading/token/r1']);
    expect(second.map((r) => r.correct)).toEqual([false, false, true, true]);
    expect(session.steps).toBeGreaterThan(stepsAfterFirst);
    expect(progress[progress.length - 1]).toBe(1);
  }, 60_000);
});
