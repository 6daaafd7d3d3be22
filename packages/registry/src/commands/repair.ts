import * as git from 'isomorphic-git';
import { gitArgs, withLock, type RegistryContext } from '../context';
import { operation } from '../errors';
import { versionTag } from '../names';
import { ObjectWriter } from '../storage/objects';
import { readRecordAt, registrationTrailers } from '../storage/records';
import { readRef, writeRef } from '../storage/refs';
import { writeVersionTagObject } from '../storage/tags';

/**
 * Completes a registration interrupted between the branch update (commit point) and its tag: walks
 * back from the branch tip while version tags are missing and recreates them (byte-identical: same
 * record, same time). Also clears temp files of dead writers. The caller holds the lock.
 *
 * @param ctx - the registry
 * @returns the version tags it recreated
 */
export async function repairLocked(ctx: RegistryContext): Promise<string[]> {
  const repaired: string[] = [];
  let oid = await readRef(ctx, ctx.branchRef);
  const w = new ObjectWriter(ctx.fsa, ctx.gitdir, ctx.cache);
  for (let i = 0; oid && i < 50; i++) {
    const { commit } = await git.readCommit({ ...gitArgs(ctx), oid });
    const { name, version } = registrationTrailers(commit.message);
    if (!name || !version) break;
    const tag = versionTag(name, version);
    if (await readRef(ctx, `refs/tags/${tag}`)) break;
    const record = await readRecordAt(ctx, oid, name);
    if (!record) break;
    const tagOid = await writeVersionTagObject(
      w,
      record,
      oid,
      `${commit.committer.name} <${commit.committer.email}> ${commit.committer.timestamp} +0000`,
    );
    await writeRef(ctx, `refs/tags/${tag}`, tagOid);
    repaired.push(tag);
    oid = commit.parent[0];
  }
  for (const f of await ctx.fsa.readdir(ctx.tmpDir)) await ctx.fsa.unlink(`${ctx.tmpDir}/${f}`);
  return repaired;
}

/**
 * Whether the branch tip lacks its version tag (a read-only check, no lock).
 *
 * @param ctx - the registry
 * @returns true when {@link repair} has work to do
 */
export async function needsRepair(ctx: RegistryContext): Promise<boolean> {
  const oid = await readRef(ctx, ctx.branchRef);
  if (!oid) return false;
  const { commit } = await git.readCommit({ ...gitArgs(ctx), oid });
  const { name, version } = registrationTrailers(commit.message);
  if (!name || !version) return false;
  return (await readRef(ctx, `refs/tags/${versionTag(name, version)}`)) === undefined;
}

/**
 * Completes an interrupted registration, if any (also done by openRegistry and before every write).
 *
 * @param ctx - the registry
 * @returns the version tags it recreated
 * @throws RegistryError `LOCK_TIMEOUT`
 */
export const repair = operation(
  'WRITE_FAILED',
  (ctx: RegistryContext): Promise<string[]> => withLock(ctx, () => repairLocked(ctx)),
  () => 'repairing the registry',
);
