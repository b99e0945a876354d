// Small vector helpers the router needs around embeddings: L2 normalisation and averaging.
// Similarity and weighting formulas are not here: they live in @lora-tle/mixing.

/** Scale `vector` to unit L2 norm in place; a zero vector stays zero. Returns `vector`. */
export function normalizeL2InPlace(vector: Float32Array): Float32Array {
  let sumOfSquares = 0;
  for (let i = 0; i < vector.length; i++) sumOfSquares += (vector[i] as number) ** 2;
  if (sumOfSquares === 0) return vector;
  const inverseNorm = 1 / Math.sqrt(sumOfSquares);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) * inverseNorm;
  return vector;
}

/** L2 norm, in float64. */
export function l2Norm(vector: Float32Array): number {
  let sumOfSquares = 0;
  for (let i = 0; i < vector.length; i++) sumOfSquares += (vector[i] as number) ** 2;
  return Math.sqrt(sumOfSquares);
}
