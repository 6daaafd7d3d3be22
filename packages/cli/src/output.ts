import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';

/** The streams and environment a command runs with (injectable for tests and embedding). */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  cwd: string;
}

/** How a command reports: `--json` (one JSON document on stdout), `--quiet` (no progress or notes). */
export interface OutputMode {
  json: boolean;
  quiet: boolean;
}

/** A progress bar handle; a no-op when the terminal shows none. */
export interface Progress {
  /** Sets the position (and the values shown after the bar). */
  update(value: number, payload?: Record<string, string | number>): void;
  /** Sets a new total (e.g. when the number of steps becomes known). */
  setTotal(total: number): void;
  /** Draws the final state and leaves the line. */
  stop(): void;
}

const NO_PROGRESS: Progress = { update() {}, setTotal() {}, stop() {} };

/**
 * Everything a command writes goes through here: notes and progress on stderr (so `--json` stdout
 * stays one parseable document), results on stdout as a table or JSON.
 */
export class Output {
  constructor(
    readonly io: CliIo,
    readonly mode: OutputMode,
  ) {}

  /** Whether stderr is a terminal that can redraw a progress bar in place. */
  get interactive(): boolean {
    return this.io.stderr.isTTY === true && this.io.env['TERM'] !== 'dumb';
  }

  /** A line of information on stderr (suppressed by `--quiet`). */
  note(line: string): void {
    if (!this.mode.quiet) this.io.stderr.write(`${line}\n`);
  }

  /** A warning on stderr (always shown). */
  warn(line: string): void {
    this.io.stderr.write(`warning: ${line}\n`);
  }

  /**
   * A progress bar on stderr that redraws in place, when stderr is a terminal and not `--quiet`.
   *
   * @param label - shown before the bar
   * @param total - the value at 100 %
   * @param detail - a cli-progress format tail with `{payload}` names, e.g. `loss {loss}`
   */
  progress(label: string, total: number, detail = ''): Progress {
    if (this.mode.quiet || !this.interactive) return NO_PROGRESS;
    const bar = new SingleBar({
      stream: this.io.stderr,
      format: `${label} [{bar}] {percentage}% {value}/{total}${detail ? ` ${detail}` : ''} | {duration_formatted}`,
      barCompleteChar: '#',
      barIncompleteChar: '-',
      barsize: 30,
      hideCursor: true,
      etaBuffer: 50,
      fps: 10,
      clearOnComplete: false,
      linewrap: false,
    });
    const placeholders = [...detail.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    bar.start(total, 0, Object.fromEntries(placeholders.map((p) => [p, '-'])));
    return {
      update: (value, payload) => bar.update(value, payload),
      setTotal: (t) => bar.setTotal(t),
      stop: () => bar.stop(),
    };
  }

  /**
   * Prints the command's result: `value` as JSON with `--json`, else `human()`'s text on stdout.
   */
  result(value: unknown, human: () => string): void {
    if (this.mode.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else {
      const text = human();
      if (text !== '') this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }
}

function cellText(c: unknown): string {
  if (c === null || c === undefined) return '-';
  if (typeof c === 'string') return c;
  if (typeof c === 'number' || typeof c === 'boolean' || typeof c === 'bigint') return String(c);
  return JSON.stringify(c) ?? '-';
}

/**
 * Renders rows as a table for the terminal.
 *
 * @param head - column titles
 * @param rows - cells (numbers right-aligned)
 * @returns the table text
 * @example
 * ```ts
 * renderTable(['version', 'accuracy'], [[1, '98.4 %']]);
 * ```
 */
export function renderTable(
  head: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const table = new Table({
    head: [...head],
    style: { head: [], border: [] },
    colAligns: head.map((_, i) =>
      rows.every((r) => typeof r[i] === 'number') && rows.length > 0 ? 'right' : 'left',
    ),
  });
  for (const row of rows) table.push(row.map(cellText));
  return table.toString();
}

/**
 * A fraction as a percentage with two decimals, e.g. `98.41 %`.
 *
 * @param x - a fraction in [0, 1]
 * @returns the text
 * @example
 * ```ts
 * percent(0.9841); // '98.41 %'
 * ```
 */
export function percent(x: number | null | undefined): string {
  return typeof x === 'number' ? `${(x * 100).toFixed(2)} %` : '-';
}
