// Scorers for the three text tasks: math (the number after `####`), science (the choice letter) and
// reading (SQuAD exact match and token F1). Pure functions of the generated text and the gold
// answer. Not the code scorer (code-scorer.ts runs generated code in a sandbox).

/**
 * The number after the first `####`, normalised: thousands commas removed, a trailing `.0…` removed,
 * a leading `+` and leading zeros dropped ("1,234.50" → "1234.5", "7.0" → "7"). null when absent.
 */
export function extractMathAnswer(text: string): string | null {
  const match = /####\s*([-+]?[\d,]*\.?\d+)/.exec(text);
  if (!match) return null;
  let number = match[1]!.replace(/,/g, '').replace(/^\+/, '');
  const negative = number.startsWith('-');
  if (negative) number = number.slice(1);
  if (number.includes('.')) number = number.replace(/0+$/, '').replace(/\.$/, '');
  number = number.replace(/^0+(?=\d)/, '');
  if (number.startsWith('.')) number = `0${number}`;
  return negative && number !== '0' ? `-${number}` : number;
}

export function scoreMath(output: string, gold: string): boolean {
  const expected = extractMathAnswer(gold) ?? gold.trim();
  const actual = extractMathAnswer(output);
  return actual !== null && actual === expected;
}

/**
 * The chosen letter: the output, stripped, must begin with a choice letter A–D standing alone
 * (followed by a non-word character or the end: "B", "B.", "B) …"), as the fixture report scores it.
 * "Because …" is no choice. null when the output does not start with one.
 */
export function extractChoiceLetter(output: string): string | null {
  const match = /^\s*([A-D])(?![\w])/.exec(output);
  return match ? match[1]! : null;
}

export function scoreScience(output: string, gold: string): boolean {
  return extractChoiceLetter(output) === gold.trim().toUpperCase();
}

// ---- reading: the official SQuAD v1.1/v2.0 normalisation ----

const ASCII_PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** lower-case → remove punctuation → remove articles a/an/the → collapse whitespace. */
export function normalizeSquad(text: string): string {
  const lower = text.toLowerCase();
  let withoutPunctuation = '';
  for (const char of lower) if (!ASCII_PUNCTUATION.has(char)) withoutPunctuation += char;
  return withoutPunctuation
    .replace(/\b(a|an|the)\b/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '')
    .join(' ');
}

export function exactMatch(output: string, gold: string): boolean {
  return normalizeSquad(output) === normalizeSquad(gold);
}

/** Token F1 over normalised words (bag of words with multiplicity); 0 when either side is empty. */
export function tokenF1(output: string, gold: string): number {
  const predicted = normalizeSquad(output).split(' ').filter((word) => word !== '');
  const expected = normalizeSquad(gold).split(' ').filter((word) => word !== '');
  if (predicted.length === 0 || expected.length === 0) return predicted.length === expected.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const word of expected) counts.set(word, (counts.get(word) ?? 0) + 1);
  let same = 0;
  for (const word of predicted) {
    const left = counts.get(word) ?? 0;
    if (left > 0) {
      same += 1;
      counts.set(word, left - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / predicted.length;
  const recall = same / expected.length;
  return (2 * precision * recall) / (precision + recall);
}
