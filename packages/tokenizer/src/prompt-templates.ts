// Task prompt templates: the text formats the original LoRA-TLE adapters were trained on
// (gsm8k, arc, codealpaca, squad), plus custom templates with `{field}` placeholders.
// It is not a chat template and does not tokenize.
//
// Convention (one rule for every template): a formatted example is prompt + completion.
//   prompt      everything up to and including the cue before the answer ("Answer:"), with
//               trailing spaces removed — the text a model is asked to continue;
//   completion  the rest, starting with the separating space: " {answer}".
// formatPrompt(t, item, { withAnswer: true }) === formatPrompt(t, item, { withAnswer: false }) + completion.
// The prompt ends in "Answer:" and not "Answer: " because BPE and SentencePiece vocabularies attach
// the space to the following word (" 42" is one token); a prompt ending in a space would ask the
// model for a token sequence it never saw in training.

import { LoraTleError } from '@lora-tle/spec';

export type PromptItem = Readonly<Record<string, unknown>>;

export interface PromptParts {
  prompt: string;
  completion: string;
}

export interface PromptTemplate {
  readonly name: string;
  /** Fields the prompt needs (the answer field is needed only with the answer). */
  readonly promptFields: readonly string[];
  readonly answerField: string;
  /** The text before the answer, ending with the cue ("Answer:"); reads only promptFields. */
  prompt(item: PromptItem): string;
  /** The answer as it follows the prompt, separating space included (" 42"). */
  completion(item: PromptItem): string;
}

export interface FormatPromptOptions {
  /** Append the completion (training text, profiles). Default false (generation prompt). */
  withAnswer?: boolean;
}

// ---- field access ----

function describeItem(item: PromptItem): string {
  const keys = Object.keys(item);
  return keys.length === 0 ? 'the item has no fields' : `the item has: ${keys.join(', ')}`;
}

function textField(templateName: string, item: PromptItem, field: string): string {
  const value = item[field];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new LoraTleError('E_TEMPLATE', `template "${templateName}" needs a text field "${field}" but ${value === undefined ? describeItem(item) : `"${field}" is ${JSON.stringify(value)}`}`);
}

/** SQuAD's `answer` string, or Hugging Face's `answers: { text: [...] }` (first answer). */
function squadAnswer(item: PromptItem): string {
  const answers = item['answers'];
  if (item['answer'] === undefined && typeof answers === 'object' && answers !== null) {
    const texts = (answers as { text?: unknown }).text;
    if (Array.isArray(texts) && typeof texts[0] === 'string') return texts[0];
  }
  return textField('squad', item, 'answer');
}

/** ARC choices as `A. text` lines: [{label, text}] (our datasets) or {label: [], text: []} (HF). */
function arcChoiceLines(item: PromptItem): string {
  const choices = item['choices'];
  let pairs: Array<{ label: unknown; text: unknown }> = [];
  if (Array.isArray(choices)) {
    pairs = choices.map((choice: unknown) => (typeof choice === 'object' && choice !== null ? (choice as { label: unknown; text: unknown }) : { label: undefined, text: undefined }));
  } else if (typeof choices === 'object' && choices !== null) {
    const { label, text } = choices as { label?: unknown; text?: unknown };
    if (Array.isArray(label) && Array.isArray(text) && label.length === text.length) {
      pairs = label.map((choiceLabel: unknown, index) => ({ label: choiceLabel, text: text[index] }));
    }
  }
  if (pairs.length === 0 || pairs.some((pair) => typeof pair.label !== 'string' || typeof pair.text !== 'string')) {
    throw new LoraTleError('E_TEMPLATE', `template "arc" needs "choices" as [{label, text}] or {label: [...], text: [...]}; ${describeItem(item)}`);
  }
  return pairs.map((pair) => `${pair.label as string}. ${pair.text as string}`).join('\n');
}

// ---- the four templates of the original project ----

function builtIn(name: string, promptFields: string[], answerField: string, prompt: (item: PromptItem) => string, answer: (item: PromptItem) => string): PromptTemplate {
  return {
    name,
    promptFields,
    answerField,
    prompt,
    completion: (item) => ` ${answer(item)}`,
  };
}

