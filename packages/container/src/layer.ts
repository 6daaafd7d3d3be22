import { promisify } from 'node:util';
import { gzip as gzipCb, gunzip as gunzipCb } from 'node:zlib';
import { createHash } from 'node:crypto';
import { pack as tarPack } from 'tar-stream';
import type { Header } from 'tar-stream';

type Headers = Partial<Header> & { name: string };
import { createFsAdapter, describeError, joinPath } from '@mlship/core';
import type { FsAdapter, MlshipFs } from '@mlship/core';
import { ContainerError, checkOptionKeys } from './errors';
import { sha256Digest } from './digest';
import { MEDIA_TYPES } from './media-types';
import { resolveEpoch } from './epoch';
import type { EpochOptions } from './epoch';
import type { Descriptor } from './types';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/**
 * A blob an image is made of (layer, config, manifest), with its bytes in memory or a way to read
 * them. Blobs of a base image pulled from a registry stay remote until someone needs their bytes:
 * pushing to the same registry mounts or skips them without downloading.
 */
export interface Blob {
  /** What a manifest says about it. */
  descriptor: Descriptor;
  /** The bytes, when held in memory. */
  data?: Uint8Array;
  /** Reads the bytes (verified against the digest). */
  read(): Promise<Uint8Array>;
  /** A registry repository that already holds this blob (a pulled base): a push can mount it from there. */
  origin?: { registry: string; repository: string };
}

/** An image layer: a gzipped tar blob plus its uncompressed digest (the config's `diff_id`). */
export interface Layer extends Blob {
  /** `sha256:` of the uncompressed tar. */
  diffId: string;
  /** The history line of this layer (`created_by`), e.g. `mlship: model weights`. */
  createdBy?: string;
}

/** One entry of a layer being built. */
export interface LayerEntry {
  /** Path inside the image, e.g. `/app/server.js` (leading `/` optional; no `.` or `..` components). */
  path: string;
  /** Entry type (default `file`, or `directory` for a path ending in `/`). */
  type?: 'file' | 'directory' | 'symlink';
  /** File content (UTF-8 when a string). Either this or `source` for a file. */
  data?: string | Uint8Array;
  /** A host file to read the content from (a regular file; symlinks are refused). */
  source?: string;
  /** Permission bits (default 0o644 for files, 0o755 for directories, 0o777 for symlinks). */
  mode?: number;
  /** Owner uid (default the layer's `uid`). */
  uid?: number;
  /** Owner gid (default the layer's `gid`). */
  gid?: number;
  /** Symlink target. */
  linkname?: string;
}

/** Options of {@link createLayer}, {@link layerFromFiles} and {@link layerFromDirectory}. */
export interface LayerOptions extends EpochOptions {
  /** Default owner of the entries (default 0, root: the files are read-only to a non-root server). */
  uid?: number;
  /** Default group of the entries (default 0). */
  gid?: number;
  /** gzip level 1-9 (default 6). Part of what makes bytes reproducible: keep it fixed. */
  compressionLevel?: number;
  /** The history line of the layer (`created_by`). */
  createdBy?: string;
  /** OCI annotations of the layer descriptor (e.g. `org.opencontainers.image.title`). */
  annotations?: Record<string, string>;
  /** The file system `source` paths are read from (default node's). */
  fs?: MlshipFs;
  /**
   * Reuse layers built earlier from the same entries (see {@link createLayerCache}): a `source` file
   * counts as unchanged while its size, mtime and inode are; `data` by its sha256.
   */
  cache?: LayerCache;
}

/** Layers built before, by a key over their entries and options (what {@link createLayerCache} makes). */
export interface LayerCache {
  /** The layer built for this key, if any. */
  get(key: string): Layer | undefined;
  /** Remembers a layer. */
  set(key: string, layer: Layer): void;
}

/**
 * An in-memory {@link LayerCache}, like Jib's layer cache: pass it to several builds in one process
 * (e.g. `containerize({ ..., cache })` for v1 then v2) and the unchanged layers (the server's
 * dependencies and code) are built once. A source file counts as unchanged while its size, mtime
 * and inode are.
 *
 * @param maxLayers - layers kept, least recently used dropped first (default 16)
 * @returns the cache
 * @throws never
 * @example
 * ```ts
 * const cache = createLayerCache();
 * const a = await layerFromDirectory('./public', '/app/public', { cache });
 * const b = await layerFromDirectory('./public', '/app/public', { cache }); // not rebuilt
 * ```
 */
