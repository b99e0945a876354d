// Places a model pack's weights in the kernels' memory, laid out as the graph stores them
// (docs/model-pack.md): per layer, each group of linear modules that read one input (q/k/v, o,
// gate/up, down) as one matrix (in, Σ out + Σ R) — the transposed base weights, then the stacked A
// factors of the adapters that target the group — packed in panels of 16 columns (the LM head too)
// so that a product streams them in order, and one Bᵀ (R_m, out_m) per module (copied out
// of the block-diagonal Bᵀ when the pack fused them), plus the norm weights and RoPE tables. The
// rank-row → adapter map is rebuilt from pack.json (each adapter's moduleRanks, else its rank on
// every layer's targetModules) and checked against the stored sizes. Not the forward
// (decoder-step.ts).

import { LoraTleError, modulePath, moduleShape } from '@lora-tle/spec';
import type { LlamaLinearModule, PackManifest } from '@lora-tle/spec';
import type { ExternalDataReference } from '@lora-tle/backend-core';
import { panelsOf, type WasmHeap } from './wasm-heap.js';

/** One module of a group that adapters target. */
export interface LoraPart {
  kind: LlamaLinearModule;
  column: number; // first output of this module in the group's (Σ out)
  outFeatures: number;
  rankOffset: number; // first rank row of this module in the group's (Σ R)
  rank: number; // R_m: the rank rows of every adapter targeting the module
  rowAdapter: Int32Array; // (R_m) pack index of the adapter of each rank row
  adapters: number[]; // the adapters of those rows, in order, once each
  bTransposed: number; // address of Bᵀ (R_m, out_m)
}

/**
 * Linear modules that read one input: y (Σ out) = Wᵀ x (+ bias) (+ the mixed LoRA delta). The base
 * weights and the stacked A factors share the input, so they are one matrix: one pass over x gives
 * y and z = Aᵀ_cat x side by side.
 */
export interface FusedLinear {
  inFeatures: number;
  outFeatures: number; // Σ out
  totalRank: number; // Σ R (0 without adapters)
  weights: number; // address of (in, Σ out + Σ R) in panels (WasmHeap.placePanels): Wᵀ of the modules, then Aᵀ_cat
  panels: number; // panels of `weights`: a product writes PANEL_COLUMNS·panels ≥ Σ out + Σ R columns
  bias: Float32Array | null;
  parts: LoraPart[];
}

export interface LayerWeights {
  inputNorm: number; // address of (H)
  qkv: FusedLinear; // (Σ out) = q (n_heads·d), k (n_kv·d), v (n_kv·d)
  o: FusedLinear;
  postAttentionNorm: number;
  gateUp: FusedLinear; // gate (I), up (I)
  down: FusedLinear;
}

export interface ModelWeights {
  embedding: number; // address of (V, H)
  lmHead: number; // address of (H, V) in panels: the LM head (the embedding when tied) transposed
  finalNorm: number; // address of (H)
  ropeCos: number; // address of (max positions, d/2)
  ropeSin: number;
  layers: LayerWeights[];
}

const GROUPS: readonly (readonly LlamaLinearModule[])[] = [['q_proj', 'k_proj', 'v_proj'], ['o_proj'], ['gate_proj', 'up_proj'], ['down_proj']];

