import { posix } from 'node:path';
import { joinPath, parentPath, writeDirectoryAtomic, type FsAdapter } from '@mlship/core';
import type { RegistryContext } from '../context';
import { RegistryError, toRegistryError, operation } from '../errors';
import { OPTION_KEYS, checkKeys, checkString } from '../options';
import { readRecord } from '../storage/records';
import { shouldStream } from '../storage/blob-stream';
import { readVerifiedFiles, writeVerifiedFiles } from '../storage/verify';
import type { CheckoutOptions, CheckoutResult, VersionFile } from '../types';
import { resolve } from './resolve';

/** `p` made absolute, with the symlinks of its existing part resolved when the fs can. */
async function canonical(fsa: FsAdapter, p: string): Promise<string> {
  const abs = posix.resolve(p);
  const realpath = (fsa.fs.promises as { realpath?: (p: string) => Promise<string> }).realpath;
  if (!realpath) return abs;
  let head = abs;
  let tail = '';
  for (;;) {
    try {
      return posix.join(await realpath.call(fsa.fs.promises, head), tail);
    } catch {
      if (head === '/') return abs;
      tail = posix.join(posix.basename(head), tail);
      head = posix.dirname(head);
    }
  }
}

const within = (inner: string, outer: string): boolean =>
  inner === outer || inner.startsWith(outer === '/' ? '/' : `${outer}/`);

/**
 * Refuses a checkout destination that would replace the registry itself: the repository, its git
 * directory, one of their ancestors, or a place inside the git directory.
 */
async function checkDestination(ctx: RegistryContext, dest: string): Promise<void> {
  const target = await canonical(ctx.fsa, dest);
  const dir = await canonical(ctx.fsa, ctx.dir);
  const gitdir = await canonical(ctx.fsa, ctx.gitdir);
  const what = within(dir, target)
    ? `is the registry's repository ${dir} or contains it`
    : within(gitdir, target)
      ? `is the registry's git directory ${gitdir} or contains it`
      : within(target, gitdir)
        ? `is inside the registry's git directory ${gitdir}`
        : undefined;
  if (what !== undefined) {
    throw new RegistryError(
      'INVALID_OPTION',
      `Checkout destination ${dest} ${what}: checking out there would replace the registry; choose a directory outside it`,
      {
        data: { path: dest, expected: 'a directory outside the repository and its git directory' },
      },
    );
  }
}

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
    await checkDestination(ctx, destDir);
    const v = await resolve(ctx, ref);
    // the commit must hold this version's record: a tag on another version's commit is refused
    const record = await readRecord(ctx, v);
    const total = Object.values(record.files).reduce((n, f) => n + f.bytes, 0);
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
    let files: VersionFile[];
    try {
      files = await writeDirectoryAtomic(
        dest,
        async (tmp) => {
          // streamed and verified into the temporary sibling, which only becomes `dest` once
          // every file checked out: on any mismatch nothing is left at `dest`
          if (shouldStream(fsa, total)) return writeVerifiedFiles(ctx, v, tmp);
          const read = await readVerifiedFiles(ctx, v);
          for (const f of read) {
            const p = joinPath(tmp, f.path);
            if (f.path.includes('/')) await fsa.mkdirp(parentPath(p));
            await fsa.writeFile(p, f.data);
          }
          return read.map((f) => ({
            path: f.path,
            oid: f.oid,
            sha256: f.sha256,
            bytes: f.data.length,
          }));
        },
        { overwrite: kind !== undefined, fs: fsa },
      );
    } catch (e) {
      throw toRegistryError(e, {
        code: 'WRITE_FAILED',
        message: `checking out ${v.tag} to ${dest}`,
      });
    }
    return { ...v, dir: dest, files };
  },
  (_ctx, ref, destDir) => `checking out ${String(ref)} to ${String(destDir)}`,
);
