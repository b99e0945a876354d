// The CLI's view of the terminal: where text goes (results on stdout, diagnostics and progress on
// stderr), whether stderr gets colour, and progress reporting. Commands write only through this,
// so tests and the error policy see every byte. It is not a logger.

import { SingleBar } from 'cli-progress';
import picocolors from 'picocolors';

export type Colors = ReturnType<typeof picocolors.createColors>;

export interface Progress {
  /** Sets the number of finished units (of `total`). */
  update(done: number): void;
  /** Ends the bar (or prints nothing more in plain mode). */
  stop(): void;
}

export interface Terminal {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Colours for stderr text: real colours on a TTY without NO_COLOR, identity functions otherwise. */
  errorColors: Colors;
  /** Colours for stdout text, by the same rule applied to stdout. */
  outputColors: Colors;
  progress(label: string, total: number): Progress;
}

interface Stream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface TerminalStreams {
  stdout: Stream;
  stderr: Stream;
  env: Record<string, string | undefined>;
  now?: () => number;
}

function colorsFor(stream: Stream, env: Record<string, string | undefined>): Colors {
  const noColor = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
  const forced = env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0' && env['FORCE_COLOR'] !== '';
  return picocolors.createColors(!noColor && (forced || stream.isTTY === true) && env['TERM'] !== 'dumb');
}

// Without a TTY, progress prints a plain line at most this often, so logs stay short.
const PLAIN_PROGRESS_INTERVAL_MS = 5_000;

function plainProgress(stderr: Stream, label: string, total: number, now: () => number): Progress {
  let lastLineAt = now();
  return {
    update(done) {
      if (now() - lastLineAt < PLAIN_PROGRESS_INTERVAL_MS) return;
      lastLineAt = now();
      stderr.write(`${label}: ${done}/${total}\n`);
    },
    stop() {},
  };
}

function barProgress(stderr: Stream, label: string, total: number): Progress {
  const bar = new SingleBar({
    stream: stderr as NodeJS.WritableStream,
    format: `${label} [{bar}] {value}/{total} {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(total, 0);
  return {
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}

export function createTerminal({ stdout, stderr, env, now = Date.now }: TerminalStreams): Terminal {
  return {
    stdout: (text) => void stdout.write(text),
    stderr: (text) => void stderr.write(text),
    errorColors: colorsFor(stderr, env),
    outputColors: colorsFor(stdout, env),
    progress: (label, total) => (stderr.isTTY === true ? barProgress(stderr, label, total) : plainProgress(stderr, label, total, now)),
  };
}