export function createLayerCache(maxLayers = 16): LayerCache {
  const map = new Map<string, Layer>();
  return {
    get(key) {
      const layer = map.get(key);
      if (layer !== undefined) {
        map.delete(key);
        map.set(key, layer);
      }
      return layer;
    },
    set(key, layer) {
      map.delete(key);
      map.set(key, layer);
      while (map.size > maxLayers) map.delete(map.keys().next().value as string);
    },
  };
}

/** The cache key of a layer: options plus each entry, sources by size/mtime/inode, data by hash. */
async function cacheKey(
  entries: readonly LayerEntry[],
  options: LayerOptions,
  io: FsAdapter,
  epoch: number,
): Promise<string> {
  const h = createHash('sha256');
  h.update(
    JSON.stringify([
      epoch,
      options.uid ?? 0,
      options.gid ?? 0,
      options.compressionLevel ?? 6,
      options.createdBy ?? '',
      options.annotations ?? {},
    ]),
  );
  for (const e of entries) {
    h.update(
      JSON.stringify([
        e.path,
        e.type ?? '',
        e.mode ?? -1,
        e.uid ?? -1,
        e.gid ?? -1,
        e.linkname ?? '',
      ]),
    );
    if (e.data !== undefined) h.update(createHash('sha256').update(e.data).digest());
    else if (e.source !== undefined) {
      const st = await io.lstat(e.source);
      const ino = (st as { ino?: unknown } | undefined)?.ino;
      h.update(
        JSON.stringify([
          e.source,
          st === undefined ? -1 : Number(st.size),
          st?.mtimeMs ?? -1,
          typeof ino === 'number' || typeof ino === 'bigint' ? String(ino) : -1,
        ]),
      );
    }
  }
  return h.digest('hex');
}

const LAYER_OPTION_KEYS = [
  'uid',
  'gid',
  'compressionLevel',
  'createdBy',
  'annotations',
  'fs',
  'cache',
  'sourceDateEpoch',
  'env',
] as const;

/** Normalises an in-image path to `a/b/c` (no leading slash), refusing `.`/`..`/NUL. @internal */
export function normaliseImagePath(path: string, where = 'path'): string {
  if (typeof path !== 'string' || path.includes('\0') || path.includes('\\')) {
    throw new ContainerError(
      'INVALID_OPTION',
      `${where}: expected a posix path inside the image, got ${JSON.stringify(path)}`,
      {
        data: { path: where, actual: path },
      },
    );
  }
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) {
    throw new ContainerError(
      'INVALID_OPTION',
      `${where}: expected a path inside the image without "." or ".." components, got ${JSON.stringify(path)}`,
      { data: { path: where, actual: path } },
    );
  }
  return parts.join('/');
}

function checkId(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0o7777777) {
    throw new ContainerError(
      'INVALID_OPTION',
      `${where}: expected an integer uid/gid 0..2097151, got ${JSON.stringify(value)}`,
      {
        data: { path: where, actual: value },
      },
    );
  }
  return value;
}

function checkMode(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0o7777) {
    throw new ContainerError(
      'INVALID_OPTION',
      `${where}: expected permission bits 0..0o7777, got ${JSON.stringify(value)}`,
      {
        data: { path: where, actual: value },
      },
    );
  }
  return value;
}

interface Prepared {
  name: string;
  header: Headers;
  data?: Uint8Array;
}

async function readSource(io: FsAdapter, source: string, where: string): Promise<Uint8Array> {
  let read;
  try {
    read = await io.readRegular(source);
  } catch (e) {
    throw new ContainerError(
      'READ_FAILED',
      `${where}: reading ${source} failed: ${describeError(e)}`,
      {
        cause: e,
        data: { path: source },
      },
    );
  }
  if (read.kind === 'ok') return read.data;
  if (read.kind === 'missing') {
    throw new ContainerError('READ_FAILED', `${where}: ${source} does not exist`, {
      data: { path: source },
    });
  }
  if (read.kind === 'not-regular') {
    throw new ContainerError(
      'INVALID_OPTION',
      `${where}: ${source} is ${read.type === 'symlink' ? 'a symlink' : `a ${read.type}`}, expected a regular file`,
      {
        data: { path: source, actual: read.type },
      },
    );
  }
  throw new ContainerError(
    'READ_FAILED',
    `${where}: ${source} is too large (${read.bytes} bytes)`,
    { data: { path: source } },
  );
}

