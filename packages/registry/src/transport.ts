import * as git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import type { RegistryContext } from './context';
import { RegistryError } from './errors';
import { OPTION_KEYS, checkKeys } from './options';
import type { RemoteOptions } from './types';

/** @internal Maps an isomorphic-git transfer failure to the registry's remote codes. */
export function remoteError(e: unknown, action: string, url: string): RegistryError {
  const err = e as {
    code?: string;
    data?: { statusCode?: number; reason?: string };
    message?: string;
  };
  const status = err.data?.statusCode;
  if (status === 401 || status === 403) {
    return new RegistryError(
      'REMOTE_AUTH_FAILED',
      `${action} ${url} was refused with HTTP ${status}: check the credentials given in { auth } or { headers }`,
      { cause: e, data: { url, statusCode: status } },
    );
  }
  if (err.code === 'PushRejectedError' || err.code === 'GitPushError') {
    return new RegistryError(
      'REMOTE_REJECTED',
      `${action} ${url} was rejected (${err.message ?? ''}); pull first if the remote registry moved on`,
      { cause: e, data: { url } },
    );
  }
  return new RegistryError(
    'REMOTE_FAILED',
    `${action} ${url} failed: ${err.message ?? String(e)}`,
    { cause: e, data: { url, statusCode: status } },
  );
}

/** @internal The URL to talk to: `url`, or the configured one of `remote` (default `origin`). */
export async function remoteUrl(ctx: RegistryContext, o: RemoteOptions): Promise<string> {
  checkKeys(o, OPTION_KEYS.remote, 'remote options');
  checkKeys(o.auth, OPTION_KEYS.auth, 'remote options: auth');
  if (o.url) return o.url;
  const remote = o.remote ?? 'origin';
  const url = (await git.getConfig({
    fs: ctx.fsa.fs,
    gitdir: ctx.gitdir,
    path: `remote.${remote}.url`,
  })) as string | undefined;
  if (!url)
    throw new RegistryError(
      'INVALID_OPTION',
      `No { url } given and remote ${JSON.stringify(remote)} has no url in the git config`,
    );
  return url;
}

/** @internal isomorphic-git's transport arguments from the remote options. */
export function transportArgs(
  o: RemoteOptions,
): Pick<Parameters<typeof git.push>[0], 'http' | 'onAuth' | 'headers' | 'onProgress'> {
  return {
    http: o.http ?? http,
    ...(o.auth
      ? { onAuth: () => ({ username: o.auth!.username, password: o.auth!.password ?? '' }) }
      : {}),
    ...(o.headers ? { headers: o.headers } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  };
}
