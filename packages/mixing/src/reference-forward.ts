// The reference forward of a Llama decoder with run-time LoRA mixing: plain loops over
// Float32Array, one token at a time, like llama2.c's forward(). It is the oracle the ONNX packs and
// backends are tested against, never a fast path. Hugging Face LlamaForCausalLM numerics: RMSNorm,
// rotate_half RoPE (default / linear / llama3 scaling), GQA (query head h reads kv head
// h / (n_heads / n_kv)), SwiGLU MLP, optional biases, tied embeddings; adapters mixed per the graph
// contract (docs/model-pack.md) with the per-sequence MixCoefficients and bakedScales.
// Symbols: T tokens, H hidden, d head dim, r rank, N adapters, V vocab, I intermediate.

import type { Combination, LlamaArchitecture, LoraModuleWeights, MixCoefficients, ModulePath } from '@lora-tle/spec';
import { bakedScales } from './combination.js';

export interface ReferenceModel {
  architecture: LlamaArchitecture;
  /** fp32 tensors by Hugging Face name, row-major (linear weights (out, in)). */
  weights: ReadonlyMap<string, Float32Array>;
  /** Adapters in pack order; each maps module path → LoRA factors. */
  adapters: readonly { modules: ReadonlyMap<ModulePath, LoraModuleWeights> }[];
  combination: Combination;
}

/** Keys and values per layer per position, each (n_kv·d) after RoPE (keys). */
export interface ReferenceKvCache {
  keys: Float32Array[][];
  values: Float32Array[][];
}

export function createReferenceCache(architecture: LlamaArchitecture): ReferenceKvCache {
  return {
    keys: Array.from({ length: architecture.numLayers }, () => []),
    values: Array.from({ length: architecture.numLayers }, () => []),
  };
}

// ---- rotary embeddings ----

/** inv_freq (d/2,) as Hugging Face computes it, including linear and llama3 scaling. */
export function ropeInverseFrequencies(architecture: LlamaArchitecture): Float32Array {
  const d = architecture.headDim;
  const invFreq = new Float32Array(d / 2);
  for (let j = 0; j < d / 2; j++) invFreq[j] = 1 / Math.pow(architecture.ropeTheta, (2 * j) / d);
  const scaling = architecture.ropeScaling;
  if (scaling.type === 'linear') {
    for (let j = 0; j < d / 2; j++) invFreq[j] = (invFreq[j] as number) / scaling.factor;
  } else if (scaling.type === 'llama3') {
    // transformers _compute_llama3_parameters
    const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: oldContext } = scaling;
    const lowFreqWavelen = oldContext / lowFreqFactor;
    const highFreqWavelen = oldContext / highFreqFactor;
    for (let j = 0; j < d / 2; j++) {
      const frequency = invFreq[j] as number;
      const wavelen = (2 * Math.PI) / frequency;
      if (wavelen > lowFreqWavelen) invFreq[j] = frequency / factor;
      else if (wavelen >= highFreqWavelen) {
        const smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        invFreq[j] = (1 - smooth) * (frequency / factor) + smooth * frequency;
      }
    }
  }
  return invFreq;
}

/** cos and sin (d/2,) at one position; the angle is rounded to fp32 like the HF fp32 matmul. */
export function ropeCosSin(position: number, invFreq: Float32Array): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(invFreq.length);
  const sin = new Float32Array(invFreq.length);
  for (let j = 0; j < invFreq.length; j++) {
    const angle = Math.fround(position * (invFreq[j] as number));
    cos[j] = Math.cos(angle);
    sin[j] = Math.sin(angle);
  }
  return { cos, sin };
}

/** rotate_half RoPE in place on `heads` heads of size d: x' = x·cos + rotate_half(x)·sin. */
function applyRope(x: Float32Array, heads: number, d: number, cos: Float32Array, sin: Float32Array): void {
  const half = d / 2;
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      const first = x[h * d + j] as number;
      const second = x[h * d + j + half] as number;
      x[h * d + j] = first * (cos[j] as number) - second * (sin[j] as number);
      x[h * d + j + half] = second * (cos[j] as number) + first * (sin[j] as number);
    }
  }
}