/**
 * Builds a layer from entries: a tar with every parent directory present, entries sorted by path,
 * every mtime set to the source date epoch, owners and modes fixed, no user/group names, then
 * gzipped with a fixed level and a header without a timestamp. The same entries give the same bytes
 * and digest on every machine with the same Node.js (zlib) version.
 *
 * @param entries - files, directories and symlinks, by path inside the image
 * @param options - owner, compression level, history line, annotations, epoch, fs
 * @returns the layer, its bytes in memory
 * @throws ContainerError `INVALID_OPTION` for a bad path, a duplicate path, a bad mode/owner, an
 *   unknown option; `READ_FAILED` when a `source` file cannot be read
 * @example
 * ```ts
 * const layer = await createLayer([{ path: '/app/hello.txt', data: 'hi\n' }], { createdBy: 'hello' });
 * console.log(layer.descriptor.digest, layer.diffId);
 * ```
 */
export async function createLayer(
  entries: readonly LayerEntry[],
  options: LayerOptions = {},
): Promise<Layer> {
  checkOptionKeys(options, LAYER_OPTION_KEYS, 'layer options');
  const list: unknown = entries;
  if (!Array.isArray(list)) {
    throw new ContainerError(
      'INVALID_OPTION',
      `layer entries: expected an array, got ${typeof entries}`,
      { data: { path: 'entries' } },
    );
  }
  const epoch = resolveEpoch(options);
  const mtime = new Date(epoch * 1000);
  const uid = checkId(options.uid ?? 0, 'uid');
  const gid = checkId(options.gid ?? 0, 'gid');
  const level = options.compressionLevel ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9) {
    throw new ContainerError(
      'INVALID_OPTION',
      `compressionLevel: expected an integer 1..9, got ${JSON.stringify(level)}`,
      {
        data: { path: 'compressionLevel', actual: level },
      },
    );
  }
  const io = createFsAdapter(options.fs);
  const key = options.cache === undefined ? undefined : await cacheKey(entries, options, io, epoch);
  const cached = key === undefined ? undefined : options.cache?.get(key);
  if (cached !== undefined) return cached;
  const byName = new Map<string, Prepared>();
  for (const [i, entry] of entries.entries()) {
    const where = `entries[${i}]`;
    if (typeof entry !== 'object' || entry === null) {
      throw new ContainerError('INVALID_OPTION', `${where}: expected an entry object`, {
        data: { path: where },
      });
    }
    const type = entry.type ?? (entry.path.endsWith('/') ? 'directory' : 'file');
    const name = normaliseImagePath(entry.path, `${where}.path`);
    if (
      byName.has(name) &&
      !(type === 'directory' && byName.get(name)?.header.type === 'directory')
    ) {
      throw new ContainerError(
        'INVALID_OPTION',
        `${where}.path: ${JSON.stringify(entry.path)} appears twice in the layer`,
        {
          data: { path: `${where}.path`, actual: entry.path },
        },
      );
    }
    const base = {
      uid: checkId(entry.uid ?? uid, `${where}.uid`),
      gid: checkId(entry.gid ?? gid, `${where}.gid`),
      mtime,
      uname: '',
      gname: '',
    };
    if (type === 'directory') {
      byName.set(name, {
        name,
        header: {
          ...base,
          name: `${name}/`,
          type: 'directory',
          mode: checkMode(entry.mode ?? 0o755, `${where}.mode`),
        },
      });
    } else if (type === 'symlink') {
      if (
        typeof entry.linkname !== 'string' ||
        entry.linkname === '' ||
        entry.linkname.includes('\0')
      ) {
        throw new ContainerError(
          'INVALID_OPTION',
          `${where}.linkname: expected the symlink's target, got ${JSON.stringify(entry.linkname)}`,
          {
            data: { path: `${where}.linkname` },
          },
        );
      }
      byName.set(name, {
        name,
        header: {
          ...base,
          name,
          type: 'symlink',
          linkname: entry.linkname,
          mode: checkMode(entry.mode ?? 0o777, `${where}.mode`),
        },
      });
    } else if (type === 'file') {
      let data: Uint8Array;
      if (entry.data !== undefined)
        data = typeof entry.data === 'string' ? new TextEncoder().encode(entry.data) : entry.data;
      else if (typeof entry.source === 'string') data = await readSource(io, entry.source, where);
      else {
        throw new ContainerError('INVALID_OPTION', `${where}: a file needs "data" or "source"`, {
          data: { path: where },
        });
      }
      byName.set(name, {
        name,
        header: {
          ...base,
          name,
          type: 'file',
          size: data.byteLength,
          mode: checkMode(entry.mode ?? 0o644, `${where}.mode`),
        },
        data,
      });
    } else {
      throw new ContainerError(
        'INVALID_OPTION',
        `${where}.type: expected "file", "directory" or "symlink", got ${JSON.stringify(type)}`,
        {
          data: { path: `${where}.type`, actual: type },
        },
      );
    }
  }
  // Every parent directory is an entry of its own, so extraction never invents modes or owners.
  for (const name of [...byName.keys()]) {
    const parts = name.split('/');
    for (let k = 1; k < parts.length; k++) {
      const dir = parts.slice(0, k).join('/');
      const existing = byName.get(dir);
      if (existing === undefined) {
        byName.set(dir, {
          name: dir,
          header: {
            name: `${dir}/`,
            type: 'directory',
            mode: 0o755,
            uid,
            gid,
            mtime,
            uname: '',
            gname: '',
          },
        });
      } else if (existing.header.type !== 'directory') {
        throw new ContainerError(
          'INVALID_OPTION',
          `layer entries: ${JSON.stringify(dir)} is both a ${existing.header.type} and a parent directory`,
          {
            data: { path: dir },
          },
        );
      }
    }
  }
  const sorted = [...byName.values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const tar = await packTar(sorted);
  const diffId = sha256Digest(tar);
  const compressed = await gzip(tar, { level });
  const layer = memoryLayer(
    new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength),
    diffId,
    {
      ...(options.createdBy === undefined ? {} : { createdBy: options.createdBy }),
      ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    },
  );
  if (key !== undefined) options.cache?.set(key, layer);
  return layer;
}

