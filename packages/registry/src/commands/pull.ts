import * as git from 'isomorphic-git';
import { gitArgs, withLock, type RegistryContext } from '../context';
import { RegistryError, operation } from '../errors';
import { parseTag } from '../names';
import { OPTION_KEYS } from '../options';
import { dropHeads } from '../storage/heads';
import { hasObject, readRef, restoreRef, writeRef } from '../storage/refs';
import { modelState, versionOfCommit } from '../storage/state';
import { remoteError, remoteTarget, transportArgs, type RemoteTarget } from '../transport';
import type { PullConflict, PullOptions, PullResult } from '../types';
import { repairLocked } from './repair';

/**
 * Fetches one ref's objects and writes the ref, or leaves the repository as it was: isomorphic-git
 * writes the ref before the objects arrive, so on any failure the ref is put back, and a ref whose
 * object did not arrive is never left behind. `haveRef` is the local ref whose history the server
 * is told we have (isomorphic-git's single-branch fetch announces only that one).
 */
async function fetchRef(
  ctx: RegistryContext,
  t: RemoteTarget,
  remote: string,
  haveRef: string,
  remoteRef: string,
  trackingRef: string,
): Promise<string | null> {
  const before = await readRef(ctx, trackingRef);
  let fetched: string | null;
  try {
    const res = await git.fetch({
      ...gitArgs(ctx),
      ...transportArgs(t),
      remote,
      ref: haveRef,
      remoteRef,
      singleBranch: true,
      tags: true,
    });
    fetched = res.fetchHead ?? null;
  } catch (e) {
    await restoreRef(ctx, trackingRef, before);
    throw remoteError(e, `Fetching ${remoteRef} from`, t.shown);
  }
  const now = await readRef(ctx, trackingRef);
  if (
    (fetched !== null && !(await hasObject(ctx, fetched))) ||
    (now && !(await hasObject(ctx, now)))
  ) {
    await restoreRef(ctx, trackingRef, before);
    throw new RegistryError(
      'REMOTE_FAILED',
      `Fetching ${remoteRef} from ${t.shown} ended without the objects it announced (${fetched ?? now}); nothing was changed locally`,
      { data: { url: t.shown, ref: remoteRef } },
    );
  }
  return fetched;
}

/** The version a tag object (or a commit) stands for in a model's current state. */
async function versionOf(ctx: RegistryContext, oid: string, name: string): Promise<number | null> {
  let commit = oid;
  try {
    const { tag } = await git.readTag({ ...gitArgs(ctx), oid });
    commit = tag.object;
  } catch {
    // a lightweight tag, or an object this repository does not have: use it as the commit
  }
  return versionOfCommit(await modelState(ctx, name), commit) ?? null;
}

/**
 * Fetches the registry branch and tags from a git remote and fast-forwards the local branch. A
 * failed transfer (the server dies mid-way, the connection drops) leaves the repository as it was;
 * credentials in a URL are used but never stored; registry tags the two sides disagree on are
 * reported (and, with `conflicts: 'theirs'`, stage and deregistration tags take the remote's side).
 *
 * @param ctx - the registry
 * @param o - `url` or `remote`, `auth`, `headers`, `http`, `onProgress`, `conflicts`
 * @returns what changed locally
 * @throws RegistryError `DIVERGED`, `REMOTE_AUTH_FAILED`, `REMOTE_FAILED`, `INVALID_OPTION`, `LOCK_TIMEOUT`
 */
