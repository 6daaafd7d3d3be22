import { CoreError, describeError } from './errors';
import type { IntegrityReason } from './errors';
import { createFsAdapter, sha256Hex } from './fs';
import type { FsAdapter, RegularFileResult } from './fs';
import { MODEL_JSON_FILE, MODEL_META_FILE, validateModelMeta, weightPathsOf } from './meta';
import type { FileEntry, ModelMeta } from './meta';
import { isSafeRelativePath, joinPath } from './paths';

/** Options of the model-directory readers ({@link readModelMeta}, {@link verifyModelFiles}, ...). */
export interface ModelDirOptions {
  /** The file system (default node's): an {@link FsAdapter} from {@link createFsAdapter}. */
  fs?: FsAdapter;
  /**
   * Refuse any single file larger than this many bytes (default 2 GiB - 1 for reads that keep
   * bytes; unlimited for {@link verifyModelFiles}, which hashes in chunks).
   */
  maxFileBytes?: number;
}

/** One verified file of a model directory. */
export interface VerifiedFile extends FileEntry {
  /** Path relative to the directory, posix. */
  path: string;
}

/** One verified file with its bytes. */
export interface VerifiedFileWithData extends VerifiedFile {
  /** The verified content. */
  data: Uint8Array;
}

/** A verified model directory: its metadata and every file listed in it (plus `mlship.json`). */
export interface VerifiedModelDir<F extends VerifiedFile = VerifiedFile> {
  /** The validated `mlship.json`. */
  meta: ModelMeta;
  /** Every listed file, then `mlship.json` last; sorted by path otherwise. */
  files: F[];
}

function integrity(
  reason: IntegrityReason,
  message: string,
  rel: string,
  extra: Record<string, unknown> = {},
): CoreError {
  return new CoreError('INTEGRITY', message, { data: { path: rel, reason, ...extra } });
}

const KIND_WORDS: Record<string, string> = {
  symlink: 'a symlink',
  directory: 'a directory',
  other: 'a FIFO, socket or device',
};

function notRegular(file: string, rel: string, type: string): CoreError {
  return integrity(
    'not-regular',
    `${file}: expected a regular file inside the model directory, found ${KIND_WORDS[type] ?? type} (symlinks, devices and FIFOs are refused)`,
    rel,
    { actual: type },
  );
}

async function checkDir(io: FsAdapter, dir: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = await io.isDirectory(dir);
  } catch (e) {
    throw new CoreError('READ_FAILED', `cannot read model directory ${dir}: ${describeError(e)}`, {
      cause: e,
      data: { path: dir },
    });
  }
  if (!isDir) {
    const exists = await io.exists(dir).catch(() => false);
    throw new CoreError(
      'NOT_A_MODEL_DIR',
      exists
        ? `${dir} is not an mlship model directory: it is not a directory`
        : `${dir} is not an mlship model directory: it does not exist`,
      { data: { path: dir } },
    );
  }
}