async function packTar(entries: readonly Prepared[]): Promise<Uint8Array> {
  const pack = tarPack();
  const chunks: Uint8Array[] = [];
  let total = 0;
  pack.on('data', (c: unknown) => {
    if (!(c instanceof Uint8Array)) return;
    chunks.push(c);
    total += c.byteLength;
  });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (e.data !== undefined)
        pack.entry(e.header, Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength), cb);
      else pack.entry(e.header, cb);
    });
  }
  pack.finalize();
  await done;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** A layer whose gzipped bytes are in memory. @internal */
export function memoryLayer(
  data: Uint8Array,
  diffId: string,
  extra: { createdBy?: string; annotations?: Record<string, string>; mediaType?: string } = {},
): Layer {
  const descriptor: Descriptor = {
    mediaType: extra.mediaType ?? MEDIA_TYPES.ociLayerGzip,
    digest: sha256Digest(data),
    size: data.byteLength,
  };
  if (extra.annotations !== undefined && Object.keys(extra.annotations).length > 0)
    descriptor.annotations = { ...extra.annotations };
  const layer: Layer = { descriptor, data, diffId, read: () => Promise.resolve(data) };
  if (extra.createdBy !== undefined) layer.createdBy = extra.createdBy;
  return layer;
}

/**
 * Builds a layer from a map of in-image paths to contents.
 *
 * @param files - `{ '/etc/app.json': '{...}', '/app/bin': bytes }`
 * @param options - as {@link createLayer}
 * @returns the layer
 * @throws ContainerError as {@link createLayer}
 * @example
 * ```ts
 * const layer = await layerFromFiles({ '/app/hello.txt': 'hi\n' });
 * ```
 */
export function layerFromFiles(
  files: Record<string, string | Uint8Array>,
  options: LayerOptions = {},
): Promise<Layer> {
  if (typeof files !== 'object' || files === null) {
    throw new ContainerError(
      'INVALID_OPTION',
      `files: expected an object of path -> content, got ${files === null ? 'null' : typeof files}`,
      {
        data: { path: 'files' },
      },
    );
  }
  return createLayer(
    Object.entries(files).map(([path, data]) => ({ path, data })),
    options,
  );
}

