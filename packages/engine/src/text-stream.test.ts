import { describe, expect, it } from 'vitest';
import { StopStringStream } from './text-stream.js';

/** Feeds growing text pieces; returns the deltas and the last update. */
function feed(stream: StopStringStream, pieces: string[]) {
  let text = '';
  const deltas: string[] = [];
  let stopped = false;
  for (const piece of pieces) {
    text += piece;
    const update = stream.update(text);
    deltas.push(update.delta);
    if (update.stopped) {
      stopped = true;
      break;
    }
  }
  return { deltas, stopped, text };
}

describe('StopStringStream', () => {
  it('passes text through without stop strings', () => {
    const { deltas, stopped } = feed(new StopStringStream(), ['a', 'bc', 'd']);
    expect(deltas).toEqual(['a', 'bc', 'd']);
    expect(stopped).toBe(false);
  });

  it('cuts before a stop string that spans several deltas and never emits it', () => {
    const stream = new StopStringStream(['\n\nQuestion:']);
    const { deltas, stopped } = feed(stream, ['The answer', ' is 4', '.\n', '\nQue', 'stion:', ' more']);
    expect(stopped).toBe(true);
    expect(deltas.join('')).toBe('The answer is 4.');
    expect(deltas).toEqual(['The answer', ' is 4', '.', '', '', ]);
    expect(stream.update('anything').text).toBe('The answer is 4.');
  });

  it('releases a held-back prefix when the text goes another way, and at finish', () => {
    const stream = new StopStringStream(['###']);
    expect(stream.update('a #').delta).toBe('a ');
    expect(stream.update('a #b').delta).toBe('#b');
    expect(stream.update('a #b##').delta).toBe('');
    const end = stream.finish('a #b##');
    expect(end.delta).toBe('##');
    expect(end.text).toBe('a #b##');
  });

  it('stops at the earliest of several stop strings, found inside one delta', () => {
    const stream = new StopStringStream(['END', 'x']);
    const update = stream.update('abc x END');
    expect(update).toEqual({ delta: 'abc ', stopped: true, text: 'abc ' });
  });

  it('holds back a trailing partial character (U+FFFD) until it completes', () => {
    const stream = new StopStringStream();
    expect(stream.update('caf\uFFFD').delta).toBe('caf');
    expect(stream.update('café').delta).toBe('é');
  });
});
