import * as git from 'isomorphic-git';
import { errnoCode } from '@mlship/core';
import { gitArgs, type RegistryContext } from '../context';

const OID = /^[0-9a-f]{40}$/;

/** @internal A packed-refs file parsed: ref name -> object id (peeled `^` lines skipped). */
export function parsePackedRefs(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text?.split('\n') ?? []) {
    const m = /^([0-9a-f]{40}) (refs\/\S+)$/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

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

/**
 * @internal Writes a ref through a temp file + rename: a kill never leaves it torn. `git pack-refs`
 * may remove the ref's (empty) directory between the mkdir and the rename: retried, as git's own
 * ref writers do.
 */
export async function writeRef(ctx: RegistryContext, ref: string, oid: string): Promise<void> {
  const path = `${ctx.gitdir}/${ref}`;
  for (let attempt = 0; ; attempt++) {
    await ctx.fsa.mkdirp(path.slice(0, path.lastIndexOf('/')));
    try {
      await ctx.fsa.writeAtomic(path, `${oid}\n`, { tmpDir: ctx.tmpDir });
      return;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT' || attempt >= 5) throw e;
    }
  }
}

/** @internal Deletes a ref (loose and packed), as `git update-ref -d` does. */
export async function deleteRef(ctx: RegistryContext, ref: string): Promise<void> {
  await git.deleteRef({ fs: ctx.fsa.fs, gitdir: ctx.gitdir, ref });
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
    await git.readObject({ ...gitArgs(ctx), oid, format: 'deflated' });
    return true;
  } catch {
    return false;
  }
}

/**
 * @internal Every tag name -> object id, read in one pass (packed-refs once, then loose refs, which
 * win): resolving tags one by one re-reads packed-refs for each.
 */
export async function readTagRefs(ctx: RegistryContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [ref, oid] of parsePackedRefs(await ctx.fsa.readText(`${ctx.gitdir}/packed-refs`))) {
    if (ref.startsWith('refs/tags/')) out.set(ref.slice('refs/tags/'.length), oid);
  }
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await ctx.fsa.readdir(dir)) {
      const path = `${dir}/${entry}`;
      if (await ctx.fsa.isDirectory(path)) await walk(path, `${prefix}${entry}/`);
      else {
        const text = (await ctx.fsa.readText(path))?.trim() ?? '';
        const oid = OID.test(text) ? text : await readRef(ctx, `refs/tags/${prefix}${entry}`);
        if (oid) out.set(`${prefix}${entry}`, oid);
      }
    }
  };
  await walk(`${ctx.gitdir}/refs/tags`, '');
  return out;
}
