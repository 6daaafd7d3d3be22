import * as git from 'isomorphic-git';
import { gitArgs, type RegistryContext } from '../context';
import { RegistryError, operation } from '../errors';
import { parseTag } from '../names';
import { readRef } from '../storage/refs';
import { remoteError, remoteTarget, transportArgs } from '../transport';
import type { PushResult, RemoteOptions } from '../types';

/**
 * Pushes the registry branch and every registry tag the remote lacks over smart HTTP; never forces.
 *
 * @param ctx - the registry
 * @param o - `url` or `remote`, `auth`, `headers`, `http`, `onProgress`
 * @returns what was pushed
 * @throws RegistryError `REMOTE_AUTH_FAILED`, `REMOTE_REJECTED`, `REMOTE_FAILED`, `INVALID_OPTION`
 */
export const push = operation(
  'WRITE_FAILED',
  async function push(ctx: RegistryContext, o: RemoteOptions = {}): Promise<PushResult> {
    const target = await remoteTarget(ctx, o);
    const url = target.shown;
    let serverRefs: { ref: string; oid: string }[];
    try {
      serverRefs = await git.listServerRefs({
        ...transportArgs(target),
        forPush: true,
        protocolVersion: 1,
      });
    } catch (e) {
      throw remoteError(e, 'Listing refs of', url);
    }
    const remote = new Map(serverRefs.map((r) => [r.ref, r.oid]));
    const pushed: string[] = [];
    let skipped = 0;
    const pushRef = async (ref: string): Promise<void> => {
      try {
        const res = await git.push({
          ...gitArgs(ctx),
          ...transportArgs(target),
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
    const tags = (await git.listTags({ fs: ctx.fsa.fs, gitdir: ctx.gitdir })).filter(
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
      const local = await readRef(ctx, ref);
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
    const branch = await readRef(ctx, ctx.branchRef);
    if (branch && remote.get(ctx.branchRef) !== branch) await pushRef(ctx.branchRef);
    for (const ref of toPush) await pushRef(ref);
    return { pushed, skipped };
  },
  () => 'pushing the registry',
);
