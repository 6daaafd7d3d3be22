import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { isTfError, initRuntime } from '@mlship/tf';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import { describeError } from '@mlship/core';
import pkg from '../package.json';
import type { RequestTags, ServeContext } from './context';
import { ServeError, httpStatusOf, isServeError } from './errors';
import { ServeMetrics } from './metrics';
import { normalizeOptions } from './options';
import type { NormalizedOptions, ServeOptions } from './options';
import { tfServingRoutes } from './routes/tfserving';
import { v2Routes } from './routes/v2';
import { ServedModel } from './served-model';
import type { VersionStatus } from './served-model';

/** Where a started server listens. */
export interface ListeningAddress {
  /** `http://host:port` (IPv6 hosts in brackets). */
  url: string;
  /** The port (the one picked when `port` was 0). */
  port: number;
}

/** A snapshot of one served model (what `GET /v1/models` answers). */
export interface ModelState {
  /** The model's name in URLs. */
  name: string;
  /** The version requests without a version or label get. */
  defaultVersion: number | undefined;
  /** Label (stage) -> version. */
  labels: Record<string, number>;
  /** Every loaded or refused version. */
  versions: VersionStatus[];
  /** Whether every source has a serving version. */
  ready: boolean;
}

/** How long nothing may be in flight before a stopping server closes its idle connections. */
const DRAIN_QUIET_MS = 200;

/** The mlship server version (this package's version), as `GET /v2` reports it. */
const SERVER_VERSION: string = (pkg as { version: string }).version;

function publicDir(): string {
  const here =
    typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url));
  return path.join(here, '..', 'public');
}

/**
 * A running (or ready to start) model server; get one from {@link createServer}.
 *
 * @example
 * ```ts
 * const server = await createServer({ models: [{ name: 'cnn', source: './models/cnn' }], port: 0 });
 * const { url } = await server.start();
 * // ... later
 * await server.stop();
 * ```
 */
export class MlshipServer {
  private address: ListeningAddress | undefined;
  private phase: 'ready' | 'starting' | 'listening' | 'stopping' | 'stopped' = 'ready';
  private stopping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** @internal Use {@link createServer}. */
  constructor(
    /**
     * The fastify instance with every route registered and ready: embed it in your own HTTP server
     * (`app.routing(req, res)`), test it with `app.inject()`, or add routes before `start()`.
     */
    readonly app: FastifyInstance,
    private readonly o: NormalizedOptions,
    private readonly models: Map<string, ServedModel>,
    private readonly ownedCacheDir: string | undefined,
    private readonly ctx: ServeContext,
  ) {
    if (o.watchIntervalMs !== false) {
      this.timer = setInterval(() => void this.refresh(), o.watchIntervalMs);
      this.timer.unref();
    }
  }

  /** Whether requests are accepted (false once `stop()` began). */
  get accepting(): boolean {
    return this.phase === 'ready' || this.phase === 'listening' || this.phase === 'starting';
  }

  /** Where the server listens, once started. */
  get url(): string | undefined {
    return this.address?.url;
  }

  /**
   * Listens on `host:port`.
   *
   * @returns the URL and port (the picked one when `port` was 0)
   * @throws ServeError `LISTEN_FAILED` (port in use, bad host), `NOT_RUNNING` when already started or stopped
   * @example
   * ```ts
   * const { url } = await server.start(); // http://127.0.0.1:8080
   * ```
   */
  async start(): Promise<ListeningAddress> {
    if (this.phase !== 'ready')
      throw new ServeError(
        'NOT_RUNNING',
        `start(): the server is ${this.phase}; a server starts once`,
      );
    this.phase = 'starting';
    try {
      await this.app.listen({ host: this.o.host, port: this.o.port });
    } catch (e) {
      this.phase = 'ready';
      throw new ServeError(
        'LISTEN_FAILED',
        `cannot listen on ${this.o.host}:${this.o.port}: ${describeError(e)}`,
        {
          cause: e,
          data: { path: `${this.o.host}:${this.o.port}` },
        },
      );
    }
    const addr = this.app.server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : this.o.port;
    const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    this.address = { url: `http://${host}:${port}`, port };
    this.phase = 'listening';
    this.o.logger.info(
      { event: 'listening', url: this.address.url, models: [...this.models.keys()] },
      `listening on ${this.address.url}`,
    );
    return this.address;
  }

