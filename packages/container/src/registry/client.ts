import { describeError } from '@mlship/core';
import { ContainerError, checkOptionKeys } from '../errors';
import type { ContainerErrorCode } from '../errors';
import { isDigest, sha256Digest, verifyDigest } from '../digest';
import { MANIFEST_ACCEPT } from '../media-types';
import { DOCKER_HUB } from '../reference';
import { parseChallenge } from './auth';
import type { Challenge, RegistryCredentials } from './auth';
import { readDockerConfigCredentials } from './docker-config';

/** A transfer event: what {@link RegistryClientOptions.onProgress} receives. */
export interface TransferEvent {
  /** What happened to the blob or manifest. */
  action: 'upload' | 'download' | 'skip' | 'mount' | 'manifest';
  /** Registry host. */
  registry: string;
  /** Repository. */
  repository: string;
  /** The blob's or manifest's digest. */
  digest: string;
  /** Bytes transferred so far (equal to `total` when done; 0 for skip and mount). */
  bytes: number;
  /** The blob's size. */
  total: number;
  /** True on the last event of this blob. */
  done: boolean;
}

/** Options of {@link createRegistryClient}. */
export interface RegistryClientOptions {
  /**
   * Credentials for every registry this client talks to. When not given, the Docker config file is
   * read per registry (see `dockerConfig`); when that has none either, the client is anonymous.
   */
  credentials?: RegistryCredentials | Record<string, RegistryCredentials>;
  /** Docker config file to read credentials from (default `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`); `false` to never read one. */
  dockerConfig?: string | false;
  /**
   * Registries spoken to over plain HTTP: `true` for all, or a list of hosts. Default: only
   * loopback hosts (`localhost`, `127.0.0.1`, `[::1]`, with any port).
   */
  insecure?: boolean | readonly string[];
  /** Upload blobs larger than this in chunks of this many bytes (PATCH with Content-Range); default: one monolithic PUT. */
  chunkSize?: number;
  /** Retries of a request that failed transiently (connection errors, 429, 502, 503, 504). Default 3. */
  retries?: number;
  /** First backoff delay in ms, doubled on each retry (default 250). */
  retryDelayMs?: number;
  /** Progress of blob transfers. */
  onProgress?: (event: TransferEvent) => void;
  /** The HTTP transport (default the global `fetch`). */
  fetch?: typeof fetch;
  /** Abort everything in flight. */
  signal?: AbortSignal;
  /** `User-Agent` header (default `mlship-container`). */
  userAgent?: string;
  /** Environment (`DOCKER_CONFIG`), default `process.env`. */
  env?: Record<string, string | undefined>;
}

const CLIENT_OPTION_KEYS = [
  'credentials',
  'dockerConfig',
  'insecure',
  'chunkSize',
  'retries',
  'retryDelayMs',
  'onProgress',
  'fetch',
  'signal',
  'userAgent',
  'env',
] as const;

/** A manifest as the registry served it. */
export interface FetchedManifest {
  /** Its media type (the response's Content-Type, or the document's `mediaType`). */
  mediaType: string;
  /** The exact bytes (what the digest is computed over). */
  bytes: Uint8Array;
  /** `sha256:` of the bytes, verified against the requested digest when one was asked for. */
  digest: string;
}

/** The outcome of {@link RegistryClient.uploadBlob}. */
export interface UploadResult {
  /** `exists`: the registry had it (HEAD); `mounted`: mounted from another repository; `uploaded`: bytes sent. */
  status: 'exists' | 'mounted' | 'uploaded';
  /** Bytes sent (0 unless uploaded). */
  bytes: number;
}

interface RequestInit2 {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Token scopes this request needs, e.g. `repository:acme/cnn:pull,push`. */
  scopes: string[];
  what: string;
}

const TRANSIENT = new Set([429, 502, 503, 504]);

function isLoopback(host: string): boolean {
  const h = host.replace(/:[0-9]+$/, '');
  return h === 'localhost' || h === '[::1]' || /^127\.[0-9.]+$/.test(h);
}