// ---- building blocks ----

function rmsNorm(x: Float32Array, weight: Float32Array, eps: number): Float32Array {
  let sumOfSquares = 0;
  for (let i = 0; i < x.length; i++) sumOfSquares += (x[i] as number) * (x[i] as number);
  const inverse = 1 / Math.sqrt(sumOfSquares / x.length + eps);
  const out = new Float32Array(x.length); // (H,)
  for (let i = 0; i < x.length; i++) out[i] = (weight[i] as number) * Math.fround((x[i] as number) * inverse);
  return out;
}

/** out = W x (+ bias), W (out, in). */
function matVec(weight: Float32Array, x: Float32Array, outFeatures: number, bias?: Float32Array): Float32Array {
  const inFeatures = x.length;
  const out = new Float32Array(outFeatures); // (out,)
  for (let o = 0; o < outFeatures; o++) {
    let sum = bias ? (bias[o] as number) : 0;
    for (let i = 0; i < inFeatures; i++) sum += (weight[o * inFeatures + i] as number) * (x[i] as number);
    out[o] = sum;
  }
  return out;
}

/** y += the mixed adapter term of `module` for input x (in,), per the graph contract. */
function addLoraMix(model: ReferenceModel, module: ModulePath, x: Float32Array, y: Float32Array, mix: MixCoefficients): void {
  const present = model.adapters.map((adapter, i) => ({ i, lora: adapter.modules.get(module) })).filter((entry) => entry.lora);
  if (present.length === 0) return;
  const inFeatures = x.length;
  const outFeatures = y.length;
  // z_i = aSide_i · A_i x  (r_i,)
  const z = present.map(({ lora }) => {
    const { aSide } = bakedScales(model.combination, lora!.scaling);
    const zi = new Float32Array(lora!.rank);
    for (let k = 0; k < lora!.rank; k++) {
      let sum = 0;
      for (let i = 0; i < inFeatures; i++) sum += (lora!.a[k * inFeatures + i] as number) * (x[i] as number);
      zi[k] = sum * aSide;
    }
    return zi;
  });
  // the vector each B_j multiplies, already weighted: (r_j,)
  let inputsOfB: Float32Array[];
  if (model.combination === 'cat') {
    inputsOfB = present.map(({ i }, position) => (z[position] as Float32Array).map((value) => value * (mix.a[i] as number) * (mix.b[i] as number)));
  } else {
    const u = new Float32Array((present[0] as { lora: LoraModuleWeights }).lora.rank); // (r,) u = Σ_i a_i z_i
    present.forEach(({ i }, position) => (z[position] as Float32Array).forEach((value, k) => (u[k] = (u[k] as number) + (mix.a[i] as number) * value)));
    inputsOfB = present.map(({ i }) => u.map((value) => value * (mix.b[i] as number)));
  }
  // y += Σ_j bSide_j · B_j inputsOfB_j
  present.forEach(({ lora }, position) => {
    const { bSide } = bakedScales(model.combination, lora!.scaling);
    const v = inputsOfB[position] as Float32Array;
    for (let o = 0; o < outFeatures; o++) {
      let sum = 0;
      for (let k = 0; k < lora!.rank; k++) sum += (lora!.b[o * lora!.rank + k] as number) * (v[k] as number);
      y[o] = (y[o] as number) + sum * bSide;
    }
  });
}

// ---- the forward ----

export interface ReferenceOutput {
  logits: Float32Array; // (T, V)
  hidden: Float32Array; // (T, H) final-norm hidden states
}

