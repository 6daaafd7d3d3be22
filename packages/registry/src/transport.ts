import { createHash } from 'node:crypto';
import * as git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import type { RegistryContext } from './context';
import { RegistryError } from './errors';
import { isValidBranchName } from './names';
import { OPTION_KEYS, checkKeys } from './options';
import type { RemoteOptions } from './types';

/** @internal A remote as the registry talks to it: credentials never leave this object. */
export interface RemoteTarget {
  /** The URL without credentials: what isomorphic-git gets and what the git config stores. */
  url: string;
  /** The URL for messages and error data: credentials replaced by `***`. */
  shown: string;
  /** Basic credentials: `auth`, else the ones the URL carried. */
  auth?: { username: string; password: string };
  headers?: Record<string, string>;
  http: git.HttpClient;
  onProgress?: git.ProgressCallback;
}

/** @internal `url` with any `user:password@` replaced by `***@` (for messages and logs). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1***@');
}

/** @internal Maps an isomorphic-git transfer failure to the registry's remote codes. */
export function remoteError(e: unknown, action: string, url: string): RegistryError {
  const err = e as {
    code?: string;
    data?: { statusCode?: number; reason?: string };
    message?: string;
  };
  const shown = redactUrl(url);
  const status = err.data?.statusCode;
  if (status === 401 || status === 403) {
    return new RegistryError(
      'REMOTE_AUTH_FAILED',
      `${action} ${shown} was refused with HTTP ${status}: check the credentials given in { auth } or { headers }`,
      { cause: e, data: { url: shown, statusCode: status } },
    );
  }
  if (err.code === 'PushRejectedError' || err.code === 'GitPushError') {
    return new RegistryError(
      'REMOTE_REJECTED',
      `${action} ${shown} was rejected (${err.message ?? ''}); pull first if the remote registry moved on`,
      { cause: e, data: { url: shown } },
    );
  }
  return new RegistryError(
    'REMOTE_FAILED',
    `${action} ${shown} failed: ${err.message ?? String(e)}`,
    { cause: e, data: { url: shown, ...(status === undefined ? {} : { statusCode: status }) } },
  );
}

/**
 * @internal The remote to talk to: `url`, or the configured one of `remote` (default `origin`),
 * which must be smart HTTP; credentials in it are taken out (used as `auth` unless `auth` is given)
 * so that they are never stored in the git config nor shown in an error.
 */
export async function remoteTarget(
  ctx: RegistryContext,
  o: RemoteOptions,
  accepted: readonly string[] = OPTION_KEYS.remote,
  where = 'remote options',
): Promise<RemoteTarget> {
  checkKeys(o, accepted, where);
  checkKeys(o.auth, OPTION_KEYS.auth, 'remote options: auth');
  if (o.remote !== undefined && (!isValidBranchName(o.remote) || o.remote.includes('/'))) {
    throw new RegistryError(
      'INVALID_OPTION',
      `remote options: remote: expected a git remote name (like "origin"), got ${JSON.stringify(o.remote)}`,
      { data: { path: 'remote' } },
    );
  }
  let raw = o.url;
  if (raw === undefined) {
    const remote = o.remote ?? 'origin';
    raw = (await git.getConfig({
      fs: ctx.fsa.fs,
      gitdir: ctx.gitdir,
      path: `remote.${remote}.url`,
    })) as string | undefined;
    if (!raw)
      throw new RegistryError(
        'INVALID_OPTION',
        `No { url } given and remote ${JSON.stringify(remote)} has no url in the git config`,
        { data: { path: 'url' } },
      );
  }
  let parsed: URL | undefined;
  try {
    parsed = typeof raw === 'string' ? new URL(raw) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new RegistryError(
      'INVALID_OPTION',
      `Remote ${JSON.stringify(typeof raw === 'string' ? redactUrl(raw) : raw)} is not supported: the registry talks to git remotes over smart HTTP only (http:// or https:// URLs; not a path, file:// or ssh)`,
      { data: { path: 'url', expected: 'http:// or https:// URL' } },
    );
  }
  let auth = o.auth ? { username: o.auth.username, password: o.auth.password ?? '' } : undefined;
  if (parsed.username || parsed.password) {
    auth ??= {
      username: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
    };
  }
  // URL.toString() would normalise the rest (e.g. add a trailing slash); only drop the userinfo.
  const url = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1');
  return {
    url,
    shown: redactUrl(raw),
    ...(auth ? { auth } : {}),
    ...(o.headers ? { headers: o.headers } : {}),
    http: o.http ?? http,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  };
}

