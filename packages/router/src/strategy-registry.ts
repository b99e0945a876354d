// The strategy registry: turns a strategy spec (`paper`, `softmax:0.5`, `top-k:2`, `knn:8`,
// `fixed:math`, `uniform`, `base`, or a registered name) into a RoutingStrategy. A registry is an
// object: createStrategyRegistry() returns a fresh one holding the built-ins, and `register` adds
// strategies to that registry only (no module-level mutable state).

import { LoraTleError } from '@lora-tle/spec';
import type { RoutingStrategy } from '@lora-tle/spec';
import { createBaseStrategy, createFixedStrategy, createUniformStrategy } from './fixed-strategies.js';
import { createKnnStrategy, DEFAULT_KNN_K } from './knn-strategy.js';
import { createPaperStrategy, createSoftmaxStrategy, createTopKStrategy } from './similarity-strategies.js';

/** Builds a strategy from the spec's arguments: `top-k:2:0.5` → args ['2', '0.5']. */
export type StrategyFactory = (args: readonly string[]) => RoutingStrategy;

export interface StrategyRegistration {
  factory: StrategyFactory;
  /** How to write it, shown in error messages and help: `softmax[:T]`. Default: the name. */
  usage?: string;
}

export interface StrategyRegistry {
  /** Add a strategy under `name` (lower-case letters, digits, '-'); a taken name → E_STRATEGY. Returns the registry. */
  register(name: string, registration: StrategyFactory | StrategyRegistration): StrategyRegistry;
  /** Parse `name[:arg[:arg…]]` and build the strategy; unknown name → E_STRATEGY listing valid forms. */
  create(spec: string): RoutingStrategy;
  has(name: string): boolean;
  /** The usage line of every registered strategy, in registration order. */
  usages(): string[];
}

const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

export function createStrategyRegistry(): StrategyRegistry {
  const entries = new Map<string, { factory: StrategyFactory; usage: string }>();

  const registry: StrategyRegistry = {
    register(name, registration) {
      if (!NAME_PATTERN.test(name)) {
        throw new LoraTleError('E_STRATEGY', `strategy name "${name}" is invalid; use lower-case letters, digits and '-', starting with a letter`);
      }
      if (entries.has(name)) {
        throw new LoraTleError('E_STRATEGY', `a strategy named "${name}" is already registered; pick another name`);
      }
      const { factory, usage = name } = typeof registration === 'function' ? { factory: registration } : registration;
      entries.set(name, { factory, usage });
      return registry;
    },
    create(spec) {
      const [name = '', ...args] = spec.trim().split(':');
      const entry = entries.get(name);
      if (entry === undefined) {
        throw new LoraTleError('E_STRATEGY', `unknown routing strategy "${spec}"; valid strategies: ${registry.usages().join(', ')}`, {
          details: { spec, valid: registry.usages() },
        });
      }
      return entry.factory(args);
    },
    has: (name) => entries.has(name),
    usages: () => [...entries.values()].map((entry) => entry.usage),
  };

  registry
    .register('paper', { usage: 'paper', factory: (args) => (expectArgs('paper', args, 0, 'paper'), createPaperStrategy()) })
    .register('softmax', {
      usage: 'softmax[:T]',
      factory: (args) => {
        expectArgs('softmax', args, 1, 'softmax[:T]');
        return createSoftmaxStrategy({ temperature: numberArg(args[0], 1, 'softmax temperature T', 'softmax[:T]') });
      },
    })
    .register('top-k', {
      usage: 'top-k:<k>[:T]',
      factory: (args) => {
        expectArgs('top-k', args, 2, 'top-k:<k>[:T]');
        if (args[0] === undefined) throw new LoraTleError('E_STRATEGY', 'top-k needs k; write top-k:<k>[:T], e.g. top-k:2');
        return createTopKStrategy({
          k: numberArg(args[0], 0, 'top-k k', 'top-k:<k>[:T]'),
          temperature: numberArg(args[1], 1, 'top-k temperature T', 'top-k:<k>[:T]'),
        });
      },
    })
    .register('knn', {
      usage: 'knn[:k]',
      factory: (args) => (expectArgs('knn', args, 1, 'knn[:k]'), createKnnStrategy({ k: numberArg(args[0], DEFAULT_KNN_K, 'knn k', 'knn[:k]') })),
    })
    .register('fixed', {
      usage: 'fixed:<adapter>',
      factory: (args) => createFixedStrategy(args.join(':')), // adapter names may contain ':'
    })
    .register('uniform', { usage: 'uniform', factory: (args) => (expectArgs('uniform', args, 0, 'uniform'), createUniformStrategy()) })
    .register('base', { usage: 'base', factory: (args) => (expectArgs('base', args, 0, 'base'), createBaseStrategy()) });
  return registry;
}

/** A built-in strategy from its spec (a fresh built-ins registry). */
export function createStrategy(spec: string): RoutingStrategy {
  return createStrategyRegistry().create(spec);
}

function expectArgs(name: string, args: readonly string[], most: number, usage: string): void {
  if (args.length > most) throw new LoraTleError('E_STRATEGY', `${name} takes at most ${most} argument(s); write ${usage}`);
}

/** A numeric strategy argument; absent or empty → fallback; not a number → E_STRATEGY. */
export function numberArg(text: string | undefined, fallback: number, what: string, usage: string): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new LoraTleError('E_STRATEGY', `${what} must be a number, got "${text}"; write ${usage}`);
  return value;
}
