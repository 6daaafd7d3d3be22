import { CoreError, describeError } from './errors';
import { createFsAdapter, errnoCode, randomToken } from './fs';
import type { FsAdapter } from './fs';
import { baseName, joinPath, parentPath } from './paths';

/** Options of {@link writeDirectoryAtomic}. */
export interface WriteDirectoryOptions {
  /** Replace an existing `target` (still atomically). Default false: an existing target is an error. */
  overwrite?: boolean;
  /** The file system (default node's). */
  fs?: FsAdapter;
}

/** Temporary siblings of this process that are in use right now (never cleaned as stale). */
const activeTemps = new Set<string>();
const TEMP_RE = /^(tmp|old)-(\d+)-[0-9a-f]+$/;

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/**
 * Removes the temporary siblings (`.<name>.tmp-<pid>-<hex>`, `.<name>.old-<pid>-<hex>`) that earlier
 * crashed writes of `target` left behind, and restores the old directory when a crash fell between
 * "move the old one away" and "move the new one in". Siblings of live processes are left alone.
 */
async function cleanStale(io: FsAdapter, parent: string, name: string): Promise<void> {
  const target = joinPath(parent, name);
  const prefix = `.${name}.`;
  for (const entry of await io.readdir(parent)) {
    if (!entry.startsWith(prefix)) continue;
    const m = TEMP_RE.exec(entry.slice(prefix.length));
    if (m === null) continue;
    const full = joinPath(parent, entry);
    if (activeTemps.has(full)) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && pidAlive(pid)) continue;
    if (m[1] === 'old' && (await io.kind(target)) === undefined) {
      await io.rename(full, target).catch(() => undefined);
      continue;
    }
    await io.rmrf(full).catch(() => undefined);
  }
}

/**
 * Writes a directory atomically: `fill` writes the content into a fresh temporary sibling of
 * `target` (same file system), which is then fsynced and renamed onto `target`. With `overwrite`,
 * an existing `target` is first renamed aside and removed after the new one is in place. A process
 * killed at any moment leaves the old directory or the new one at `target`, never a mix; the next
 * write of the same target cleans up (or restores) what the crash left.
 *
 * @param target - the directory to create or replace
 * @param fill - writes the content into the temporary directory it is given; its result is returned
 * @param options - `overwrite` (default false), `fs`
 * @returns what `fill` returned
 * @throws {@link CoreError} `WRITE_FAILED` when `target` exists without `overwrite`
 *   (`data.reason` `'exists'`) or the file system fails; whatever `fill` throws (nothing is left behind)
 * @example
 * ```ts
 * await writeDirectoryAtomic('/srv/models/cnn', async (tmp) => {
 *   await io.writeFile(`${tmp}/model.json`, json, { fsync: true });
 * }, { overwrite: true });
 * ```
 */
export async function writeDirectoryAtomic<T>(
  target: string,
  fill: (tmpDir: string) => Promise<T>,
  options: WriteDirectoryOptions = {},
): Promise<T> {
  const io = options.fs ?? createFsAdapter();
  const dest = target.length > 1 ? target.replace(/\/+$/, '') : target;
  const parent = parentPath(dest);
  const name = baseName(dest);
  const exists = async (): Promise<boolean> => (await io.kind(dest)) !== undefined;
  const refuse = (): CoreError =>
    new CoreError(
      'WRITE_FAILED',
      `${dest} already exists; pass { overwrite: true } to replace it`,
      { data: { path: dest, reason: 'exists' } },
    );
  try {
    await io.mkdirp(parent);
  } catch (e) {
    throw new CoreError('WRITE_FAILED', `cannot create parent directory ${parent} of ${dest}`, {
      cause: e,
      data: { path: parent },
    });
  }
  await cleanStale(io, parent, name);
  if (!options.overwrite && (await exists())) throw refuse();

  const suffix = `${process.pid}-${randomToken()}`;
  const tmp = joinPath(parent, `.${name}.tmp-${suffix}`);
  activeTemps.add(tmp);
  let step = `creating ${tmp}`;
  try {
    await io.mkdirp(tmp);
    step = 'fill';
    const result = await fill(tmp);
    step = `syncing ${tmp}`;
    await io.syncDir(tmp);
    step = `moving ${tmp} to ${dest}`;
    if (!(await exists())) {
      await io.rename(tmp, dest);
    } else {
      if (!options.overwrite) throw refuse();
      const old = joinPath(parent, `.${name}.old-${suffix}`);
      activeTemps.add(old);
      try {
        await io.rename(dest, old);
        await io.rename(tmp, dest);
        // The new directory is in place: a leftover old copy is cleaned by the next write.
        await io.rmrf(old).catch(() => undefined);
      } finally {
        activeTemps.delete(old);
      }
    }
    await io.syncDir(parent);
    return result;
  } catch (e) {
    await io.rmrf(tmp).catch(() => undefined);
    if (step === 'fill' || e instanceof CoreError) throw e;
    throw new CoreError(
      'WRITE_FAILED',
      `writing ${dest} failed while ${step}: ${describeError(e)}`,
      {
        cause: e,
        data: { path: dest, errno: errnoCode(e) },
      },
    );
  } finally {
    activeTemps.delete(tmp);
  }
}