  /**
   * Checks every watched source now (what the watch timer does every `watch.intervalMs`): a moved
   * registry stage or a re-saved directory is loaded, verified, warmed up and swapped in; a broken
   * one is refused and reported. Resolves when the check (and any swap) is done; never rejects.
   *
   * @returns nothing
   * @throws never
   * @example
   * ```ts
   * await registry.assign('cnn@v2', 'production');
   * await server.refresh(); // production now answers with version 2
   * ```
   */
  async refresh(): Promise<void> {
    if (!this.accepting) return;
    await Promise.all([...this.models.values()].map((m) => m.refresh()));
  }

  /**
   * The state of every served model: versions (serving and refused), labels, default version.
   *
   * @returns one entry per model, in configuration order
   * @throws never
   * @example
   * ```ts
   * server.status().map((m) => `${m.name}: v${m.defaultVersion}`);
   * ```
   */
  status(): ModelState[] {
    return [...this.models.values()].map((m) => ({
      name: m.name,
      defaultVersion: m.defaultVersion?.version,
      labels: m.labels(),
      versions: m.status(),
      ready: m.ready,
    }));
  }

  /**
   * Stops: refuses new requests (503, `/v2/health/ready` false), closes the listener, lets
   * in-flight requests finish (drain), then frees every worker and the registry checkouts.
   * Idempotent: later calls return the same promise.
   *
   * @returns when everything is released
   * @throws never
   * @example
   * ```ts
   * process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
   * ```
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.phase = 'stopping';
      if (this.timer !== undefined) clearInterval(this.timer);
      this.o.logger.info({ event: 'draining' }, 'stopping: draining in-flight requests');
      // Stop listening but keep open connections until nothing is in flight for DRAIN_QUIET_MS:
      // a request already sent on a keep-alive connection is served (with Connection: close)
      // instead of being reset. Node's server.close() would close those "idle" sockets at once.
      const http = this.app.server;
      const closeIdle = http.closeIdleConnections?.bind(http);
      if (closeIdle !== undefined) http.closeIdleConnections = () => undefined;
      const closing = this.app.close().catch(() => undefined);
      let quietSince = performance.now();
      while (performance.now() - quietSince < DRAIN_QUIET_MS) {
        await new Promise((r) => setTimeout(r, 10));
        if (this.ctx.inFlight > 0) quietSince = performance.now();
      }
      closeIdle?.();
      await closing;
      await Promise.all([...this.models.values()].map((m) => m.close()));
      if (this.ownedCacheDir !== undefined)
        await rm(this.ownedCacheDir, { recursive: true, force: true }).catch(() => undefined);
      this.phase = 'stopped';
      this.o.logger.info({ event: 'stopped' }, 'stopped');
    })();
    return this.stopping;
  }
}

function corsOrigin(setting: NormalizedOptions['cors']): boolean | string | string[] {
  return typeof setting === 'boolean' || typeof setting === 'string' ? setting : [...setting];
}

/** Builds the fastify app: parsers, hooks, error mapping, routes. @internal */
async function buildApp(
  ctx: ServeContext,
  server: () => MlshipServer | undefined,
): Promise<FastifyInstance> {
  const { o } = ctx;
  const app = Fastify({
    logger: false,
    bodyLimit: o.limits.bodyBytes,
    // Requests that reach us while draining are served (with Connection: close), see stop().
    return503OnClosing: false,
    requestTimeout: 60_000,
    routerOptions: { maxParamLength: 200 },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
  });
  // TF Serving's clients (curl -d) often send JSON without a JSON content type: parse any body as JSON.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  app.decorateRequest('mlship', null as unknown as RequestTags);
  app.addHook('onRequest', async (req, reply) => {
    req.mlship = {
      route: req.routeOptions.config.routeId ?? 'not_found',
      arrived: performance.now(),
    };
    ctx.metrics.inFlight.inc();
    ctx.inFlight++;
    reply.raw.once('close', () => {
      ctx.metrics.inFlight.dec();
      ctx.inFlight--;
    });
    if (!ctx.accepting()) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    const t = req.mlship;
    if (t === null || t === undefined) return;
    const seconds = (performance.now() - t.arrived) / 1000;
    const model = t.model ?? '';
    ctx.metrics.requests.inc({
      model,
      version: t.version === undefined ? '' : String(t.version),
      route: t.route,
      status: String(reply.statusCode),
    });
    ctx.metrics.latency.observe({ model, route: t.route }, seconds);
    o.logger.debug(
      {
        event: 'request',
        method: req.method,
        url: req.url.slice(0, 200),
        status: reply.statusCode,
        ms: Math.round(seconds * 1e4) / 10,
        model: t.model,
        version: t.version,
      },
      'request',
    );
  });
  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    let status: number;
    let message = err.message;
    if (isServeError(err)) {
      status = httpStatusOf(err);
      if (err.code === 'OVERLOADED')
        reply.header('retry-after', String(err.data?.retryAfterSeconds ?? 1));
    } else if (isTfError(err) && /^WORKER_|POOL_DISPOSED/.test(String(err.code))) {
      status = 503;
      message = `inference is unavailable right now: ${err.message}`;
      reply.header('retry-after', '1');
    } else {
      const code = (err as FastifyError).statusCode;
      status = typeof code === 'number' && code >= 400 && code < 600 ? code : 500;
    }
    if (status >= 500 && status !== 503) {
      o.logger.error(
        {
          event: 'request-error',
          url: req.url.slice(0, 200),
          error: err.message,
          stack: err.stack,
        },
        'request failed',
      );
      message = `internal error: ${err.message}`;
    } else if (status === 503) {
      o.logger.warn(
        { event: 'request-rejected', url: req.url.slice(0, 200), error: message },
        'request rejected',
      );
    }
    void reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `No route ${req.method} ${req.url.slice(0, 200)}` });
  });

  if (o.cors !== false)
    await app.register(cors, {
      origin: corsOrigin(o.cors),
      exposedHeaders: ['x-model-name', 'x-model-version', 'retry-after'],
    });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'mlship model server',
        version: SERVER_VERSION,
        description:
          'TF Serving REST API and Open Inference Protocol v2 for mlship models. Every inference response says which version answered: header x-model-version and body model_version.',
      },
      tags: [
        {
          name: 'TF Serving REST',
          description: 'TensorFlow Serving RESTful API (status, metadata, predict, classify)',
        },
        { name: 'Open Inference Protocol v2', description: 'KServe / Triton v2 REST protocol' },
        { name: 'Operations', description: 'Metrics and API description' },
      ],
    },
  });
  if (o.ui) await app.register(swaggerUi, { routePrefix: '/docs' });

  tfServingRoutes(app, ctx);
  v2Routes(app, ctx, SERVER_VERSION);

  app.get(
    '/metrics',
    {
      config: { routeId: 'metrics' },
      schema: { tags: ['Operations'], summary: 'Prometheus metrics (text exposition format)' },
    },
    (_req, reply) => {
      reply.header('content-type', ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    },
  );
  app.get('/openapi.json', { config: { routeId: 'openapi' }, schema: { hide: true } }, () =>
    app.swagger(),
  );

  if (o.ui) {
    const dir = publicDir();
    const files: [string, string, string][] = [
      ['/', 'index.html', 'text/html; charset=utf-8'],
      ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
      ['/style.css', 'style.css', 'text/css; charset=utf-8'],
    ];
    for (const [url, file, type] of files) {
      const body = readFileSync(path.join(dir, file));
      app.get(url, { config: { routeId: 'ui' }, schema: { hide: true } }, async (_req, reply) => {
        reply.header('content-type', type).header('cache-control', 'no-cache');
        return body;
      });
    }
  }
  void server;
  await app.ready();
  return app;
}

