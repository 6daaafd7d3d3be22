import type { RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { readVerifiedFiles } from '../storage/verify';
import type { CheckoutOptions, CheckoutResult } from '../types';
import { resolve } from './resolve';

/**
 * Writes a verified copy of a version's model directory to `destDir`, atomically.
 *
 * @param ctx - the registry
 * @param ref - a version reference
 * @param destDir - where the model directory goes
 * @param options - `overwrite`
 * @returns the version, the directory and its files
 * @throws RegistryError `INTEGRITY`, `DEST_EXISTS`, and as {@link resolve}
 */
export async function checkout(
  ctx: RegistryContext,
  ref: string,
  destDir: string,
  options: CheckoutOptions = {},
): Promise<CheckoutResult> {
  const v = await resolve(ctx, ref);
  const files = await readVerifiedFiles(ctx, v);
  const fsa = ctx.fsa;
  const dest = destDir.replace(/\/+$/, '');
  const destExists = await fsa.exists(dest);
  if (destExists) {
    const empty = (await fsa.isDirectory(dest)) && (await fsa.readdir(dest)).length === 0;
    if (!empty && !options.overwrite) {
      throw new RegistryError(
        'DEST_EXISTS',
        `Checkout destination ${dest} exists and is not empty (pass { overwrite: true } to replace it)`,
        { data: { path: dest } },
      );
    }
  }
  const parentDir = dest.includes('/') ? dest.slice(0, dest.lastIndexOf('/')) || '/' : '.';
  const base = dest.slice(dest.lastIndexOf('/') + 1);
  const suffix = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const tmp = `${parentDir}/.${base}.mlship-tmp-${suffix}`;
  await fsa.mkdirp(parentDir);
  try {
    await fsa.mkdirp(tmp);
    for (const f of files) {
      const p = `${tmp}/${f.path}`;
      if (f.path.includes('/')) await fsa.mkdirp(p.slice(0, p.lastIndexOf('/')));
      await fsa.fs.promises.writeFile(p, f.data);
    }
    if (destExists) {
      const old = `${parentDir}/.${base}.mlship-old-${suffix}`;
      await fsa.rename(dest, old);
      await fsa.rename(tmp, dest);
      await fsa.rmrf(old);
    } else {
      await fsa.rename(tmp, dest);
    }
  } catch (e) {
    await fsa.rmrf(tmp);
    throw e;
  }
  return {
    ...v,
    dir: dest,
    files: files.map((f) => ({ path: f.path, oid: f.oid, sha256: f.sha256, bytes: f.data.length })),
  };
}
