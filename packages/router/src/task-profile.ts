// Task profiles: an adapter's routing profile is the mean embedding of its formatted training
// examples (the paper), plus an optional bank of example embeddings for k-nearest routing.
// This file builds profiles and checks a profile set against an embedder and an adapter list.
// It does not read files (jsonl-texts.ts) or persist profiles (@lora-tle/lora-store does).

import { LoraTleError } from '@lora-tle/spec';
import type { Embedder, TaskProfile } from '@lora-tle/spec';
import { assertProfileEmbedder, embedderRefOf } from './embedder-ref.js';

export interface BuildProfileOptions {
  adapter: string;
  embedder: Embedder;
  /** The adapter's training examples, formatted as it was trained (prompt + answer). */
  texts: readonly string[];
  /** Keep up to this many example embeddings for `knn` routing (default 0: no bank). */
  bankSize?: number;
  /** Texts per `embed` call (default 64). */
  batchSize?: number;
  onProgress?: (progress: { done: number; total: number }) => void;
}

/**
 * Embed every text and average. The bank keeps the examples at evenly spaced indices
 * floor(j·n/bankSize), j = 0..bankSize−1: deterministic and spread over the whole file.
 */
export async function buildProfile(options: BuildProfileOptions): Promise<TaskProfile> {
  const { adapter, embedder, texts, bankSize = 0, batchSize = 64, onProgress } = options;
  if (texts.length === 0) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `cannot build a routing profile for adapter "${adapter}" from 0 texts; pass its formatted training examples`);
  }
  if (!Number.isInteger(bankSize) || bankSize < 0) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `bankSize must be a non-negative integer, got ${bankSize}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `batchSize must be a positive integer, got ${batchSize}`);
  }
  const bankCount = Math.min(bankSize, texts.length);
  const bankIndices = new Set<number>();
  for (let j = 0; j < bankCount; j++) bankIndices.add(Math.floor((j * texts.length) / bankCount));

  const sum = new Float64Array(embedder.dimension); // (D,) float64 so 10^5 examples average exactly enough
  const bank: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    const vectors = await embedder.embed(batch);
    vectors.forEach((vector, offset) => {
      if (vector.length !== embedder.dimension) {
        throw new LoraTleError('E_EMBEDDER', `embedder "${embedder.id}" returned a ${vector.length}-dim vector but declares dimension ${embedder.dimension}`);
      }
      for (let i = 0; i < vector.length; i++) sum[i] = (sum[i] as number) + (vector[i] as number);
      if (bankIndices.has(start + offset)) bank.push(vector);
    });
    onProgress?.({ done: Math.min(start + batchSize, texts.length), total: texts.length });
  }
  const mean = new Float32Array(embedder.dimension);
  for (let i = 0; i < mean.length; i++) mean[i] = (sum[i] as number) / texts.length;

  const profile: TaskProfile = { adapter, embedder: embedderRefOf(embedder), mean, count: texts.length };
  if (bankCount > 0) profile.bank = bank;
  return profile;
}

/**
 * The profiles for `adapters`, in that order, each checked against the embedder.
 * Missing → E_PROFILE_MISSING; made by another embedder → E_PROFILE_EMBEDDER.
 */
export function selectProfiles(profiles: readonly TaskProfile[], adapters: readonly string[], embedder: Embedder): TaskProfile[] {
  return adapters.map((adapter) => {
    const profile = profiles.find((candidate) => candidate.adapter === adapter);
    if (profile === undefined) {
      throw new LoraTleError(
        'E_PROFILE_MISSING',
        `adapter "${adapter}" has no routing profile; build one with \`lora-tle profile ${adapter} --embedder ${embedder.id}\``,
        { details: { adapter, available: profiles.map((candidate) => candidate.adapter) } },
      );
    }
    assertProfileEmbedder(profile, embedder);
    return profile;
  });
}
