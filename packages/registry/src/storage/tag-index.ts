// The registry's tag index, `<gitdir>/mlship-index/tags.json`: what the registry's tags point at, kept
// beside the refs so that an operation in a new process need not read every tag ref file and every
// tag object (at 10,000 versions that took 14 s). It is a cache, never the truth: each use checks it
// against the refs in a few cheap calls (stat of packed-refs and refs/tags, one readdir), reads
// only what changed, and rebuilds from the refs when it is missing or unreadable.
import type { RegistryContext, TagObject } from '../context';
import { parseTag } from '../names';
import { parsePackedRefs } from './packed-refs';

const FORMAT = 'mlship-registry-index/1';
const OID = /^[0-9a-f]{40}$/;

/** The index file as stored. */
interface IndexFile {
  format: typeof FORMAT;
  /** mtime of `refs/tags` when `loose` was read */
  tagsDirMtimeMs: number;
  /** stat of `packed-refs` when `packed` was read (null: there was none) */
  packedStat: { mtimeMs: number; size: number } | null;
  /** registry tags as loose refs: name -> object id */
  loose: Record<string, string>;
  /** registry tags in packed-refs: name -> object id */
  packed: Record<string, string>;
  /** object id -> [type, commit, tagger or committer time, message (events only)] */
  objects: Record<string, [string, string, number, string?]>;
}

/** @internal The index as loaded in this process, with the stat of its file. */
export interface LoadedIndex {
  file: IndexFile;
  fileStat: { mtimeMs: number; size: number } | undefined;
  dirty: boolean;
}

const indexPath = (ctx: RegistryContext): string => `${ctx.gitdir}/mlship-index/tags.json`;

function empty(): IndexFile {
  return {
    format: FORMAT,
    tagsDirMtimeMs: -1,
    packedStat: null,
    loose: {},
    packed: {},
    objects: {},
  };
}

const statOf = (st: { mtimeMs?: number; size: number | bigint } | undefined) =>
  st ? { mtimeMs: st.mtimeMs ?? 0, size: Number(st.size) } : undefined;
const same = (
  a: { mtimeMs: number; size: number } | null | undefined,
  b: { mtimeMs: number; size: number } | null | undefined,
): boolean =>
  (a ?? null) === (b ?? null) || (!!a && !!b && a.mtimeMs === b.mtimeMs && a.size === b.size);

/** The index file, from this process's copy when the file has not changed since it was loaded. */
async function load(ctx: RegistryContext): Promise<LoadedIndex> {
  const st = statOf(await ctx.fsa.lstat(indexPath(ctx)).catch(() => undefined));
  const mine = ctx.tagIndex.current;
  if (mine && st && same(mine.fileStat, st)) return mine;
  let file = empty();
  if (st) {
    try {
      const parsed = JSON.parse((await ctx.fsa.readText(indexPath(ctx))) ?? '') as IndexFile;
      if (parsed?.format === FORMAT && typeof parsed.loose === 'object') file = parsed;
    } catch {
      // torn or foreign: rebuilt from the refs below
    }
  }
  const loaded: LoadedIndex = { file, fileStat: st, dirty: false };
  ctx.tagIndex.current = loaded;
  return loaded;
}

/**
 * @internal Every registry tag (names of the GTO grammar) -> object id, through the index: loose
 * refs are listed with one readdir and only the ones the index does not know are read (all of them
 * again when `refs/tags` changed without names coming or going: a tag re-pointed in place);
 * packed-refs is parsed again only when its stat changed. Tag objects the index knows are not read.
 */
