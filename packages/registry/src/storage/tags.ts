import type { RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { deregisterTag, semver, stageTag } from '../names';
import type { ResolvedVersion, StageEvent, VersionRecord } from '../types';
import { personLine, type ObjectWriter } from './objects';
import { readRef, writeRef } from './refs';

/** @internal Writes the annotated version tag object of a record (not its ref). */
export function writeVersionTagObject(
  w: ObjectWriter,
  record: VersionRecord,
  commit: string,
  tagger: string,
): Promise<string> {
  return w.tag({
    object: commit,
    type: 'commit',
    tag: record.tag,
    tagger,
    message: `Registering artifact ${record.name} version ${semver(record.version)}\n\n${record.message ? `${record.message}\n\n` : ''}${JSON.stringify(record, null, 2)}\n`,
  });
}

/** @internal Writes a stage (un)assignment tag `name#stage#K` / `name#stage!#K`, object and ref. */
export async function writeStageTag(
  ctx: RegistryContext,
  w: ObjectWriter,
  v: ResolvedVersion,
  stage: string,
  counter: number,
  unassign: boolean,
  message: string,
  now: Date,
): Promise<StageEvent> {
  const tag = stageTag(v.name, stage, counter, unassign);
  if (await readRef(ctx, `refs/tags/${tag}`)) {
    throw new RegistryError('REF_CONFLICT', `Tag ${tag} already exists`, { data: { ref: tag } });
  }
  const body = {
    format: 'mlship-registry-event/1',
    action: unassign ? 'unassign' : 'assign',
    name: v.name,
    stage,
    version: v.version,
    versionTag: v.tag,
    message,
  };
  const first = unassign
    ? `Unassigning stage ${stage} from artifact ${v.name} version ${semver(v.version)}`
    : `Assigning stage ${stage} to artifact ${v.name} version ${semver(v.version)}`;
  const oid = await w.tag({
    object: v.commit,
    type: 'commit',
    tag,
    tagger: personLine(ctx.author, now),
    message: `${first}\n\n${message ? `${message}\n\n` : ''}${JSON.stringify(body, null, 2)}\n`,
  });
  await writeRef(ctx, `refs/tags/${tag}`, oid);
  return {
    name: v.name,
    stage,
    action: unassign ? 'unassign' : 'assign',
    version: v.version,
    counter,
    tag,
    commit: v.commit,
    created: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString(),
    message,
  };
}

/** @internal Writes a GTO deregistration tag `name@vN.0.0!#K`, object and ref; returns its name. */
export async function writeDeregisterTag(
  ctx: RegistryContext,
  w: ObjectWriter,
  v: ResolvedVersion,
  counter: number,
  message: string,
  now: Date,
): Promise<string> {
  const tag = deregisterTag(v.name, v.version, counter);
  const oid = await w.tag({
    object: v.commit,
    type: 'commit',
    tag,
    tagger: personLine(ctx.author, now),
    message: `Deregistering artifact ${v.name} version ${semver(v.version)}\n\n${message}\n`,
  });
  await writeRef(ctx, `refs/tags/${tag}`, oid);
  return tag;
}
