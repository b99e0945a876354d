// @lora-tle/tokenizer: tokenizer.json through @huggingface/tokenizers, task prompt templates and a
// streaming detokenizer. Platform neutral except loadTokenizerFromDir (Node, lazy node:fs import).

export { loadTokenizer, type TextTokenizer, type TokenizerFiles, type EncodeOptions, type DecodeOptions } from './text-tokenizer.js';
export { loadTokenizerFromDir } from './load-tokenizer-from-dir.js';
export { createStreamingDetokenizer, type StreamingDetokenizer } from './streaming-detokenizer.js';
export {
  BUILT_IN_TEMPLATES,
  createCustomTemplate,
  formatPrompt,
  resolveTemplate,
  splitPrompt,
  type FormatPromptOptions,
  type PromptItem,
  type PromptParts,
  type PromptTemplate,
} from './prompt-templates.js';
