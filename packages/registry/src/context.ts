import { createFsAdapter, type FsAdapter } from '@mlship/core';
import { FileLock } from './storage/lock';
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
  };
}

/** @internal isomorphic-git's common arguments. */
export function gitArgs(ctx: RegistryContext): { fs: RegistryFs; gitdir: string; cache: object } {
  return { fs: ctx.fsa.fs, gitdir: ctx.gitdir, cache: ctx.cache };
}

/** @internal Runs fn under the registry write lock. */
export function withLock<T>(ctx: RegistryContext, fn: () => Promise<T>): Promise<T> {
  return ctx.lock.with(fn);
}
