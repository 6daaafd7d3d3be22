import * as git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { RegistryError } from './errors.js';
import { parseTag } from './names.js';
import type { Registry } from './registry.js';

/** Where and how to reach a git remote over smart HTTP. */
export interface RemoteOptions {
  /** Remote URL (`https://host/repo.git`). Default: the URL configured for `remote`. */
  url?: string;
  /**
   * Configured remote name used when `url` is not given (default `origin`). With `url`, pull
   * records the URL under this name (default `mlship`) for its remote-tracking refs.
   */
  remote?: string;
  /** HTTP basic credentials (a token goes in `password`). */
  auth?: { username: string; password?: string };
  /** Extra HTTP headers (e.g. `Authorization: Bearer ...`). */
  headers?: Record<string, string>;
  /** HTTP client as isomorphic-git takes it. Default isomorphic-git's node client. */
  http?: git.HttpClient;
  /** Progress of each transfer (isomorphic-git's events: phase, loaded, total). */
  onProgress?: git.ProgressCallback;
}

/** Result of {@link Registry.push}. */
export interface PushResult {
  /** Refs written on the remote (branch and tags). */
  pushed: string[];
  /** Registry tags the remote already had. */
  skipped: number;
}

/** Result of {@link Registry.pull}. */
export interface PullResult {
  /** The remote branch tip fetched, or null when the remote has no registry branch. */
  fetched: string | null;
  /** What happened to the local registry branch. */
  branch: 'created' | 'fast-forward' | 'up-to-date' | 'ahead';
  /** Registry tags now present locally that were not before. */
  newTags: string[];
}

function remoteError(e: unknown, action: string, url: string): RegistryError {
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
      {
        cause: e,
        data: { url, statusCode: status },
      },
    );
  }
  if (err.code === 'PushRejectedError' || err.code === 'GitPushError') {
    return new RegistryError(
      'REMOTE_REJECTED',
      `${action} ${url} was rejected (${err.message ?? ''}); pull first if the remote registry moved on`,
      {
        cause: e,
        data: { url },
      },
    );
  }
  return new RegistryError(
    'REMOTE_FAILED',
    `${action} ${url} failed: ${err.message ?? String(e)}`,
    { cause: e, data: { url, statusCode: status } },
  );
}

async function remoteUrl(reg: Registry, o: RemoteOptions): Promise<string> {
  if (o.url) return o.url;
  const remote = o.remote ?? 'origin';
  const url = (await git.getConfig({
    fs: reg.fsa.fs,
    gitdir: reg.gitdir,
    path: `remote.${remote}.url`,
  })) as string | undefined;
  if (!url)
    throw new RegistryError(
      'INVALID_OPTION',
      `No { url } given and remote ${JSON.stringify(remote)} has no url in the git config`,
    );
  return url;
}

