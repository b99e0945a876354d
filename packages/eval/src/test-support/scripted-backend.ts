// Test support, not exported: a scripted "model" behind the real Backend seam, so the eval loop,
// the engine's routing and the scorers run end to end without ONNX. Each adapter is a specialist
// that knows the gold answers of its own task's prompts and answers anything else with a fixed
// wrong text; the base model (all mixing coefficients 0) answers "no idea". The row's output is
// decided by the adapter with the largest A-side coefficient at each step, one character per token,
// then EOS. A character tokenizer (0 unk, 1 bos, 2 eos, 3.. printable ASCII and '\n') goes with it.

import type { BackendSession, KvCache, PackManifest, StepInput, StepOutput } from '@lora-tle/spec';
import { LLAMA_LINEAR_MODULES } from '@lora-tle/spec';
import type { EngineTokenizer } from '@lora-tle/engine';

const CHARS = ['\n', ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))];
export const SCRIPTED_VOCAB = 3 + CHARS.length;
export const EOS_ID = 2;

export const charTokenizer: EngineTokenizer & { countTokens(text: string): number } = {
  encode: (text) => [1, ...[...text].map((char) => 3 + Math.max(0, CHARS.indexOf(char)))],
  decode: (ids) => ids.filter((id) => id >= 3).map((id) => CHARS[id - 3]).join(''),
  countTokens: (text) => [...text].length,
};

export interface Specialist {
  adapter: string;
  /** prompt → the text this adapter generates for it (after "Answer:"). */
  answers: ReadonlyMap<string, string>;
  /** What it says to prompts of other tasks. */
  otherwise: string;
}

class ScriptedCache implements KvCache {
  readonly backendId = 'scripted';
  constructor(readonly rows: number[][], readonly length: number) {}
  get batchSize() {
    return this.rows.length;
  }
  dispose() {}
}

export function scriptedPack(adapters: readonly string[]): PackManifest {
  return {
    formatVersion: 1,
    createdBy: 'eval test-support',
    architecture: {
      modelType: 'llama', vocabSize: SCRIPTED_VOCAB, hiddenSize: 8, intermediateSize: 8, numLayers: 1, numHeads: 1, numKvHeads: 1, headDim: 8,
      rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: { type: 'default' }, maxPositionEmbeddings: 4096, tieWordEmbeddings: true,
      attentionBias: false, mlpBias: false, bosTokenId: 1, eosTokenIds: [EOS_ID],
    },
    combination: 'cat',
    adapters: adapters.map((name) => ({ name, rank: 1, targetModules: [...LLAMA_LINEAR_MODULES], sourceHash: '', baseModelNameOrPath: null })),
    dtype: 'float32',
    opset: { 'ai.onnx': 17, 'com.microsoft': 1 },
    io: {
      inputIds: 'input_ids', attentionMask: 'attention_mask', positionIds: 'position_ids', mixA: 'mix_a', mixB: 'mix_b', logits: 'logits', hidden: null,
      pastKey: 'past_key_values.{i}.key', pastValue: 'past_key_values.{i}.value', presentKey: 'present.{i}.key', presentValue: 'present.{i}.value',
    },
    files: { model: 'model.onnx', baseWeights: 'model.onnx.data', adapterWeights: null, tokenizer: null, tokenizerConfig: null },
    sourceHashes: {},
  };
}

export interface ScriptedSession extends BackendSession {
  steps: number;
}

export function createScriptedSession(specialists: readonly Specialist[]): ScriptedSession {
  const adapters = specialists.map((specialist) => specialist.adapter);
  const session: ScriptedSession = {
    backendId: 'scripted',
    pack: scriptedPack(adapters),
    device: 'cpu (scripted)',
    steps: 0,
    async doStep(input: StepInput): Promise<StepOutput> {
      session.steps += 1;
      const { batchSize: B, sequenceLength: T } = input;
      const past = input.cache ? input.cache.length : 0;
      const rows = input.cache ? (input.cache as ScriptedCache).rows.map((row) => [...row]) : Array.from({ length: B }, () => []);
      const logits = new Float32Array(B * SCRIPTED_VOCAB); // (B, 1, V)
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const real = input.attentionMask ? input.attentionMask[b * (past + T) + past + t] === 1 : true;
          if (real) rows[b]!.push(input.inputIds[b * T + t]!);
        }
        const text = charTokenizer.decode(rows[b]!);
        const cut = text.indexOf('Answer:') + 'Answer:'.length;
        const prompt = text.slice(0, cut);
        const soFar = text.slice(cut);
        const a = input.mix[b]!.a;
        let best = -1;
        for (let i = 0; i < a.length; i++) if (a[i]! > 1e-6 && (best === -1 || a[i]! > a[best]!)) best = i;
        const specialist = best === -1 ? null : specialists[best]!;
        const intended = ` ${specialist === null ? 'no idea' : (specialist.answers.get(prompt) ?? specialist.otherwise)}`;
        const next = intended.startsWith(soFar) && soFar.length < intended.length ? 3 + CHARS.indexOf(intended[soFar.length]!) : EOS_ID;
        logits[b * SCRIPTED_VOCAB + next] = 1;
      }
      return { logits, logitsPositions: 1, cache: new ScriptedCache(rows, past + T) };
    },
    async dispose() {},
  };
  return session;
}