/** Reads the pack's weight files through `readFile` (a file name inside the pack → its bytes). */
export function placeWeights(heap: WasmHeap, pack: PackManifest, references: readonly ExternalDataReference[], readFile: (location: string) => Uint8Array): ModelWeights {
  const byName = new Map(references.map((reference) => [reference.tensor, reference]));
  const files = new Map<string, Uint8Array>();
  const arch = pack.architecture;
  const { hiddenSize: H, vocabSize: V, headDim: d, numLayers } = arch;

  const floats = (name: string, count: number): Float32Array => {
    const reference = byName.get(name);
    if (!reference) throw new LoraTleError('E_PACK_INVALID', `model pack: tensor ${name} is not in ${pack.files.model}; rebuild the pack with \`lora-tle build\``);
    const length = reference.length ?? count * 4;
    if (length !== count * 4) {
      throw new LoraTleError('E_PACK_EXTERNAL_DATA', `model pack: tensor ${name} has ${length} bytes, expected ${count * 4} for this architecture; rebuild the pack with \`lora-tle build\``);
    }
    let bytes = files.get(reference.location);
    if (!bytes) {
      bytes = readFile(reference.location);
      files.set(reference.location, bytes);
    }
    if (reference.offset + length > bytes.length) {
      throw new LoraTleError('E_PACK_EXTERNAL_DATA', `model pack: ${reference.location} is ${bytes.length} bytes but tensor ${name} needs bytes ${reference.offset}..${reference.offset + length} (truncated or wrong file); rebuild the pack with \`lora-tle build\``);
    }
    const start = bytes.byteOffset + reference.offset;
    if (start % 4 === 0) return new Float32Array(bytes.buffer, start, count);
    return new Float32Array(bytes.slice(reference.offset, reference.offset + length).buffer);
  };
  const place = (name: string, count: number): number => {
    const values = floats(name, count);
    const at = heap.alloc(count, name);
    heap.f32.set(values, at / 4);
    return at;
  };
  const copy = (name: string, count: number): Float32Array => Float32Array.from(floats(name, count));

  const fused = (layer: number, kinds: readonly LlamaLinearModule[]): FusedLinear => {
    const group = `model.layers.${layer}.${kinds.join('+')}`;
    const shapes = kinds.map((kind) => moduleShape(arch, kind)); // [out, in]
    const inFeatures = (shapes[0] as [number, number])[1];
    const outFeatures = shapes.reduce((sum, [out]) => sum + out, 0);
    const bias = byName.has(`${group}.bias`) ? copy(`${group}.bias`, outFeatures) : null;

    // each adapter's rank rows on the modules it targets (moduleRanks, else `rank` on targetModules),
    // in pack order, as adapter-stacking.ts stacks them
    const parts: Omit<LoraPart, 'bTransposed'>[] = [];
    let column = 0;
    let rankOffset = 0;
    kinds.forEach((kind, index) => {
      const out = (shapes[index] as [number, number])[0];
      const rows: number[] = [];
      const path = modulePath(layer, kind);
      pack.adapters.forEach((adapter, adapterIndex) => {
        const rank = adapter.moduleRanks ? (adapter.moduleRanks[path] ?? 0) : adapter.targetModules.includes(kind) ? adapter.rank : 0;
        for (let k = 0; k < rank; k++) rows.push(adapterIndex);
      });
      if (rows.length > 0) {
        parts.push({ kind, column, outFeatures: out, rankOffset, rank: rows.length, rowAdapter: Int32Array.from(rows), adapters: [...new Set(rows)] });
        rankOffset += rows.length;
      }
      column += out;
    });
    const base = floats(`${group}.weight_t`, inFeatures * outFeatures);
    if (parts.length === 0 || !byName.has(`${group}.lora_a_t`)) {
      if (parts.length > 0 || byName.has(`${group}.lora_a_t`)) unsupportedRanks(group);
      const weights = heap.placePanels(inFeatures, outFeatures, (i, c) => base[i * outFeatures + c] as number, group);
      return { inFeatures, outFeatures, totalRank: 0, weights, panels: panelsOf(outFeatures), bias, parts: [] };
    }
    const totalRank = rankOffset;
    if (byName.get(`${group}.lora_a_t`)?.length !== inFeatures * totalRank * 4) unsupportedRanks(group);
    // (in, Σ out + Σ R): row i is Wᵀ's row i, then Aᵀ_cat's
    const a = floats(`${group}.lora_a_t`, inFeatures * totalRank);
    const width = outFeatures + totalRank;
    const weights = heap.placePanels(inFeatures, width, (i, c) => (c < outFeatures ? base[i * outFeatures + c] : a[i * totalRank + c - outFeatures]) as number, group);
    const block = byName.has(`${group}.lora_b_t`) ? floats(`${group}.lora_b_t`, totalRank * outFeatures) : null; // (Σ R, Σ out)
    const placed = parts.map((part, index): LoraPart => {
      const count = part.rank * part.outFeatures;
      if (block === null) {
        const name = `${modulePath(layer, part.kind)}.lora_b_t`;
        if (byName.get(name)?.length !== count * 4) unsupportedRanks(group);
        return { ...part, bTransposed: place(name, count) };
      }
      const at = heap.alloc(count, `${group}.lora_b_t part ${index}`);
      const memory = heap.f32;
      for (let k = 0; k < part.rank; k++) {
        const from = (part.rankOffset + k) * outFeatures + part.column;
        memory.set(block.subarray(from, from + part.outFeatures), at / 4 + k * part.outFeatures);
      }
      return { ...part, bTransposed: at };
    });
    return { inFeatures, outFeatures, totalRank, weights, panels: panelsOf(width), bias, parts: placed };
  };

  const embedding = place('model.embed_tokens.weight', V * H);
  const layers: LayerWeights[] = [];
  for (let layer = 0; layer < numLayers; layer++) {
    const [qkv, o, gateUp, down] = GROUPS.map((kinds) => fused(layer, kinds)) as [FusedLinear, FusedLinear, FusedLinear, FusedLinear];
    layers.push({
      inputNorm: place(`model.layers.${layer}.input_layernorm.weight`, H),
      qkv,
      o,
      postAttentionNorm: place(`model.layers.${layer}.post_attention_layernorm.weight`, H),
      gateUp,
      down,
    });
  }
  const positions = arch.maxPositionEmbeddings;
  const head = arch.tieWordEmbeddings ? heap.f32.slice(embedding / 4, embedding / 4 + V * H) : floats('lm_head.weight', V * H);
  return {
    embedding,
    lmHead: heap.placePanels(H, V, (h, v) => head[v * H + h] as number, 'lm_head.weight'), // head (V, H) transposed
    finalNorm: place('model.norm.weight', H),
    ropeCos: place('rotary.cos_cache', positions * (d / 2)),
    ropeSin: place('rotary.sin_cache', positions * (d / 2)),
    layers,
  };
}

function unsupportedRanks(group: string): never {
  throw new LoraTleError(
    'E_BACKEND_UNSUPPORTED',
    `model pack: the adapter factors of ${group} do not have the ranks pack.json gives (adapters[].rank, targetModules, moduleRanks); a pack built before moduleRanks whose adapters vary their rank by layer must be rebuilt with \`lora-tle build\` to run on the simd backend`,
  );
}
