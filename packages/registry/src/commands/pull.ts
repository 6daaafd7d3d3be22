import * as git from 'isomorphic-git';
import { gitArgs, withLock, type RegistryContext } from '../context';
import { RegistryError, operation } from '../errors';
import { parseTag } from '../names';
import { readRef, writeRef } from '../storage/refs';
import { remoteError, remoteUrl, transportArgs } from '../transport';
import type { PullResult, RemoteOptions } from '../types';

/**
 * Fetches the registry branch and tags from a git remote and fast-forwards the local branch.
 *
 * @param ctx - the registry
 * @param o - `url` or `remote`, `auth`, `headers`, `http`, `onProgress`
 * @returns what changed locally
 * @throws RegistryError `DIVERGED`, `REMOTE_AUTH_FAILED`, `REMOTE_FAILED`, `INVALID_OPTION`, `LOCK_TIMEOUT`
 */
export const pull = operation(
  'WRITE_FAILED',
  async function pull(ctx: RegistryContext, o: RemoteOptions = {}): Promise<PullResult> {
    const url = await remoteUrl(ctx, o);
    const branchName = ctx.branchRef.replace(/^refs\/heads\//, '');
    const before = new Set(await git.listTags({ fs: ctx.fsa.fs, gitdir: ctx.gitdir }));
    let fetched: string | null = null;
    let serverRefs: { ref: string; oid: string }[] = [];
    // isomorphic-git's fetch needs a configured remote with a fetch refspec for its tracking refs.
    // Pulling by bare URL records one, named `mlship`, so the user's `origin` is left alone.
    const trackingRemote = o.url ? (o.remote ?? 'mlship') : (o.remote ?? 'origin');
    if (o.url) {
      const cfg = { fs: ctx.fsa.fs, gitdir: ctx.gitdir };
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
      serverRefs = await git.listServerRefs({ ...transportArgs(o), url, protocolVersion: 1 });
      if (serverRefs.some((r) => r.ref === ctx.branchRef)) {
        const res = await git.fetch({
          ...gitArgs(ctx),
          ...transportArgs(o),
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
          `Fetching from ${url} failed: the remote's HEAD points to an unborn branch (isomorphic-git needs it); give the remote a default branch, e.g. \`git symbolic-ref HEAD ${ctx.branchRef}\` on the server`,
          { cause: e, data: { url } },
        );
      }
      throw remoteError(e, 'Fetching from', url);
    }
    let branch: PullResult['branch'] = 'up-to-date';
    if (fetched) {
      const target = fetched;
      branch = await withLock(ctx, async () => {
        const local = await readRef(ctx, ctx.branchRef);
        let result: PullResult['branch'];
        const args = gitArgs(ctx);
        if (!local) result = 'created';
        else if (local === target) result = 'up-to-date';
        else if (await git.isDescendent({ ...args, oid: target, ancestor: local, depth: -1 })) {
          result = 'fast-forward';
        } else if (await git.isDescendent({ ...args, oid: local, ancestor: target, depth: -1 })) {
          result = 'ahead';
        } else {
          throw new RegistryError(
            'DIVERGED',
            `Local ${ctx.branchRef} (${local}) and ${url} (${target}) both registered versions since they last met; version numbers would collide, so the registry will not merge them`,
            { data: { url, ref: ctx.branchRef, local, remote: target } },
          );
        }
        // Tag objects are not reachable from the branch, and isomorphic-git's single-branch fetch
        // does not follow tags, so each missing registry tag is fetched by name (objects first,
        // then its ref), before the branch moves.
        for (const { ref } of serverRefs) {
          if (!ref.startsWith('refs/tags/') || ref.endsWith('^{}')) continue;
          if (!parseTag(ref.slice('refs/tags/'.length)) || (await readRef(ctx, ref))) continue;
          try {
            await git.fetch({
              ...gitArgs(ctx),
              ...transportArgs(o),
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
          await writeRef(ctx, ctx.branchRef, target);
        return result;
      });
    }
    const after = await git.listTags({ fs: ctx.fsa.fs, gitdir: ctx.gitdir });
    return {
      fetched,
      branch,
      newTags: after.filter((t) => !before.has(t) && parseTag(t) !== undefined).sort(),
    };
  },
  () => 'pulling the registry',
);
