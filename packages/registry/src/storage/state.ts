import * as git from 'isomorphic-git';
import { gitArgs, retryRead, type RegistryContext, type TagObject } from '../context';
import { RegistryError } from '../errors';
import { parseTag, parseVersionRef, versionTag, type ParsedTag } from '../names';
import type { ResolvedVersion } from '../types';
import { readRegistryTags, rememberTagObject, saveIndex } from './tag-index';

/** @internal One registry tag with what its tag object says. */
export interface TagInfo {
  parsed: ParsedTag;
  /** The tag object's id. */
  oid: string;
  /** The commit it points at. */
  commit: string;
  /** Tagger time, seconds. */
  time: number;
  message: string;
}

/** @internal Everything the tags say about one model. */
export interface ModelState {
  versions: Map<number, TagInfo>;
  deregistered: Set<number>;
  /** Stage assignments and unassignments, in counter order. */
  events: TagInfo[];
  /** The highest event counter in any tag name of the model, readable or not. */
  maxCounter: number;
  /** The highest version number in any tag name of the model, readable or not (never reused). */
  maxVersion: number;
  /** Latest tagger time (seconds) of any tag of the model. */
  lastTime: number;
}

/** @internal */
export function emptyState(): ModelState {
  return {
    versions: new Map(),
    deregistered: new Set(),
    events: [],
    maxCounter: 0,
    maxVersion: 0,
    lastTime: 0,
  };
}

const counterOf = (t: TagInfo): number => (t.parsed as { counter: number }).counter;

/** @internal Reads every registry tag (of one model when `only` is given) into model states. */
export async function scanModels(
  ctx: RegistryContext,
  only?: string,
): Promise<Map<string, ModelState>> {
  const refs = await readRegistryTags(ctx);
  const out = new Map<string, ModelState>();
  for (const [t, oid] of refs) {
    const parsed = parseTag(t);
    if (!parsed || (only !== undefined && parsed.name !== only)) continue;
    let m = out.get(parsed.name);
    if (!m) {
      m = emptyState();
      out.set(parsed.name, m);
    }
    // Numbers in any tag name of ours are taken, whatever the tag points at: never written twice.
    if (parsed.kind === 'version') m.maxVersion = Math.max(m.maxVersion, parsed.version);
    else m.maxCounter = Math.max(m.maxCounter, parsed.counter);
    const obj = await readTagTarget(ctx, oid, parsed.kind !== 'version');
    if (obj?.type !== 'commit') continue; // unreadable, or a tag of a tree or blob
    const info: TagInfo = { parsed, oid, commit: obj.commit, time: obj.time, message: obj.message };
    m.lastTime = Math.max(m.lastTime, info.time);
    if (parsed.kind === 'version') m.versions.set(parsed.version, info);
    else if (parsed.kind === 'deregister') m.deregistered.add(parsed.version);
    else m.events.push(info);
  }
  for (const m of out.values()) m.events.sort((a, b) => counterOf(a) - counterOf(b));
  await saveIndex(ctx);
  return out;
}

/**
 * @internal What a tag ref points at: an annotated tag object (its target, tagger time and
 * message), or — for a lightweight tag such as `git tag cnn@v3.0.0 <commit>` — the commit itself
 * (its committer time, no message). Undefined when the object cannot be read.
 */
export async function readTagTarget(
  ctx: RegistryContext,
  oid: string,
  event = false,
): Promise<TagObject | undefined> {
  const cached = ctx.tagObjects.get(oid);
  if (cached) return cached;
  let obj: TagObject | undefined;
  try {
    const read = await retryRead(() => git.readObject({ ...gitArgs(ctx), oid, format: 'parsed' }));
    if (read.type === 'tag') {
      const tag = read.object as git.TagObject;
      obj = {
        type: tag.type,
        commit: tag.object,
        time: tag.tagger.timestamp,
        message: tag.message,
      };
    } else if (read.type === 'commit') {
      const commit = read.object as git.CommitObject;
      obj = { type: 'commit', commit: oid, time: commit.committer.timestamp, message: '' };
    }
  } catch {
    obj = undefined; // a ref to an object this repository does not have
  }
  if (obj) {
    ctx.tagObjects.set(oid, obj); // objects are immutable: safe to keep
    rememberTagObject(ctx, oid, obj, event);
  }
  return obj;
}

