import type { Writable } from 'node:stream';

/** The levels a {@link ServeLogger} receives, most verbose first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Where the server's structured logs go: one call per event with a JSON-ready object and a short
 * message. Any pino or bunyan logger fits; {@link createJsonLogger} writes JSON lines.
 *
 * Events (`event` key): `listening`, `version-loaded`, `version-swapped`, `version-refused`,
 * `version-unloaded`, `draining`, `stopped`, `request` (debug: method, url, status, ms, model,
 * version), `request-rejected` (warn: a 503 for back-pressure), `request-error` (warn for 4xx/503
 * causes worth seeing, error for anything unexpected), `watch-failed` (error: polling a source failed).
 */
export interface ServeLogger {
  /** Verbose detail: one line per request. */
  debug(obj: Record<string, unknown>, msg?: string): void;
  /** Lifecycle: listening, versions loaded and swapped, draining. */
  info(obj: Record<string, unknown>, msg?: string): void;
  /** Something refused or degraded: a version that failed to load, back-pressure. */
  warn(obj: Record<string, unknown>, msg?: string): void;
  /** Something that should not happen. */
  error(obj: Record<string, unknown>, msg?: string): void;
}

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Where lines go (default `process.stdout`). */
  stream?: Pick<Writable, 'write'>;
  /** Least severe level written (default `'info'`). */
  level?: LogLevel;
  /** Clock for the `time` field (default `Date.now`). */
  now?: () => number;
  /** Fields added to every line (e.g. `{ service: 'cnn-server' }`). */
  base?: Record<string, unknown>;
}

const ORDER: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/**
 * A logger writing one JSON object per line (`{"level":30,"levelName":"info","time":...,"msg":...,...}`,
 * pino's numeric levels), what log collectors expect from a container's stdout.
 *
 * @param options - `stream`, `level`, `now`, `base`
 * @returns the logger
 * @throws never
 * @example
 * ```ts
 * const logger = createJsonLogger({ level: 'debug' });
 * logger.info({ event: 'hello' }, 'hello'); // {"level":30,"levelName":"info","time":...,"event":"hello","msg":"hello"}
 * ```
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): ServeLogger {
  const stream = options.stream ?? process.stdout;
  const min = ORDER[options.level ?? 'info'] ?? ORDER.info;
  const now = options.now ?? Date.now;
  const base = options.base ?? {};
  const line =
    (level: LogLevel) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      if (ORDER[level] < min) return;
      let text: string;
      try {
        text = JSON.stringify({
          level: ORDER[level],
          levelName: level,
          time: now(),
          ...base,
          ...obj,
          ...(msg === undefined ? {} : { msg }),
        });
      } catch {
        text = JSON.stringify({ level: ORDER[level], levelName: level, time: now(), msg });
      }
      stream.write(`${text}\n`);
    };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/**
 * A logger that drops everything (the default of `createServer`: libraries never print).
 *
 * @returns the logger
 * @throws never
 * @example
 * ```ts
 * await createServer({ models, logger: silentLogger() });
 * ```
 */
export function silentLogger(): ServeLogger {
  const none = (): void => undefined;
  return { debug: none, info: none, warn: none, error: none };
}