export const pull = operation(
  'WRITE_FAILED',
  async function pull(ctx: RegistryContext, o: PullOptions = {}): Promise<PullResult> {
    const t = await remoteTarget(ctx, o, OPTION_KEYS.pull, 'pull options');
    if (o.conflicts !== undefined && o.conflicts !== 'report' && o.conflicts !== 'theirs') {
      throw new RegistryError(
        'INVALID_OPTION',
        `pull options: conflicts: expected 'report' or 'theirs', got ${JSON.stringify(o.conflicts)}`,
        { data: { path: 'conflicts', expected: ['report', 'theirs'] } },
      );
    }
    const branchName = ctx.branchRef.replace(/^refs\/heads\//, '');
    const before = new Set(await git.listTags({ fs: ctx.fsa.fs, gitdir: ctx.gitdir }));
    // isomorphic-git's fetch needs a configured remote with a fetch refspec for its tracking refs.
    // Pulling by bare URL records one, named `mlship`, so the user's `origin` is left alone; the
    // URL is recorded without its credentials.
    const trackingRemote = o.url ? (o.remote ?? 'mlship') : (o.remote ?? 'origin');
    const trackingRef = `refs/remotes/${trackingRemote}/${branchName}`;
    const cfg = { fs: ctx.fsa.fs, gitdir: ctx.gitdir };
    const key = `remote.${trackingRemote}`;
    if (o.url) {
      if ((await git.getConfig({ ...cfg, path: `${key}.url` })) !== t.url) {
        await git.setConfig({ ...cfg, path: `${key}.url`, value: t.url });
      }
      if (!(await git.getConfig({ ...cfg, path: `${key}.fetch` }))) {
        await git.setConfig({
          ...cfg,
          path: `${key}.fetch`,
          value: `+refs/heads/*:refs/remotes/${trackingRemote}/*`,
        });
      }
    }
    // A pull killed between isomorphic-git's ref update and its object write left this dangling.
    const stale = await readRef(ctx, trackingRef);
    if (stale && !(await hasObject(ctx, stale))) await restoreRef(ctx, trackingRef, undefined);

    let serverRefs: { ref: string; oid: string; peeled?: string }[];
    try {
      serverRefs = await git.listServerRefs({
        ...transportArgs(t),
        protocolVersion: 1,
        peelTags: true,
      });
    } catch (e) {
      throw remoteError(e, 'Listing refs of', t.shown);
    }
    let fetched: string | null = null;
    if (serverRefs.some((r) => r.ref === ctx.branchRef)) {
      try {
        fetched = await fetchRef(ctx, t, trackingRemote, branchName, branchName, trackingRef);
      } catch (e) {
        if ((e as { cause?: { data?: { what?: string } } }).cause?.data?.what === 'HEAD') {
          throw new RegistryError(
            'REMOTE_FAILED',
            `Fetching from ${t.shown} failed: the remote's HEAD points to an unborn branch (isomorphic-git needs it); give the remote a default branch, e.g. \`git symbolic-ref HEAD ${ctx.branchRef}\` on the server`,
            { cause: e, data: { url: t.shown } },
          );
        }
        throw e;
      }
    }
    const conflicts: PullConflict[] = [];
    const branch = await withLock(ctx, async (): Promise<PullResult['branch']> => {
      await repairLocked(ctx);
      const local = await readRef(ctx, ctx.branchRef);
      let result: PullResult['branch'] = 'up-to-date';
      const args = gitArgs(ctx);
      if (fetched) {
        if (!local) result = 'created';
        else if (local === fetched) result = 'up-to-date';
        else if (await git.isDescendent({ ...args, oid: fetched, ancestor: local, depth: -1 })) {
          result = 'fast-forward';
        } else if (await git.isDescendent({ ...args, oid: local, ancestor: fetched, depth: -1 })) {
          result = 'ahead';
        } else {
          throw new RegistryError(
            'DIVERGED',
            `Local ${ctx.branchRef} (${local}) and ${t.shown} (${fetched}) both registered versions since they last met; version numbers would collide, so the registry will not merge them`,
            { data: { url: t.shown, ref: ctx.branchRef, local, remote: fetched } },
          );
        }
      }
      // Tag objects are not reachable from the branch, and isomorphic-git's single-branch fetch
      // does not follow tags, so each missing registry tag is fetched by name (objects first,
      // then its ref), before the branch moves. isomorphic-git tells the server it has only what
      // its `ref` argument names: that is the fetched branch (or the local one), so the server
      // sends the tag object alone, not the whole history again for every tag.
      const haveRef = fetched ? trackingRef : local ? ctx.branchRef : undefined;
      const tags = serverRefs
        .filter(({ ref }) => ref.startsWith('refs/tags/') && !ref.endsWith('^{}'))
        .map((r) => ({ ...r, parsed: parseTag(r.ref.slice('refs/tags/'.length)) }))
        // version tags first, so a stage's version is known when its conflict is described
        .sort(
          (a, b) => Number(a.parsed?.kind !== 'version') - Number(b.parsed?.kind !== 'version'),
        );
      for (const { ref, oid, peeled, parsed } of tags) {
        if (!parsed) continue;
        const mine = await readRef(ctx, ref);
        if (mine === oid) continue;
        if (mine === undefined) {
          await fetchRef(ctx, t, trackingRemote, haveRef ?? ref, ref, ref);
          continue;
        }
        const take = o.conflicts === 'theirs' && parsed.kind !== 'version';
        const conflict: PullConflict = {
          tag: parsed.tag,
          local: { object: mine, version: await versionOf(ctx, mine, parsed.name) },
          remote: {
            object: oid,
            version: await versionOf(ctx, peeled ?? oid, parsed.name),
          },
          resolution: take ? 'took-remote' : 'kept-local',
        };
        if (take) {
          await restoreRef(ctx, ref, undefined);
          try {
            await fetchRef(ctx, t, trackingRemote, haveRef ?? ref, ref, ref);
          } catch (e) {
            await writeRef(ctx, ref, mine);
            throw e;
          }
        }
        conflicts.push(conflict);
      }
      if (fetched && (result === 'created' || result === 'fast-forward'))
        await writeRef(ctx, ctx.branchRef, fetched);
      await dropHeads(ctx); // tags came in: rebuilt from the refs on next use
      return result;
    });
    const after = await git.listTags({ fs: ctx.fsa.fs, gitdir: ctx.gitdir });
    return {
      fetched,
      branch,
      newTags: after.filter((x) => !before.has(x) && parseTag(x) !== undefined).sort(),
      conflicts,
    };
  },
  () => 'pulling the registry',
);
