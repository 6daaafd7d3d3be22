// The registry's model heads, `<gitdir>/mlship-index/heads.json`: per model, what `resolve` and
// the writers need — the highest version and event counter, the latest live version, where each
// stage points now, the last tag time — so that resolving `cnn@latest` or `cnn#production` and
// registering the next version do not grow with the number of versions. Like the tag index it is a
// cache kept beside the refs: trusted only while `refs/tags` and `packed-refs` are exactly as it
// recorded them (their stat), rebuilt from the refs otherwise, and updated by each registry write
// under the lock.
import type { RegistryContext } from '../context';
import type { ResolvedVersion } from '../types';
import { currentStages, latestLive, scanModels, type ModelState } from './state';

const FORMAT = 'mlship-registry-heads/1';

/** @internal What the heads keep of one model. */
export interface ModelHead {
  maxVersion: number;
  maxCounter: number;
  /** latest tag time of the model, seconds */
  lastTime: number;
  /** number of readable version tags */
  versions: number;
  latest: { version: number; commit: string } | null;
  stages: Record<string, { version: number; commit: string }>;
  deregistered: number[];
}

interface HeadsFile {
  format: typeof FORMAT;
  tagsDirMtimeMs: number;
  packedStat: { mtimeMs: number; size: number } | null;
  models: Record<string, ModelHead>;
}

type Stat = { mtimeMs: number; size: number } | null;

const dir = (ctx: RegistryContext): string => `${ctx.gitdir}/mlship-index`;
const file = (ctx: RegistryContext): string => `${dir(ctx)}/heads.json`;

/** @internal The stats the heads are valid for: refs/tags' mtime and packed-refs' stat. */
export async function refStats(
  ctx: RegistryContext,
): Promise<{ tagsDirMtimeMs: number; packedStat: Stat }> {
  const tags = await ctx.fsa.lstat(`${ctx.gitdir}/refs/tags`);
  const packed = await ctx.fsa.lstat(`${ctx.gitdir}/packed-refs`);
  return {
    tagsDirMtimeMs: tags?.mtimeMs ?? -1,
    packedStat: packed ? { mtimeMs: packed.mtimeMs ?? 0, size: Number(packed.size) } : null,
  };
}

const sameStat = (a: Stat, b: Stat): boolean =>
  a === b || (!!a && !!b && a.mtimeMs === b.mtimeMs && a.size === b.size);

/** @internal A model head from a full scan of its tags. */
export function headOf(m: ModelState): ModelHead {
  const latest = latestLive(m);
  const stages: ModelHead['stages'] = {};
  for (const [stage, version] of currentStages(m))
    stages[stage] = { version, commit: m.versions.get(version)!.commit };
  return {
    maxVersion: m.maxVersion,
    maxCounter: m.maxCounter,
    lastTime: m.lastTime,
    versions: m.versions.size,
    latest:
      latest === undefined ? null : { version: latest, commit: m.versions.get(latest)!.commit },
    stages,
    deregistered: [...m.deregistered].sort((a, b) => a - b),
  };
}

/**
 * @internal The heads, when `heads.json` is valid for the refs as they are now; undefined
 * otherwise (the caller scans and calls {@link saveHeads}).
 */
export async function loadHeads(
  ctx: RegistryContext,
): Promise<Record<string, ModelHead> | undefined> {
  let h: HeadsFile;
  try {
    const text = await ctx.fsa.readText(file(ctx));
    if (text === undefined) return undefined;
    h = JSON.parse(text) as HeadsFile;
  } catch {
    return undefined;
  }
  if (h?.format !== FORMAT || typeof h.models !== 'object') return undefined;
  const now = await refStats(ctx);
  if (now.tagsDirMtimeMs !== h.tagsDirMtimeMs || !sameStat(now.packedStat, h.packedStat))
    return undefined;
  return h.models;
}

/**
 * @internal Saves the heads as valid for `stats` (taken before the scan they come from, or after
 * the writes they include). Best effort: a read-only repository just rebuilds them each time.
 */
export async function saveHeads(
  ctx: RegistryContext,
  models: Record<string, ModelHead>,
  stats: { tagsDirMtimeMs: number; packedStat: Stat },
): Promise<void> {
  if (ctx.readOnly) return;
  const h: HeadsFile = { format: FORMAT, ...stats, models };
  try {
    await ctx.fsa.mkdirp(dir(ctx));
    await ctx.fsa.writeAtomic(file(ctx), JSON.stringify(h), { tmpDir: ctx.tmpDir });
  } catch {
    // best effort
  }
}

/** @internal Forgets the heads (after a write that does not maintain them): rebuilt on next use. */
export async function dropHeads(ctx: RegistryContext): Promise<void> {
  await ctx.fsa.unlink(file(ctx)).catch(() => undefined);
}

/** @internal The version a head resolves `@latest` / `#stage` to, when it knows. */
export function fromHead(
  name: string,
  h: ModelHead | undefined,
  what: { latest: true } | { stage: string },
  tag: (name: string, version: number) => string,
): ResolvedVersion | undefined {
  const hit = 'latest' in what ? h?.latest : h?.stages[what.stage];
  return hit
    ? { name, version: hit.version, tag: tag(name, hit.version), commit: hit.commit }
    : undefined;
}

/** @internal The heads: from `heads.json` when valid, else rebuilt from a scan of every tag and saved. */
export async function getHeads(ctx: RegistryContext): Promise<Record<string, ModelHead>> {
  const loaded = await loadHeads(ctx);
  if (loaded) return loaded;
  const stats = await refStats(ctx); // before the scan: a change during it invalidates what we save
  const models: Record<string, ModelHead> = {};
  for (const [name, m] of await scanModels(ctx)) models[name] = headOf(m);
  await saveHeads(ctx, models, stats);
  return models;
}

/** @internal A model with no tags. */
export function emptyHead(): ModelHead {
  return {
    maxVersion: 0,
    maxCounter: 0,
    lastTime: 0,
    versions: 0,
    latest: null,
    stages: {},
    deregistered: [],
  };
}

/**
 * @internal The time to stamp a model's next tag with: the clock, but at least one second after
 * the model's latest tag (git times have one-second resolution and GTO orders a model's events by
 * tag time). Advances `head.lastTime`.
 */
export function stampHead(ctx: RegistryContext, head: ModelHead): Date {
  const seconds = Math.max(Math.floor(ctx.clock().getTime() / 1000), head.lastTime + 1);
  head.lastTime = seconds;
  return new Date(seconds * 1000);
}
