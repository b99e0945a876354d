// Builds the tensors of one backend step for a batch of rows: left padding with an attention mask
// and explicit position ids (each row counts positions from its own first real token), and the
// one-token decode step that extends them. Pure functions; not the loop.

export interface PaddedBatch {
  inputIds: Int32Array; // (B, T) row-major, pads on the left
  attentionMask: Uint8Array; // (B, T) 1 real, 0 pad
  positionIds: Int32Array; // (B, T) 0.. per row's real tokens; 0 on pads (masked anyway)
  batchSize: number;
  sequenceLength: number; // T = longest row
}

export function leftPad(rows: readonly (readonly number[])[], padTokenId: number): PaddedBatch {
  const batchSize = rows.length;
  const sequenceLength = Math.max(...rows.map((row) => row.length));
  const inputIds = new Int32Array(batchSize * sequenceLength).fill(padTokenId);
  const attentionMask = new Uint8Array(batchSize * sequenceLength);
  const positionIds = new Int32Array(batchSize * sequenceLength);
  rows.forEach((row, b) => {
    const pads = sequenceLength - row.length;
    for (let j = 0; j < row.length; j++) {
      const at = b * sequenceLength + pads + j;
      inputIds[at] = row[j]!;
      attentionMask[at] = 1;
      positionIds[at] = j;
    }
  });
  return { inputIds, attentionMask, positionIds, batchSize, sequenceLength };
}

/** The mask after appending one real token to every row: (B, past) → (B, past + 1). */
export function extendMask(mask: Uint8Array, batchSize: number): Uint8Array {
  const past = mask.length / batchSize;
  const next = new Uint8Array(batchSize * (past + 1));
  for (let b = 0; b < batchSize; b++) {
    next.set(mask.subarray(b * past, (b + 1) * past), b * (past + 1));
    next[b * (past + 1) + past] = 1;
  }
  return next;
}

/** Logits of one row from a step output (B, P, V) where P positions per row; the last position. */
export function lastLogitsOfRow(logits: Float32Array, row: number, positions: number, vocabSize: number): Float32Array {
  const start = (row * positions + positions - 1) * vocabSize;
  return logits.subarray(start, start + vocabSize);
}