async function readMetaBytes(
  io: FsAdapter,
  dir: string,
): Promise<{ meta: ModelMeta; bytes: Uint8Array }> {
  await checkDir(io, dir);
  const file = joinPath(dir, MODEL_META_FILE);
  let read: RegularFileResult<{ data: Uint8Array }>;
  try {
    read = await io.readRegular(file, { maxBytes: 64 << 20 });
  } catch (e) {
    throw new CoreError('READ_FAILED', `reading ${file} failed: ${describeError(e)}`, {
      cause: e,
      data: { path: file },
    });
  }
  if (read.kind === 'missing') {
    throw new CoreError(
      'NOT_A_MODEL_DIR',
      `${dir} is not an mlship model directory: ${MODEL_META_FILE} is missing (expected model.json, *.weights.bin and ${MODEL_META_FILE})`,
      { data: { path: file } },
    );
  }
  if (read.kind === 'not-regular') throw notRegular(file, MODEL_META_FILE, read.type);
  if (read.kind === 'too-large') {
    throw new CoreError(
      'INVALID_META',
      `${file}: expected at most 64 MiB of JSON, got ${read.bytes} bytes`,
      {
        data: { path: file, actual: read.bytes },
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(read.data));
  } catch (e) {
    throw new CoreError(
      'INVALID_META',
      `${file}: expected JSON, got a parse error (${describeError(e)})`,
      { cause: e, data: { path: file } },
    );
  }
  return { meta: validateModelMeta(json, file), bytes: read.data };
}

/**
 * Reads and checks `mlship.json` of a model directory (a regular file, valid `mlship-model/1`),
 * without reading any other file.
 *
 * @param dir - the model directory
 * @param options - `fs`
 * @returns the metadata
 * @throws {@link CoreError} `NOT_A_MODEL_DIR` (no directory, no mlship.json), `INVALID_META`,
 *   `INTEGRITY` (mlship.json is a symlink or not a regular file), `READ_FAILED`
 * @example
 * ```ts
 * const { labels, metrics } = await readModelMeta('./models/cnn-v1');
 * ```
 */
export async function readModelMeta(
  dir: string,
  options: ModelDirOptions = {},
): Promise<ModelMeta> {
  return (await readMetaBytes(options.fs ?? createFsAdapter(), dir)).meta;
}

/**
 * Lists every entry under a model directory as relative posix paths, without following symlinks:
 * a symlink, FIFO, device or socket anywhere in the tree is refused (a model directory holds
 * regular files and directories only).
 *
 * @param dir - the model directory
 * @param options - `fs`
 * @returns relative paths of the regular files, sorted
 * @throws {@link CoreError} `INTEGRITY` (reason `not-regular`) naming the first such entry, `READ_FAILED`
 * @example
 * ```ts
 * await listModelDirFiles('./models/cnn'); // ['features_conv1.weights.bin', ..., 'mlship.json', 'model.json']
 * ```
 */
export async function listModelDirFiles(
  dir: string,
  options: ModelDirOptions = {},
): Promise<string[]> {
  const io = options.fs ?? createFsAdapter();
  const out: string[] = [];
  const walk = async (prefix: string): Promise<void> => {
    let entries: string[];
    try {
      entries = await io.readdir(prefix === '' ? dir : joinPath(dir, prefix));
    } catch (e) {
      throw new CoreError(
        'READ_FAILED',
        `listing ${joinPath(dir, prefix)} failed: ${describeError(e)}`,
        {
          cause: e,
          data: { path: joinPath(dir, prefix) },
        },
      );
    }
    for (const name of entries) {
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      const kind = await io.kind(joinPath(dir, rel));
      if (kind === 'directory') await walk(rel);
      else if (kind === 'file') out.push(rel);
      else if (kind !== undefined) throw notRegular(joinPath(dir, rel), rel, kind);
    }
  };
  await walk('');
  return out.sort();
}

function checkListing(dir: string, meta: ModelMeta, present: readonly string[]): void {
  for (const rel of present) {
    if (rel !== MODEL_META_FILE && !(rel in meta.files)) {
      throw integrity(
        'unlisted',
        `${joinPath(dir, rel)}: not listed in ${MODEL_META_FILE} files (every file of a model directory must be)`,
        rel,
      );
    }
  }
}

function checkEntry(dir: string, rel: string, entry: FileEntry, actual: FileEntry): void {
  const file = joinPath(dir, rel);
  if (actual.bytes !== entry.bytes) {
    throw integrity(
      'size',
      `${file}: expected ${entry.bytes} bytes (per ${MODEL_META_FILE}), got ${actual.bytes}${actual.bytes < entry.bytes ? ' (truncated)' : ''}`,
      rel,
      { expected: entry.bytes, actual: actual.bytes },
    );
  }
  if (actual.sha256 !== entry.sha256) {
    throw integrity(
      'sha256',
      `${file}: expected sha256 ${entry.sha256} (per ${MODEL_META_FILE}), got ${actual.sha256}: the file was modified`,
      rel,
      { expected: entry.sha256, actual: actual.sha256 },
    );
  }
}

function checkWeightPaths(dir: string, meta: ModelMeta, modelJson: Uint8Array): void {
  const file = joinPath(dir, MODEL_JSON_FILE);
  let paths: string[];
  try {
    paths = weightPathsOf(modelJson, file);
  } catch (e) {
    if (e instanceof CoreError) {
      throw new CoreError(e.code, e.message, {
        ...(e.cause === undefined ? {} : { cause: e.cause }),
        data: { ...e.data, path: MODEL_JSON_FILE },
      });
    }
    throw e;
  }
  for (const p of paths) {
    if (!(p in meta.files)) {
      throw integrity(
        'unlisted',
        `${file}: weight file ${JSON.stringify(p)} is not listed in ${MODEL_META_FILE} files, so it cannot be verified`,
        p,
      );
    }
  }
}

function missing(dir: string, rel: string, entry: FileEntry): CoreError {
  return integrity(
    'missing',
    `${joinPath(dir, rel)}: listed in ${MODEL_META_FILE} (${entry.bytes} bytes) but missing`,
    rel,
    { expected: entry.bytes },
  );
}

async function verifyDir<F extends VerifiedFile>(
  dir: string,
  options: ModelDirOptions,
  check: (io: FsAdapter, rel: string, entry: FileEntry) => Promise<F>,
): Promise<VerifiedModelDir<F> & { metaBytes: Uint8Array }> {
  const io = options.fs ?? createFsAdapter();
  const { meta, bytes } = await readMetaBytes(io, dir);
  checkListing(dir, meta, await listModelDirFiles(dir, { fs: io }));
  const files: F[] = [];
  for (const rel of Object.keys(meta.files).sort()) {
    files.push(await check(io, rel, meta.files[rel] as FileEntry));
  }
  return { meta, files, metaBytes: bytes };
}

/**
 * Verifies a model directory without keeping its bytes: `mlship.json` is valid, every file in the
 * tree is a regular file listed in it (no symlink, FIFO or device anywhere, nothing unlisted),
 * every listed file has its sha256 and size (hashed in 1 MiB chunks, so memory stays flat for
 * any file size), and every weight path of `model.json` is listed.
 *
 * @param dir - the model directory
 * @param options - `fs`, `maxFileBytes` (default unlimited)
 * @returns the metadata and every file (listed files sorted by path, then `mlship.json`)
 * @throws {@link CoreError} `NOT_A_MODEL_DIR`, `INVALID_META`, `INTEGRITY` (`data.path` the file,
 *   `data.reason` missing | size | sha256 | unlisted | not-regular), `READ_FAILED`
 * @example
 * ```ts
 * const { meta, files } = await verifyModelFiles('./models/cnn-v1'); // throws if any byte changed
 * ```
 */
export async function verifyModelFiles(
  dir: string,
  options: ModelDirOptions = {},
): Promise<VerifiedModelDir> {
  let modelJson: Uint8Array | undefined;
  const out = await verifyDir(dir, options, async (io, rel, entry) => {
    const file = joinPath(dir, rel);
    let r: RegularFileResult<{ sha256: string }>;
    try {
      r = await io.hashRegular(file);
    } catch (e) {
      throw new CoreError('READ_FAILED', `reading ${file} failed: ${describeError(e)}`, {
        cause: e,
        data: { path: rel },
      });
    }
    if (r.kind === 'missing') throw missing(dir, rel, entry);
    if (r.kind === 'not-regular') throw notRegular(file, rel, r.type);
    if (
      r.kind === 'too-large' ||
      (options.maxFileBytes !== undefined && r.bytes > options.maxFileBytes)
    ) {
      throw integrity(
        'size',
        `${file}: ${r.bytes} bytes is over the limit of ${options.maxFileBytes}`,
        rel,
        {
          actual: r.bytes,
          expected: options.maxFileBytes,
        },
      );
    }
    checkEntry(dir, rel, entry, r);
    if (rel === MODEL_JSON_FILE) {
      const read = await io.readRegular(file, { maxBytes: 256 << 20 });
      if (read.kind === 'ok') modelJson = read.data;
    }
    return { path: rel, sha256: r.sha256, bytes: r.bytes };
  });
  if (modelJson === undefined)
    throw missing(dir, MODEL_JSON_FILE, out.meta.files[MODEL_JSON_FILE] as FileEntry);
  checkWeightPaths(dir, out.meta, modelJson);
  out.files.push({
    path: MODEL_META_FILE,
    sha256: sha256Hex(out.metaBytes),
    bytes: out.metaBytes.byteLength,
  });
  return { meta: out.meta, files: out.files };
}

/**
 * Reads and verifies a model directory, keeping the verified bytes (what a loader builds the model
 * from, so no second read can slip a swapped file in): the same checks as {@link verifyModelFiles}.
 *
 * @param dir - the model directory
 * @param options - `fs`, `maxFileBytes` (default 2 GiB - 1)
 * @returns the metadata and every file with its verified bytes (listed files sorted, then `mlship.json`)
 * @throws {@link CoreError} as {@link verifyModelFiles}; `INTEGRITY` reason `size` for a file over `maxFileBytes`
 * @example
 * ```ts
 * const { meta, files } = await readModelFiles('./models/cnn-v1');
 * const modelJson = files.find((f) => f.path === 'model.json')!.data;
 * ```
 */
export async function readModelFiles(
  dir: string,
  options: ModelDirOptions = {},
): Promise<VerifiedModelDir<VerifiedFileWithData>> {
  const max = options.maxFileBytes ?? 2 ** 31 - 1;
  const out = await verifyDir(dir, options, async (io, rel, entry) => {
    const file = joinPath(dir, rel);
    let r: RegularFileResult<{ data: Uint8Array }>;
    try {
      r = await io.readRegular(file, { maxBytes: max });
    } catch (e) {
      throw new CoreError('READ_FAILED', `reading ${file} failed: ${describeError(e)}`, {
        cause: e,
        data: { path: rel },
      });
    }
    if (r.kind === 'missing') throw missing(dir, rel, entry);
    if (r.kind === 'not-regular') throw notRegular(file, rel, r.type);
    if (r.kind === 'too-large') {
      if (r.bytes !== entry.bytes) checkEntry(dir, rel, entry, { sha256: '', bytes: r.bytes });
      throw integrity(
        'size',
        `${file}: ${r.bytes} bytes is over the read limit of ${max} bytes`,
        rel,
        {
          actual: r.bytes,
          expected: max,
        },
      );
    }
    const actual = { sha256: sha256Hex(r.data), bytes: r.bytes };
    checkEntry(dir, rel, entry, actual);
    return { path: rel, ...actual, data: r.data };
  });
  const modelJson = out.files.find((f) => f.path === MODEL_JSON_FILE);
  if (modelJson === undefined)
    throw missing(dir, MODEL_JSON_FILE, out.meta.files[MODEL_JSON_FILE] as FileEntry);
  checkWeightPaths(dir, out.meta, modelJson.data);
  out.files.push({
    path: MODEL_META_FILE,
    sha256: sha256Hex(out.metaBytes),
    bytes: out.metaBytes.byteLength,
    data: out.metaBytes,
  });
  return { meta: out.meta, files: out.files };
}

/**
 * Verifies a model directory held in memory (for example the blobs the registry read from git):
 * the same rules as {@link verifyModelFiles} — `mlship.json` present and valid, every path safe,
 * every listed file present with its sha256 and size, nothing unlisted, every weight path of
 * `model.json` listed.
 *
 * @param files - relative posix path -> bytes, including `mlship.json`
 * @param where - how to name the directory in messages (e.g. `cnn@v2.0.0:models/cnn`)
 * @returns the metadata and every file (listed files sorted, then `mlship.json`)
 * @throws {@link CoreError} `NOT_A_MODEL_DIR` (no mlship.json), `INVALID_META`, `INTEGRITY`
 * @example
 * ```ts
 * const { meta } = verifyModelFileSet(new Map([['mlship.json', metaBytes], ['model.json', jsonBytes]]), 'upload');
 * ```
 */
export function verifyModelFileSet(
  files: ReadonlyMap<string, Uint8Array>,
  where: string,
): VerifiedModelDir {
  const metaBytes = files.get(MODEL_META_FILE);
  if (metaBytes === undefined) {
    throw new CoreError(
      'NOT_A_MODEL_DIR',
      `${where} is not an mlship model directory: ${MODEL_META_FILE} is missing`,
      {
        data: { path: where },
      },
    );
  }
  let json: unknown;
  const metaFile = joinPath(where, MODEL_META_FILE);
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(metaBytes));
  } catch (e) {
    throw new CoreError(
      'INVALID_META',
      `${metaFile}: expected JSON, got a parse error (${describeError(e)})`,
      {
        cause: e,
        data: { path: metaFile },
      },
    );
  }
  const meta = validateModelMeta(json, metaFile);
  for (const rel of files.keys()) {
    if (!isSafeRelativePath(rel))
      throw integrity('unsafe-path', `${where}: unsafe path ${JSON.stringify(rel)}`, rel);
  }
  checkListing(where, meta, [...files.keys()]);
  const out: VerifiedFile[] = [];
  for (const rel of Object.keys(meta.files).sort()) {
    const entry = meta.files[rel] as FileEntry;
    const data = files.get(rel);
    if (data === undefined) throw missing(where, rel, entry);
    const actual = { sha256: sha256Hex(data), bytes: data.byteLength };
    checkEntry(where, rel, entry, actual);
    out.push({ path: rel, ...actual });
  }
  checkWeightPaths(where, meta, files.get(MODEL_JSON_FILE) as Uint8Array);
  out.push({ path: MODEL_META_FILE, sha256: sha256Hex(metaBytes), bytes: metaBytes.byteLength });
  return { meta, files: out };
}
