import { checkOptionKeys, keysOf, optionError } from './internal/options';
import type { TrainProgress } from './train/types';

/** Where {@link progressBar} writes: `process.stderr`, `process.stdout`, a file stream, ... */
export interface ProgressStream {
  /** Writes text (the stream's own `write`). */
  write(chunk: string): unknown;
  /** True for a terminal: the bar is redrawn in place; otherwise one line per epoch is written. */
  isTTY?: boolean;
  /** Terminal width, when known (the bar never writes a line wider than this). */
  columns?: number;
}

/** Options of {@link progressBar}. */
export interface ProgressBarOptions {
  /** Where to write (default `process.stderr`, looked up when `progressBar` is called). */
  stream?: ProgressStream;
  /** Width of the bar in characters (default 24). */
  width?: number;
}

const PROGRESS_BAR_KEYS = keysOf<ProgressBarOptions>({ stream: true, width: true });

function line(p: TrainProgress, width: number): string {
  const done = Math.round((p.batch / p.batches) * width);
  const bar = `${'='.repeat(Math.max(0, done - 1))}${done > 0 ? (done === width ? '=' : '>') : ''}`;
  return (
    `epoch ${p.epoch}/${p.epochs} [${bar.padEnd(width)}] ${p.batch}/${p.batches} ` +
    `loss ${p.epochLoss.toFixed(4)} accuracy ${p.epochAccuracy.toFixed(4)} lr ${p.learningRate.toPrecision(3)}`
  );
}

/**
 * A ready-made `onProgress` for {@link train}: on a terminal, one bar per epoch redrawn in place
 * (epoch, batches done, the epoch's running loss and accuracy, the learning rate); elsewhere (a
 * log file, CI) one line per finished epoch. It writes only when train calls it, and only to the
 * stream it is given: the library itself never prints.
 *
 * @param options - `stream` (default `process.stderr`), `width` of the bar (default 24)
 * @returns the `onProgress` callback
 * @throws {@link ModelError} `INVALID_OPTION` for an unknown option key or a bad `width`
 * @example
 * ```ts
 * await train(model, trainSet, { epochs: 5, onProgress: progressBar() }); // to stderr
 * await train(model, trainSet, { onProgress: progressBar({ stream: process.stdout, width: 40 }) });
 * ```
 */
export function progressBar(options: ProgressBarOptions = {}): (event: TrainProgress) => void {
  checkOptionKeys(options, PROGRESS_BAR_KEYS, 'progressBar options');
  const width = options.width ?? 24;
  if (!Number.isInteger(width) || width < 1 || width > 200)
    throw optionError('width', 'an integer in [1, 200]', width);
  const stream = options.stream ?? process.stderr;
  if (typeof stream?.write !== 'function')
    throw optionError('stream', 'a writable stream (an object with write(text))', stream);
  return (p) => {
    const last = p.batch === p.batches;
    if (stream.isTTY === true) {
      let text = line(p, width);
      const columns = stream.columns;
      if (typeof columns === 'number' && columns > 1 && text.length >= columns)
        text = text.slice(0, columns - 1);
      // \r back to the line start, \x1b[K clears what a longer previous line left behind.
      stream.write(`\r${text}\x1b[K${last ? '\n' : ''}`);
    } else if (last) {
      stream.write(`${line(p, width)}\n`);
    }
  };
}