export const BUILT_IN_TEMPLATES: Readonly<Record<string, PromptTemplate>> = Object.freeze({
  // Question: {question}\n\nAnswer: {answer}
  gsm8k: builtIn('gsm8k', ['question'], 'answer',
    (item) => `Question: ${textField('gsm8k', item, 'question')}\n\nAnswer:`,
    (item) => textField('gsm8k', item, 'answer')),
  // Question: {question}\nChoices: {A. text\nB. text ...}\n\nAnswer: {answerKey}
  arc: builtIn('arc', ['question', 'choices'], 'answerKey',
    (item) => `Question: ${textField('arc', item, 'question')}\nChoices: ${arcChoiceLines(item)}\n\nAnswer:`,
    (item) => textField('arc', item, 'answerKey')),
  // {instruction}\nInput: {input}\n\nAnswer: {output}   (no Input line when input is empty)
  codealpaca: builtIn('codealpaca', ['instruction'], 'output',
    (item) => {
      const input = item['input'] === undefined ? '' : textField('codealpaca', item, 'input');
      const inputLine = input === '' ? '' : `\nInput: ${input}`;
      return `${textField('codealpaca', item, 'instruction')}${inputLine}\n\nAnswer:`;
    },
    (item) => textField('codealpaca', item, 'output')),
  // Context:\n{context}\n\nQuestion: {question}\n\nAnswer: {answer}
  squad: builtIn('squad', ['context', 'question'], 'answer',
    (item) => `Context:\n${textField('squad', item, 'context')}\n\nQuestion: ${textField('squad', item, 'question')}\n\nAnswer:`,
    squadAnswer),
});

// ---- custom templates ----

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * A template from text with `{field}` placeholders (`{{` and `}}` are literal braces). The last
 * placeholder is the answer; the prompt is the text before it with trailing spaces removed.
 */
export function createCustomTemplate(text: string, name = 'custom'): PromptTemplate {
  const placeholders = [...text.matchAll(PLACEHOLDER)].filter((match) => match[1] !== undefined);
  const fields = placeholders.map((match) => match[1] as string);
  const answerField = fields[fields.length - 1];
  const lastPlaceholderAt = placeholders[placeholders.length - 1]?.index;
  if (answerField === undefined || lastPlaceholderAt === undefined) {
    throw new LoraTleError('E_TEMPLATE', `custom template "${name}" has no {field} placeholder; write e.g. "Question: {question}\\n\\nAnswer: {answer}"`);
  }
  const fill = (part: string, item: PromptItem): string =>
    part.replace(PLACEHOLDER, (match: string, field: string | undefined) => (field === undefined ? match[0]! : textField(name, item, field)));
  const beforeAnswer = text.slice(0, lastPlaceholderAt);
  const promptText = beforeAnswer.replace(/ +$/, ''); // the template's spaces before the answer go to the completion
  const completionText = beforeAnswer.slice(promptText.length) + text.slice(lastPlaceholderAt);
  return {
    name,
    promptFields: fields.slice(0, -1),
    answerField,
    prompt: (item) => fill(promptText, item),
    completion: (item) => fill(completionText, item),
  };
}

/** A built-in template name, or a custom template text (anything containing a `{field}`). */
export function resolveTemplate(template: string | PromptTemplate): PromptTemplate {
  if (typeof template !== 'string') return template;
  const known = BUILT_IN_TEMPLATES[template];
  if (known !== undefined) return known;
  if (/\{[A-Za-z_][A-Za-z0-9_]*\}/.test(template)) return createCustomTemplate(template);
  throw new LoraTleError('E_TEMPLATE', `unknown prompt template "${template}"; use one of ${Object.keys(BUILT_IN_TEMPLATES).join(', ')} or a text with {field} placeholders`);
}

export function splitPrompt(template: string | PromptTemplate, item: PromptItem): PromptParts {
  const resolved = resolveTemplate(template);
  return { prompt: resolved.prompt(item), completion: resolved.completion(item) };
}

/** The generation prompt (default), or with `withAnswer: true` the training text prompt + completion. */
export function formatPrompt(template: string | PromptTemplate, item: PromptItem, options: FormatPromptOptions = {}): string {
  const resolved = resolveTemplate(template);
  const prompt = resolved.prompt(item); // needs no answer field, so generation items may lack it
  return options.withAnswer ? prompt + resolved.completion(item) : prompt;
}