/**
 * Creates a model server: validates the options, loads every model version (each file verified
 * against its sha256 in mlship.json, inference workers started and warmed up), registers the
 * routes, and starts watching the sources. Call `start()` to listen, or embed `app`.
 *
 * Routes: TF Serving REST (`/v1/models/{m}[/versions/{v}|/labels/{l}]`, `/metadata`,
 * `:predict`, `:classify`), Open Inference Protocol v2 (`/v2/health/live|ready`, `/v2`,
 * `/v2/models/{m}[/versions/{v}]`, `/ready`, `/infer`), `GET /v1/models`, `/metrics`,
 * `/openapi.json`, `/docs`, and the try-it page at `/`.
 *
 * @param options - models, host, port, workers, batching, timeoutMs, limits, watch, logger, cors, ui, cacheDir, backend
 * @returns the server, not yet listening
 * @throws ServeError `INVALID_OPTION` / `INVALID_NAME` for bad options; `NOT_A_MODEL_DIR`,
 *   `INVALID_META`, `INTEGRITY`, `LOAD_FAILED`, `WARMUP_FAILED` when a model cannot be served
 * @example
 * ```ts
 * import { createServer } from '@mlship/serve';
 * const server = await createServer({
 *   models: [{ name: 'cnn', source: { registry: './registry', ref: 'cnn#production' } }],
 *   port: 8080,
 * });
 * const { url } = await server.start();
 * ```
 */
