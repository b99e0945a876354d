// LoraTleError: the one error type every lora-tle package throws for bad input or a failed
// environment. `code` is stable (tests, scripts and the CLI match on it); the message says what
// to do. This file is the registry of codes: add a code here before throwing it anywhere.

export const ERROR_CODES = {
  // ---- generic input ----
  E_INVALID_ARGUMENT: 'an argument is out of range or malformed',
  E_NOT_FOUND: 'a file or directory does not exist',
  E_IO: 'reading or writing a file failed',
  E_JSON: 'a JSON file could not be parsed or has the wrong shape',
  E_OUTPUT_EXISTS: 'the output path already exists',
  E_USAGE: 'the command line is malformed: unknown command or option, missing or invalid argument',
  // ---- safetensors ----
  E_SAFETENSORS_TOO_SMALL: 'file shorter than the 8-byte header length',
  E_SAFETENSORS_HEADER_TOO_LARGE: 'declared header length exceeds the limit or the file',
  E_SAFETENSORS_HEADER_UTF8: 'header is not valid UTF-8',
  E_SAFETENSORS_HEADER_JSON: 'header is not a JSON object of tensor entries',
  E_SAFETENSORS_METADATA: '__metadata__ is not a string-to-string map',
  E_SAFETENSORS_DTYPE: 'unknown or unsupported dtype',
  E_SAFETENSORS_SHAPE: 'shape is not a list of non-negative integers, or its element count overflows',
  E_SAFETENSORS_OFFSET: 'data offsets are invalid, overlapping, or leave gaps',
  E_SAFETENSORS_LENGTH: 'byte length does not match shape and dtype',
  E_SAFETENSORS_TRAILING: 'data buffer does not end exactly at the last tensor',
  E_TENSOR_MISSING: 'a tensor the caller asked for is not in the file',
  // ---- checkpoints and adapters ----
  E_CONFIG_INVALID: 'config.json is missing a field or has an invalid value',
  E_MODEL_TYPE: 'model_type is not a supported architecture',
  E_ROPE_TYPE: 'rope_scaling type is not supported',
  E_CHECKPOINT_SHARDS: 'sharded checkpoint index is inconsistent',
  E_CHECKPOINT_WEIGHTS: 'a checkpoint tensor is missing or its shape does not match config.json',
  E_ADAPTER_PICKLE: 'adapter is stored as a pickle (adapter_model.bin); refuse to unpickle',
  E_ADAPTER_CONFIG: 'adapter_config.json is missing a field or has an invalid value',
  E_ADAPTER_DORA: 'DoRA adapters (use_dora) are not supported yet',
  E_ADAPTER_LORA_BIAS: 'LoRA bias (lora_bias) is not supported yet',
  E_ADAPTER_UNSUPPORTED: 'the adapter uses a PEFT feature lora-tle does not support',
  E_ADAPTER_SHAPE: 'an adapter tensor shape does not match the base model',
  E_ADAPTER_MODULE: 'an adapter targets a module the base model does not have',
  E_ADAPTER_BASE_MISMATCH: 'adapters were trained for different base models',
  E_RANK_MISMATCH: 'the combination requires equal ranks',
  E_COMBINATION: 'unknown combination type',
  // ---- store and profiles ----
  E_STORE_MANIFEST: 'adapter store manifest is missing or invalid',
  E_STORE_ADAPTER_EXISTS: 'an adapter with this name is already in the store',
  E_STORE_ADAPTER_MISSING: 'the store names an adapter that is not there',
  E_STORE_FILES_MISSING: 'the manifest points at files that do not exist',
  E_STORE_HASH: 'adapter files changed since they were added to the store',
  E_PROFILE_MISSING: 'an adapter has no routing profile',
  E_PROFILE_EMBEDDER: 'a routing profile was made by a different embedder',
  // ---- tokenizer ----
  E_TOKENIZER: 'tokenizer.json could not be loaded',
  E_TEMPLATE: 'unknown prompt template or missing template field',
  // ---- pack and backends ----
  E_PACK_INVALID: 'model pack is missing files or pack.json is invalid',
  E_PACK_VERSION: 'model pack format version is not supported',
  E_PACK_EXTERNAL_DATA: 'external weight data is missing, truncated or corrupt',
  E_BACKEND_PROVIDER: 'the requested execution provider cannot start on this machine',
  E_BACKEND_RUN: 'the runtime failed while running the model',
  E_BACKEND_DISPOSED: 'the session was used after dispose()',
  E_BACKEND_UNSUPPORTED: 'the chosen backend cannot run this pack: too large for it, or a layout it does not read',
  // ---- routing and generation ----
  E_EMBEDDER: 'unknown embedder or the embedder failed to load',
  E_STRATEGY: 'unknown routing strategy or invalid strategy argument',
  E_SCHEDULE: 'unknown routing schedule',
  E_UNKNOWN_ADAPTER: 'an adapter name is not in the pack or store',
  E_PROMPT_EMPTY: 'the prompt is empty',
  E_CONTEXT_OVERFLOW: 'the prompt does not fit the model context',
  E_SAMPLING: 'sampling parameters are out of range',
  E_ABORTED: 'generation was cancelled',
  // ---- eval ----
  E_SUITE: 'unknown suite or malformed suite data',
} as const;

export type LoraTleErrorCode = keyof typeof ERROR_CODES;

export interface LoraTleErrorOptions {
  cause?: unknown;
  /** Extra machine-readable facts (path, tensor name, expected/actual shape, …). */
  details?: Record<string, unknown>;
}

export class LoraTleError extends Error {
  readonly code: LoraTleErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: LoraTleErrorCode, message: string, options: LoraTleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LoraTleError';
    this.code = code;
    this.details = options.details;
  }

  /** `[E_CODE] message` — the one line the CLI prints. */
  toLine(): string {
    return `[${this.code}] ${this.message}`;
  }
}

/** True for a LoraTleError, including one from another copy of this package. */
export function isLoraTleError(value: unknown): value is LoraTleError {
  return (
    value instanceof LoraTleError ||
    (value instanceof Error && value.name === 'LoraTleError' && typeof (value as { code?: unknown }).code === 'string')
  );
}
