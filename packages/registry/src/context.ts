import { createFsAdapter, type FsAdapter } from '@mlship/core';
import { RegistryError } from './errors';
import { FileLock } from './storage/lock';
import { saveIndex, type LoadedIndex } from './storage/tag-index';
import type { Identity, OpenRegistryOptions, RegistryFs } from './types';

/** @internal What the registry remembers of an annotated tag object (objects are immutable). */
export interface TagObject {
  type: string;
  commit: string;
  time: number;
  message: string;
}

/**
 * @internal The plain object every operation works on, as isomorphic-git passes `{ fs, gitdir,
 * cache }` to its commands: the repository's location, its capabilities (fs, clock, identity) and
 * the caches that are safe to keep for the life of one opened registry.
 */
export interface RegistryContext {
  /** The repository directory given to openRegistry. */
  readonly dir: string;
  /** The git directory. */
  readonly gitdir: string;
  /** The file system, normalised. */
  readonly fsa: FsAdapter;
  /** isomorphic-git's object cache (packfile indexes). */
  readonly cache: object;
  /** Tag object id -> what it says. */
  readonly tagObjects: Map<string, TagObject>;
  /** The write lock `<gitdir>/mlship.lock`. */
  readonly lock: FileLock;
  /** Author, committer and tagger of what the registry writes. */
  readonly author: Identity;
  /** Clock for commit and tag times. */
  readonly clock: () => Date;
  /** The branch ref holding the registry's commits, e.g. `refs/heads/mlship`. */
  readonly branchRef: string;
  /** Where temporary ref files go before their rename, `<gitdir>/mlship-tmp`. */
  readonly tmpDir: string;
  /** Opened with `readOnly: true`: every write is refused. */
  readonly readOnly: boolean;
  /** The tag index (`<gitdir>/mlship-index.json`) as this process last loaded it. */
  readonly tagIndex: { current?: LoadedIndex };
}

/** @internal Builds the context of a registry whose git directory is known. */
export function createContext(
  dir: string,
  gitdir: string,
  options: Omit<OpenRegistryOptions, 'dir'>,
  fsa: FsAdapter = createFsAdapter(options.fs),
): RegistryContext {
  return {
    dir,
    gitdir,
    fsa,
    cache: {},
    tagObjects: new Map(),
    lock: new FileLock(fsa, `${gitdir}/mlship.lock`, options.lock),
    author: options.author ?? { name: 'mlship', email: 'mlship@localhost' },
    clock: options.clock ?? (() => new Date()),
    branchRef: `refs/heads/${options.branch ?? 'mlship'}`,
    tmpDir: `${gitdir}/mlship-tmp`,
    readOnly: options.readOnly === true,
    tagIndex: {},
  };
}

/** @internal isomorphic-git's common arguments. */
export function gitArgs(ctx: RegistryContext): { fs: RegistryFs; gitdir: string; cache: object } {
  return { fs: ctx.fsa.fs, gitdir: ctx.gitdir, cache: ctx.cache };
}

/** @internal Throws WRITE_FAILED when the registry was opened with `readOnly: true`. */
export function assertWritable(ctx: RegistryContext): void {
  if (ctx.readOnly) {
    throw new RegistryError(
      'WRITE_FAILED',
      `The registry at ${ctx.dir} was opened with { readOnly: true }: it cannot be written (open it without readOnly to register, assign, repair or pull)`,
      { data: { path: ctx.gitdir } },
    );
  }
}

/** @internal Runs fn under the registry write lock; refused when the registry was opened read-only. */
export async function withLock<T>(ctx: RegistryContext, fn: () => Promise<T>): Promise<T> {
  assertWritable(ctx);
  return ctx.lock.with(async () => {
    try {
      return await fn();
    } finally {
      await saveIndex(ctx); // what this write taught the tag index, while still under the lock
    }
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * @internal Runs an object read again when it failed because the object moved under it: `git gc`
 * (also run by git on its own) packs loose objects and deletes them, and replaces packs by new
 * ones, so a read that listed the old files can miss the object for a moment. git itself re-scans
 * its packs and retries; so does this (3 more tries, 5-20 ms apart).
 */
export async function retryRead<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      const code = (e as { code?: unknown } | null)?.code;
      // isomorphic-git reports a pack file that vanished under it as NotFoundError,
      // InternalError, ENOENT, or a TypeError from reading its (null) contents
      const moved =
        code === 'NotFoundError' ||
        code === 'InternalError' ||
        code === 'ENOENT' ||
        e instanceof TypeError;
      if (!moved || attempt >= 3) throw e;
      await sleep(5 * 2 ** attempt);
    }
  }
}
