// The graph input/output names of one pack, per layer: pack.json io holds templates such as
// 'past_key_values.{i}.key'; these functions fill them in. Not the feed values (feed-arrays.ts).

import type { PackManifest } from '@lora-tle/spec';

export interface LayerNames {
  key: string;
  value: string;
}

export const layerName = (template: string, layer: number): string => template.replace('{i}', String(layer));

/** past_key_values.{i}.key/value for every layer. */
export function pastInputNames(pack: PackManifest): LayerNames[] {
  const { io, architecture } = pack;
  return Array.from({ length: architecture.numLayers }, (_, layer) => ({ key: layerName(io.pastKey, layer), value: layerName(io.pastValue, layer) }));
}

/** present.{i}.key/value for every layer. */
export function presentOutputNames(pack: PackManifest): LayerNames[] {
  const { io, architecture } = pack;
  return Array.from({ length: architecture.numLayers }, (_, layer) => ({ key: layerName(io.presentKey, layer), value: layerName(io.presentValue, layer) }));
}

/** What one step fetches: logits, present.* per layer, and the hidden output when asked and built. */
export function stepOutputNames(pack: PackManifest, hidden: boolean): string[] {
  const names = [pack.io.logits];
  for (const present of presentOutputNames(pack)) names.push(present.key, present.value);
  if (hidden && pack.io.hidden !== null) names.push(pack.io.hidden);
  return names;
}
