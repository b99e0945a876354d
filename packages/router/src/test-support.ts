// Test helpers for the router package: hand-made profiles and route inputs. Not exported.

import type { EmbedderRef, RouteInput, TaskProfile } from '@lora-tle/spec';

export const TEST_EMBEDDER: EmbedderRef = { id: 'test', settings: { dimension: 3 } };

export function makeProfile(adapter: string, mean: number[], bank?: number[][]): TaskProfile {
  const profile: TaskProfile = { adapter, embedder: TEST_EMBEDDER, mean: Float32Array.from(mean), count: 1 };
  if (bank !== undefined) profile.bank = bank.map((vector) => Float32Array.from(vector));
  return profile;
}

export function makeRouteInput(embedding: number[], profiles: TaskProfile[]): RouteInput {
  return {
    context: { text: '', tokenIds: [], embedding: Float32Array.from(embedding), step: 0 },
    profiles,
    adapters: profiles.map((profile) => profile.adapter),
  };
}

export function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  return total;
}
