import path from 'node:path';
import type { ModelConfig, ModelSource } from '@mlship/serve';
import { get } from '../command';
import type { CommandDef } from '../command';
import { CliError } from '../errors';

/** `mlship serve`. */
export const serveCommand: CommandDef = {
  path: ['serve'],
  summary:
    'serve models over TF Serving REST and Open Inference Protocol v2 until Ctrl-C or SIGTERM',
  details:
    '--model NAME=DIR serves a model directory; with --registry, --model NAME=REF serves a registry\nreference (cnn#production follows the stage as it moves: hot swap). Repeat --model for several.',
  examples: [
    'mlship serve --model cnn=models/cnn --port 8080',
    'mlship serve --registry . --model cnn=cnn#production --model cnn=cnn#staging --host 0.0.0.0',
  ],
  fields: [
    {
      key: 'models',
      flag: '--model <name=source>',
      help: 'NAME=DIR or NAME=REF (comma-separated or repeated in the config as a list)',
      type: { kind: 'list' },
      required: true,
    },
    {
      key: 'registry',
      flag: '--registry <dir>',
      help: 'local git registry for NAME=REF sources',
      type: { kind: 'string' },
    },
    {
      key: 'host',
      flag: '--host <host>',
      help: 'interface to listen on',
      type: { kind: 'string' },
      default: '127.0.0.1',
    },
    {
      key: 'port',
      flag: '--port <n>',
      help: 'port (0 picks a free one)',
      type: { kind: 'int', min: 0 },
      default: 8080,
    },
    {
      key: 'workers',
      flag: '--workers <n>',
      help: 'inference worker threads per version (0 = event loop)',
      type: { kind: 'int', min: 0 },
      default: 1,
    },
    {
      key: 'watchIntervalMs',
      flag: '--watch-interval-ms <n>',
      help: 'how often sources are polled for a new version',
      type: { kind: 'int' },
      default: 2000,
    },
  ],
  async run({ out, io, signal }, _args, s) {
    const { createServer, silentLogger } = await import('@mlship/serve');
    const registry = get<string | undefined>(s, 'registry');
    const byName = new Map<string, ModelSource[]>();
    for (const spec of get<string[]>(s, 'models')) {
      const eq = spec.indexOf('=');
      if (eq <= 0 || eq === spec.length - 1)
        throw new CliError(
          'USAGE',
          `--model: expected NAME=DIR or NAME=REF, got ${JSON.stringify(spec)}`,
          { data: { path: '--model' } },
        );
      const name = spec.slice(0, eq);
      const src = spec.slice(eq + 1);
      const isRef = registry !== undefined && !src.includes('/') && /[#@]/.test(src);
      const source: ModelSource = isRef
        ? { registry: path.resolve(io.cwd, registry), ref: src }
        : path.resolve(io.cwd, src);
      byName.set(name, [...(byName.get(name) ?? []), source]);
    }
    const models: ModelConfig[] = [...byName].map(([name, sources]) => ({
      name,
      source: sources.length === 1 ? sources[0]! : sources,
    }));
    const server = await createServer({
      models,
      host: get(s, 'host'),
      port: get(s, 'port'),
      workers: get(s, 'workers'),
      watch: { intervalMs: get(s, 'watchIntervalMs') },
      logger: silentLogger(),
    });
    const { url } = await server.start();
    const status = server.status();
    out.note(
      `serving ${status.map((m) => `${m.name} (versions ${m.versions.map((v) => v.version).join(', ')})`).join(', ')} at ${url}`,
    );
    out.note(
      `try it: ${url}/   docs: ${url}/docs   Ctrl-C or SIGTERM stops (in-flight requests finish first)`,
    );
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.stop();
    out.result({ url, models: status }, () => `stopped ${url}`);
  },
};
