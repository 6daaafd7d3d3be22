import * as git from 'isomorphic-git';
import { gitArgs, retryRead, withLock, type RegistryContext } from '../context';
import { operation } from '../errors';
import { stageTag, versionTag } from '../names';
import { dropHeads } from '../storage/heads';
import { ObjectWriter } from '../storage/objects';
import { readRecordAt, registrationTrailers } from '../storage/records';
import { readRef, writeRef } from '../storage/refs';
import { writeStageTag, writeVersionTagObject } from '../storage/tags';

/**
 * @internal Writes the tags a registration commit implies and lacks: its version tag, then the
 * stage tags its `Mlship-Stage` trailers name. Everything is derived from the commit (record,
 * committer, time), so register and a later repair write byte-identical tags: the version tag at
 * the commit's time, stage i at that time + i seconds. Returns the tags written.
 */
export async function completeRegistration(
  ctx: RegistryContext,
  w: ObjectWriter,
  oid: string,
): Promise<string[]> {
  const { commit } = await retryRead(() => git.readCommit({ ...gitArgs(ctx), oid }));
  const { name, version, stages } = registrationTrailers(commit.message);
  if (!name || !version) return [];
  const record = await readRecordAt(ctx, oid, name);
  if (!record || record.version !== version) return [];
  const written: string[] = [];
  const tag = versionTag(name, version);
  const c = commit.committer;
  if (!(await readRef(ctx, `refs/tags/${tag}`))) {
    const tagOid = await writeVersionTagObject(
      w,
      record,
      oid,
      `${c.name} <${c.email}> ${c.timestamp} +0000`,
    );
    await writeRef(ctx, `refs/tags/${tag}`, tagOid);
    written.push(tag);
  }
  const v = { name, version, tag, commit: oid };
  const author = { name: c.name, email: c.email };
  for (const [i, { stage, counter }] of stages.entries()) {
    if (await readRef(ctx, `refs/tags/${stageTag(name, stage, counter)}`)) continue;
    const at = new Date((c.timestamp + i + 1) * 1000);
    const event = await writeStageTag(
      { ...ctx, author },
      w,
      v,
      stage,
      counter,
      false,
      `Assigned with ${tag}`,
      at,
    );
    written.push(event.tag);
  }
  return written;
}

/**
 * Removes temporary files that writers killed mid-way left in `<gitdir>/mlship-tmp` (index
 * snapshots, named `.<file>.tmp-<pid>-<hex>`); those of live processes are in use and stay.
 */
async function cleanTemps(ctx: RegistryContext): Promise<void> {
  for (const f of await ctx.fsa.readdir(ctx.tmpDir)) {
    const pid = Number(/-(\d+)-[0-9a-f]+$/.exec(f)?.[1]);
    let alive = false;
    if (Number.isSafeInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as { code?: string }).code === 'EPERM';
      }
    }
    if (!alive) await ctx.fsa.unlink(`${ctx.tmpDir}/${f}`);
  }
}

/** Whether a registration commit lacks its version tag or one of its stage tags. */
async function incomplete(ctx: RegistryContext, oid: string): Promise<boolean> {
  const { commit } = await retryRead(() => git.readCommit({ ...gitArgs(ctx), oid }));
  const { name, version, stages } = registrationTrailers(commit.message);
  if (!name || !version) return false;
  if ((await readRef(ctx, `refs/tags/${versionTag(name, version)}`)) === undefined) return true;
  for (const { stage, counter } of stages) {
    if ((await readRef(ctx, `refs/tags/${name}#${stage}#${counter}`)) === undefined) return true;
  }
  return false;
}

/**
 * Completes a registration interrupted after its commit point (the branch moved): walks back from
 * the branch tip while version tags are missing and recreates them, and the tip's stage tags
 * (byte-identical: same record, same times). Also clears temp files of dead writers. The caller
 * holds the lock.
 *
 * @param ctx - the registry
 * @returns the tags it recreated
 */
export async function repairLocked(ctx: RegistryContext): Promise<string[]> {
  const repaired: string[] = [];
  const w = new ObjectWriter(ctx.fsa, ctx.gitdir, ctx.cache);
  let oid = await readRef(ctx, ctx.branchRef);
  // Only the tip can lack stage tags (every write repairs first); older commits can lack their
  // version tag only when someone deleted it, and that number stays taken anyway.
  for (let i = 0; oid && i < 50 && (await incomplete(ctx, oid)); i++) {
    repaired.push(...(await completeRegistration(ctx, w, oid)));
    const at: string = oid;
    oid = (await retryRead(() => git.readCommit({ ...gitArgs(ctx), oid: at }))).commit.parent[0];
  }
  if (repaired.length) await dropHeads(ctx); // rebuilt from the refs on next use
  await cleanTemps(ctx);
  return repaired;
}

/**
 * Whether the branch tip lacks its version tag or a stage tag it assigns (a read-only check, no lock).
 *
 * @param ctx - the registry
 * @returns true when {@link repair} has work to do
 */
export async function needsRepair(ctx: RegistryContext): Promise<boolean> {
  const oid = await readRef(ctx, ctx.branchRef);
  return oid !== undefined && (await incomplete(ctx, oid));
}

/**
 * Completes an interrupted registration, if any (also done by openRegistry and before every write).
 *
 * @param ctx - the registry
 * @returns the tags it recreated
 * @throws RegistryError `LOCK_TIMEOUT`, `WRITE_FAILED`
 */
export const repair = operation(
  'WRITE_FAILED',
  (ctx: RegistryContext): Promise<string[]> => withLock(ctx, () => repairLocked(ctx)),
  () => 'repairing the registry',
);