function encodeRepo(repository: string): string {
  return repository.split('/').map(encodeURIComponent).join('/');
}

function checkRepository(repository: string): void {
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

function checkDigestArg(digest: string, what: string): void {
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

/** The registry's `{"errors":[{"code","message"}]}` as one line. */
async function errorBody(res: Response): Promise<{ text: string; codes: string[] }> {
  let text = '';
  try {
    text = (await res.text()).slice(0, 2000);
  } catch {
    return { text: '', codes: [] };
  }
  try {
    const json = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(json.errors)) {
      return {
        text: json.errors.map((e) => `${e.code ?? '?'}: ${e.message ?? ''}`).join('; '),
        codes: json.errors.map((e) => String(e.code ?? '')),
      };
    }
  } catch {
    // not JSON: keep the text
  }
  return { text: text.trim(), codes: [] };
}

/**
 * A client of the OCI distribution API (what Docker Hub, GHCR, ECR, GAR, Harbor, Quay, Zot and the
 * CNCF `distribution` registry speak): anonymous, basic and bearer-token auth through the
 * `WWW-Authenticate` challenge, blob HEAD/GET (verified)/upload (monolithic or chunked, with
 * cross-repository mount), manifest GET/HEAD/PUT with the right media types, retries with backoff
 * on transient failures, progress events. Create it with {@link createRegistryClient}.
 *
 * @example
 * ```ts
 * const client = createRegistryClient({ credentials: { username: 'ci', password: token } });
 * const has = await client.hasBlob('ghcr.io', 'acme/cnn', digest);
 * ```
 */
export class RegistryClient {
  private readonly options: RegistryClientOptions;
  private readonly doFetch: typeof fetch;
  /** registry host -> Authorization header value for basic, or the bearer challenge. */
  private readonly basic = new Map<string, string>();
  private readonly bearerChallenge = new Map<string, Challenge>();
  /** registry + scopes -> token. */
  private readonly tokens = new Map<string, { token: string; expires: number }>();

  /**
   * @param options - see {@link RegistryClientOptions}
   */
  constructor(options: RegistryClientOptions = {}) {
    checkOptionKeys(options, CLIENT_OPTION_KEYS, 'registry client options');
    const { chunkSize, retries, retryDelayMs } = options;
    if (chunkSize !== undefined && (!Number.isSafeInteger(chunkSize) || chunkSize < 1)) {
      throw new ContainerError(
        'INVALID_OPTION',
        `chunkSize: expected a positive integer number of bytes, got ${JSON.stringify(chunkSize)}`,
        {
          data: { path: 'chunkSize', actual: chunkSize },
        },
      );
    }
    if (retries !== undefined && (!Number.isInteger(retries) || retries < 0 || retries > 20)) {
      throw new ContainerError(
        'INVALID_OPTION',
        `retries: expected an integer 0..20, got ${JSON.stringify(retries)}`,
        {
          data: { path: 'retries', actual: retries },
        },
      );
    }
    if (retryDelayMs !== undefined && (!Number.isFinite(retryDelayMs) || retryDelayMs < 0)) {
      throw new ContainerError(
        'INVALID_OPTION',
        `retryDelayMs: expected a non-negative number, got ${JSON.stringify(retryDelayMs)}`,
        {
          data: { path: 'retryDelayMs', actual: retryDelayMs },
        },
      );
    }
    this.options = options;
    this.doFetch = options.fetch ?? fetch;
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

  private credentialsFor(registry: string): RegistryCredentials | undefined {
    const c = this.options.credentials;
    if (c !== undefined) {
      if ('username' in c || 'password' in c || 'token' in c) return c;
      const per = (c as Record<string, RegistryCredentials>)[registry];
      if (per !== undefined) return per;
    }
    if (this.options.dockerConfig === false) return undefined;
    return readDockerConfigCredentials(
      registry,
      this.options.dockerConfig,
      this.options.env ?? process.env,
    );
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => setTimeout(resolve, ms));
  }

  private authHeader(registry: string, scopes: string[]): string | undefined {
    const creds = this.credentialsFor(registry);
    if (creds?.token !== undefined && creds.username === undefined) return `Bearer ${creds.token}`;
    const basic = this.basic.get(registry);
    if (basic !== undefined) return basic;
    const challenge = this.bearerChallenge.get(registry);
    if (challenge !== undefined) {
      const cached = this.tokens.get(`${registry} ${[...scopes].sort().join(' ')}`);
      if (cached !== undefined && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    }
    return undefined;
  }

  /** Answers a 401: remembers basic credentials or fetches a bearer token for the scopes. */
  private async authenticate(
    registry: string,
    res: Response,
    scopes: string[],
    what: string,
  ): Promise<void> {
    const header = res.headers.get('www-authenticate');
    const challenge = header === null ? undefined : parseChallenge(header);
    const creds = this.credentialsFor(registry);
    if (challenge === undefined) {
      throw new ContainerError(
        'AUTH_FAILED',
        `${what}: ${registry} answered 401 without a WWW-Authenticate challenge`,
        {
          data: { registry, status: 401 },
        },
      );
    }
    if (challenge.scheme === 'basic') {
      if (creds?.username === undefined || creds.password === undefined) {
        throw new ContainerError(
          'AUTH_FAILED',
          `${what}: ${registry} requires a user name and password (basic auth) and none were given (options.credentials or the Docker config file)`,
          {
            data: { registry, status: 401 },
          },
        );
      }
      this.basic.set(
        registry,
        `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`,
      );
      return;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) {
      throw new ContainerError(
        'AUTH_FAILED',
        `${what}: ${registry} asked for unsupported authentication ${JSON.stringify(header)} (expected Basic or Bearer with a realm)`,
        {
          data: { registry, status: 401, challenge: header },
        },
      );
    }
    this.bearerChallenge.set(registry, challenge);
    await this.fetchToken(registry, challenge, scopes, what);
  }

  /** Asks the token service of a Bearer challenge for a token covering `scopes` (and the challenge's own scope). */
  private async fetchToken(
    registry: string,
    challenge: Challenge,
    scopes: string[],
    what: string,
  ): Promise<void> {
    const creds = this.credentialsFor(registry);
    const wanted = new Set(scopes);
    if (challenge.params.scope)
      for (const s of challenge.params.scope.split(' ')) if (s) wanted.add(s);
    const url = new URL(challenge.params.realm ?? '');
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const s of [...wanted].sort()) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {
      'user-agent': this.options.userAgent ?? 'mlship-container',
    };
    if (creds?.username !== undefined && creds.password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    let tokenRes: Response;
    try {
      tokenRes = await this.doFetch(url, {
        headers,
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      });
    } catch (e) {
      throw new ContainerError(
        'REGISTRY_UNREACHABLE',
        `${what}: the token service ${url.origin}${url.pathname} of ${registry} did not answer: ${describeError((e as { cause?: unknown }).cause ?? e)}`,
        {
          cause: e,
          data: { registry, url: `${url.origin}${url.pathname}` },
        },
      );
    }
    if (tokenRes.status === 401 || tokenRes.status === 403) {
      const body = await errorBody(tokenRes);
      throw new ContainerError(
        'AUTH_FAILED',
        `${what}: the token service of ${registry} refused ${creds?.username === undefined ? 'anonymous access' : `user ${JSON.stringify(creds.username)}`} (${tokenRes.status}${body.text ? `: ${body.text}` : ''})`,
        {
          data: { registry, status: tokenRes.status, scopes: [...wanted] },
        },
      );
    }
    if (!tokenRes.ok) {
      const body = await errorBody(tokenRes);
      throw new ContainerError(
        'AUTH_FAILED',
        `${what}: the token service of ${registry} answered ${tokenRes.status}${body.text ? `: ${body.text}` : ''}`,
        {
          data: { registry, status: tokenRes.status },
        },
      );
    }
    let json: { token?: string; access_token?: string; expires_in?: number };
    try {
      json = (await tokenRes.json()) as typeof json;
    } catch (e) {
      throw new ContainerError(
        'AUTH_FAILED',
        `${what}: the token service of ${registry} answered with no JSON token`,
        { cause: e, data: { registry } },
      );
    }
    const token = json.token ?? json.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new ContainerError(
        'AUTH_FAILED',
        `${what}: the token service of ${registry} answered without "token"`,
        { data: { registry } },
      );
    }
    const ttl = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 60;
    const entry = { token, expires: Date.now() + Math.max(10, ttl - 10) * 1000 };
    this.tokens.set(`${registry} ${[...scopes].sort().join(' ')}`, entry);
  }

  /** One request with auth, the 401 dance, retries with backoff, and typed network errors. */
  private async request(registry: string, init: RequestInit2): Promise<Response> {
    const retries = this.options.retries ?? 3;
    const delay = this.options.retryDelayMs ?? 250;
    let authTries = 0;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        'user-agent': this.options.userAgent ?? 'mlship-container',
        ...init.headers,
      };
      let auth = this.authHeader(registry, init.scopes);
      const challenge = this.bearerChallenge.get(registry);
      if (auth === undefined && challenge !== undefined) {
        // A bearer registry: get the token for these scopes up front instead of a 401 round trip.
        await this.fetchToken(
          registry,
          { scheme: challenge.scheme, params: { ...challenge.params, scope: '' } },
          init.scopes,
          init.what,
        );
        auth = this.authHeader(registry, init.scopes);
      }
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
          await this.sleep(delay * 2 ** attempt);
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
        // A cached token that the registry refused (expired, too narrow): drop it and ask again.
        this.tokens.delete(`${registry} ${[...init.scopes].sort().join(' ')}`);
        if (authTries === 2) this.basic.delete(registry);
        await this.authenticate(registry, res, init.scopes, init.what);
        attempt--;
        continue;
      }
      if (TRANSIENT.has(res.status) && attempt < retries) {
        const retryAfter = Number(res.headers.get('retry-after'));
        await res.body?.cancel();
        await this.sleep(
          Number.isFinite(retryAfter) && retryAfter > 0
            ? Math.min(retryAfter * 1000, 30_000)
            : delay * 2 ** attempt,
        );
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        const body = await errorBody(res);
        const creds = this.credentialsFor(registry);
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

  private async fail(
    res: Response,
    registry: string,
    what: string,
    code: ContainerErrorCode = 'REGISTRY_ERROR',
  ): Promise<never> {
    const body = await errorBody(res);
    const digestCodes = ['DIGEST_INVALID', 'SIZE_INVALID'];
    const c: ContainerErrorCode = body.codes.some((x) => digestCodes.includes(x))
      ? 'DIGEST_MISMATCH'
      : code;
    throw new ContainerError(
      c,
      `${what}: ${registry} answered ${res.status}${body.text ? ` (${body.text})` : ''}`,
      {
        data: { registry, status: res.status, body: body.text },
      },
    );
  }

  private progress(event: TransferEvent): void {
    this.options.onProgress?.(event);
  }

  /**
   * Checks that the registry speaks the distribution API (`GET /v2/`), authenticating if it asks.
   *
   * @param registry - registry host
   * @returns nothing
   * @throws ContainerError `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * await createRegistryClient().ping('127.0.0.1:5000');
   * ```
   */
  async ping(registry: string): Promise<void> {
    const res = await this.request(registry, {
      method: 'GET',
      url: this.baseUrl(registry),
      scopes: [],
      what: `ping ${registry}`,
    });
    await res.body?.cancel();
    if (!res.ok) await this.fail(res, registry, `ping ${registry}`);
  }

  /**
   * Whether the repository has a blob (HEAD).
   *
   * @param registry - registry host
   * @param repository - repository path
   * @param digest - the blob's digest
   * @returns true when the registry has it
   * @throws ContainerError `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * if (await client.hasBlob('127.0.0.1:5000', 'demo', layer.descriptor.digest)) console.log('skip');
   * ```
   */
  async hasBlob(registry: string, repository: string, digest: string): Promise<boolean> {
    checkRepository(repository);
    checkDigestArg(digest, 'digest');
    const what = `HEAD blob ${digest} in ${registry}/${repository}`;
    const res = await this.request(registry, {
      method: 'HEAD',
      url: `${this.baseUrl(registry)}${encodeRepo(repository)}/blobs/${digest}`,
      scopes: [`repository:${repository}:pull`],
      what,
    });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.fail(res, registry, what);
  }

  /**
   * Downloads a blob and verifies it against its digest (and size, when given).
   *
   * @param registry - registry host
   * @param repository - repository path
   * @param digest - the blob's digest
   * @param size - its expected size, when known
   * @returns the verified bytes
   * @throws ContainerError `BLOB_NOT_FOUND`, `DIGEST_MISMATCH` (the bytes hash to something else),
   *   `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * const bytes = await client.getBlob('127.0.0.1:5000', 'demo', manifest.config.digest);
   * ```
   */
  async getBlob(
    registry: string,
    repository: string,
    digest: string,
    size?: number,
  ): Promise<Uint8Array> {
    checkRepository(repository);
    checkDigestArg(digest, 'digest');
    const what = `GET blob ${digest} from ${registry}/${repository}`;
    const res = await this.request(registry, {
      method: 'GET',
      url: `${this.baseUrl(registry)}${encodeRepo(repository)}/blobs/${digest}`,
      scopes: [`repository:${repository}:pull`],
      what,
    });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new ContainerError('BLOB_NOT_FOUND', `${what}: no such blob`, {
        data: { registry, repository, digest },
      });
    }
    if (!res.ok) return this.fail(res, registry, what);
    const total = size ?? Number(res.headers.get('content-length') ?? 0);
    const chunks: Uint8Array[] = [];
    let got = 0;
    let lastReport = 0;
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        chunks.push(chunk);
        got += chunk.byteLength;
        if (size !== undefined && got > size) {
          throw new ContainerError(
            'DIGEST_MISMATCH',
            `${what}: expected ${size} bytes, the registry sent more`,
            {
              data: { registry, repository, digest, expected: size },
            },
          );
        }
        if (got - lastReport >= 1 << 20) {
          lastReport = got;
          this.progress({
            action: 'download',
            registry,
            repository,
            digest,
            bytes: got,
            total,
            done: false,
          });
        }
      }
    }
    const data = Buffer.concat(chunks);
    verifyDigest(data, digest, `${what}`, size);
    this.progress({
      action: 'download',
      registry,
      repository,
      digest,
      bytes: got,
      total: got,
      done: true,
    });
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /**
   * Uploads a blob unless the repository already has it: HEAD first (skip), then a cross-repository
   * mount when `mountFrom` names a repository of the same registry that holds it, then a monolithic
   * upload (POST + PUT) or, for blobs larger than `chunkSize`, a chunked one (POST, PATCH per chunk
   * following each new `Location`, PUT). The registry checks the digest; a mismatch is refused.
   *
   * @param registry - registry host
   * @param repository - destination repository
   * @param source - the bytes, or a function reading them (called only when an upload is needed)
   * @param options - `digest` (default computed; required with a function), `size`, `mountFrom`
   *   (a repository on the same registry), `skipExisting` (default true: HEAD first)
   * @returns whether it existed, was mounted or was uploaded, and the bytes sent
   * @throws ContainerError `DIGEST_MISMATCH` (the registry computed another digest),
   *   `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * const r = await client.uploadBlob('127.0.0.1:5000', 'demo', layer.data!, { mountFrom: 'base/node' });
   * console.log(r.status); // 'exists' | 'mounted' | 'uploaded'
   * ```
   */
  async uploadBlob(
    registry: string,
    repository: string,
    source: Uint8Array | (() => Promise<Uint8Array>),
    options: { digest?: string; size?: number; mountFrom?: string; skipExisting?: boolean } = {},
  ): Promise<UploadResult> {
    checkRepository(repository);
    if (typeof source === 'function' && options.digest === undefined) {
      throw new ContainerError(
        'INVALID_OPTION',
        'uploadBlob: a lazily read blob needs options.digest',
        { data: { path: 'digest' } },
      );
    }
    const digest = options.digest ?? sha256Digest(source as Uint8Array);
    checkDigestArg(digest, 'digest');
    let total = typeof source === 'function' ? (options.size ?? 0) : source.byteLength;
    if (options.skipExisting !== false && (await this.hasBlob(registry, repository, digest))) {
      this.progress({ action: 'skip', registry, repository, digest, bytes: 0, total, done: true });
      return { status: 'exists', bytes: 0 };
    }
    const what = `upload blob ${digest} to ${registry}/${repository}`;
    const scopes = [`repository:${repository}:pull,push`];
    const uploads = `${this.baseUrl(registry)}${encodeRepo(repository)}/blobs/uploads/`;
    let start: Response;
    if (options.mountFrom !== undefined && options.mountFrom !== repository) {
      checkRepository(options.mountFrom);
      const url = new URL(uploads);
      url.searchParams.set('mount', digest);
      url.searchParams.set('from', options.mountFrom);
      start = await this.request(registry, {
        method: 'POST',
        url: url.toString(),
        headers: { 'content-length': '0' },
        scopes: [...scopes, `repository:${options.mountFrom}:pull`],
        what,
      });
      if (start.status === 201) {
        await start.body?.cancel();
        this.progress({
          action: 'mount',
          registry,
          repository,
          digest,
          bytes: 0,
          total,
          done: true,
        });
        return { status: 'mounted', bytes: 0 };
      }
    } else {
      start = await this.request(registry, {
        method: 'POST',
        url: uploads,
        headers: { 'content-length': '0' },
        scopes,
        what,
      });
    }
    if (start.status !== 202) return this.fail(start, registry, what);
    await start.body?.cancel();
    let location = this.location(start, uploads, registry, what);
    const data = typeof source === 'function' ? await source() : source;
    total = data.byteLength;
    const chunkSize = this.options.chunkSize;
    let sent = 0;
    if (chunkSize !== undefined && total > chunkSize) {
      while (sent < total) {
        const end = Math.min(sent + chunkSize, total);
        const res = await this.request(registry, {
          method: 'PATCH',
          url: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${sent}-${end - 1}`,
            'content-length': String(end - sent),
          },
          body: data.subarray(sent, end),
          scopes,
          what,
        });
        if (res.status !== 202)
          return this.fail(res, registry, `${what} (chunk ${sent}-${end - 1})`);
        await res.body?.cancel();
        // Each chunk answers with the Location of the next request (it may carry new state).
        location = this.location(res, location, registry, what);
        sent = end;
        if (sent < total)
          this.progress({
            action: 'upload',
            registry,
            repository,
            digest,
            bytes: sent,
            total,
            done: false,
          });
      }
    }
    const put = new URL(location);
    put.searchParams.append('digest', digest);
    const rest = data.subarray(sent);
    const res = await this.request(registry, {
      method: 'PUT',
      url: put.toString(),
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(rest.byteLength),
      },
      body: rest,
      scopes,
      what,
    });
    if (res.status !== 201) return this.fail(res, registry, what);
    await res.body?.cancel();
    const echoed = res.headers.get('docker-content-digest');
    if (echoed !== null && echoed !== digest) {
      throw new ContainerError('DIGEST_MISMATCH', `${what}: the registry stored it as ${echoed}`, {
        data: { registry, repository, digest, actual: echoed },
      });
    }
    this.progress({
      action: 'upload',
      registry,
      repository,
      digest,
      bytes: total,
      total,
      done: true,
    });
    return { status: 'uploaded', bytes: total };
  }

  /** The upload `Location` of a response, resolved against the request URL (it may be relative). */
  private location(res: Response, requestUrl: string, registry: string, what: string): string {
    const loc = res.headers.get('location');
    if (loc === null || loc === '') {
      throw new ContainerError(
        'REGISTRY_ERROR',
        `${what}: ${registry} answered ${res.status} without a Location header`,
        {
          data: { registry, status: res.status },
        },
      );
    }
    return new URL(loc, requestUrl).toString();
  }

  /**
   * Fetches a manifest or index by tag or digest, with every manifest and index media type in
   * `Accept`; a manifest fetched by digest is verified against it.
   *
   * @param registry - registry host
   * @param repository - repository path
   * @param reference - tag or digest
   * @returns the media type, exact bytes and digest
   * @throws ContainerError `MANIFEST_NOT_FOUND` (no such tag or digest), `DIGEST_MISMATCH`,
   *   `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * const m = await client.getManifest('127.0.0.1:5000', 'demo', 'v1');
   * console.log(m.mediaType, m.digest);
   * ```
   */
  async getManifest(
    registry: string,
    repository: string,
    reference: string,
  ): Promise<FetchedManifest> {
    checkRepository(repository);
    const what = `GET manifest ${registry}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
    const res = await this.request(registry, {
      method: 'GET',
      url: `${this.baseUrl(registry)}${encodeRepo(repository)}/manifests/${encodeURIComponent(reference)}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [`repository:${repository}:pull`],
      what,
    });
    if (res.status === 404) {
      const body = await errorBody(res);
      throw new ContainerError(
        'MANIFEST_NOT_FOUND',
        `${what}: no such ${isDigest(reference) ? 'manifest' : 'tag'}${body.text ? ` (${body.text})` : ''}`,
        {
          data: { registry, repository, reference },
        },
      );
    }
    if (!res.ok) return this.fail(res, registry, what);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength > 4 << 20) {
      throw new ContainerError(
        'INVALID_IMAGE',
        `${what}: manifest of ${bytes.byteLength} bytes exceeds 4 MiB`,
        { data: { registry, repository, reference } },
      );
    }
    const digest = sha256Digest(bytes);
    if (isDigest(reference)) verifyDigest(bytes, reference, what);
    let mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    try {
      const doc = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: unknown };
      if (typeof doc.mediaType === 'string' && doc.mediaType !== '') mediaType = doc.mediaType;
    } catch (e) {
      throw new ContainerError('INVALID_IMAGE', `${what}: the manifest is not JSON`, {
        cause: e,
        data: { registry, repository, reference },
      });
    }
    return { mediaType, bytes, digest };
  }

  /**
   * HEADs a manifest: its digest and media type without the body, or undefined when absent.
   *
   * @param registry - registry host
   * @param repository - repository path
   * @param reference - tag or digest
   * @returns `{ digest, mediaType, size }` or undefined for 404
   * @throws ContainerError `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * const head = await client.headManifest('127.0.0.1:5000', 'demo', 'v1');
   * ```
   */
  async headManifest(
    registry: string,
    repository: string,
    reference: string,
  ): Promise<{ digest?: string; mediaType: string; size: number } | undefined> {
    checkRepository(repository);
    const what = `HEAD manifest ${registry}/${repository}:${reference}`;
    const res = await this.request(registry, {
      method: 'HEAD',
      url: `${this.baseUrl(registry)}${encodeRepo(repository)}/manifests/${encodeURIComponent(reference)}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [`repository:${repository}:pull`],
      what,
    });
    await res.body?.cancel();
    if (res.status === 404) return undefined;
    if (!res.ok) return this.fail(res, registry, what);
    const digest = res.headers.get('docker-content-digest');
    return {
      ...(digest !== null && isDigest(digest) ? { digest } : {}),
      mediaType: (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '',
      size: Number(res.headers.get('content-length') ?? 0),
    };
  }

  /**
   * Uploads a manifest under a tag or its digest, with its media type as `Content-Type` (a registry
   * reads a manifest without it as a different schema and refuses or mangles it).
   *
   * @param registry - registry host
   * @param repository - repository path
   * @param reference - tag, or the manifest's own digest
   * @param bytes - the manifest's exact bytes
   * @param mediaType - its media type
   * @returns the digest the registry stored it under (checked against the bytes'), and whether the
   *   registry processed a `subject` (answered `OCI-Subject`)
   * @throws ContainerError `DIGEST_MISMATCH`, `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   *   (e.g. `MANIFEST_BLOB_UNKNOWN` when a referenced blob is missing)
   * @example
   * ```ts
   * await client.putManifest('127.0.0.1:5000', 'demo', 'v1', image.manifestBytes, image.manifest.mediaType);
   * ```
   */
  async putManifest(
    registry: string,
    repository: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ digest: string; subjectAccepted: boolean }> {
    checkRepository(repository);
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && reference !== digest) {
      throw new ContainerError(
        'DIGEST_MISMATCH',
        `PUT manifest: reference ${reference} is not the digest of the bytes (${digest})`,
        {
          data: { registry, repository, expected: reference, actual: digest },
        },
      );
    }
    const what = `PUT manifest ${registry}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
    const res = await this.request(registry, {
      method: 'PUT',
      url: `${this.baseUrl(registry)}${encodeRepo(repository)}/manifests/${encodeURIComponent(reference)}`,
      headers: { 'content-type': mediaType, 'content-length': String(bytes.byteLength) },
      body: bytes,
      scopes: [`repository:${repository}:pull,push`],
      what,
    });
    if (res.status !== 201 && res.status !== 200) return this.fail(res, registry, what);
    await res.body?.cancel();
    const stored = res.headers.get('docker-content-digest');
    if (stored !== null && stored !== digest) {
      throw new ContainerError(
        'DIGEST_MISMATCH',
        `${what}: the registry stored it as ${stored}, expected ${digest}`,
        {
          data: { registry, repository, expected: digest, actual: stored },
        },
      );
    }
    this.progress({
      action: 'manifest',
      registry,
      repository,
      digest,
      bytes: bytes.byteLength,
      total: bytes.byteLength,
      done: true,
    });
    return { digest, subjectAccepted: res.headers.get('oci-subject') !== null };
  }

  /**
   * Lists a repository's tags (`GET /v2/<name>/tags/list`, following `Link` pagination).
   *
   * @param registry - registry host
   * @param repository - repository path
   * @returns the tags (empty for an unknown repository)
   * @throws ContainerError `REGISTRY_UNREACHABLE`, `AUTH_FAILED`, `REGISTRY_ERROR`
   * @example
   * ```ts
   * console.log(await client.listTags('127.0.0.1:5000', 'demo'));
   * ```
   */
  async listTags(registry: string, repository: string): Promise<string[]> {
    checkRepository(repository);
    const tags: string[] = [];
    let url: string | undefined = `${this.baseUrl(registry)}${encodeRepo(repository)}/tags/list`;
    const what = `list tags of ${registry}/${repository}`;
    for (let page = 0; url !== undefined && page < 1000; page++) {
      const res: Response = await this.request(registry, {
        method: 'GET',
        url,
        scopes: [`repository:${repository}:pull`],
        what,
      });
      if (res.status === 404) {
        await res.body?.cancel();
        return tags;
      }
      if (!res.ok) return this.fail(res, registry, what);
      const json = (await res.json()) as { tags?: string[] | null };
      tags.push(...(json.tags ?? []));
      const link = res.headers.get('link');
      const m = link === null ? null : /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
      url = m?.[1] === undefined ? undefined : new URL(m[1], url).toString();
    }
    return tags;
  }
}

/**
 * Creates a {@link RegistryClient}.
 *
 * @param options - credentials, Docker config file, insecure hosts, chunk size, retries, progress, transport
 * @returns the client
 * @throws ContainerError `INVALID_OPTION` for an unknown option or a bad value
 * @example
 * ```ts
 * import { createRegistryClient } from '@mlship/container';
 * const client = createRegistryClient({ chunkSize: 8 << 20, onProgress: (e) => console.log(e.action, e.digest) });
 * await client.ping('127.0.0.1:5000');
 * ```
 */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient(options);
}
