// Routing modes of a generation request and the mixture planner that applies one: routed modes
// (`token`, `every:k`, `prompt`) ask a ContextRouter; fixed modes (`base`, `uniform`,
// `adapter:<name>`) need none. Not a routing strategy: strategies live in @lora-tle/router and are
// reached through the ContextRouter seam below.

import type { AdapterMix } from '@lora-tle/spec';
import { LoraTleError } from '@lora-tle/spec';

export type RoutingMode =
  | { kind: 'token' } // route before every token
  | { kind: 'every'; k: number } // route at steps 0, k, 2k, …
  | { kind: 'prompt' } // route once, on the prompt
  | { kind: 'base' } // all weights 0: the base model
  | { kind: 'uniform' } // every adapter 1/N
  | { kind: 'adapter'; name: string }; // one adapter, weight 1

/** What the router sees at one step: the prompt plus what was generated so far (maybe windowed). */
export interface RoutingRequest {
  text: string;
  tokenIds: readonly number[];
  step: number; // 0 at the prompt, then one per generated token
}

/** The seam to @lora-tle/router: embed the context, apply a strategy to the profiles. */
export interface ContextRouter {
  readonly adapters: readonly string[];
  route(request: RoutingRequest): Promise<AdapterMix>;
  /** The same mix without a promise when the router can give it now, else undefined (then route is called). */
  routeSync?(request: RoutingRequest): AdapterMix | undefined;
}

export function parseRoutingMode(text: string): RoutingMode {
  if (text === 'token' || text === 'prompt' || text === 'base' || text === 'uniform') return { kind: text };
  const every = /^every:(\d+)$/.exec(text);
  if (every) {
    const k = Number(every[1]);
    if (k >= 1) return k === 1 ? { kind: 'token' } : { kind: 'every', k };
  }
  if (text.startsWith('adapter:') && text.length > 'adapter:'.length) {
    return { kind: 'adapter', name: text.slice('adapter:'.length) };
  }
  throw new LoraTleError(
    'E_SCHEDULE',
    `unknown routing mode "${text}"; use token, prompt, every:<k ≥ 1>, base, uniform or adapter:<name>`,
  );
}

export function formatRoutingMode(mode: RoutingMode): string {
  if (mode.kind === 'every') return `every:${mode.k}`;
  if (mode.kind === 'adapter') return `adapter:${mode.name}`;
  return mode.kind;
}

export function needsRouter(mode: RoutingMode): boolean {
  return mode.kind === 'token' || mode.kind === 'every' || mode.kind === 'prompt';
}

/** True when the planner must route (call the router) before step `step`. */
export function routesAtStep(mode: RoutingMode, step: number): boolean {
  if (mode.kind === 'token') return true;
  if (mode.kind === 'every') return step % mode.k === 0;
  if (mode.kind === 'prompt') return step === 0;
  return false;
}

/** The mixture of a fixed mode, in `adapters` order. */
export function fixedMix(mode: RoutingMode, adapters: readonly string[]): AdapterMix {
  const weights = new Float32Array(adapters.length);
  if (mode.kind === 'uniform') weights.fill(adapters.length === 0 ? 0 : 1 / adapters.length);
  if (mode.kind === 'adapter') {
    const index = adapters.indexOf(mode.name);
    if (index === -1) {
      throw new LoraTleError(
        'E_UNKNOWN_ADAPTER',
        `adapter "${mode.name}" is not in the model pack; the pack has: ${adapters.join(', ') || '(none)'}`,
      );
    }
    weights[index] = 1;
  }
  return { adapters: [...adapters], weights };
}

/** Re-orders a router's mixture into pack order; an adapter the pack lacks is an error. */
export function alignMix(mix: AdapterMix, packAdapters: readonly string[]): AdapterMix {
  const same = mix.adapters.length === packAdapters.length && mix.adapters.every((name, i) => name === packAdapters[i]);
  if (same) return mix;
  const weights = new Float32Array(packAdapters.length);
  mix.adapters.forEach((name, i) => {
    const index = packAdapters.indexOf(name);
    if (index === -1) {
      throw new LoraTleError(
        'E_UNKNOWN_ADAPTER',
        `the router chose adapter "${name}", which the model pack does not have (pack: ${packAdapters.join(', ')}); ` +
          'build the store profiles for the adapters of this pack',
      );
    }
    weights[index] = mix.weights[i]!;
  });
  return { adapters: [...packAdapters], weights };
}

/**
 * Decides the mixture of each step for one sequence. Routed modes keep the last routed mixture
 * between routing steps (`every:k`, `prompt`).
 */
export class MixPlanner {
  private current: AdapterMix | null = null;
  private readonly fixed: AdapterMix | null;
  private inPackOrder: readonly string[] | null = null; // a mix's adapters array found in pack order

  constructor(
    readonly mode: RoutingMode,
    private readonly packAdapters: readonly string[],
    private readonly router: ContextRouter | null,
  ) {
    if (needsRouter(mode) && !router) {
      throw new LoraTleError(
        'E_INVALID_ARGUMENT',
        `routing mode "${formatRoutingMode(mode)}" needs a router (an adapter store with profiles); ` +
          'pass one, or use base, uniform or adapter:<name>',
      );
    }
    this.fixed = needsRouter(mode) ? null : fixedMix(mode, packAdapters);
  }

  /** True when `mixFor(step)` will call the router (and so needs the context text). */
  routesAt(step: number): boolean {
    return routesAtStep(this.mode, step);
  }

  /** The mix of step `step`: synchronously when the router can route without waiting (routeSync), else a promise. */
  mixFor(step: number, context: () => RoutingRequest): AdapterMix | Promise<AdapterMix> {
    if (this.fixed) return this.fixed;
    if (this.current && !this.routesAt(step)) return this.current;
    const request = context();
    const now = this.router!.routeSync?.(request);
    if (now !== undefined) return (this.current = this.aligned(now));
    return this.router!.route(request).then((mix) => (this.current = this.aligned(mix)));
  }

  // alignMix, skipping the name check for an adapters array already found in pack order (a router
  // returns the same array every step)
  private aligned(mix: AdapterMix): AdapterMix {
    if (mix.adapters === this.inPackOrder) return mix;
    const result = alignMix(mix, this.packAdapters);
    if (result === mix) this.inPackOrder = mix.adapters;
    return result;
  }
}
