// Builds the ONNX decoder graph of a Llama model with run-time adapter mixing: embeddings, the
// layers (RMSNorm → q/k/v with mixing → RoPE + GroupQueryAttention → o_proj → residual → RMSNorm
// → SwiGLU MLP with mixing → residual), final norm, logits, the optional per-position hidden
// states. Weights stream into two external data writers (base, adapters). Input/output names and
// dims follow transformers.js / onnxruntime-genai (graph-io.ts). With `factorSlot` it builds the
// naive graph instead: the same decoder whose one adapter's factors are graph inputs (the paper's
// merged adapter, fed every step). Not the pack directory (pack-writer.ts).

import type { Combination, LlamaLinearModule, ModulePath, PackFactorInput, ProgressListener } from '@lora-tle/spec';
import { ropeCosSin, ropeInverseFrequencies } from '@lora-tle/mixing';
import { stackModule } from './adapter-stacking.js';
import type { ExternalDataWriter } from './external-data.js';
import { GRAPH_IO, presentName, pastName } from './graph-io.js';
import { type AdapterSource, type LlamaWeightSource, moduleShape, modulePath, readTensor } from './llama-source.js';
import { BLOCK_DIAGONAL_B_MAX_ZEROS, blockDiagonalB, emitFusedLoraLinear, type FusedLinearWeights, MixingCoefficients } from './lora-linear.js';
import { ElementType, float, GraphBuilder, int } from './onnx-builder.js';

export const OPSET = { 'ai.onnx': 17, 'com.microsoft': 1 } as const;
export const IR_VERSION = 8;

/** Most inputs of one Concat node: with its output, the 8 storage buffers WebGPU guarantees a shader stage. */
export const CONCAT_MAX_INPUTS = 7;

export interface DecoderGraphOptions {
  source: LlamaWeightSource;
  adapters: readonly AdapterSource[];
  combination: Combination;
  /** Most zeros a block-diagonal B of fused `cat` modules may add (default BLOCK_DIAGONAL_B_MAX_ZEROS). */
  fusedBMaxZeros?: number;
  baseWriter: ExternalDataWriter;
  adapterWriter: ExternalDataWriter | null;
  withHidden: boolean;
  /** Add the appended_key_values output (a backend's own KV arrays need it). */
  withAppended: boolean;
  /**
   * The naive graph: no stacked adapters (`adapters` empty); one adapter on these modules, of these
   * ranks, whose factors are graph inputs (PackFactorInput), mixed as `cat` with N = 1.
   */
  factorSlot?: ReadonlyMap<ModulePath, number>;
  onProgress?: ProgressListener;
}

export interface DecoderGraph {
  model: Uint8Array; // serialised model.onnx (weights are in the writers)
  factorInputs: PackFactorInput[]; // empty without factorSlot
}

/**
 * Concat of `inputs` along `axis` into `output`, as a tree of Concats of at most CONCAT_MAX_INPUTS
 * inputs: onnxruntime-web's WebGPU Concat binds every input and its output as storage buffers, and
 * WebGPU guarantees only 8 per shader stage (one Concat of 8 inputs changed the browser test's
 * greedy tokens on SwiftShader).
 */
function concatInGroups(builder: GraphBuilder, inputs: readonly string[], axis: number, output: string): string {
  let parts = inputs;
  while (parts.length > CONCAT_MAX_INPUTS) {
    const grouped: string[] = [];
    for (let start = 0; start < parts.length; start += CONCAT_MAX_INPUTS) {
      const group = parts.slice(start, start + CONCAT_MAX_INPUTS);
      grouped.push(group.length === 1 ? (group[0] as string) : builder.op('Concat', group, { attributes: { axis: int(axis) } }));
    }
    parts = grouped;
  }
  return builder.op('Concat', parts, { attributes: { axis: int(axis) }, output });
}

/** (in, out) from W (out, in). */
function transpose(weight: Float32Array, outFeatures: number, inFeatures: number): Float32Array {
  const result = new Float32Array(weight.length);
  for (let o = 0; o < outFeatures; o++) for (let i = 0; i < inFeatures; i++) result[i * outFeatures + o] = weight[o * inFeatures + i] as number;
  return result;
}

