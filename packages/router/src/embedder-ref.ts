// Embedder identity: two embedders make comparable vectors only if their id and every setting match.
// This file compares refs and refuses a profile made by another embedder. It does not embed.

import { LoraTleError } from '@lora-tle/spec';
import type { EmbedderRef, TaskProfile } from '@lora-tle/spec';

/** The plain ref (id + a copy of the settings) of an embedder, for storing next to a profile. */
export function embedderRefOf(embedder: EmbedderRef): EmbedderRef {
  return { id: embedder.id, settings: { ...embedder.settings } };
}

/** True when both refs have the same id and exactly the same settings (keys and values). */
export function sameEmbedderRef(left: EmbedderRef, right: EmbedderRef): boolean {
  if (left.id !== right.id) return false;
  const leftKeys = Object.keys(left.settings).sort();
  const rightKeys = Object.keys(right.settings).sort();
  if (leftKeys.length !== rightKeys.length) return false;
  return leftKeys.every((key, index) => key === rightKeys[index] && left.settings[key] === right.settings[key]);
}

/** `hashing{charMax=6, dimension=4096, …}`: the one-line form used in messages. */
export function describeEmbedderRef(ref: EmbedderRef): string {
  const settings = Object.keys(ref.settings)
    .sort()
    .map((key) => `${key}=${String(ref.settings[key])}`);
  return `${ref.id}{${settings.join(', ')}}`;
}

/** Throw E_PROFILE_EMBEDDER unless `profile` was made by `embedder` (same ref, same dimension). */
export function assertProfileEmbedder(profile: TaskProfile, embedder: EmbedderRef & { readonly dimension: number }): void {
  const differences = settingDifferences(profile.embedder, embedder);
  const sameRef = sameEmbedderRef(profile.embedder, embedder);
  if (sameRef && profile.mean.length === embedder.dimension) return;
  const what = sameRef
    ? `its mean vector has ${profile.mean.length} dims but the embedder makes ${embedder.dimension}`
    : profile.embedder.id !== embedder.id
      ? `it was made by embedder "${profile.embedder.id}" but the router uses "${embedder.id}"`
      : `it was made with other ${embedder.id} settings (${differences.join('; ')})`;
  throw new LoraTleError(
    'E_PROFILE_EMBEDDER',
    `the routing profile of adapter "${profile.adapter}" cannot be used: ${what}. ` +
      `Rebuild it with \`lora-tle profile ${profile.adapter} --embedder ${embedder.id}\` (same settings as the router), ` +
      'or route with the embedder that made it.',
    { details: { adapter: profile.adapter, profileEmbedder: describeEmbedderRef(profile.embedder), routerEmbedder: describeEmbedderRef(embedder) } },
  );
}

function settingDifferences(profileRef: EmbedderRef, routerRef: EmbedderRef): string[] {
  const keys = [...new Set([...Object.keys(profileRef.settings), ...Object.keys(routerRef.settings)])].sort();
  return keys
    .filter((key) => profileRef.settings[key] !== routerRef.settings[key])
    .map((key) => `${key}: profile ${String(profileRef.settings[key] ?? '(unset)')}, router ${String(routerRef.settings[key] ?? '(unset)')}`);
}
