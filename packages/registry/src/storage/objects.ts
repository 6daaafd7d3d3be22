import { createHash, randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import * as git from 'isomorphic-git';
import { errnoCode, type FileEntry, type FsAdapter } from '@mlship/core';
import type { Identity } from '../types';
import { fileToLooseObject } from './blob-stream';

/** @internal A tree entry as git stores it. */
export interface TreeEntry {
  mode: '100644' | '100755' | '40000' | '120000' | '160000';
  name: string;
  oid: string;
}

const enc = new TextEncoder();

/** @internal git's sha1 of an object: `sha1("<type> <len>\0" + content)`. */
export function gitObjectId(type: string, content: Uint8Array): string {
  const h = createHash('sha1');
  h.update(`${type} ${content.length}\0`);
  h.update(content);
  return h.digest('hex');
}

/** @internal `Name <email> <seconds> +0000` (registry times are always written in UTC). */
export function personLine(who: Identity, when: Date): string {
  const clean = (s: string): string => s.replace(/[<>\n]/g, '').trim();
  return `${clean(who.name)} <${clean(who.email)}> ${Math.floor(when.getTime() / 1000)} +0000`;
}

function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function treeSortKey(e: TreeEntry): string {
  return e.mode === '40000' ? `${e.name}/` : e.name;
}

/**
 * @internal Runs `write` (which creates a file in `dir`) after creating `dir`, again when the
 * directory vanished in between (ENOENT: `git prune` removed it while it was empty).
 */
export async function retryPruned<T>(
  fsa: FsAdapter,
  dir: string,
  write: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    await fsa.mkdirp(dir);
    try {
      return await write();
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT' || attempt >= 5) throw e;
    }
  }
}

/**
 * @internal Writes loose git objects crash-safely: each object is deflated into a `tmp_obj_*`
 * file in its fan-out directory and renamed into place (git itself does the same, and fsck
 * ignores `tmp_obj_*`). isomorphic-git's writeBlob/writeTree write the final name in place, so a
 * SIGKILL mid-write would leave a corrupt object that fsck --strict rejects and that later writes
 * would skip because the file exists.
 */
export class ObjectWriter {
  /** Bytes of loose object files this writer created (for storage measurements). */
  bytesWritten = 0;
  /** Number of objects this writer created. */
  objectsWritten = 0;

  constructor(
    private readonly fsa: FsAdapter,
    private readonly gitdir: string,
    private readonly cache: object,
  ) {}

  async has(oid: string): Promise<boolean> {
    if (await this.fsa.exists(`${this.gitdir}/objects/${oid.slice(0, 2)}/${oid.slice(2)}`))
      return true;
    try {
      await git.readObject({
        fs: this.fsa.fs,
        gitdir: this.gitdir,
        oid,
        format: 'deflated',
        cache: this.cache,
      });
      return true;
    } catch {
      return false;
    }
  }

  async write(type: 'blob' | 'tree' | 'commit' | 'tag', content: Uint8Array): Promise<string> {
    const oid = gitObjectId(type, content);
    if (await this.has(oid)) return oid;
    const header = enc.encode(`${type} ${content.length}\0`);
    const full = new Uint8Array(header.length + content.length);
    full.set(header, 0);
    full.set(content, header.length);
    const deflated = deflateSync(full, { level: 1 });
    const dir = `${this.gitdir}/objects/${oid.slice(0, 2)}`;
    await this.writeLoose(dir, oid, deflated);
    this.bytesWritten += deflated.length;
    this.objectsWritten += 1;
    return oid;
  }

  /**
   * Writes a loose object file as git does: `objects/xx/tmp_obj_<random>` first (a name `git fsck`
   * and `git gc` know as a temporary), then renamed to its id. `git prune` (run by `git gc`, also
   * automatically) removes empty fan-out directories, possibly between our mkdir and our write:
   * like git's own object writer, the write is retried after re-creating the directory.
   */
  private async writeLoose(dir: string, oid: string, deflated: Uint8Array): Promise<void> {
    const path = `${dir}/${oid.slice(2)}`;
    const p = this.fsa.fs.promises;
    if (!p.rename) {
      await this.fsa.mkdirp(dir);
      await p.writeFile(path, deflated);
      return;
    }
    const tmp = await retryPruned(this.fsa, dir, async () => {
      const name = `${dir}/tmp_obj_${process.pid}_${randomBytes(6).toString('hex')}`;
      await p.writeFile(name, deflated);
      return name;
    });
    try {
      await p.rename(tmp, path);
    } catch (e) {
      await this.fsa.unlink(tmp);
      throw e;
    }
  }

  blob(data: Uint8Array): Promise<string> {
    return this.write('blob', data);
  }

  /**
   * Writes a model file as a blob without holding it in memory: streamed through sha1, sha256 and
   * zlib into a temporary object file, which is renamed into place (or dropped when git already
   * has the object). The file must still match `expected` (size and sha256), else `INTEGRITY`.
   */
  async blobFromFile(path: string, expected: FileEntry): Promise<string> {
    const { oid, tmp, deflatedBytes } = await fileToLooseObject(
      this.fsa,
      path,
      expected,
      `${this.gitdir}/objects`,
    );
    if (await this.has(oid)) {
      await this.fsa.unlink(tmp);
      return oid;
    }
    const dir = `${this.gitdir}/objects/${oid.slice(0, 2)}`;
    try {
      await retryPruned(this.fsa, dir, () => this.fsa.rename(tmp, `${dir}/${oid.slice(2)}`));
    } catch (e) {
      await this.fsa.unlink(tmp);
      throw e;
    }
    this.bytesWritten += deflatedBytes;
    this.objectsWritten += 1;
    return oid;
  }

  tree(entries: readonly TreeEntry[]): Promise<string> {
    const sorted = [...entries].sort((a, b) => {
      const ka = treeSortKey(a);
      const kb = treeSortKey(b);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    const parts: Uint8Array[] = [];
    for (const e of sorted) {
      parts.push(enc.encode(`${e.mode} ${e.name}\0`), hexToBytes(e.oid));
    }
    return this.write('tree', Buffer.concat(parts));
  }

  commit(c: {
    tree: string;
    parents: readonly string[];
    author: string;
    committer: string;
    message: string;
  }): Promise<string> {
    const lines = [
      `tree ${c.tree}`,
      ...c.parents.map((p) => `parent ${p}`),
      `author ${c.author}`,
      `committer ${c.committer}`,
    ];
    const message = c.message.endsWith('\n') ? c.message : `${c.message}\n`;
    return this.write('commit', enc.encode(`${lines.join('\n')}\n\n${message}`));
  }

  tag(t: {
    object: string;
    type: 'commit';
    tag: string;
    tagger: string;
    message: string;
  }): Promise<string> {
    const message = t.message.endsWith('\n') ? t.message : `${t.message}\n`;
    return this.write(
      'tag',
      enc.encode(
        `object ${t.object}\ntype ${t.type}\ntag ${t.tag}\ntagger ${t.tagger}\n\n${message}`,
      ),
    );
  }
}
