import * as git from 'isomorphic-git';
import { createFsAdapter, type FsAdapter } from '@mlship/core';
import { createContext } from '../context';
import { RegistryError, toRegistryError, operation } from '../errors';
import { isValidBranchName } from '../names';
import { OPTION_KEYS, checkKeys, checkString } from '../options';
import { Registry } from '../registry';
import type { OpenRegistryOptions } from '../types';
import { needsRepair, repair } from './repair';

async function findGitdir(fsa: FsAdapter, dir: string): Promise<string | undefined> {
  const dotGit = `${dir}/.git`;
  if (await fsa.isDirectory(dotGit)) return dotGit;
  const pointer = await fsa.readText(dotGit);
  if (pointer !== undefined) {
    const m = /^gitdir:\s*(.+)\s*$/m.exec(pointer);
    if (m?.[1]) return m[1].startsWith('/') ? m[1] : `${dir}/${m[1]}`;
  }
  if (
    (await fsa.exists(`${dir}/HEAD`)) &&
    (await fsa.isDirectory(`${dir}/objects`)) &&
    (await fsa.isDirectory(`${dir}/refs`))
  )
    return dir;
  return undefined;
}

function checkOpenOptions(options: OpenRegistryOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new RegistryError(
      'INVALID_OPTION',
      `openRegistry needs { dir: string }, got ${JSON.stringify(options)}`,
      { data: { path: 'dir' } },
    );
  }
  checkKeys(options, OPTION_KEYS.open, 'openRegistry options');
  if (typeof options.dir !== 'string' || options.dir === '') {
    throw new RegistryError(
      'INVALID_OPTION',
      `openRegistry needs { dir: string }, got ${JSON.stringify(options.dir)}`,
      { data: { path: 'dir' } },
    );
  }
  if (options.gitdir !== undefined) checkString(options.gitdir, 'openRegistry options: gitdir');
  checkKeys(options.lock, OPTION_KEYS.lock, 'openRegistry options: lock');
  checkKeys(options.author, OPTION_KEYS.author, 'openRegistry options: author');
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new RegistryError(
      'INVALID_OPTION',
      `openRegistry options: clock: expected a function returning a Date, got ${typeof options.clock}`,
      { data: { path: 'clock' } },
    );
  }
  if (options.branch !== undefined && !isValidBranchName(options.branch)) {
    throw new RegistryError(
      'INVALID_OPTION',
      `Invalid registry branch ${JSON.stringify(options.branch)}: expected a git branch name (as \`git check-ref-format --branch\` accepts: no '..', '//', '@{', control characters, space or ~^:?*[\\, no component starting with '.' or ending in '.lock', not ending in '/' or '.', not HEAD or '@')`,
      { data: { path: 'branch' } },
    );
  }
}

/**
 * Opens (or creates) a model registry in a git repository — a working tree or a bare repository —
 * and completes any registration a killed process left half-done.
 *
 * @param options - `dir` and optional `gitdir`, `create`, `bare`, `fs`, `author`, `clock`, `branch`,
 *   `lock`, `readOnly` (skip the repair, refuse writes: for read-only mounts)
 * @returns the registry
 * @throws RegistryError `NOT_A_REPOSITORY` when `dir` holds no repository and `create` is false,
 *   `INVALID_OPTION` for a bad or unknown option, `LOCK_TIMEOUT` when a pending repair cannot get
 *   the lock
 * @example
 * ```ts
 * import { openRegistry } from '@mlship/registry';
 * const reg = await openRegistry({ dir: '/srv/models', author: { name: 'ci', email: 'ci@example.com' } });
 * ```
 */
export const openRegistry = operation(
  'READ_FAILED',
  async function openRegistry(options: OpenRegistryOptions): Promise<Registry> {
    checkOpenOptions(options);
    let fsa: FsAdapter;
    try {
      fsa = createFsAdapter(options.fs);
    } catch (e) {
      throw toRegistryError(e, { code: 'INVALID_OPTION', message: 'openRegistry options: fs' });
    }
    const dir = options.dir.replace(/\/+$/, '') || '/';
    let gitdir = options.gitdir ?? (await findGitdir(fsa, dir));
    if (!gitdir) {
      if (options.create === false || options.readOnly === true) {
        throw new RegistryError(
          'NOT_A_REPOSITORY',
          `${dir} is not a git repository (no .git directory, not a bare repository); pass create: true to create one`,
          { data: { path: dir } },
        );
      }
      await fsa.mkdirp(dir);
      // A bare repository the registry creates is its own: HEAD names the registry branch, so
      // clones check it out and remotes have a born HEAD. A working tree keeps `main` (its index
      // and files are the user's, and would look deleted if HEAD pointed at the registry branch).
      const bare = options.bare ?? false;
      await git.init({
        fs: fsa.fs,
        dir,
        bare,
        defaultBranch: bare ? (options.branch ?? 'mlship') : 'main',
      });
      gitdir = options.bare ? dir : `${dir}/.git`;
    }
    const ctx = createContext(dir, gitdir, options, fsa);
    // Only when a registration was cut off after its commit point: take the lock (waiting for a live
    // writer or breaking a dead one's lock) and complete it. Otherwise open() writes nothing, so a
    // read-only repository (e.g. mounted into a serving container) opens fine.
    if (!ctx.readOnly && (await needsRepair(ctx))) await repair(ctx);
    return new Registry(ctx);
  },
  (options) => `opening the registry at ${String(options?.dir)}`,
);