/** Runs `tokens` through the model one at a time, appending to `cache`. Positions default to cache length + t. */
export function referenceForward(
  model: ReferenceModel,
  tokens: readonly number[],
  mix: MixCoefficients,
  cache: ReferenceKvCache,
  positions?: readonly number[],
): ReferenceOutput {
  const arch = model.architecture;
  const { hiddenSize: H, vocabSize: V, numHeads, numKvHeads, headDim: d, intermediateSize: I } = arch;
  const weight = (name: string): Float32Array => {
    const value = model.weights.get(name);
    if (!value) throw new Error(`reference forward: missing tensor ${name}`);
    return value;
  };
  const optional = (name: string): Float32Array | undefined => model.weights.get(name);
  const invFreq = ropeInverseFrequencies(arch);
  const group = numHeads / numKvHeads;
  const embed = weight('model.embed_tokens.weight'); // (V, H)
  const lmHead = arch.tieWordEmbeddings ? embed : weight('lm_head.weight'); // (V, H)
  const logits = new Float32Array(tokens.length * V);
  const hiddenOut = new Float32Array(tokens.length * H);

  const linear = (module: ModulePath, x: Float32Array, outFeatures: number): Float32Array => {
    const y = matVec(weight(`${module}.weight`), x, outFeatures, optional(`${module}.bias`));
    addLoraMix(model, module, x, y, mix);
    return y;
  };

  tokens.forEach((token, t) => {
    const position = positions ? (positions[t] as number) : (cache.keys[0] as Float32Array[]).length;
    const { cos, sin } = ropeCosSin(position, invFreq);
    let x: Float32Array = embed.slice(token * H, (token + 1) * H); // (H,)
    for (let layer = 0; layer < arch.numLayers; layer++) {
      const prefix = `model.layers.${layer}`;
      const h = rmsNorm(x, weight(`${prefix}.input_layernorm.weight`), arch.rmsNormEps); // (H,)
      const q = linear(`${prefix}.self_attn.q_proj`, h, numHeads * d); // (n_heads·d,)
      const k = linear(`${prefix}.self_attn.k_proj`, h, numKvHeads * d); // (n_kv·d,)
      const v = linear(`${prefix}.self_attn.v_proj`, h, numKvHeads * d); // (n_kv·d,)
      applyRope(q, numHeads, d, cos, sin);
      applyRope(k, numKvHeads, d, cos, sin);
      const keys = cache.keys[layer] as Float32Array[];
      const values = cache.values[layer] as Float32Array[];
      keys.push(k);
      values.push(v);
      const attention = new Float32Array(numHeads * d); // (n_heads·d,)
      for (let head = 0; head < numHeads; head++) {
        const kvHead = Math.floor(head / group); // repeat_kv
        const scores = keys.map((key) => {
          let dot = 0;
          for (let j = 0; j < d; j++) dot += (q[head * d + j] as number) * (key[kvHead * d + j] as number);
          return dot / Math.sqrt(d);
        }); // (past+1,)
        const max = Math.max(...scores);
        const exps = scores.map((score) => Math.exp(score - max));
        const total = exps.reduce((sum, value) => sum + value, 0);
        values.forEach((value, p) => {
          const probability = (exps[p] as number) / total;
          for (let j = 0; j < d; j++) attention[head * d + j] = (attention[head * d + j] as number) + probability * (value[kvHead * d + j] as number);
        });
      }
      const attentionOut = linear(`${prefix}.self_attn.o_proj`, attention, H); // (H,)
      x = x.map((value, i) => value + (attentionOut[i] as number));
      const h2 = rmsNorm(x, weight(`${prefix}.post_attention_layernorm.weight`), arch.rmsNormEps); // (H,)
      const gate = linear(`${prefix}.mlp.gate_proj`, h2, I); // (I,)
      const up = linear(`${prefix}.mlp.up_proj`, h2, I); // (I,)
      const activated = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number)); // silu(gate)·up (I,)
      const down = linear(`${prefix}.mlp.down_proj`, activated, H); // (H,)
      x = x.map((value, i) => value + (down[i] as number));
    }
    const final = rmsNorm(x, weight('model.norm.weight'), arch.rmsNormEps); // (H,)
    hiddenOut.set(final, t * H);
    logits.set(matVec(lmHead, final, V), t * V); // (V,)
  });
  return { logits, hidden: hiddenOut };
}