/** Options of {@link layerFromDirectory}. */
export interface DirectoryLayerOptions extends LayerOptions {
  /** Keep only host paths (relative, posix) for which this returns true; directories it refuses are not walked. */
  filter?: (relativePath: string, type: 'file' | 'directory' | 'symlink') => boolean;
}

/**
 * Walks a host directory into entries placed under `imageDir` (files keep their executable bit as
 * 0o755, others become 0o644; symlinks are kept as symlinks; FIFOs, sockets and devices are refused).
 * @internal
 */
export async function directoryEntries(
  hostDir: string,
  imageDir: string,
  options: { fs?: MlshipFs; filter?: DirectoryLayerOptions['filter'] } = {},
): Promise<LayerEntry[]> {
  const io = createFsAdapter(options.fs);
  const out: LayerEntry[] = [];
  const base = normaliseImagePath(imageDir, 'imageDir');
  out.push({ path: base, type: 'directory' });
  const walk = async (rel: string): Promise<void> => {
    const host = rel === '' ? hostDir : joinPath(hostDir, rel);
    let names: string[];
    try {
      names = await io.readdir(host);
    } catch (e) {
      throw new ContainerError(
        'READ_FAILED',
        `reading directory ${host} failed: ${describeError(e)}`,
        { cause: e, data: { path: host } },
      );
    }
    for (const name of names) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const childHost = joinPath(hostDir, childRel);
      const st = await io.lstat(childHost);
      if (st === undefined) continue;
      const inImage = `${base}/${childRel}`;
      if (st.isSymbolicLink()) {
        if (options.filter && !options.filter(childRel, 'symlink')) continue;
        const promises = io.fs.promises;
        if (promises.readlink === undefined)
          throw new ContainerError('READ_FAILED', `${childHost}: the fs cannot read symlinks`, {
            data: { path: childHost },
          });
        const target = String(await promises.readlink(childHost));
        out.push({ path: inImage, type: 'symlink', linkname: target });
      } else if (st.isDirectory()) {
        if (options.filter && !options.filter(childRel, 'directory')) continue;
        out.push({ path: inImage, type: 'directory' });
        await walk(childRel);
      } else if (st.isFile()) {
        if (options.filter && !options.filter(childRel, 'file')) continue;
        const mode = (st as { mode?: number }).mode ?? 0o644;
        out.push({ path: inImage, source: childHost, mode: mode & 0o111 ? 0o755 : 0o644 });
      } else {
        throw new ContainerError(
          'INVALID_OPTION',
          `${childHost}: expected a regular file, directory or symlink, found a FIFO, socket or device`,
          {
            data: { path: childHost },
          },
        );
      }
    }
  };
  if (!(await io.isDirectory(hostDir))) {
    throw new ContainerError('READ_FAILED', `${hostDir} is not a directory`, {
      data: { path: hostDir },
    });
  }
  await walk('');
  return out;
}

/**
 * Builds a layer from a host directory, placed at `imageDir` in the image.
 *
 * @param hostDir - the directory on this machine
 * @param imageDir - where it goes in the image, e.g. `/app`
 * @param options - as {@link createLayer}, plus `filter`
 * @returns the layer
 * @throws ContainerError `READ_FAILED` when the directory cannot be read, `INVALID_OPTION` for a
 *   FIFO/socket/device in it or a bad option
 * @example
 * ```ts
 * const layer = await layerFromDirectory('./public', '/app/public', { createdBy: 'static files' });
 * ```
 */
export async function layerFromDirectory(
  hostDir: string,
  imageDir: string,
  options: DirectoryLayerOptions = {},
): Promise<Layer> {
  const { filter, ...rest } = options;
  const entries = await directoryEntries(hostDir, imageDir, {
    ...(rest.fs ? { fs: rest.fs } : {}),
    ...(filter ? { filter } : {}),
  });
  return createLayer(entries, rest);
}

/** Decompresses a gzip layer (or returns an uncompressed tar as is). @internal */
export async function layerTar(data: Uint8Array): Promise<Uint8Array> {
  if (data[0] === 0x1f && data[1] === 0x8b) {
    const out = await gunzip(data);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  return data;
}

/** sha256 of bytes as a digest, incrementally over chunks. @internal */
export function digestOfChunks(chunks: Iterable<Uint8Array>): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return `sha256:${h.digest('hex')}`;
}
