import * as git from 'isomorphic-git';
import { errnoCode } from '@mlship/core';
import { gitArgs, retryRead, type RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { parsePackedRefs } from './packed-refs';
import { noteTagWritten } from './tag-index';

const OID = /^[0-9a-f]{40}$/;

/**
 * @internal The object id a full ref name (`refs/...`) points at, or undefined. The loose file is
 * read before packed-refs, as git does: `git pack-refs` writes packed-refs before it deletes the
 * loose file, so this order never misses a ref that is being packed (isomorphic-git's
 * `resolveRef` reads packed-refs first and can, which made registrations fail beside `git gc`).
 * Symbolic refs are followed.
 */
export async function readRef(ctx: RegistryContext, ref: string): Promise<string | undefined> {
  for (let depth = 0; depth < 5; depth++) {
    const loose = (
      await ctx.fsa.readText(`${ctx.gitdir}/${ref}`).catch((e: unknown) => {
        // EISDIR: `ref` names a directory of refs (refs/tags/a when refs/tags/a/b exists)
        if (errnoCode(e) === 'EISDIR') return undefined;
        throw e;
      })
    )?.trim();
    if (loose !== undefined && OID.test(loose)) return loose;
    if (loose?.startsWith('ref: ')) {
      ref = loose.slice(5).trim();
      continue;
    }
    return parsePackedRefs(await ctx.fsa.readText(`${ctx.gitdir}/packed-refs`)).get(ref);
  }
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** git holds a ref's `.lock` for milliseconds; one this old was left by a killed writer. */
const ABANDONED_LOCK_MS = 2_000;
/** How long to wait for a `.lock` a live git process holds. */
const LOCK_WAIT_MS = 10_000;

/**
 * @internal Takes git's lock of a file, `<path>.lock`, created exclusively with `content` (what
 * the file will hold) — the protocol git's own writers follow, so a `git pack-refs` or `git gc`
 * running beside us never loses our update, nor we theirs. A lock held by a live git process is
 * waited for; one older than 2 s was abandoned by a killed writer and is removed. `git pack-refs`
 * may remove the (empty) directory between our mkdir and our create: retried, as git does.
 */
async function takeGitLock(ctx: RegistryContext, path: string, content: string): Promise<string> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    await ctx.fsa.mkdirp(path.slice(0, path.lastIndexOf('/')));
    let created: boolean;
    try {
      created = await ctx.fsa.writeExclusive(lock, content);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' && attempt < 20) continue;
      throw e;
    }
    if (created) return lock;
    const st = await ctx.fsa.lstat(lock);
    if (st && Date.now() - (st.mtimeMs ?? 0) > ABANDONED_LOCK_MS) {
      await ctx.fsa.unlink(lock);
      continue;
    }
    if (Date.now() > deadline) {
      throw new RegistryError(
        'LOCK_TIMEOUT',
        `${lock} is held by another git process; gave up after ${LOCK_WAIT_MS} ms`,
        { data: { path: lock } },
      );
    }
    await sleep(5 + Math.random() * 20);
  }
}

/**
 * @internal Writes a ref as git does: the new value into `<ref>.lock` (created exclusively), then
 * renamed over the ref — a kill never leaves it torn, and git's own writers are excluded meanwhile.
 * With `expected`, the ref must still hold that value (undefined: not exist) once the lock is held,
 * else `REF_CONFLICT`: a compare-and-swap also against git processes.
 */
export async function writeRef(
  ctx: RegistryContext,
  ref: string,
  oid: string,
  expected?: { oid: string | undefined },
): Promise<void> {
  const path = `${ctx.gitdir}/${ref}`;
  const p = ctx.fsa.fs.promises;
  if (!p.rename) {
    await ctx.fsa.mkdirp(path.slice(0, path.lastIndexOf('/')));
    await ctx.fsa.writeFile(path, `${oid}\n`);
    return;
  }
  const lock = await takeGitLock(ctx, path, `${oid}\n`);
  try {
    if (expected !== undefined) {
      const now = await readRef(ctx, ref);
      if (now !== expected.oid) {
        throw new RegistryError(
          'REF_CONFLICT',
          `${ref} moved: expected ${expected.oid ?? '(none)'}, found ${now ?? '(none)'}`,
          { data: { ref, expected: expected.oid ?? null, actual: now ?? null } },
        );
      }
    }
    await p.rename(lock, path);
  } catch (e) {
    await ctx.fsa.unlink(lock);
    throw e;
  }
  if (ref.startsWith('refs/tags/')) await noteTagWritten(ctx, ref.slice('refs/tags/'.length), oid);
}

