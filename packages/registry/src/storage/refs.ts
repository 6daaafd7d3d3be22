import * as git from 'isomorphic-git';
import type { RegistryContext } from '../context';

/** @internal The object id a ref points at (loose or packed, symbolic refs followed), or undefined. */
export async function readRef(ctx: RegistryContext, ref: string): Promise<string | undefined> {
  try {
    return await git.resolveRef({ fs: ctx.fsa.fs, gitdir: ctx.gitdir, ref });
  } catch (e) {
    if ((e as { code?: string }).code === 'NotFoundError') return undefined;
    throw e;
  }
}

/** @internal Writes a ref through a temp file + rename: a kill never leaves it torn. */
export async function writeRef(ctx: RegistryContext, ref: string, oid: string): Promise<void> {
  const path = `${ctx.gitdir}/${ref}`;
  await ctx.fsa.mkdirp(path.slice(0, path.lastIndexOf('/')));
  await ctx.fsa.writeAtomic(path, `${oid}\n`, { tmpDir: ctx.tmpDir });
}

/**
 * @internal Every tag name -> object id, read in one pass (packed-refs once, then loose refs, which
 * win): resolving tags one by one re-reads packed-refs for each.
 */
export async function readTagRefs(ctx: RegistryContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const packed = await ctx.fsa.readText(`${ctx.gitdir}/packed-refs`);
  for (const line of packed?.split('\n') ?? []) {
    const m = /^([0-9a-f]{40}) refs\/tags\/(.+)$/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await ctx.fsa.readdir(dir)) {
      const path = `${dir}/${entry}`;
      if (await ctx.fsa.isDirectory(path)) await walk(path, `${prefix}${entry}/`);
      else {
        const text = (await ctx.fsa.readText(path))?.trim() ?? '';
        const oid = /^[0-9a-f]{40}$/.test(text)
          ? text
          : await readRef(ctx, `refs/tags/${prefix}${entry}`);
        if (oid) out.set(`${prefix}${entry}`, oid);
      }
    }
  };
  await walk(`${ctx.gitdir}/refs/tags`, '');
  return out;
}
