// The graph input/output names of one pack, per layer: pack.json io holds templates such as
// 'past_key_values.{i}.key'; these functions fill them in, once per manifest object (a manifest
// is not changed after loading; every decode step asks again), and what a step fetches. Not the
// feed values (feed-arrays.ts).

import { LoraTleError } from '@lora-tle/spec';
import type { PackManifest } from '@lora-tle/spec';

export interface LayerNames {
  key: string;
  value: string;
}

export const layerName = (template: string, layer: number): string => template.replace('{i}', String(layer));

const pastNames = new WeakMap<PackManifest, readonly LayerNames[]>();
const presentNames = new WeakMap<PackManifest, readonly LayerNames[]>();
/** Per pack: kv → [without hidden, with hidden] fetch lists (no key string built per step). */
const outputNames = new WeakMap<PackManifest, Partial<Record<StepKvOutputs, [readonly string[], readonly string[]]>>>();

/** Which K/V outputs a step fetches: the whole present.*, only the rows it appended (pack.io.appended), or none (keepCache false). */
export type StepKvOutputs = 'present' | 'appended' | 'none';

function perLayer(pack: PackManifest, keyTemplate: string, valueTemplate: string): readonly LayerNames[] {
  return Object.freeze(Array.from({ length: pack.architecture.numLayers }, (_, layer) => Object.freeze({ key: layerName(keyTemplate, layer), value: layerName(valueTemplate, layer) })));
}

/** past_key_values.{i}.key/value for every layer. */
export function pastInputNames(pack: PackManifest): readonly LayerNames[] {
  let names = pastNames.get(pack);
  if (names === undefined) pastNames.set(pack, (names = perLayer(pack, pack.io.pastKey, pack.io.pastValue)));
  return names;
}

/** present.{i}.key/value for every layer. */
export function presentOutputNames(pack: PackManifest): readonly LayerNames[] {
  let names = presentNames.get(pack);
  if (names === undefined) presentNames.set(pack, (names = perLayer(pack, pack.io.presentKey, pack.io.presentValue)));
  return names;
}

/** The output of every layer's appended K/V rows (pack.io.appended), or null for a pack built without it. */
export function appendedOutputName(pack: PackManifest): string | null {
  return typeof pack.io.appended === 'string' && pack.io.appended.length > 0 ? pack.io.appended : null;
}

/** pack.io.appended; E_PACK_INVALID for a pack built without it. */
export function requireAppendedOutputName(pack: PackManifest): string {
  const name = appendedOutputName(pack);
  if (name === null) throw new LoraTleError('E_PACK_INVALID', 'the pack was built without the appended_key_values output; rebuild it with `lora-tle build`');
  return name;
}

/**
 * What one step fetches: logits, the K/V outputs (present.* per layer by default; the one output of
 * appended rows with kv = 'appended', which needs a pack built with it; none with 'none') and the
 * hidden output when asked and built.
 */
export function stepOutputNames(pack: PackManifest, hidden: boolean, kv: StepKvOutputs = 'present'): readonly string[] {
  let perKv = outputNames.get(pack);
  if (perKv === undefined) outputNames.set(pack, (perKv = {}));
  let lists = perKv[kv];
  if (lists === undefined) {
    const withoutHidden = [pack.io.logits];
    if (kv === 'present') for (const layer of presentOutputNames(pack)) withoutHidden.push(layer.key, layer.value);
    if (kv === 'appended') withoutHidden.push(requireAppendedOutputName(pack));
    const withHidden = pack.io.hidden === null ? withoutHidden : [...withoutHidden, pack.io.hidden];
    perKv[kv] = lists = [Object.freeze(withoutHidden), Object.freeze(withHidden)];
  }
  return lists[hidden ? 1 : 0];
}

/** Every output of the pack's graph: logits, present.*, the hidden output and the appended rows where built. */
export function graphOutputNames(pack: PackManifest): string[] {
  const appended = appendedOutputName(pack);
  return [...stepOutputNames(pack, true), ...(appended === null ? [] : [appended])];
}
