// Streaming blob IO: a model file goes into a git blob, and a git blob out to a file, through 1 MiB
// chunks, hashing (git's sha1, the model directory's sha256) and (de)compressing on the way, so
// memory stays near one chunk whatever the file size.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { constants as fsConstants } from 'node:fs';
import { createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { describeError, type FsAdapter, type FileEntry, type MlshipFileHandle } from '@mlship/core';
import { RegistryError } from '../errors';

const CHUNK = 1 << 20;

/** The open file handle an fs gives, with the `write` node's and memfs' handles have. */
type Handle = MlshipFileHandle & {
  write?(buffer: Uint8Array, offset?: number, length?: number): Promise<unknown>;
};

async function open(fsa: FsAdapter, path: string, mode: 'read' | 'create'): Promise<Handle> {
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fsConstants;
  const flags = mode === 'create' ? 'wx' : fsa.isNode ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK : 'r';
  return (await fsa.fs.promises.open!(path, flags)) as Handle;
}

/**
 * @internal Model directories up to this many bytes are read whole (fewer calls: faster for the
 * common small model); larger ones are streamed, so memory stays near one chunk.
 */
export const STREAM_ABOVE_BYTES = 16 << 20;

/**
 * @internal Whether to stream a model directory of `totalBytes`: when it is large and this fs can
 * (it has `open` and `rename`).
 */
export function shouldStream(fsa: FsAdapter, totalBytes: number): boolean {
  return (
    totalBytes > STREAM_ABOVE_BYTES &&
    typeof fsa.fs.promises.open === 'function' &&
    typeof fsa.fs.promises.rename === 'function'
  );
}

/** Feeds a zlib stream while draining its output to a file; resolves when all is written. */
function pump(
  z: Deflate | Inflate,
  sink: (chunk: Buffer) => Promise<void>,
): {
  write(chunk: Uint8Array): Promise<void>;
  end(): Promise<void>;
} {
  const drained = (async () => {
    for await (const chunk of z) await sink(chunk as Buffer);
  })();
  drained.catch(() => undefined);
  return {
    async write(chunk) {
      // events.once removes its listeners again and rejects on 'error'; a sink that failed
      // stops reading, so its failure ends the wait too
      if (!z.write(chunk)) await Promise.race([once(z, 'drain'), drained]);
    },
    async end() {
      z.end();
      await drained;
    },
  };
}

async function writeAll(h: Handle, data: Uint8Array): Promise<void> {
  if (typeof h.write === 'function') await h.write(data, 0, data.length);
  else throw new Error('file handle has no write()');
}

/**
 * @internal Streams a regular file (not following a symlink) into a loose git object under
 * `objectsDir` as `tmp_obj_<pid>_<hex>` (git's name for a temporary object file), computing its
 * git id and sha256 on the way. The file must still have the size and sha256 it was verified with
 * (`expected`), else `INTEGRITY` (it changed since). Returns the temp file: the caller renames it
 * into place (or deletes it when the object already exists).
 */
export async function fileToLooseObject(
  fsa: FsAdapter,
  path: string,
  expected: FileEntry,
  objectsDir: string,
): Promise<{ oid: string; tmp: string; deflatedBytes: number }> {
  const tmp = `${objectsDir}/tmp_obj_${process.pid}_${randomBytes(6).toString('hex')}`;
  await fsa.mkdirp(objectsDir);
  const src = await open(fsa, path, 'read');
  let out: Handle | undefined;
  try {
    out = await open(fsa, tmp, 'create');
    const sink = out;
    let deflatedBytes = 0;
    const z = pump(createDeflate({ level: 1 }), async (c) => {
      deflatedBytes += c.length;
      await writeAll(sink, c);
    });
    const sha1 = createHash('sha1');
    const sha256 = createHash('sha256');
    const header = Buffer.from(`blob ${expected.bytes}\0`);
    sha1.update(header);
    await z.write(header);
    let bytes = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await src.read(buf, 0, CHUNK, bytes).catch((e: unknown) => {
        throw new RegistryError('READ_FAILED', `reading ${path} failed: ${describeError(e)}`, {
          cause: e,
          data: { path },
        });
      });
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      bytes += bytesRead;
      if (bytes > expected.bytes) break;
      sha1.update(chunk);
      sha256.update(chunk);
      await z.write(chunk);
    }
    await z.end();
    const actual = sha256.digest('hex');
    if (bytes !== expected.bytes || actual !== expected.sha256) {
      throw new RegistryError(
        'INTEGRITY',
        `${path} changed while it was being registered: expected ${expected.bytes} bytes with sha256 ${expected.sha256} (per mlship.json, verified a moment ago), read ${bytes} bytes${bytes === expected.bytes ? ` with sha256 ${actual}` : ''}`,
        { data: { path, reason: bytes === expected.bytes ? 'sha256' : 'size' } },
      );
    }
    return { oid: sha1.digest('hex'), tmp, deflatedBytes };
  } catch (e) {
    await out?.close().catch(() => undefined);
    out = undefined;
    await fsa.unlink(tmp);
    throw e;
  } finally {
    await src.close();
    await out?.close();
  }
}

/**
 * @internal Streams a blob's zlib data (a loose object file, or a range of a pack) into a new file
 * `dest`: inflates, checks git's `blob <size>` header, and computes the git id and sha256 of the
 * content on the way. The caller compares them with what it expects; on a mismatch it discards
 * `dest` (it is written into a temporary directory).
 */
export async function inflateBlobToFile(
  fsa: FsAdapter,
  source: { path: string; start: number; end?: number; headerless?: { size: number } },
  dest: string,
): Promise<{ oid: string; sha256: string; bytes: number }> {
  const src = await open(fsa, source.path, 'read');
  let out: Handle | undefined;
  try {
    out = await open(fsa, dest, 'create');
    const sink = out;
    const sha1 = createHash('sha1');
    const sha256 = createHash('sha256');
    let header: Buffer | undefined = source.headerless ? undefined : Buffer.alloc(0);
    let size = source.headerless?.size ?? -1;
    if (source.headerless) sha1.update(`blob ${size}\0`);
    let bytes = 0;
    const content = async (c: Buffer): Promise<void> => {
      bytes += c.length;
      sha1.update(c);
      sha256.update(c);
      await writeAll(sink, c);
    };
    const z = pump(createInflate(), async (c) => {
      if (header === undefined) return content(c);
      header = Buffer.concat([header, c]);
      const nul = header.indexOf(0);
      if (nul < 0) {
        if (header.length > 64) throw new Error('not a git object (no header)');
        return;
      }
      const m = /^blob (\d+)$/.exec(header.subarray(0, nul).toString('latin1'));
      if (!m)
        throw new Error(
          `not a blob (header ${JSON.stringify(header.subarray(0, nul).toString('latin1'))})`,
        );
      size = Number(m[1]);
      sha1.update(header.subarray(0, nul + 1));
      const rest = header.subarray(nul + 1);
      header = undefined;
      if (rest.length) await content(rest);
    });
    let at = source.start;
    const end = source.end ?? Number.POSITIVE_INFINITY;
    while (at < end) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - at));
      const { bytesRead } = await src.read(buf, 0, buf.length, at);
      if (bytesRead === 0) break;
      at += bytesRead;
      await z.write(buf.subarray(0, bytesRead));
    }
    await z.end();
    if (header !== undefined || bytes !== size)
      throw new Error(`truncated object: ${bytes} of ${size} bytes`);
    return { oid: sha1.digest('hex'), sha256: sha256.digest('hex'), bytes };
  } finally {
    await src.close();
    await out?.close();
  }
}