function common(
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

/** @internal */
export async function pushRegistry(reg: Registry, o: RemoteOptions): Promise<PushResult> {
  const url = await remoteUrl(reg, o);
  let serverRefs: { ref: string; oid: string }[];
  try {
    serverRefs = await git.listServerRefs({ ...common(o), url, forPush: true, protocolVersion: 1 });
  } catch (e) {
    throw remoteError(e, 'Listing refs of', url);
  }
  const remote = new Map(serverRefs.map((r) => [r.ref, r.oid]));
  const pushed: string[] = [];
  let skipped = 0;
  const push = async (ref: string): Promise<void> => {
    try {
      const res = await git.push({
        ...reg.gitArgs,
        ...common(o),
        url,
        ref,
        remoteRef: ref,
      });
      if (!res.ok)
        throw Object.assign(new Error(res.error ?? `push of ${ref} failed`), {
          code: 'PushRejectedError',
        });
      pushed.push(ref);
    } catch (e) {
      throw remoteError(e, `Pushing ${ref} to`, url);
    }
  };
  const tags = (await git.listTags({ fs: reg.fsa.fs, gitdir: reg.gitdir })).filter(
    (t) => parseTag(t) !== undefined,
  );
  // Version tags before stage tags, in counter order, so a remote reader never sees an alias to
  // a version tag it does not have yet.
  const order = (t: string): number => {
    const p = parseTag(t)!;
    return p.kind === 'version' ? p.version : 1e9 + p.counter;
  };
  const toPush: string[] = [];
  for (const t of tags.sort((a, b) => order(a) - order(b))) {
    const ref = `refs/tags/${t}`;
    const local = await reg.readRef(ref);
    const there = remote.get(ref);
    if (there === local) {
      skipped += 1;
      continue;
    }
    // Checked before anything is sent, so a diverged remote gets nothing half-pushed.
    if (there !== undefined) {
      throw new RegistryError(
        'REMOTE_REJECTED',
        `Tag ${t} exists on ${url} with another object (${there}, local ${local}); the registries diverged`,
        { data: { url, ref } },
      );
    }
    toPush.push(ref);
  }
  const branch = await reg.readRef(reg.branchRef);
  if (branch && remote.get(reg.branchRef) !== branch) await push(reg.branchRef);
  for (const ref of toPush) await push(ref);
  return { pushed, skipped };
}

/** @internal */
export async function pullRegistry(reg: Registry, o: RemoteOptions): Promise<PullResult> {
  const url = await remoteUrl(reg, o);
  const branchName = reg.branchRef.replace(/^refs\/heads\//, '');
  const before = new Set(await git.listTags({ fs: reg.fsa.fs, gitdir: reg.gitdir }));
  let fetched: string | null = null;
  let serverRefs: { ref: string; oid: string }[] = [];
  // isomorphic-git's fetch needs a configured remote with a fetch refspec for its tracking refs.
  // Pulling by bare URL records one, named `mlship`, so the user's `origin` is left alone.
  const trackingRemote = o.url ? (o.remote ?? 'mlship') : (o.remote ?? 'origin');
  if (o.url) {
    const cfg = { fs: reg.fsa.fs, gitdir: reg.gitdir };
    const key = `remote.${trackingRemote}`;
    if ((await git.getConfig({ ...cfg, path: `${key}.url` })) !== o.url) {
      await git.setConfig({ ...cfg, path: `${key}.url`, value: o.url });
    }
    if (!(await git.getConfig({ ...cfg, path: `${key}.fetch` }))) {
      await git.setConfig({
        ...cfg,
        path: `${key}.fetch`,
        value: `+refs/heads/*:refs/remotes/${trackingRemote}/*`,
      });
    }
  }
  try {
    serverRefs = await git.listServerRefs({ ...common(o), url, protocolVersion: 1 });
    if (serverRefs.some((r) => r.ref === reg.branchRef)) {
      const res = await git.fetch({
        ...reg.gitArgs,
        ...common(o),
        url,
        remote: trackingRemote,
        ref: branchName,
        remoteRef: branchName,
        singleBranch: true,
        tags: true,
      });
      fetched = res.fetchHead ?? null;
    }
  } catch (e) {
    if ((e as { code?: string; data?: { what?: string } }).data?.what === 'HEAD') {
      throw new RegistryError(
        'REMOTE_FAILED',
        `Fetching from ${url} failed: the remote's HEAD points to an unborn branch (isomorphic-git needs it); give the remote a default branch, e.g. \`git symbolic-ref HEAD ${reg.branchRef}\` on the server`,
        { cause: e, data: { url } },
      );
    }
    throw remoteError(e, 'Fetching from', url);
  }
  let branch: PullResult['branch'] = 'up-to-date';
  if (fetched) {
    const target = fetched;
    branch = await reg.withLock(async () => {
      const local = await reg.readRef(reg.branchRef);
      let result: PullResult['branch'];
      const args = reg.gitArgs;
      if (!local) result = 'created';
      else if (local === target) result = 'up-to-date';
      else if (await git.isDescendent({ ...args, oid: target, ancestor: local, depth: -1 })) {
        result = 'fast-forward';
      } else if (await git.isDescendent({ ...args, oid: local, ancestor: target, depth: -1 })) {
        result = 'ahead';
      } else {
        throw new RegistryError(
          'DIVERGED',
          `Local ${reg.branchRef} (${local}) and ${url} (${target}) both registered versions since they last met; version numbers would collide, so the registry will not merge them`,
          { data: { url, ref: reg.branchRef, local, remote: target } },
        );
      }
      // Tag objects are not reachable from the branch, and isomorphic-git's single-branch fetch
      // does not follow tags, so each missing registry tag is fetched by name (objects first,
      // then its ref), before the branch moves.
      for (const { ref } of serverRefs) {
        if (!ref.startsWith('refs/tags/') || ref.endsWith('^{}')) continue;
        if (!parseTag(ref.slice('refs/tags/'.length)) || (await reg.readRef(ref))) continue;
        try {
          await git.fetch({
            ...reg.gitArgs,
            ...common(o),
            url,
            remote: trackingRemote,
            ref,
            remoteRef: ref,
            singleBranch: true,
            tags: true,
          });
        } catch (e) {
          throw remoteError(e, `Fetching ${ref} from`, url);
        }
      }
      if (result === 'created' || result === 'fast-forward')
        await reg.writeRef(reg.branchRef, target);
      return result;
    });
  }
  const after = await git.listTags({ fs: reg.fsa.fs, gitdir: reg.gitdir });
  return {
    fetched,
    branch,
    newTags: after.filter((t) => !before.has(t) && parseTag(t) !== undefined).sort(),
  };
}
