import { createHash, randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { CoreError } from './errors';
import { baseName, joinPath, parentPath } from './paths';

/** What `stat` / `lstat` of an {@link MlshipFs} must return (node's `Stats`, memfs, LightningFS). */
export interface MlshipStats {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  size: number | bigint;
  mtimeMs?: number;
}

/** An open file of an {@link MlshipFs} that supports `open` (node:fs, memfs). */
export interface MlshipFileHandle {
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): Promise<{ bytesRead: number }>;
  writeFile(data: Uint8Array | string): Promise<void>;
  stat(): Promise<MlshipStats>;
  sync?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file system every mlship package works on: the shape isomorphic-git accepts
 * (`{ promises: ... }`), which `node:fs`, memfs and LightningFS satisfy. Optional methods make
 * things better when present: `rename` makes writes crash-safe (temp file + rename), `open` lets
 * large files be hashed in chunks and regular files be opened without following symlinks.
 *
 * @example
 * ```ts
 * import * as fs from 'node:fs';
 * import { createFsAdapter, type MlshipFs } from '@mlship/core';
 * const io = createFsAdapter(fs as unknown as MlshipFs);
 * ```
 */
export interface MlshipFs {
  promises: {
    readFile(path: string, options?: unknown): Promise<Uint8Array | string>;
    writeFile(path: string, data: Uint8Array | string, options?: unknown): Promise<void>;
    mkdir(path: string, options?: unknown): Promise<unknown>;
    readdir(path: string, options?: unknown): Promise<unknown[]>;
    stat(path: string, options?: unknown): Promise<unknown>;
    lstat(path: string, options?: unknown): Promise<unknown>;
    unlink(path: string): Promise<void>;
    rmdir(path: string, options?: unknown): Promise<void>;
    rename?(from: string, to: string): Promise<void>;
    readlink?(path: string, options?: unknown): Promise<unknown>;
    symlink?(target: string, path: string, type?: unknown): Promise<void>;
    chmod?(path: string, mode: number): Promise<void>;
    open?(path: string, flags: string | number, mode?: number): Promise<unknown>;
  };
}

/**
 * Node's own file system as an {@link MlshipFs} (the default everywhere).
 *
 * @example
 * ```ts
 * const io = createFsAdapter(nodeFileSystem);
 * ```
 */
export const nodeFileSystem: MlshipFs = nodeFs;

/** What a path is, without following a final symlink. */
export type PathKind = 'file' | 'directory' | 'symlink' | 'other';

/** The outcome of {@link FsAdapter.readRegular} / {@link FsAdapter.hashRegular}. */
export type RegularFileResult<T> =
  | ({ kind: 'ok'; bytes: number } & T)
  | { kind: 'missing' }
  | { kind: 'not-regular'; type: PathKind }
  | { kind: 'too-large'; bytes: number };

/** Options of {@link FsAdapter.writeFile} and {@link FsAdapter.writeAtomic}. */
export interface WriteOptions {
  /** fsync the file before returning (when the fs supports `open`). Default false. */
  fsync?: boolean;
}

/** Options of {@link FsAdapter.writeAtomic}. */
export interface WriteAtomicOptions extends WriteOptions {
  /** Directory for the temporary file (default: the target's directory, same file system). */
  tmpDir?: string;
}

/**
 * The `code` of an fs error (`ENOENT`, ...), or undefined.
 *
 * @param e - anything caught
 * @returns the errno code
 * @throws never
 * @example
 * ```ts
 * if (errnoCode(e) === 'ENOENT') return undefined;
 * ```
 */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

const isMissing = (e: unknown): boolean => {
  const code = errnoCode(e);
  return code === 'ENOENT' || code === 'ENOTDIR';
};

const CHUNK = 1 << 20;
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = nodeFs.constants;

function kindOf(st: MlshipStats): PathKind {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  return 'other';
}

/**
 * Small, normalised operations over an {@link MlshipFs}: what every package needs, written once
 * (missing paths as `undefined`, sorted listings, crash-safe writes, regular-file reads that never
 * follow a symlink or block on a FIFO, chunked hashing). Create one with {@link createFsAdapter}.
 *
 * @example
 * ```ts
 * const io = createFsAdapter();
 * await io.writeAtomic('/tmp/x.json', '{}');
 * ```
 */
export class FsAdapter {
  /**
   * @param fs - the file system (default node's)
   */
  constructor(readonly fs: MlshipFs = nodeFileSystem) {}

  private get p(): MlshipFs['promises'] {
    return this.fs.promises;
  }

  /** Whether this adapter wraps node's own fs (numeric open flags, O_NOFOLLOW). */
  get isNode(): boolean {
    return this.fs === nodeFileSystem || this.p === (nodeFs.promises as unknown);
  }

  /**
   * Reads a whole file, following symlinks.
   *
   * @param path - the file
   * @returns its bytes, or undefined when it does not exist
   */
  async read(path: string): Promise<Uint8Array | undefined> {
    try {
      const data = await this.p.readFile(path);
      return typeof data === 'string' ? new TextEncoder().encode(data) : data;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  /**
   * Reads a whole UTF-8 file, following symlinks.
   *
   * @param path - the file
   * @returns its text, or undefined when it does not exist
   */
  async readText(path: string): Promise<string | undefined> {
    const data = await this.read(path);
    return data === undefined ? undefined : new TextDecoder().decode(data);
  }

  /**
   * `lstat` of a path.
   *
   * @param path - the path
   * @returns its stats (a final symlink is not followed), or undefined when it does not exist
   */
  async lstat(path: string): Promise<MlshipStats | undefined> {
    try {
      return (await this.p.lstat(path)) as MlshipStats;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  /**
   * What a path is, without following a final symlink.
   *
   * @param path - the path
   * @returns its kind, or undefined when it does not exist
   */
  async kind(path: string): Promise<PathKind | undefined> {
    const st = await this.lstat(path);
    return st === undefined ? undefined : kindOf(st);
  }

  /**
   * Whether a path exists (following symlinks).
   *
   * @param path - the path
   * @returns true when it exists
   */
  async exists(path: string): Promise<boolean> {
    try {
      await this.p.stat(path);
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  /**
   * Whether a path is a directory (following symlinks).
   *
   * @param path - the path
   * @returns true for a directory
   */
  async isDirectory(path: string): Promise<boolean> {
    try {
      return ((await this.p.stat(path)) as MlshipStats).isDirectory();
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  /**
   * Lists a directory.
   *
   * @param path - the directory
   * @returns entry names, sorted; `[]` when it does not exist
   */
  async readdir(path: string): Promise<string[]> {
    try {
      return (await this.p.readdir(path)).map(String).sort();
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
  }

  /**
   * Creates a directory and its parents.
   *
   * @param path - the directory
   */
  async mkdirp(path: string): Promise<void> {
    try {
      await this.p.mkdir(path, { recursive: true });
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
    }
  }

  /**
   * Creates `path` only if it does not exist (O_EXCL).
   *
   * @param path - the file
   * @param data - its content
   * @returns false when it already existed (nothing written)
   */
  async writeExclusive(path: string, data: string | Uint8Array): Promise<boolean> {
    try {
      await this.p.writeFile(path, data, { flag: 'wx' });
      return true;
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') return false;
      throw e;
    }
  }

  /**
   * Writes a file (replacing it), optionally fsynced.
   *
   * @param path - the file
   * @param data - its content
   * @param options - `fsync`
   */
  async writeFile(
    path: string,
    data: string | Uint8Array,
    options: WriteOptions & { exclusive?: boolean } = {},
  ): Promise<void> {
    if (options.fsync && this.p.open) {
      const handle = (await this.p.open(path, options.exclusive ? 'wx' : 'w')) as
        MlshipFileHandle | undefined;
      if (handle) {
        try {
          await handle.writeFile(data);
          await handle.sync?.();
        } finally {
          await handle.close();
        }
        return;
      }
    }
    await this.p.writeFile(path, data, options.exclusive ? { flag: 'wx' } : undefined);
  }

  /**
   * Writes `path` atomically: to a temporary name in the same directory (or `tmpDir`) first, then
   * renamed over `path`. A process killed at any point leaves the old file or the new one, never a
   * torn one. Without `rename` in the fs (in-memory file systems) the file is written in place.
   *
   * @param path - the file
   * @param data - its content
   * @param options - `fsync`, `tmpDir`
   */
  async writeAtomic(
    path: string,
    data: string | Uint8Array,
    options: WriteAtomicOptions = {},
  ): Promise<void> {
    if (!this.p.rename) {
      await this.p.writeFile(path, data);
      return;
    }
    const dir = options.tmpDir ?? parentPath(path);
    await this.mkdirp(dir);
    const tmp = joinPath(dir, `.${baseName(path)}.tmp-${process.pid}-${randomToken()}`);
    try {
      await this.writeFile(tmp, data, { fsync: options.fsync ?? false, exclusive: true });
      await this.p.rename(tmp, path);
    } catch (e) {
      await this.unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Renames a file or directory; without `rename` in the fs, copies then deletes.
   *
   * @param from - the source
   * @param to - the destination
   */
  async rename(from: string, to: string): Promise<void> {
    if (this.p.rename) {
      await this.p.rename(from, to);
      return;
    }
    if (await this.isDirectory(from)) {
      await this.mkdirp(to);
      for (const entry of await this.readdir(from))
        await this.rename(joinPath(from, entry), joinPath(to, entry));
      await this.p.rmdir(from);
    } else {
      const data = await this.read(from);
      if (data === undefined) throw Object.assign(new Error(`ENOENT: ${from}`), { code: 'ENOENT' });
      await this.p.writeFile(to, data);
      await this.p.unlink(from);
    }
  }

  /**
   * Deletes a file; a missing file is fine.
   *
   * @param path - the file
   */
  async unlink(path: string): Promise<void> {
    try {
      await this.p.unlink(path);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }

  /**
   * Deletes a file or a directory tree without following symlinks; a missing path is fine.
   *
   * @param path - what to delete
   */
  async rmrf(path: string): Promise<void> {
    const st = await this.lstat(path);
    if (st === undefined) return;
    if (!st.isDirectory()) {
      await this.unlink(path);
      return;
    }
    for (const entry of await this.readdir(path)) await this.rmrf(joinPath(path, entry));
    try {
      await this.p.rmdir(path);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }

  /**
   * fsyncs a directory (so a rename inside it is durable), where the fs can; a no-op otherwise.
   *
   * @param path - the directory
   */
  async syncDir(path: string): Promise<void> {
    if (!this.p.open || !this.isNode) return;
    let handle: MlshipFileHandle | undefined;
    try {
      handle = (await this.p.open(path, 'r')) as MlshipFileHandle;
      await handle.sync?.();
    } catch {
      // Some file systems refuse fsync on directories; durability is then the OS's.
    } finally {
      await handle?.close();
    }
  }

  /**
   * Opens a regular file for reading without following a final symlink and without blocking on a
   * FIFO or device; `undefined` handle with a reason otherwise.
   */
  private async openRegular(
    path: string,
  ): Promise<
    | { handle: MlshipFileHandle; size: number }
    | { handle?: undefined; size: number; result?: undefined }
    | { handle?: undefined; result: Exclude<RegularFileResult<never>, { kind: 'ok' }> }
  > {
    const st = await this.lstat(path);
    if (st === undefined) return { result: { kind: 'missing' } };
    if (kindOf(st) !== 'file') return { result: { kind: 'not-regular', type: kindOf(st) } };
    // No `open` in this fs (isomorphic-git's minimal shape): lstat said regular; callers read whole.
    if (!this.p.open) return { size: Number(st.size) };
    let handle: MlshipFileHandle;
    try {
      handle = (await this.p.open(
        path,
        this.isNode ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK : 'r',
      )) as MlshipFileHandle;
    } catch (e) {
      if (isMissing(e)) return { result: { kind: 'missing' } };
      // ELOOP: the path became a symlink between lstat and open.
      if (errnoCode(e) === 'ELOOP') return { result: { kind: 'not-regular', type: 'symlink' } };
      throw e;
    }
    const fst = await handle.stat();
    if (!fst.isFile()) {
      await handle.close();
      return { result: { kind: 'not-regular', type: kindOf(fst) } };
    }
    return { handle, size: Number(fst.size) };
  }

  /**
   * Reads a regular file: never follows a final symlink, never blocks on a FIFO, never reads more
   * than `maxBytes` (a symlink to /dev/zero or a huge file cannot exhaust memory).
   *
   * @param path - the file
   * @param options - `maxBytes` (default 2 GiB - 1, node's Buffer limit)
   * @returns `{ kind: 'ok', data, bytes }`, or why not
   */
  async readRegular(
    path: string,
    options: { maxBytes?: number } = {},
  ): Promise<RegularFileResult<{ data: Uint8Array }>> {
    const max = options.maxBytes ?? 2 ** 31 - 1;
    const opened = await this.openRegular(path);
    if (opened.handle === undefined) {
      if (opened.result !== undefined) return opened.result;
      if (opened.size > max) return { kind: 'too-large', bytes: opened.size };
      const data = await this.read(path);
      return data === undefined
        ? { kind: 'missing' }
        : { kind: 'ok', data, bytes: data.byteLength };
    }
    const { handle, size } = opened;
    try {
      if (size > max) return { kind: 'too-large', bytes: size };
      const data = new Uint8Array(size);
      let at = 0;
      while (at < size) {
        const { bytesRead } = await handle.read(data, at, Math.min(CHUNK, size - at), at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return { kind: 'ok', data: at === size ? data : data.subarray(0, at), bytes: at };
    } finally {
      await handle.close();
    }
  }

  /**
   * sha256 and size of a regular file, read in 1 MiB chunks (memory stays flat for any size);
   * the same refusals as {@link FsAdapter.readRegular}.
   *
   * @param path - the file
   * @returns `{ kind: 'ok', sha256, bytes }`, or why not
   */
  async hashRegular(path: string): Promise<RegularFileResult<{ sha256: string }>> {
    const opened = await this.openRegular(path);
    if (opened.handle === undefined) {
      if (opened.result !== undefined) return opened.result;
      const data = await this.read(path);
      return data === undefined
        ? { kind: 'missing' }
        : { kind: 'ok', sha256: sha256Hex(data), bytes: data.byteLength };
    }
    const { handle } = opened;
    try {
      const hash = createHash('sha256');
      const buf = new Uint8Array(CHUNK);
      let bytes = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, CHUNK, bytes);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        bytes += bytesRead;
      }
      return { kind: 'ok', sha256: hash.digest('hex'), bytes };
    } finally {
      await handle.close();
    }
  }
}

/**
 * Wraps a file system in an {@link FsAdapter}.
 *
 * @param fs - any {@link MlshipFs} (default node's)
 * @returns the adapter
 * @throws {@link CoreError} `INVALID_OPTION` when `fs` lacks the `promises` methods
 * @example
 * ```ts
 * import { Volume, createFsFromVolume } from 'memfs';
 * const io = createFsAdapter(createFsFromVolume(new Volume()) as unknown as MlshipFs);
 * ```
 */
export function createFsAdapter(fs: MlshipFs = nodeFileSystem): FsAdapter {
  const p = (fs as { promises?: Record<string, unknown> } | null)?.promises;
  const missing = ['readFile', 'writeFile', 'mkdir', 'readdir', 'stat', 'lstat', 'unlink', 'rmdir']
    .filter((m) => typeof p?.[m] !== 'function')
    .join(', ');
  if (missing !== '') {
    throw new CoreError(
      'INVALID_OPTION',
      `fs: expected a file system with promises.{readFile, writeFile, mkdir, readdir, stat, lstat, unlink, rmdir} (node:fs, memfs or LightningFS); missing: ${missing}`,
      { data: { path: 'fs', expected: 'MlshipFs' } },
    );
  }
  return new FsAdapter(fs);
}

/**
 * sha256 of bytes, lowercase hex.
 *
 * @param data - the bytes
 * @returns 64 hex characters
 * @throws never
 * @example
 * ```ts
 * sha256Hex(new TextEncoder().encode('abc')); // 'ba7816bf...'
 * ```
 */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** @internal A short random hex token for temporary names. */
export function randomToken(): string {
  return randomBytes(6).toString('hex');
}