/** @internal isomorphic-git's transport arguments for a remote. */
export function transportArgs(t: RemoteTarget): {
  url: string;
  http: git.HttpClient;
  onAuth?: git.AuthCallback;
  headers?: Record<string, string>;
  onProgress?: git.ProgressCallback;
} {
  const auth = t.auth;
  return {
    url: t.url,
    http: completeResponses(t.http),
    ...(auth ? { onAuth: () => ({ username: auth.username, password: auth.password }) } : {}),
    ...(t.headers ? { headers: t.headers } : {}),
    ...(t.onProgress ? { onProgress: t.onProgress } : {}),
  };
}

/**
 * @internal Whether a buffered upload-pack response is complete: a well-formed pkt-line stream
 * that ends with a flush packet, whose side-band pack data ends with the SHA-1 of the pack. A
 * server killed mid-transfer leaves a short stream; isomorphic-git would write the remote's refs
 * before finding out (pointing at objects it never stored).
 */
export function isCompleteUploadPack(body: Uint8Array): boolean {
  const text = (i: number, n: number): string => new TextDecoder().decode(body.subarray(i, i + n));
  const pack: Uint8Array[] = [];
  let at = 0;
  let flushedLast = false;
  while (at < body.length) {
    if (at + 4 > body.length) return false;
    const len = Number.parseInt(text(at, 4), 16);
    if (!Number.isInteger(len) || (len > 0 && len < 4)) {
      // not pkt-line framed from here (no side-band): the pack follows raw; check its trailer
      return packTrailerOk(body.subarray(at));
    }
    if (len === 0) {
      flushedLast = true;
      at += 4;
      continue;
    }
    flushedLast = false;
    if (at + len > body.length) return false;
    const payload = body.subarray(at + 4, at + len);
    if (payload[0] === 1) pack.push(payload.subarray(1));
    else if (text(at + 4, 4) === 'PACK') return packTrailerOk(body.subarray(at + 4));
    at += len;
  }
  if (!flushedLast) return false;
  return pack.length === 0 || packTrailerOk(Buffer.concat(pack));
}

function packTrailerOk(pack: Uint8Array): boolean {
  if (pack.length < 32 || new TextDecoder().decode(pack.subarray(0, 4)) !== 'PACK') return false;
  const sum = createHash('sha1')
    .update(pack.subarray(0, pack.length - 20))
    .digest();
  return Buffer.compare(sum, pack.subarray(pack.length - 20)) === 0;
}

/**
 * @internal An HTTP client that reads each upload-pack (fetch) response to its end before
 * isomorphic-git sees it, and fails when it is incomplete: refs are then never updated for
 * objects that did not arrive.
 */
export function completeResponses(client: git.HttpClient): git.HttpClient {
  return {
    async request(req) {
      const res = await client.request(req);
      if (req.method !== 'POST' || !/\/git-upload-pack$/.test(req.url) || res.statusCode !== 200)
        return res;
      const chunks: Uint8Array[] = [];
      for await (const chunk of res.body ?? []) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      if (!isCompleteUploadPack(body)) {
        throw Object.assign(
          new Error(
            `the remote closed the connection mid-transfer (${body.length} bytes of an incomplete upload-pack response); nothing was changed locally`,
          ),
          { code: 'TruncatedResponse' },
        );
      }
      return {
        ...res,
        body: once(body),
      };
    },
  };
}

/** An async iterator of one chunk (the shape of isomorphic-git's response bodies). */
function once(chunk: Uint8Array): AsyncIterableIterator<Uint8Array> {
  let done = false;
  const it: AsyncIterableIterator<Uint8Array> = {
    next: () => {
      if (done) return Promise.resolve({ done: true, value: undefined });
      done = true;
      return Promise.resolve({ done: false, value: chunk });
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
