import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServeError, notFound } from './errors';
import type { InputBatch, Signature } from './inputs';
import type { ServeMetrics } from './metrics';
import type { NormalizedOptions } from './options';
import type { ServedModel } from './served-model';
import type { LoadedVersion } from './version';

/** @internal What the routes share. */
export interface ServeContext {
  o: NormalizedOptions;
  models: Map<string, ServedModel>;
  metrics: ServeMetrics;
  /** False while starting and once draining. */
  accepting(): boolean;
  /** Requests received and not yet answered. */
  inFlight: number;
}

/** @internal Per-request labels for metrics and logs. */
export interface RequestTags {
  route: string;
  model?: string;
  version?: number;
  arrived: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    mlship: RequestTags;
  }
  interface FastifyContextConfig {
    /** Metrics label of the route. */
    routeId?: string;
  }
}

/** @internal The served model a URL names. @throws ServeError NOT_FOUND */
export function modelOf(ctx: ServeContext, req: FastifyRequest, name: string): ServedModel {
  const m = ctx.models.get(name);
  if (m === undefined) {
    throw notFound(
      `Model ${JSON.stringify(name).slice(0, 120)} not found (serving: ${[...ctx.models.keys()].join(', ')})`,
    );
  }
  req.mlship.model = m.name;
  return m;
}

/** @internal The version a request names, marked on the request and reply. */
export function versionOf(
  req: FastifyRequest,
  reply: FastifyReply,
  m: ServedModel,
  sel: { version?: string | undefined; label?: string | undefined },
): LoadedVersion {
  const v = m.resolve(sel);
  req.mlship.version = v.version;
  reply.header('x-model-name', m.name);
  reply.header('x-model-version', String(v.version));
  return v;
}

/** @internal The signature requests to `v` are checked against. */
export function signatureOf(ctx: ServeContext, v: LoadedVersion): Signature {
  return {
    input: v.meta.input,
    maxInstances: ctx.o.limits.instances,
    maxPixels: ctx.o.limits.imagePixels,
  };
}

/** @internal The request's deadline: arrival + timeoutMs, or sooner with `x-request-timeout-ms`. */
function deadlineOf(ctx: ServeContext, req: FastifyRequest): number {
  let ms = ctx.o.timeoutMs;
  const h = req.headers['x-request-timeout-ms'];
  if (typeof h === 'string' && /^[0-9]{1,9}$/.test(h)) ms = Math.min(ms, Math.max(1, Number(h)));
  return req.mlship.arrived + ms;
}

/**
 * @internal Runs a parsed batch on `v` through its batcher (holding `v` so a swap waits for it).
 * @throws ServeError OVERLOADED
 */
export async function runBatch(
  ctx: ServeContext,
  req: FastifyRequest,
  v: LoadedVersion,
  batch: InputBatch,
): Promise<Float32Array> {
  v.acquire();
  try {
    return await v.batcher.submit(batch.x, batch.n, deadlineOf(ctx, req));
  } catch (e) {
    if (e instanceof ServeError && e.code === 'OVERLOADED') {
      ctx.metrics.rejected.inc({
        model: v.model,
        reason: /deadline|wait/.test(e.message) ? 'deadline' : 'queue_full',
      });
    }
    throw e;
  } finally {
    v.release();
  }
}

/** @internal Indices of the `k` largest values of row `r`, largest first. */
export function topK(probs: Float32Array, r: number, classes: number, k: number): number[] {
  const base = r * classes;
  const idx = Array.from({ length: classes }, (_, i) => i);
  idx.sort((a, b) => (probs[base + b] as number) - (probs[base + a] as number) || a - b);
  return idx.slice(0, k);
}

/** @internal Row `r` as a plain number list. */
export function rowOf(probs: Float32Array, r: number, classes: number): number[] {
  return Array.from(probs.subarray(r * classes, (r + 1) * classes));
}

/** @internal Refuses unknown keys of a request body. */
export function checkBodyKeys(
  body: unknown,
  accepted: readonly string[],
  what: string,
): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ServeError('BAD_REQUEST', `${what}: expected a JSON object body`);
  for (const k of Object.keys(body)) {
    if (!accepted.includes(k))
      throw new ServeError(
        'BAD_REQUEST',
        `${what}: unknown key ${JSON.stringify(k).slice(0, 60)} (accepted: ${accepted.join(', ')})`,
        { data: { path: k } },
      );
  }
  return body as Record<string, unknown>;
}
