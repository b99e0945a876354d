// Routing profiles from a suite's training splits (the paper: the mean embedding of each adapter's
// formatted training examples), and which task's data belongs to which adapter. An adapter matches
// a task by name (`math` ↔ math), by kind (`math` ↔ gsm8k) or by the task's original dataset name
// (`gsm8k` ↔ math). By default the hashing embedder is fitted over all adapters' training texts
// (@lora-tle/router buildFittedProfiles) and returned with the profiles: route with that embedder.
// Each profile also keeps an example bank (64 by default, as `lora-tle profile`), so every strategy,
// `knn` included, can be evaluated on the suite.
// Not persistence (the adapter store) and not routing (the router).

import { buildFittedProfiles, buildProfile } from '@lora-tle/router';
import { LoraTleError, type Embedder, type TaskProfile } from '@lora-tle/spec';
import type { EvalSuite, EvalTask } from './suite.js';
import { KIND_OF_NAME } from './suite-files.js';

/** The suite task whose data trains/profiles `adapter`; null when none matches. */
export function taskForAdapter(adapter: string, tasks: readonly EvalTask[]): EvalTask | null {
  return (
    tasks.find((task) => task.name === adapter) ??
    tasks.find((task) => task.kind === adapter) ??
    tasks.find((task) => KIND_OF_NAME[adapter] === task.kind) ??
    null
  );
}

/**
 * The index in `adapters` of each task's own adapter (by taskForAdapter), for scoring where routing
 * went; E_PROFILE_MISSING names the tasks without one.
 */
export function ownAdapterIndices(tasks: readonly EvalTask[], adapters: readonly string[]): number[] {
  const own = tasks.map((task) => adapters.findIndex((adapter) => taskForAdapter(adapter, [task]) !== null));
  const unmatched = tasks.filter((_, i) => own[i] === -1).map((task) => task.name);
  if (unmatched.length > 0) {
    throw new LoraTleError('E_PROFILE_MISSING', `no adapter profile for task(s) ${unmatched.join(', ')} (adapters: ${adapters.join(', ')}); each task needs its own adapter to score routing`);
  }
  return own;
}

/** Up to `most` items at evenly spaced indices floor(j·n/most): deterministic, spread over the file. */
export function evenlySpaced<T>(items: readonly T[], most: number): T[] {
  if (items.length <= most) return [...items];
  return Array.from({ length: most }, (_, j) => items[Math.floor((j * items.length) / most)] as T);
}

export interface SuiteProfileOptions {
  suite: EvalSuite;
  adapters: readonly string[]; // pack order
  /**
   * 'hashing' (default): fit the hashing embedder over every adapter's training texts and build all
   * profiles with it. An Embedder instance is used as given (an unfitted hashing embedder stays unfitted).
   */
  embedder?: Embedder | 'hashing';
  /** Training texts averaged (and fitted on) per adapter at most (default 1500). */
  maxTrainTexts?: number;
  /** Example embeddings kept per profile for the `knn` strategy (default 64; 0 = none). */
  bankSize?: number;
}

export interface SuiteProfiles {
  /** The embedder the profiles were made with: route with this one (the fitted one for 'hashing'). */
  embedder: Embedder;
  profiles: TaskProfile[]; // pack order
}

export const DEFAULT_SUITE_BANK_SIZE = 64;

export async function buildSuiteProfiles({
  suite,
  adapters,
  embedder = 'hashing',
  maxTrainTexts = 1500,
  bankSize = DEFAULT_SUITE_BANK_SIZE,
}: SuiteProfileOptions): Promise<SuiteProfiles> {
  const textsByAdapter: Record<string, string[]> = {};
  for (const adapter of adapters) {
    const task = taskForAdapter(adapter, suite.tasks);
    if (task === null || task.trainTexts.length === 0) {
      throw new LoraTleError(
        'E_PROFILE_MISSING',
        `no training data for adapter "${adapter}" in the ${suite.name} suite (tasks: ${suite.tasks.map((t) => `${t.name}${t.trainTexts.length === 0 ? ' (no train split)' : ''}`).join(', ')}); ` +
          'name the adapter like its task (math/gsm8k, science/arc, code/codealpaca, reading/squad) and add a train.jsonl',
      );
    }
    textsByAdapter[adapter] = evenlySpaced(task.trainTexts, maxTrainTexts);
  }
  if (embedder === 'hashing') return buildFittedProfiles({ textsByAdapter, bankSize });
  const profiles: TaskProfile[] = [];
  for (const adapter of adapters) profiles.push(await buildProfile({ adapter, embedder, texts: textsByAdapter[adapter] as string[], bankSize }));
  return { embedder, profiles };
}
