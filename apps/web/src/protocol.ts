// Messages between the page (main.ts) and the generation worker (generation-worker.ts). Types
// only. The worker owns the model, tokenizer and router; the page only renders what it is sent.

import type { SamplePrompt } from './asset-index.js';

export interface LoadRequest {
  type: 'load';
  assetsUrl: string; // absolute URL of the asset directory, ending in '/'
  device: 'auto' | 'wasm' | 'webgpu' | 'simd'; // simd: @lora-tle/backend-simd's kernels instead of onnxruntime-web
}

export interface GenerateMessage {
  type: 'generate';
  runId: number;
  prompt: string;
  mode: string; // engine routing mode: token, every:k, prompt, base, uniform, adapter:<name>
  routingWindow: number | null; // routed modes embed only the last W tokens; null: the whole text
  maxNewTokens: number;
  temperature: number; // 0: greedy
  seed: number;
}

export interface StopMessage {
  type: 'stop';
  runId: number;
}

export type PageToWorker = LoadRequest | GenerateMessage | StopMessage;

export interface ProgressMessage {
  type: 'progress';
  phase: string;
  done: number;
  total: number;
}

export interface ReadyMessage {
  type: 'ready';
  device: string; // wasm | webgpu | cpu (WebAssembly SIMD)
  adapters: string[];
  samples: SamplePrompt[];
  fixture: string;
  /** Pack files that came from the Cache API / from the network on this load. */
  filesFromCache: string[];
  filesDownloaded: string[];
  loadMs: number;
}

export interface TokenMessage {
  type: 'token';
  runId: number;
  step: number;
  tokenId: number;
  text: string; // may be '' (held back until a character completes)
  weights: number[]; // the mixture that produced this token, in adapter order
}

export interface DoneMessage {
  type: 'done';
  runId: number;
  text: string;
  tail: string; // text released only at the end: token deltas + tail = text
  tokenIds: number[];
  finishReason: string;
  tokensPerSecond: number;
  totalMs: number;
  modelMs: number;
  routingMs: number;
  promptTokens: number;
}

export interface ErrorMessage {
  type: 'error';
  runId: number | null; // null: loading failed
  message: string;
}

export type WorkerToPage = ProgressMessage | ReadyMessage | TokenMessage | DoneMessage | ErrorMessage;
