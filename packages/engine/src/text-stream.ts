// Turns the decoded text of the generated tokens into the deltas a stream emits: holds back a
// trailing incomplete UTF-8 character (decoded as U+FFFD) and any tail that could be the start of a
// stop string, and cuts the text before the first stop string (which is never emitted). Works on
// the whole decoded text each step, so a stop string spanning several tokens is found. Not a
// detokenizer: the caller decodes ids to text.

const REPLACEMENT_CHARACTER = '\uFFFD';

export interface TextUpdate {
  /** New text safe to show now (may be ''). */
  delta: string;
  /** True once a stop string was found; `text` then ends right before it. */
  stopped: boolean;
  /** The text emitted so far, including `delta`. */
  text: string;
}

export class StopStringStream {
  private readonly stops: readonly string[];
  private readonly longestStop: number;
  private emitted = '';
  private done = false;

  constructor(stops: readonly string[] = []) {
    this.stops = stops.filter((stop) => stop.length > 0);
    this.longestStop = Math.max(0, ...this.stops.map((stop) => stop.length));
  }

  /** The full decoded text of all generated tokens so far. */
  update(fullText: string): TextUpdate {
    if (this.done) return { delta: '', stopped: true, text: this.emitted };
    let stable = fullText;
    while (stable.endsWith(REPLACEMENT_CHARACTER)) stable = stable.slice(0, -1);
    const stopAt = this.findStop(stable);
    if (stopAt !== -1) {
      this.done = true;
      return this.advanceTo(stable.slice(0, stopAt), true);
    }
    return this.advanceTo(stable.slice(0, stable.length - this.heldBackLength(stable)), false);
  }

  /** Generation ended without a stop string: release everything held back. */
  finish(fullText: string): TextUpdate {
    if (this.done) return { delta: '', stopped: true, text: this.emitted };
    this.done = true;
    return this.advanceTo(fullText, false);
  }

  private advanceTo(target: string, stopped: boolean): TextUpdate {
    // Decoding is prefix-stable except for held-back bytes; if a tokenizer ever rewrites text
    // already emitted, the stream cannot take it back, so only the new suffix is sent.
    // substring + === rather than startsWith, which is O(length) character by character on the
    // concatenated (cons) strings decoding builds: this runs once per generated token
    const extendsEmitted = target.length >= this.emitted.length && target.substring(0, this.emitted.length) === this.emitted;
    const delta = extendsEmitted ? target.slice(this.emitted.length) : target.slice(Math.min(this.emitted.length, target.length));
    if (target.length >= this.emitted.length || stopped) this.emitted = target;
    return { delta, stopped, text: this.emitted };
  }

  /** Earliest index of any stop string in `text`, or -1. */
  private findStop(text: string): number {
    if (this.stops.length === 0) return -1;
    const searchFrom = Math.max(0, this.emitted.length - this.longestStop);
    let earliest = -1;
    for (const stop of this.stops) {
      const at = text.indexOf(stop, searchFrom);
      if (at !== -1 && (earliest === -1 || at < earliest)) earliest = at;
    }
    return earliest;
  }

  /** Length of the longest tail of `text` that is a proper prefix of some stop string. */
  private heldBackLength(text: string): number {
    for (let length = Math.min(this.longestStop - 1, text.length); length > 0; length--) {
      const tail = text.slice(text.length - length);
      if (this.stops.some((stop) => stop.startsWith(tail))) return length;
    }
    return 0;
  }
}