/**
 * @internal Deletes a ref, loose and packed, as `git update-ref -d` does: under `<ref>.lock`, and
 * packed-refs rewritten under `packed-refs.lock`.
 */
export async function deleteRef(ctx: RegistryContext, ref: string): Promise<void> {
  const path = `${ctx.gitdir}/${ref}`;
  const lock = await takeGitLock(ctx, path, '');
  try {
    await ctx.fsa.unlink(path);
    const packedPath = `${ctx.gitdir}/packed-refs`;
    const text = await ctx.fsa.readText(packedPath);
    if (text !== undefined && parsePackedRefs(text).has(ref)) {
      const packedLock = await takeGitLock(ctx, packedPath, '');
      try {
        // read again under the lock: git may have rewritten it meanwhile
        const lines = ((await ctx.fsa.readText(packedPath)) ?? '').split('\n');
        const kept: string[] = [];
        for (let i = 0; i < lines.length; i++) {
          if (lines[i]!.endsWith(` ${ref}`)) {
            if (lines[i + 1]?.startsWith('^')) i++; // its peeled line goes too
            continue;
          }
          kept.push(lines[i]!);
        }
        await ctx.fsa.writeFile(packedLock, kept.join('\n'));
        await ctx.fsa.rename(packedLock, packedPath);
      } catch (e) {
        await ctx.fsa.unlink(packedLock);
        throw e;
      }
    }
  } finally {
    await ctx.fsa.unlink(lock);
  }
  if (ref.startsWith('refs/tags/'))
    await noteTagWritten(ctx, ref.slice('refs/tags/'.length), undefined);
}

/** @internal Puts a ref back as it was: `oid`, or absent when `oid` is undefined. */
export async function restoreRef(
  ctx: RegistryContext,
  ref: string,
  oid: string | undefined,
): Promise<void> {
  if (oid === undefined) {
    if ((await readRef(ctx, ref)) !== undefined) await deleteRef(ctx, ref);
  } else if ((await readRef(ctx, ref)) !== oid) {
    await writeRef(ctx, ref, oid);
  }
}

/** @internal Whether the object exists in the repository (loose or packed) and can be read. */
export async function hasObject(ctx: RegistryContext, oid: string): Promise<boolean> {
  try {
    await retryRead(() => git.readObject({ ...gitArgs(ctx), oid, format: 'deflated' }));
    return true;
  } catch {
    return false;
  }
}

/**
 * @internal Every tag name -> object id, in one pass: the loose refs first, then packed-refs once
 * (loose refs win). This order is safe beside `git pack-refs`, which writes packed-refs before it
 * deletes the loose files: a loose ref that vanishes while being read is then in packed-refs.
 */
export async function readTagRefs(ctx: RegistryContext): Promise<Map<string, string>> {
  const loose = new Map<string, string>();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await ctx.fsa.readdir(dir)) {
      const path = `${dir}/${entry}`;
      const kind = await ctx.fsa.kind(path);
      if (kind === 'directory') await walk(path, `${prefix}${entry}/`);
      else if (kind !== undefined) {
        const text = (await ctx.fsa.readText(path))?.trim() ?? '';
        const oid = OID.test(text) ? text : await readRef(ctx, `refs/tags/${prefix}${entry}`);
        if (oid) loose.set(`${prefix}${entry}`, oid);
      }
    }
  };
  await walk(`${ctx.gitdir}/refs/tags`, '');
  const out = new Map<string, string>();
  for (const [ref, oid] of parsePackedRefs(await ctx.fsa.readText(`${ctx.gitdir}/packed-refs`))) {
    if (ref.startsWith('refs/tags/')) out.set(ref.slice('refs/tags/'.length), oid);
  }
  for (const [name, oid] of loose) out.set(name, oid);
  return out;
}
