// The graph input/output names of one pack, per layer: pack.json io holds templates such as
// 'past_key_values.{i}.key'; these functions fill them in, once per manifest object (a manifest
// is not changed after loading; every decode step asks again). Not the feed values (feed-arrays.ts).

import type { PackManifest } from '@lora-tle/spec';

export interface LayerNames {
  key: string;
  value: string;
}

export const layerName = (template: string, layer: number): string => template.replace('{i}', String(layer));

const pastNames = new WeakMap<PackManifest, readonly LayerNames[]>();
const presentNames = new WeakMap<PackManifest, readonly LayerNames[]>();
const outputNames = new WeakMap<PackManifest, { withHidden: readonly string[]; withoutHidden: readonly string[] }>();

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

/** What one step fetches: logits, present.* per layer, and the hidden output when asked and built. */
export function stepOutputNames(pack: PackManifest, hidden: boolean): readonly string[] {
  let names = outputNames.get(pack);
  if (names === undefined) {
    const withoutHidden = [pack.io.logits];
    for (const present of presentOutputNames(pack)) withoutHidden.push(present.key, present.value);
    const withHidden = pack.io.hidden === null ? withoutHidden : [...withoutHidden, pack.io.hidden];
    outputNames.set(pack, (names = { withHidden: Object.freeze(withHidden), withoutHidden: Object.freeze(withoutHidden) }));
  }
  return hidden ? names.withHidden : names.withoutHidden;
}