/** @internal The state of one model (empty when it has no tags). */
export async function modelState(ctx: RegistryContext, name: string): Promise<ModelState> {
  return (await scanModels(ctx, name)).get(name) ?? emptyState();
}

/**
 * @internal The time to stamp the model's next tag with: the clock, but at least one second after
 * the model's latest tag. git times have one-second resolution and GTO orders a model's events by
 * tag time, so a burst of operations within a second must still come out in order.
 */
export function stamp(ctx: RegistryContext, m: ModelState): Date {
  const seconds = Math.max(Math.floor(ctx.clock().getTime() / 1000), m.lastTime + 1);
  m.lastTime = seconds;
  return new Date(seconds * 1000);
}

/** @internal The version whose tag points at `commit`. */
export function versionOfCommit(m: ModelState, commit: string): number | undefined {
  for (const [v, info] of m.versions) if (info.commit === commit) return v;
  return undefined;
}

/** @internal Stage -> version now: each stage's highest-counter event wins. */
export function currentStages(m: ModelState): Map<string, number> {
  const stages = new Map<string, number>();
  for (const e of m.events) {
    const p = e.parsed as { kind: 'assign' | 'unassign'; stage: string };
    if (p.kind === 'unassign') stages.delete(p.stage);
    else {
      const v = versionOfCommit(m, e.commit);
      if (v !== undefined) stages.set(p.stage, v);
    }
  }
  return stages;
}

/** @internal The stages pointing at `version`, sorted. */
export function stagesOf(m: ModelState, version: number): string[] {
  return [...currentStages(m)]
    .filter(([, v]) => v === version)
    .map(([s]) => s)
    .sort();
}

/** @internal The highest version that is not deregistered. */
export function latestLive(m: ModelState): number | undefined {
  const live = [...m.versions.keys()].filter((v) => !m.deregistered.has(v));
  return live.length ? Math.max(...live) : undefined;
}

/** @internal Resolves a version reference against a model's state. */
export function resolveIn(name: string, m: ModelState, ref: string): ResolvedVersion {
  const r = parseVersionRef(ref);
  const found = (version: number | undefined, what: string): ResolvedVersion => {
    const info = version === undefined ? undefined : m.versions.get(version);
    if (version === undefined || !info) {
      throw new RegistryError(
        m.versions.size === 0 ? 'MODEL_NOT_FOUND' : 'VERSION_NOT_FOUND',
        m.versions.size === 0
          ? `Model ${JSON.stringify(name)} has no registered versions (looked up ${JSON.stringify(ref)})`
          : `${what} not found: ${JSON.stringify(ref)} (versions: ${[...m.versions.keys()].sort((a, b) => a - b).join(', ')})`,
        { data: { ref } },
      );
    }
    return { name, version, tag: versionTag(name, version), commit: info.commit };
  };
  switch (r.kind) {
    case 'version':
      return found(r.version, `Version ${r.version} of ${name}`);
    case 'latest':
      return found(latestLive(m), `A live version of ${name}`);
    case 'stage': {
      const v = currentStages(m).get(r.stage);
      if (v === undefined && m.versions.size > 0) {
        throw new RegistryError(
          'STAGE_NOT_ASSIGNED',
          `Stage ${JSON.stringify(r.stage)} of ${name} is not assigned to any version (ref ${JSON.stringify(ref)})`,
          { data: { ref } },
        );
      }
      return found(v, `Stage ${r.stage} of ${name}`);
    }
    case 'assignment': {
      const e = m.events.find(
        (x) => counterOf(x) === r.counter && (x.parsed as { stage: string }).stage === r.stage,
      );
      return found(e ? versionOfCommit(m, e.commit) : undefined, `Assignment ${ref}`);
    }
  }
}