export async function readRegistryTags(ctx: RegistryContext): Promise<Map<string, string>> {
  const ix = await load(ctx);
  const f = ix.file;
  const tagsDir = `${ctx.gitdir}/refs/tags`;
  // loose first, then packed-refs: safe beside `git pack-refs` (see readRef)
  const dirStat = await ctx.fsa.lstat(tagsDir);
  const dirMtime = dirStat?.mtimeMs ?? -1;
  const names = (await ctx.fsa.readdir(tagsDir)).filter((n) => parseTag(n) !== undefined);
  const known = new Set(Object.keys(f.loose));
  const unchangedNames = names.length === known.size && names.every((n) => known.has(n));
  const rereadAll = dirMtime !== f.tagsDirMtimeMs && unchangedNames;
  const loose: Record<string, string> = {};
  for (const name of names) {
    const cached = f.loose[name];
    if (cached !== undefined && !rereadAll) {
      loose[name] = cached;
      continue;
    }
    // (a symbolic ref is no tag of ours)
    const text = (await ctx.fsa.readText(`${tagsDir}/${name}`).catch(() => undefined))?.trim();
    if (text !== undefined && OID.test(text)) loose[name] = text;
  }
  const packedStat = statOf(await ctx.fsa.lstat(`${ctx.gitdir}/packed-refs`)) ?? null;
  let packed = f.packed;
  if (!same(packedStat, f.packedStat)) {
    packed = {};
    for (const [ref, oid] of parsePackedRefs(await ctx.fsa.readText(`${ctx.gitdir}/packed-refs`))) {
      const name = ref.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined;
      if (name !== undefined && parseTag(name) !== undefined) packed[name] = oid;
    }
  }
  const changed =
    dirMtime !== f.tagsDirMtimeMs ||
    !same(packedStat, f.packedStat) ||
    Object.keys(loose).length !== known.size ||
    Object.entries(loose).some(([n, o]) => f.loose[n] !== o);
  if (changed) {
    ix.file = { ...f, tagsDirMtimeMs: dirMtime, packedStat, loose, packed };
    ix.dirty = true;
  }
  // what the index knows about tag objects seeds the in-process cache (objects never change)
  for (const [oid, [type, commit, time, message]] of Object.entries(ix.file.objects)) {
    if (!ctx.tagObjects.has(oid))
      ctx.tagObjects.set(oid, { type, commit, time, message: message ?? '' });
  }
  const out = new Map(Object.entries(packed));
  for (const [n, o] of Object.entries(loose)) out.set(n, o);
  return out;
}

/** @internal Records what a tag object says, for the next process. */
export function rememberTagObject(
  ctx: RegistryContext,
  oid: string,
  obj: TagObject,
  event: boolean,
): void {
  const ix = ctx.tagIndex.current;
  if (!ix || ix.file.objects[oid]) return;
  ix.file.objects[oid] = event
    ? [obj.type, obj.commit, obj.time, obj.message]
    : [obj.type, obj.commit, obj.time];
  ix.dirty = true;
}

/**
 * @internal Writes the index when this process learnt something (best effort: a read-only
 * repository, or a concurrent writer, just means the next process reads a little more). Objects of
 * tags that no longer exist are dropped.
 */
export async function saveIndex(ctx: RegistryContext): Promise<void> {
  const ix = ctx.tagIndex.current;
  if (!ix?.dirty || ctx.readOnly) return;
  const live = new Set([...Object.values(ix.file.loose), ...Object.values(ix.file.packed)]);
  for (const oid of Object.keys(ix.file.objects)) if (!live.has(oid)) delete ix.file.objects[oid];
  try {
    await ctx.fsa.mkdirp(`${ctx.gitdir}/mlship-index`);
    await ctx.fsa.writeAtomic(indexPath(ctx), JSON.stringify(ix.file), { tmpDir: ctx.tmpDir });
    ix.fileStat = statOf(await ctx.fsa.lstat(indexPath(ctx)));
    ix.dirty = false;
  } catch {
    // best effort
  }
}

/**
 * @internal After this process wrote or deleted registry tag refs (under the lock): the index
 * learns them without a re-read, and takes the new stat of refs/tags.
 */
export async function noteTagWritten(
  ctx: RegistryContext,
  name: string,
  oid: string | undefined,
): Promise<void> {
  const ix = ctx.tagIndex.current;
  if (!ix || parseTag(name) === undefined) return;
  // only when the index was current before this write: otherwise the next read catches up
  const loose = { ...ix.file.loose };
  if (oid === undefined) {
    delete loose[name];
    const packed = { ...ix.file.packed };
    delete packed[name];
    ix.file.packed = packed;
  } else loose[name] = oid;
  ix.file = {
    ...ix.file,
    loose,
    tagsDirMtimeMs: (await ctx.fsa.lstat(`${ctx.gitdir}/refs/tags`))?.mtimeMs ?? -1,
  };
  ix.dirty = true;
}
