import { describeError } from '@mlship/core';
import { ContainerError } from '../errors';
import { isDigest } from '../digest';
import { DOCKER_HUB } from '../reference';
import { RegistryAuthenticator } from './authenticator';
import { errorBody, failWith } from './response';
import type { RegistryClientOptions, TransferEvent } from './types';

/** One request to a registry's API. @internal */
export interface RegistryRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Token scopes this request needs, e.g. `repository:acme/cnn:pull,push`. */
  scopes: string[];
  /** What the request does, for messages (`HEAD blob sha256:... in host/repo`). */
  what: string;
}

/** Answers worth retrying: the registry or a proxy in front of it is busy or restarting. */
const TRANSIENT = new Set([429, 502, 503, 504]);

function isLoopback(host: string): boolean {
  const h = host.replace(/:[0-9]+$/, '');
  return h === 'localhost' || h === '[::1]' || /^127\.[0-9.]+$/.test(h);
}

function sleep(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms));
}

/** Checks a repository path (`acme/cnn`) against the distribution grammar. @internal */
export function checkRepository(repository: string): void {
  if (
    typeof repository !== 'string' ||
    !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(
      repository,
    )
  ) {
    throw new ContainerError(
      'INVALID_REFERENCE',
      `invalid repository ${JSON.stringify(repository)}: expected lowercase path components, e.g. acme/cnn`,
      {
        data: { repository },
      },
    );
  }
}

/** Checks that an argument is a `sha256:<64 hex>` digest. @internal */
export function checkDigestArg(digest: string, what: string): void {
  if (!isDigest(digest)) {
    throw new ContainerError(
      'INVALID_OPTION',
      `${what}: expected a digest sha256:<64 hex>, got ${JSON.stringify(digest)}`,
      {
        data: { path: what, actual: digest },
      },
    );
  }
}

/**
 * What every registry operation shares: the base URL of each registry, requests with
 * authentication, retries with backoff and typed network errors, the error for an unexpected
 * answer, and progress events. The operations (blobs, uploads, manifests) are functions over it;
 * {@link RegistryClient} is their facade. @internal
 */
export class RegistryTransport {
  readonly options: RegistryClientOptions;
  private readonly doFetch: typeof fetch;
  private readonly auth: RegistryAuthenticator;

  constructor(options: RegistryClientOptions) {
    this.options = options;
    this.doFetch = options.fetch ?? fetch;
    this.auth = new RegistryAuthenticator(options, this.doFetch);
  }

  /** The base URL of a registry's API (`https://host/v2/`, plain HTTP for insecure hosts). */
  baseUrl(registry: string): string {
    const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
    const insecure = this.options.insecure;
    const plain =
      insecure === true ||
      (Array.isArray(insecure)
        ? insecure.includes(registry)
        : insecure !== false && isLoopback(registry));
    return `${plain ? 'http' : 'https'}://${host}/v2/`;
  }

  /** The URL of a repository's API, ending in `/` (`https://host/v2/acme/cnn/`). */
  repositoryUrl(registry: string, repository: string): string {
    return `${this.baseUrl(registry)}${repository.split('/').map(encodeURIComponent).join('/')}/`;
  }

  /** One request with auth, the 401 dance, retries with backoff, and typed network errors. */
  async request(registry: string, init: RegistryRequest): Promise<Response> {
    const retries = this.options.retries ?? 3;
    const delay = this.options.retryDelayMs ?? 250;
    let authTries = 0;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        'user-agent': this.options.userAgent ?? 'mlship-container',
        ...init.headers,
      };
      const auth = await this.auth.header(registry, init.scopes, init.what);
      if (auth !== undefined) headers.authorization = auth;
      let res: Response;
      try {
        res = await this.doFetch(init.url, {
          method: init.method,
          headers,
          ...(init.body === undefined ? {} : { body: init.body }),
          redirect: 'follow',
          ...(this.options.signal ? { signal: this.options.signal } : {}),
        });
      } catch (e) {
        if (this.options.signal?.aborted)
          throw new ContainerError('REGISTRY_UNREACHABLE', `${init.what}: aborted`, {
            cause: e,
            data: { registry },
          });
        if (attempt < retries) {
          await sleep(delay * 2 ** attempt);
          continue;
        }
        const cause = (e as { cause?: unknown }).cause ?? e;
        throw new ContainerError(
          'REGISTRY_UNREACHABLE',
          `${init.what}: registry ${registry} is unreachable at ${new URL(init.url).origin} (${describeError(cause)}; ${retries + 1} attempts)`,
          {
            cause: e,
            data: { registry, url: init.url },
          },
        );
      }
      if (res.status === 401 && authTries < 2) {
        authTries++;
        await res.body?.cancel();
        await this.auth.answer401(registry, res, init.scopes, init.what, authTries === 2);
        attempt--;
        continue;
      }
      if (TRANSIENT.has(res.status) && attempt < retries) {
        const retryAfter = Number(res.headers.get('retry-after'));
        await res.body?.cancel();
        await sleep(
          Number.isFinite(retryAfter) && retryAfter > 0
            ? Math.min(retryAfter * 1000, 30_000)
            : delay * 2 ** attempt,
        );
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        const body = await errorBody(res);
        const creds = this.auth.credentialsFor(registry);
        throw new ContainerError(
          'AUTH_FAILED',
          `${init.what}: ${registry} refused ${creds === undefined ? 'anonymous access' : 'the credentials'} (${res.status}${body.text ? `: ${body.text}` : ''})`,
          {
            data: { registry, status: res.status, url: init.url },
          },
        );
      }
      return res;
    }
  }

  /** Throws the typed error for an unexpected answer (see {@link failWith}). */
  fail(res: Response, registry: string, what: string): Promise<never> {
    return failWith(res, registry, what);
  }

  /** Reports a transfer event to `options.onProgress`. */
  progress(event: TransferEvent): void {
    this.options.onProgress?.(event);
  }
}

/**
 * Checks that the registry speaks the distribution API (`GET /v2/`), authenticating if it asks.
 * @internal
 */
export async function ping(t: RegistryTransport, registry: string): Promise<void> {
  const what = `ping ${registry}`;
  const res = await t.request(registry, {
    method: 'GET',
    url: t.baseUrl(registry),
    scopes: [],
    what,
  });
  await res.body?.cancel();
  if (!res.ok) await t.fail(res, registry, what);
}
