import * as nodeFs from 'node:fs';
import { randomBytes } from 'node:crypto';

/**
 * The file system the registry works on: the shape isomorphic-git accepts (`{ promises: ... }`,
 * e.g. `node:fs`, memfs, LightningFS). `rename` is optional but needed for crash-safe writes
 * (objects, refs and checkouts are written to a temporary name and renamed into place); without it
 * files are written in place, which is fine for an in-memory fs that cannot be killed half-way.
 */
export interface RegistryFs {
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
  };
}

/** @internal The default fs: node's. */
export const defaultFs = nodeFs as unknown as RegistryFs;

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null
    ? ((e as { code?: string }).code ?? undefined)
    : undefined;
}

/** @internal Small helpers over a {@link RegistryFs}; core code uses only these. */
export class FsAdapter {
  constructor(readonly fs: RegistryFs) {}

  private get p(): RegistryFs['promises'] {
    return this.fs.promises;
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    try {
      const data = await this.p.readFile(path);
      return typeof data === 'string' ? new TextEncoder().encode(data) : data;
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return undefined;
      throw e;
    }
  }

  async readText(path: string): Promise<string | undefined> {
    const data = await this.read(path);
    return data === undefined ? undefined : new TextDecoder().decode(data);
  }

  async exists(path: string): Promise<boolean> {
    try {
      await this.p.stat(path);
      return true;
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return false;
      throw e;
    }
  }

  async isDirectory(path: string): Promise<boolean> {
    try {
      const st = (await this.p.stat(path)) as { isDirectory(): boolean };
      return st.isDirectory();
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return false;
      throw e;
    }
  }

  async mtimeMs(path: string): Promise<number | undefined> {
    try {
      const st = (await this.p.stat(path)) as { mtimeMs?: number };
      return st.mtimeMs;
    } catch {
      return undefined;
    }
  }

  async readdir(path: string): Promise<string[]> {
    try {
      return ((await this.p.readdir(path)) as string[]).map(String).sort();
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return [];
      throw e;
    }
  }

  async mkdirp(path: string): Promise<void> {
    try {
      await this.p.mkdir(path, { recursive: true });
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e;
    }
  }

  /** Creates `path` only if it does not exist (O_EXCL). Returns false when it already exists. */
  async writeExclusive(path: string, data: string | Uint8Array): Promise<boolean> {
    try {
      await this.p.writeFile(path, data, { flag: 'wx' });
      return true;
    } catch (e) {
      if (errCode(e) === 'EEXIST') return false;
      throw e;
    }
  }

  /**
   * Writes `path` atomically: to `tmpDir/<prefix><random>` first, then renamed over `path`. A
   * process killed at any point leaves the old file or the new one, never a torn one.
   */
  async writeAtomic(
    path: string,
    data: string | Uint8Array,
    tmpDir: string,
    prefix = 'tmp_',
  ): Promise<void> {
    const rename = this.p.rename;
    if (!rename) {
      await this.p.writeFile(path, data);
      return;
    }
    await this.mkdirp(tmpDir);
    const tmp = `${tmpDir}/${prefix}${process.pid}_${randomBytes(6).toString('hex')}`;
    await this.p.writeFile(tmp, data);
    try {
      await rename.call(this.p, tmp, path);
    } catch (e) {
      await this.unlink(tmp);
      throw e;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const rename = this.p.rename;
    if (rename) {
      await rename.call(this.p, from, to);
      return;
    }
    // No rename in this fs: copy then delete (only reached with in-memory file systems).
    if (await this.isDirectory(from)) {
      await this.mkdirp(to);
      for (const entry of await this.readdir(from))
        await this.rename(`${from}/${entry}`, `${to}/${entry}`);
      await this.p.rmdir(from);
    } else {
      const data = await this.read(from);
      if (data === undefined) throw Object.assign(new Error(`ENOENT: ${from}`), { code: 'ENOENT' });
      await this.p.writeFile(to, data);
      await this.p.unlink(from);
    }
  }

  async unlink(path: string): Promise<void> {
    try {
      await this.p.unlink(path);
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw e;
    }
  }

  async rmrf(path: string): Promise<void> {
    let isDir = false;
    try {
      const st = (await this.p.lstat(path)) as { isDirectory(): boolean };
      isDir = st.isDirectory();
    } catch (e) {
      if (errCode(e) === 'ENOENT') return;
      throw e;
    }
    if (!isDir) {
      await this.unlink(path);
      return;
    }
    for (const entry of await this.readdir(path)) await this.rmrf(`${path}/${entry}`);
    try {
      await this.p.rmdir(path);
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw e;
    }
  }
}

/** @internal */
export { errCode };
