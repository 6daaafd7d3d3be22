import { describeError } from '@mlship/core';
import { ContainerError } from '../errors';
import { parseChallenge } from './auth';
import type { Challenge, RegistryCredentials } from './auth';
import { readDockerConfigCredentials } from './docker-config';
import { errorBody } from './response';
import type { RegistryClientOptions } from './types';

/** The cache key of a token: the registry and the sorted scopes it was issued for. */
function tokenKey(registry: string, scopes: readonly string[]): string {
  return `${registry} ${[...scopes].sort().join(' ')}`;
}

/**
 * The authentication state of a registry client: where credentials come from, the Basic header or
 * Bearer challenge each registry asked for, and the tokens its token service issued per scope set.
 * It answers the `WWW-Authenticate` challenge flow Docker Hub and GHCR use. @internal
 */
export class RegistryAuthenticator {
  private readonly options: RegistryClientOptions;
  private readonly doFetch: typeof fetch;
  /** registry host -> `Basic ...` header, once the registry asked for basic auth. */
  private readonly basic = new Map<string, string>();
  /** registry host -> its Bearer challenge, once it sent one. */
  private readonly bearerChallenge = new Map<string, Challenge>();
  /** registry + scopes -> token. */
  private readonly tokens = new Map<string, { token: string; expires: number }>();

  constructor(options: RegistryClientOptions, doFetch: typeof fetch) {
    this.options = options;
    this.doFetch = doFetch;
  }

  /** The credentials for a registry: the options' (shared or per registry), else the Docker config file's. */
  credentialsFor(registry: string): RegistryCredentials | undefined {
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

  private cachedHeader(registry: string, scopes: readonly string[]): string | undefined {
    const creds = this.credentialsFor(registry);
    if (creds?.token !== undefined && creds.username === undefined) return `Bearer ${creds.token}`;
    const basic = this.basic.get(registry);
    if (basic !== undefined) return basic;
    if (this.bearerChallenge.has(registry)) {
      const cached = this.tokens.get(tokenKey(registry, scopes));
      if (cached !== undefined && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    }
    return undefined;
  }

  /**
   * The `Authorization` header for a request needing `scopes`, or undefined while the registry has
   * not asked for any. A registry known to use Bearer tokens gets the token for these scopes up
   * front instead of a 401 round trip.
   */
  async header(
    registry: string,
    scopes: readonly string[],
    what: string,
  ): Promise<string | undefined> {
    const auth = this.cachedHeader(registry, scopes);
    const challenge = this.bearerChallenge.get(registry);
    if (auth !== undefined || challenge === undefined) return auth;
    await this.fetchToken(
      registry,
      { scheme: challenge.scheme, params: { ...challenge.params, scope: '' } },
      scopes,
      what,
    );
    return this.cachedHeader(registry, scopes);
  }

  /**
   * Answers a 401: drops the token the registry refused (expired, too narrow) and, on the second
   * refusal in a row, the basic credentials too; then remembers basic credentials or fetches a
   * bearer token for the scopes, as the challenge asks.
   */
  async answer401(
    registry: string,
    res: Response,
    scopes: readonly string[],
    what: string,
    again: boolean,
  ): Promise<void> {
    this.tokens.delete(tokenKey(registry, scopes));
    if (again) this.basic.delete(registry);
    const header = res.headers.get('www-authenticate');
    const challenge = header === null ? undefined : parseChallenge(header);
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
      const creds = this.credentialsFor(registry);
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
    scopes: readonly string[],
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
    this.tokens.set(tokenKey(registry, scopes), entry);
  }
}
