import { joinPath, parentPath, writeDirectoryAtomic } from '@mlship/core';
import type { RegistryContext } from '../context';
import { RegistryError, toRegistryError, operation } from '../errors';
import { OPTION_KEYS, checkKeys, checkString } from '../options';
import { readVerifiedFiles } from '../storage/verify';
import type { CheckoutOptions, CheckoutResult } from '../types';
import { resolve } from './resolve';

/**
 * Writes a verified copy of a version's model directory to `destDir`, atomically (through
 * @mlship/core's `writeDirectoryAtomic`: a temporary sibling renamed into place).
 *
 * @param ctx - the registry
 * @param ref - a version reference
 * @param destDir - where the model directory goes
 * @param options - `overwrite`
 * @returns the version, the directory and its files
 * @throws RegistryError `INTEGRITY`, `DEST_EXISTS`, `INVALID_OPTION`, `WRITE_FAILED`, and as {@link resolve}
 */
export const checkout = operation(
  'WRITE_FAILED',
  async function checkout(
    ctx: RegistryContext,
    ref: string,
    destDir: string,
    options: CheckoutOptions = {},
  ): Promise<CheckoutResult> {
    checkKeys(options, OPTION_KEYS.checkout, 'checkout options');
    checkString(destDir, 'checkout: destDir');
    const v = await resolve(ctx, ref);
    const files = await readVerifiedFiles(ctx, v);
    const fsa = ctx.fsa;
    const dest = destDir.length > 1 ? destDir.replace(/\/+$/, '') : destDir;
    const kind = await fsa.kind(dest);
    const empty = kind === 'directory' && (await fsa.readdir(dest)).length === 0;
    if (kind !== undefined && !empty && !options.overwrite) {
      throw new RegistryError(
        'DEST_EXISTS',
        `Checkout destination ${dest} exists and is not empty (pass { overwrite: true } to replace it)`,
        { data: { path: dest } },
      );
    }
    try {
      await writeDirectoryAtomic(
        dest,
        async (tmp) => {
          for (const f of files) {
            const p = joinPath(tmp, f.path);
            if (f.path.includes('/')) await fsa.mkdirp(parentPath(p));
            await fsa.writeFile(p, f.data);
          }
        },
        { overwrite: kind !== undefined, fs: fsa },
      );
    } catch (e) {
      throw toRegistryError(e, {
        code: 'WRITE_FAILED',
        message: `checking out ${v.tag} to ${dest}`,
      });
    }
    return {
      ...v,
      dir: dest,
      files: files.map((f) => ({
        path: f.path,
        oid: f.oid,
        sha256: f.sha256,
        bytes: f.data.length,
      })),
    };
  },
  (_ctx, ref, destDir) => `checking out ${String(ref)} to ${String(destDir)}`,
);