export async function buildDecoderGraph(options: DecoderGraphOptions): Promise<DecoderGraph> {
  const { source, adapters, combination, baseWriter, adapterWriter, factorSlot } = options;
  const arch = source.architecture;
  const { hiddenSize: H, vocabSize: V, numHeads, numKvHeads, headDim: d, numLayers } = arch;
  const N = factorSlot ? 1 : adapters.length;
  const factorInputs: PackFactorInput[] = [];
  const builder = new GraphBuilder();
  const base = (name: string, values: Float32Array, dims: number[]): string => builder.initializer(baseWriter.add(name, values, dims));
  const totalSteps = numLayers + 2;
  const phase = factorSlot ? 'naive graph' : 'graph';
  const progress = (done: number): void => options.onProgress?.({ phase, done, total: totalSteps });

  // ---- inputs ----
  const inputIds = builder.input(GRAPH_IO.inputIds, ElementType.int64, ['batch_size', 'sequence_length']);
  const attentionMask = builder.input(GRAPH_IO.attentionMask, ElementType.int64, ['batch_size', 'total_sequence_length']);
  const positionIds = builder.input(GRAPH_IO.positionIds, ElementType.int64, ['batch_size', 'sequence_length']);
  const mixA = builder.input(GRAPH_IO.mixA, ElementType.float32, ['batch_size', N]);
  const mixB = builder.input(GRAPH_IO.mixB, ElementType.float32, ['batch_size', N]);
  const logitsToKeep = builder.input(GRAPH_IO.logitsToKeep, ElementType.int64, [1]); // k: logits of the last k positions only
  const pastDims = ['batch_size', numKvHeads, 'past_sequence_length', d];
  for (let layer = 0; layer < numLayers; layer++) {
    builder.input(pastName('key', layer), ElementType.float32, pastDims);
    builder.input(pastName('value', layer), ElementType.float32, pastDims);
  }
  const mixing = new MixingCoefficients(builder, mixA, mixB);

  // ---- attention bookkeeping ----
  // GroupQueryAttention reads each row's length from seqlens_k and assumes right padding. Every row
  // is declared full length (seqlens_k = total − 1) and padding anywhere (the engine left-pads) is
  // masked with an additive attention_bias (B, 1, T, total): 0 where attention_mask is 1, −1e9 where
  // it is 0 (finite, so rows that are all padding stay finite instead of NaN).
  const totalLength64 = builder.op('Shape', [attentionMask], { attributes: { start: int(1), end: int(2) } }); // (1,)
  const totalLength32 = builder.op('Cast', [totalLength64], { attributes: { to: int(ElementType.int32) } }); // (1,)
  const totalLength = builder.op('Squeeze', [totalLength32, builder.int64Constant([0])], { output: 'total_sequence_length_i32' }); // ()
  const one32 = builder.uniqueName('one_i32');
  builder.initializer({ name: one32, dataType: ElementType.int32, dims: [1], rawData: new Uint8Array(new Int32Array([1]).buffer) });
  const batchSize = builder.op('Shape', [inputIds], { attributes: { start: int(0), end: int(1) } }); // (1,) = B
  const seqlensK = builder.op('Expand', [builder.op('Sub', [totalLength32, one32]), batchSize], { output: 'seqlens_k' }); // (B,)
  const maskFloat = builder.op('Cast', [attentionMask], { attributes: { to: int(ElementType.float32) } }); // (B, total)
  const scalar = (name: string, value: number): string => {
    const unique = builder.uniqueName(name);
    builder.initializer({ name: unique, dataType: ElementType.float32, dims: [], rawData: new Uint8Array(new Float32Array([value]).buffer) });
    return unique;
  };
  const maskBias = builder.op('Mul', [builder.op('Sub', [maskFloat, scalar('one_f32', 1)]), scalar('mask_bias_scale', 1e9)]); // 0 or −1e9
  const stepLength = builder.op('Shape', [inputIds], { attributes: { start: int(1), end: int(2) } }); // (1,) = T
  const biasShape = builder.op('Concat', [batchSize, builder.int64Constant([1]), stepLength, totalLength64], {
    attributes: { axis: int(0) },
  }); // [B, 1, T, total]
  const attentionBias = builder.op('Expand', [builder.op('Unsqueeze', [maskBias, builder.int64Constant([1, 2])]), biasShape], { output: 'attention_bias' }); // (B, 1, T, total)

  // ---- rotary caches (max positions, d/2), baked from inv_freq ----
  const invFreq = ropeInverseFrequencies(arch);
  const maxPositions = arch.maxPositionEmbeddings;
  const cosCache = new Float32Array(maxPositions * (d / 2));
  const sinCache = new Float32Array(maxPositions * (d / 2));
  for (let position = 0; position < maxPositions; position++) {
    const { cos, sin } = ropeCosSin(position, invFreq);
    cosCache.set(cos, position * (d / 2));
    sinCache.set(sin, position * (d / 2));
  }
  const cosName = base('rotary.cos_cache', cosCache, [maxPositions, d / 2]);
  const sinName = base('rotary.sin_cache', sinCache, [maxPositions, d / 2]);

  // ---- embeddings ----
  const embedding = await readTensor(source, 'model.embed_tokens.weight', [V, H]);
  const embeddingName = base('model.embed_tokens.weight', embedding, [V, H]);
  let x = builder.op('Gather', [embeddingName, inputIds], { attributes: { axis: int(0) } }); // (B, T, H)
  progress(1);

  // The final norm's output is also the graph's per-position hidden output when built with it.
  const normedName = (name: string, fallback: string): string => (name === 'model.norm.weight' && options.withHidden ? GRAPH_IO.hidden : builder.uniqueName(fallback));
  const rmsNorm = async (input: string, name: string): Promise<string> => {
    const weightName = base(name, await readTensor(source, name, [H]), [H]);
    return builder.node('SimplifiedLayerNormalization', [input, weightName], {
      attributes: { axis: int(-1), epsilon: float(arch.rmsNormEps), stash_type: int(1) },
      outputs: [normedName(name, 'normed')],
    })[0] as string;
  };

  /**
   * residual + delta and the RMSNorm of that sum in one contrib node (one kernel instead of Add and
   * SimplifiedLayerNormalization). Returns [normed, sum], both (B, T, H).
   */
  const addAndNorm = async (residual: string, delta: string, name: string): Promise<[string, string]> => {
    const weightName = base(name, await readTensor(source, name, [H]), [H]);
    const [normed, , , sum] = builder.node('SkipSimplifiedLayerNormalization', [delta, residual, weightName], {
      domain: 'com.microsoft',
      attributes: { epsilon: float(arch.rmsNormEps) },
      outputs: [normedName(name, 'normed'), '', '', builder.uniqueName('residual')], // no mean / inv_std_var
    });
    return [normed as string, sum as string];
  };

  /**
   * Linear modules that read the same input, fused: base weights concatenated to (in, Σ out), the
   * stacked A factors of all of them to (in, Σ R); B factors per module, or with `cat` one
   * block-diagonal (Σ R, Σ out) when its zeros are few (lora-linear.ts). Returns y per kind.
   */
  const linears = async (input: string, layer: number, kinds: readonly LlamaLinearModule[], packed = false): Promise<string[]> => {
    const group = `model.layers.${layer}.${kinds.join('+')}`;
    const modules = [];
    for (const kind of kinds) {
      const module = modulePath(layer, kind);
      const [outFeatures, inFeatures] = moduleShape(arch, kind);
      const hasBias = kind === 'gate_proj' || kind === 'up_proj' || kind === 'down_proj' ? arch.mlpBias : arch.attentionBias;
      modules.push({
        path: module,
        outFeatures,
        inFeatures,
        weight: await readTensor(source, `${module}.weight`, [outFeatures, inFeatures]),
        bias: hasBias ? await readTensor(source, `${module}.bias`, [outFeatures]) : null,
        stacked: stackModule(module, outFeatures, inFeatures, adapters, combination),
      });
    }
    const inFeatures = (modules[0] as { inFeatures: number }).inFeatures;
    const totalOut = modules.reduce((sum, module) => sum + module.outFeatures, 0);
    const fusedWeight = new Float32Array(inFeatures * totalOut); // (in, Σ out)
    let column = 0;
    for (const module of modules) {
      const transposed = transpose(module.weight, module.outFeatures, inFeatures); // (in, out_m)
      for (let i = 0; i < inFeatures; i++) fusedWeight.set(transposed.subarray(i * module.outFeatures, (i + 1) * module.outFeatures), i * totalOut + column);
      column += module.outFeatures;
    }
    const weightTransposed = base(`${group}.weight_t`, fusedWeight, [inFeatures, totalOut]);
    const withBias = modules.some((module) => module.bias !== null);
    const bias = withBias ? base(`${group}.bias`, Float32Array.from(modules.flatMap((module) => Array.from(module.bias ?? new Float32Array(module.outFeatures)))), [totalOut]) : null;

    const outFeatures = modules.map((module) => module.outFeatures);
    let adapterWeights: FusedLinearWeights['adapters'] = null;
    if (factorSlot) {
      // the one adapter (index 0) on each module of the group it adapts, with its rank
      const slotted = modules.flatMap((module, index) => {
        const rank = factorSlot.get(module.path);
        return rank === undefined ? [] : [{ index, module: { module: module.path, rank, inFeatures, outFeatures: module.outFeatures } }];
      });
      if (slotted.length > 0) {
        const totalRank = slotted.reduce((sum, part) => sum + part.module.rank, 0);
        const aTransposed = builder.input(`${group}.lora_a_t`, ElementType.float32, [inFeatures, totalRank]); // (in, Σ r)
        factorInputs.push({ name: aTransposed, side: 'a', modules: slotted.map((part) => part.module) });
        const bTransposed = slotted.map(({ module }) => {
          const name = builder.input(`${module.module}.lora_b_t`, ElementType.float32, [module.rank, module.outFeatures]); // (r, out_m)
          factorInputs.push({ name, side: 'b', modules: [module] });
          return name;
        });
        const parts = slotted.map(({ index, module }) => ({ index, stacked: { rowAdapterIndex: new Array<number>(module.rank).fill(0), adapterIndices: [0], rank: [module.rank] } }));
        adapterWeights = { aTransposed, parts, b: { kind: 'per-part', bTransposed } };
      }
    }
    const adapted = modules.flatMap((module, index) => (module.stacked ? [{ index, stacked: module.stacked }] : []));
    if (adapted.length > 0 && adapterWriter) {
      const totalRank = adapted.reduce((sum, part) => sum + part.stacked.rowAdapterIndex.length, 0);
      const fusedA = new Float32Array(inFeatures * totalRank); // (in, Σ R)
      let rankColumn = 0;
      for (const { stacked } of adapted) {
        const R = stacked.rowAdapterIndex.length;
        for (let i = 0; i < inFeatures; i++) fusedA.set(stacked.aTransposed.subarray(i * R, (i + 1) * R), i * totalRank + rankColumn);
        rankColumn += R;
      }
      const perPartSize = adapted.reduce((sum, part) => sum + part.stacked.bTransposed.length, 0);
      const blockSize = totalRank * totalOut;
      const block = combination === 'cat' && adapted.length > 1 && blockSize - perPartSize <= (options.fusedBMaxZeros ?? BLOCK_DIAGONAL_B_MAX_ZEROS);
      adapterWeights = {
        aTransposed: builder.initializer(adapterWriter.add(`${group}.lora_a_t`, fusedA, [inFeatures, totalRank])),
        parts: adapted,
        b: block
          ? { kind: 'block-diagonal', bTransposed: builder.initializer(adapterWriter.add(`${group}.lora_b_t`, blockDiagonalB(adapted, outFeatures), [totalRank, totalOut])) }
          : {
              kind: 'per-part',
              bTransposed: adapted.map(({ stacked }) => builder.initializer(adapterWriter.add(`${stacked.module}.lora_b_t`, stacked.bTransposed, [stacked.rowAdapterIndex.length, stacked.outFeatures]))),
            },
      };
    }
    return emitFusedLoraLinear(builder, input, { weightTransposed, bias, outFeatures, adapters: adapterWeights }, combination, mixing, packed);
  };
  const linear = async (input: string, layer: number, kind: LlamaLinearModule): Promise<string> => (await linears(input, layer, [kind]))[0] as string;

  // ---- attention inputs ----
  // With a head size that is a multiple of 16, q, k, v go packed (B, T, (n_heads + 2·n_kv)·d) into
  // GroupQueryAttention, which applies the rotary embedding itself: no Split and no RotaryEmbedding
  // nodes per layer (onnxruntime's CPU kernel refuses do_rotary for other head sizes). It takes the
  // positions from seqlens_k (total − T + t), not from position_ids: for a left-padded row that is
  // its position ids plus its padding length, and rotary attention scores depend only on position
  // differences, so the result is the same. Otherwise q and k are rotated by RotaryEmbedding nodes
  // at position_ids.
  const fusedRotary = d % 16 === 0;
  const gqaTail = (layer: number, cos: string, sin: string): string[] => [pastName('key', layer), pastName('value', layer), seqlensK, totalLength, cos, sin, '', attentionBias];
  const packedAttentionInputs = async (h: string, layer: number): Promise<string[]> => {
    const [qkv] = (await linears(h, layer, ['q_proj', 'k_proj', 'v_proj'], true)) as [string];
    return [qkv, '', '', ...gqaTail(layer, cosName, sinName)];
  };
  const rotatedAttentionInputs = async (h: string, layer: number): Promise<string[]> => {
    const [q, k, v] = (await linears(h, layer, ['q_proj', 'k_proj', 'v_proj'])) as [string, string, string]; // (B, T, n_heads·d), (B, T, n_kv·d) ×2
    const rotary = (input: string, heads: number): string =>
      builder.op('RotaryEmbedding', [input, positionIds, cosName, sinName], { domain: 'com.microsoft', attributes: { interleaved: int(0), num_heads: int(heads) } });
    return [rotary(q, numHeads), rotary(k, numKvHeads), v, ...gqaTail(layer, '', '')];
  };

  // ---- layers ----
  // Each residual Add is fused with the RMSNorm that follows it: the attention output with
  // post_attention_layernorm, the MLP output with the next layer's input_layernorm (the final norm
  // after the last layer).
  let h = await rmsNorm(x, numLayers > 0 ? 'model.layers.0.input_layernorm.weight' : 'model.norm.weight'); // (B, T, H)
  for (let layer = 0; layer < numLayers; layer++) {
    const prefix = `model.layers.${layer}`;
    const [attention] = builder.node('GroupQueryAttention', fusedRotary ? await packedAttentionInputs(h, layer) : await rotatedAttentionInputs(h, layer), {
      domain: 'com.microsoft',
      attributes: { num_heads: int(numHeads), kv_num_heads: int(numKvHeads), scale: float(1 / Math.sqrt(d)), do_rotary: int(fusedRotary ? 1 : 0), rotary_interleaved: int(0) },
      outputs: [builder.uniqueName(`${prefix}.attention`), presentName('key', layer), presentName('value', layer)],
    }); // (B, T, n_heads·d); present (B, n_kv, past+T, d)
    const attentionOut = await linear(attention as string, layer, 'o_proj'); // (B, T, H)
    const [h2, afterAttention] = await addAndNorm(x, attentionOut, `${prefix}.post_attention_layernorm.weight`); // (B, T, H) ×2
    const [gate, up] = (await linears(h2, layer, ['gate_proj', 'up_proj'])) as [string, string]; // (B, T, I) ×2
    const activated = builder.op('Mul', [builder.op('Mul', [gate, builder.op('Sigmoid', [gate])]), up]); // silu(gate)·up
    const nextNorm = layer + 1 < numLayers ? `model.layers.${layer + 1}.input_layernorm.weight` : 'model.norm.weight';
    [h, x] = await addAndNorm(afterAttention, await linear(activated, layer, 'down_proj'), nextNorm);
    progress(2 + layer);
  }
  const final = h; // model.norm of the last residual sum (B, T, H)

  // ---- logits of the last k positions from the final norm (a prefill that only samples the next
  // token skips the (T − 1)·V others); Gemm with transB shares the (V, H) matrix with tied embeddings ----
  const lmHeadName = arch.tieWordEmbeddings ? embeddingName : base('lm_head.weight', await readTensor(source, 'lm_head.weight', [V, H]), [V, H]);
  const kept = builder.op('Slice', [final, builder.op('Neg', [logitsToKeep]), builder.int64Constant([Number.MAX_SAFE_INTEGER]), builder.int64Constant([1])]); // (B, k, H)
  const flat = builder.op('Reshape', [kept, builder.int64Constant([-1, H])]); // (B·k, H)
  const flatLogits = builder.op('Gemm', [flat, lmHeadName], { attributes: { transB: int(1) } }); // (B·k, V)
  const batch = builder.op('Shape', [inputIds], { attributes: { start: int(0), end: int(1) } }); // (1,) = B
  const logitsShape = builder.op('Concat', [batch, logitsToKeep, builder.int64Constant([V])], { attributes: { axis: int(0) } });
  builder.op('Reshape', [flatLogits, logitsShape], { output: GRAPH_IO.logits }); // (B, k, V)
  builder.output(GRAPH_IO.logits, ElementType.float32, ['batch_size', 'logits_length', V]);
  for (let layer = 0; layer < numLayers; layer++) {
    const presentDims = ['batch_size', numKvHeads, 'total_sequence_length', d];
    builder.output(presentName('key', layer), ElementType.float32, presentDims);
    builder.output(presentName('value', layer), ElementType.float32, presentDims);
  }

  // ---- appended: the K/V rows of this step, present[:, :, total − T : total] of every layer's key
  // and value, concatenated along the batch axis into one output (2·L·B, n_kv, T, d). A backend that
  // keeps the cache in its own buffers feeds past_key_values with spare positions (GroupQueryAttention
  // reads the first seqlens_k + 1 − T of them) and fetches only these rows, instead of copying the
  // whole present.* out of the session every step; one output instead of 2·L, because the
  // onnxruntime bindings pay for every output of a run (a Concat node costs less) ----
  if (options.withAppended) {
    const appendedFrom = builder.op('Sub', [totalLength64, stepLength]); // (1,) = total − T
    const positionAxis = builder.int64Constant([2]);
    const rows: string[] = [];
    for (let layer = 0; layer < numLayers; layer++) {
      for (const kind of ['key', 'value'] as const) rows.push(builder.op('Slice', [presentName(kind, layer), appendedFrom, totalLength64, positionAxis])); // (B, n_kv, T, d)
    }
    concatInGroups(builder, rows, 0, GRAPH_IO.appended); // (2·L·B, n_kv, T, d)
    builder.output(GRAPH_IO.appended, ElementType.float32, ['appended_rows', numKvHeads, 'sequence_length', d]);
  }

  // ---- hidden: the final-norm states per position (B, T, H), already computed for the logits; the
  // backend averages them over the step's real tokens when a step asks (no pooling nodes to run
  // on the steps that do not) ----
  if (options.withHidden) builder.output(GRAPH_IO.hidden, ElementType.float32, ['batch_size', 'sequence_length', H]);
  progress(totalSteps);

  const model = builder.toModelBytes({
    irVersion: IR_VERSION,
    opsets: { '': OPSET['ai.onnx'], 'com.microsoft': OPSET['com.microsoft'] },
    producer: '@lora-tle/graph',
    graphName: `llama-${numLayers}x${H}-lora-${factorSlot ? 'naive' : 'mix'}`,
  });
  return { model, factorInputs };
}