export async function createServer(options: ServeOptions): Promise<MlshipServer> {
  const o = normalizeOptions(options);
  try {
    await initRuntime();
  } catch (e) {
    throw new ServeError('LOAD_FAILED', `cannot start TensorFlow.js: ${describeError(e)}`, {
      cause: e,
    });
  }
  const ownedCacheDir =
    o.cacheDir === undefined ? await mkdtemp(path.join(os.tmpdir(), 'mlship-serve-')) : undefined;
  const cacheDir = o.cacheDir ?? ownedCacheDir ?? os.tmpdir();
  const models = new Map<string, ServedModel>();
  let server: MlshipServer | undefined;
  const metrics = new ServeMetrics({
    queueDepth: () =>
      [...models.values()].flatMap((m) =>
        m.loaded().map((v) => ({ model: m.name, version: v.version, depth: v.batcher.depth })),
      ),
    loaded: () =>
      [...models.values()].flatMap((m) =>
        m.loaded().map((v) => ({ model: m.name, version: v.version, state: v.state })),
      ),
  });
  const hooks = {
    logger: o.logger,
    onBatch: (model: string, version: number, size: number, ms: number) => {
      metrics.batchSize.observe({ model, version: String(version) }, size);
      metrics.inference.observe({ model, version: String(version) }, ms / 1000);
    },
  };
  try {
    for (const config of o.models) {
      const m = new ServedModel(config, o, cacheDir, hooks);
      await m.init();
      models.set(m.name, m);
    }
    const ctx: ServeContext = {
      o,
      models,
      metrics,
      accepting: () => server?.accepting ?? false,
      inFlight: 0,
    };
    const app = await buildApp(ctx, () => server);
    server = new MlshipServer(app, o, models, ownedCacheDir, ctx);
    return server;
  } catch (e) {
    await Promise.all([...models.values()].map((m) => m.close()));
    if (ownedCacheDir !== undefined)
      await rm(ownedCacheDir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}
