import type { LogLevel } from './logger';
import type { ModelConfig, ModelSource, ServeOptions } from './options';
import { ServeError } from './errors';

/** What `mlship-serve`'s arguments say, as {@link parseArgs} returns it. */
export interface CliOptions {
  /** Options for `createServer` (without a logger). */
  server: Omit<ServeOptions, 'logger'>;
  /** Log level of the JSON logs on stdout (`--log-level`, default `info`). */
  logLevel: LogLevel;
  /** `--help` was given. */
  help: boolean;
}

/** The `mlship-serve` usage text. */
export const USAGE = `Usage: mlship-serve --model NAME=SOURCE [--model ...] [options]

Serves mlship models over TF Serving REST and Open Inference Protocol v2.

  --model NAME=DIR            serve the model directory DIR as NAME (repeatable)
  --registry DIR              a local registry (working tree or bare repository); then
  --model NAME=REF            serves a registry reference: cnn#production, cnn@latest, cnn@v3
                              (repeat NAME with several refs to serve several stages/versions;
                              a SOURCE containing '/' is always a directory)
  --host HOST                 interface to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --port PORT                 port (default 8080; 0 picks a free one)
  --workers N                 inference worker threads per version (default 1; 0 = event loop)
  --max-batch-size N          adaptive batching: most images per inference (default 64)
  --max-delay-ms MS           wait for companions while idle (default 0)
  --max-queue N               most queued images per version before 503 (default 1024)
  --no-batching               run every request as its own inference
  --timeout-ms MS             request deadline (default 10000)
  --watch-interval-ms MS      poll sources for new versions (default 2000)
  --no-watch                  never reload
  --cors ORIGIN               allow cross-origin requests from ORIGIN ('*' for any; repeatable)
  --no-ui                     no try-it page at / and no /docs
  --log-level LEVEL           debug | info | warn | error (default info)
  --help                      this text

SIGTERM or SIGINT: stop accepting, drain in-flight requests, exit 0.`;

function fail(message: string): ServeError {
  return new ServeError('INVALID_OPTION', `mlship-serve: ${message}\n\n${USAGE}`, {
    data: { path: 'argv' },
  });
}

function intArg(flag: string, v: string | undefined): number {
  if (v === undefined || !/^[0-9]+$/.test(v))
    throw fail(`${flag} expects a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/**
 * Parses `mlship-serve`'s command line (the part after the script) into `createServer` options.
 *
 * @param argv - the arguments, e.g. `process.argv.slice(2)`
 * @returns the server options, log level and whether `--help` was given
 * @throws ServeError `INVALID_OPTION` naming the bad argument (the message includes the usage)
 * @example
 * ```ts
 * parseArgs(['--model', 'cnn=/models/cnn', '--host', '0.0.0.0', '--port', '8080']).server;
 * // { models: [{ name: 'cnn', source: '/models/cnn' }], host: '0.0.0.0', port: 8080 }
 * ```
 */
export function parseArgs(argv: readonly string[]): CliOptions {
  const specs: [string, string][] = [];
  let registry: string | undefined;
  const server: Omit<ServeOptions, 'logger' | 'models'> & { batching?: ServeOptions['batching'] } =
    {};
  const batching: Record<string, number> = {};
  let noBatching = false;
  const cors: string[] = [];
  let logLevel: LogLevel = 'info';
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag =
      eq > 0 && !arg.startsWith('--model=')
        ? arg.slice(0, eq)
        : arg.startsWith('--model=')
          ? '--model'
          : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw fail(`${flag} expects a value`);
      return v;
    };
    switch (flag) {
      case '--model': {
        const v = value();
        const at = v.indexOf('=');
        if (at <= 0 || at === v.length - 1)
          throw fail(`--model expects NAME=SOURCE, got ${JSON.stringify(v)}`);
        specs.push([v.slice(0, at), v.slice(at + 1)]);
        break;
      }
      case '--registry':
        registry = value();
        break;
      case '--host':
        server.host = value();
        break;
      case '--port':
        server.port = intArg(flag, value());
        break;
      case '--workers':
        server.workers = intArg(flag, value());
        break;
      case '--max-batch-size':
        batching['maxBatchSize'] = intArg(flag, value());
        break;
      case '--max-delay-ms':
        batching['maxDelayMs'] = intArg(flag, value());
        break;
      case '--max-queue':
        batching['maxQueue'] = intArg(flag, value());
        break;
      case '--no-batching':
        noBatching = true;
        break;
      case '--timeout-ms':
        server.timeoutMs = intArg(flag, value());
        break;
      case '--watch-interval-ms':
        server.watch = { intervalMs: intArg(flag, value()) };
        break;
      case '--no-watch':
        server.watch = false;
        break;
      case '--cors':
        cors.push(value());
        break;
      case '--no-ui':
        server.ui = false;
        break;
      case '--log-level': {
        const v = value();
        if (!['debug', 'info', 'warn', 'error'].includes(v))
          throw fail(`--log-level expects debug, info, warn or error, got ${JSON.stringify(v)}`);
        logLevel = v as LogLevel;
        break;
      }
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw fail(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (noBatching && Object.keys(batching).length > 0)
    throw fail('--no-batching cannot be combined with batching options');
  if (noBatching) server.batching = false;
  else if (Object.keys(batching).length > 0) server.batching = batching;
  if (cors.length > 0) server.cors = cors.includes('*') ? true : cors;
  if (specs.length === 0 && !help) throw fail('give at least one --model NAME=SOURCE');
  const models: ModelConfig[] = [];
  for (const [name, spec] of specs) {
    const source: ModelSource =
      registry !== undefined && !spec.includes('/') ? { registry, ref: spec } : spec;
    const existing = models.find((m) => m.name === name);
    if (existing === undefined) models.push({ name, source });
    else
      existing.source = [
        ...(Array.isArray(existing.source)
          ? (existing.source as readonly ModelSource[])
          : [existing.source as ModelSource]),
        source,
      ];
  }
  return { server: { ...server, models }, logLevel, help };
}
