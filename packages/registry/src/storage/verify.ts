import * as git from 'isomorphic-git';
import {
  MODEL_JSON_FILE,
  MODEL_META_FILE,
  describeError,
  isSafeRelativePath,
  joinPath,
  parentPath,
  sha256Hex,
  validateModelMeta,
  verifyModelFileSet,
  weightPathsOf,
  type ModelMeta,
} from '@mlship/core';
import { gitArgs, retryRead, type RegistryContext } from '../context';
import { RegistryError, toRegistryError, type IntegrityReason } from '../errors';
import type { ResolvedVersion, VersionFile } from '../types';
import { inflateBlobToFile } from './blob-stream';
import { locatePackedBlob } from './pack';
import { gitObjectId } from './objects';
import { MODELS_DIR } from './records';
import { listTreeFiles } from './trees';

/** @internal A file of a stored version, read and verified. */
export interface VerifiedFile {
  path: string;
  data: Uint8Array;
  oid: string;
  sha256: string;
}

/**
 * @internal Reads every file of a version and verifies it: each blob against its git id (here),
 * then the set against its mlship.json with @mlship/core's rules (sha256 and size of every listed
 * file, nothing unlisted, safe paths, model.json's weight paths listed).
 */
export async function readVerifiedFiles(
  ctx: RegistryContext,
  v: ResolvedVersion,
): Promise<VerifiedFile[]> {
  const dir = `${MODELS_DIR}/${v.name}`;
  const unreadable = (msg: string, path: string, cause?: unknown): RegistryError =>
    new RegistryError('INTEGRITY', `${v.tag} (commit ${v.commit}): ${msg}`, {
      cause,
      data: { ref: v.tag, path, reason: 'unreadable' },
    });
  let entries: { path: string; oid: string }[];
  try {
    entries = await listTreeFiles(ctx, v.commit, dir);
  } catch (e) {
    throw unreadable(`cannot read tree ${dir}`, dir, e);
  }
  const blobs = new Map<string, { data: Uint8Array; oid: string }>();
  for (const e of entries) {
    let data: Uint8Array;
    try {
      data = (await retryRead(() => git.readBlob({ ...gitArgs(ctx), oid: e.oid }))).blob;
    } catch (err) {
      throw unreadable(`blob ${e.oid} of ${e.path} is unreadable`, e.path, err);
    }
    if (gitObjectId('blob', data) !== e.oid)
      throw unreadable(
        `blob ${e.oid} of ${e.path} does not hash to its id (tampered object)`,
        e.path,
      );
    blobs.set(e.path, { data, oid: e.oid });
  }
  let verified: ReturnType<typeof verifyModelFileSet>;
  try {
    verified = verifyModelFileSet(
      new Map([...blobs].map(([p, b]) => [p, b.data])),
      `${v.tag}:${dir}`,
    );
  } catch (e) {
    const err = toRegistryError(e, { code: 'INTEGRITY', message: `${v.tag}: verifying ${dir}` });
    // A stored version whose mlship.json is gone or invalid is a damaged store, not bad user input.
    if (err.code === 'INTEGRITY') throw err;
    throw new RegistryError('INTEGRITY', err.message, {
      cause: err,
      data: { ref: v.tag, path: 'mlship.json', reason: 'unreadable' },
    });
  }
  const sha = new Map(verified.files.map((f) => [f.path, f.sha256]));
  return entries.map((e) => ({
    path: e.path,
    data: blobs.get(e.path)!.data,
    oid: e.oid,
    sha256: sha.get(e.path)!,
  }));
}

/**
 * @internal Writes every file of a version into `dir` (a fresh temporary directory) without holding
 * any weight file in memory: each blob is streamed out of its loose object file or pack, inflated
 * and hashed on the way, then checked — its git id, and its size and sha256 against mlship.json —
 * along with the set (mlship.json valid, nothing missing or unlisted, safe paths, model.json's
 * weight paths listed). Throws `INTEGRITY` at the first mismatch; the caller discards `dir`.
 */
export async function writeVerifiedFiles(
  ctx: RegistryContext,
  v: ResolvedVersion,
  dir: string,
): Promise<VersionFile[]> {
  const where = `${v.tag}:${MODELS_DIR}/${v.name}`;
  const integrity = (reason: IntegrityReason, msg: string, path: string, cause?: unknown) =>
    new RegistryError('INTEGRITY', `${v.tag} (commit ${v.commit}): ${msg}`, {
      cause,
      data: { ref: v.tag, path, reason },
    });
  let entries: { path: string; oid: string }[];
  try {
    entries = await listTreeFiles(ctx, v.commit, `${MODELS_DIR}/${v.name}`);
  } catch (e) {
    throw integrity('unreadable', `cannot read tree ${MODELS_DIR}/${v.name}`, MODELS_DIR, e);
  }
  const readSmall = async (e: { path: string; oid: string }): Promise<Uint8Array> => {
    let data: Uint8Array;
    try {
      data = (await retryRead(() => git.readBlob({ ...gitArgs(ctx), oid: e.oid }))).blob;
    } catch (err) {
      throw integrity('unreadable', `blob ${e.oid} of ${e.path} is unreadable`, e.path, err);
    }
    if (gitObjectId('blob', data) !== e.oid)
      throw integrity(
        'unreadable',
        `blob ${e.oid} of ${e.path} does not hash to its id (tampered object)`,
        e.path,
      );
    return data;
  };
  const metaEntry = entries.find((e) => e.path === MODEL_META_FILE);
  if (!metaEntry) throw integrity('missing', `${MODEL_META_FILE} is missing`, MODEL_META_FILE);
  const metaBytes = await readSmall(metaEntry);
  let meta: ModelMeta;
  try {
    meta = validateModelMeta(
      JSON.parse(new TextDecoder().decode(metaBytes)),
      `${where}/${MODEL_META_FILE}`,
    );
  } catch (e) {
    throw integrity(
      'unreadable',
      `${MODEL_META_FILE} is invalid: ${describeError(e)}`,
      MODEL_META_FILE,
      e,
    );
  }
  // the set: safe paths, nothing unlisted, nothing missing (the same rules as core's verifiers)
  const present = new Set(entries.map((e) => e.path));
  for (const e of entries) {
    if (!isSafeRelativePath(e.path))
      throw integrity('unsafe-path', `unsafe path ${JSON.stringify(e.path)}`, e.path);
    if (e.path !== MODEL_META_FILE && !(e.path in meta.files))
      throw integrity('unlisted', `${e.path} is not listed in ${MODEL_META_FILE}`, e.path);
  }
  for (const [p, entry] of Object.entries(meta.files)) {
    if (!present.has(p))
      throw integrity(
        'missing',
        `${p} is listed in ${MODEL_META_FILE} (${entry.bytes} bytes) but absent`,
        p,
      );
  }
  const out: VersionFile[] = [];
  for (const e of entries) {
    const dest = joinPath(dir, e.path);
    if (e.path.includes('/')) await ctx.fsa.mkdirp(parentPath(dest));
    let got: { oid: string; sha256: string; bytes: number };
    if (e.path === MODEL_META_FILE || e.path === MODEL_JSON_FILE) {
      const data = e.path === MODEL_META_FILE ? metaBytes : await readSmall(e);
      if (e.path === MODEL_JSON_FILE) {
        let paths: string[];
        try {
          paths = weightPathsOf(data, `${where}/${MODEL_JSON_FILE}`);
        } catch (err) {
          throw integrity(
            'unreadable',
            `${MODEL_JSON_FILE} is not model JSON`,
            MODEL_JSON_FILE,
            err,
          );
        }
        for (const p of paths)
          if (!(p in meta.files))
            throw integrity(
              'unlisted',
              `${MODEL_JSON_FILE} names weight file ${JSON.stringify(p)}, which ${MODEL_META_FILE} does not list`,
              p,
            );
      }
      await ctx.fsa.writeFile(dest, data);
      got = { oid: e.oid, sha256: sha256Hex(data), bytes: data.byteLength };
    } else {
      got = await streamBlob(ctx, e, dest).catch((err: unknown) => {
        throw integrity(
          'unreadable',
          `blob ${e.oid} of ${e.path} is unreadable: ${describeError(err)}`,
          e.path,
          err,
        );
      });
      if (got.oid !== e.oid)
        throw integrity(
          'unreadable',
          `blob ${e.oid} of ${e.path} does not hash to its id (tampered object)`,
          e.path,
        );
    }
    const listed = e.path === MODEL_META_FILE ? undefined : meta.files[e.path];
    if (listed && got.bytes !== listed.bytes)
      throw integrity(
        'size',
        `${e.path} has ${got.bytes} bytes, ${MODEL_META_FILE} lists ${listed.bytes}`,
        e.path,
      );
    if (listed && got.sha256 !== listed.sha256)
      throw integrity(
        'sha256',
        `${e.path} has sha256 ${got.sha256}, ${MODEL_META_FILE} lists ${listed.sha256}`,
        e.path,
      );
    out.push({ path: e.path, oid: e.oid, sha256: got.sha256, bytes: got.bytes });
  }
  return out;
}

/** Streams one blob to `dest`: from its loose object file, else from a pack, else through isomorphic-git. */
async function streamBlob(
  ctx: RegistryContext,
  e: { path: string; oid: string },
  dest: string,
): Promise<{ oid: string; sha256: string; bytes: number }> {
  return retryRead(async () => {
    const loose = `${ctx.gitdir}/objects/${e.oid.slice(0, 2)}/${e.oid.slice(2)}`;
    if ((await ctx.fsa.kind(loose)) === 'file') {
      await ctx.fsa.unlink(dest);
      return inflateBlobToFile(ctx.fsa, { path: loose, start: 0 }, dest);
    }
    const packed = await locatePackedBlob(ctx, e.oid);
    if (packed) {
      await ctx.fsa.unlink(dest);
      return inflateBlobToFile(
        ctx.fsa,
        {
          path: packed.path,
          start: packed.start,
          end: packed.end,
          headerless: { size: packed.size },
        },
        dest,
      );
    }
    // stored as a delta: isomorphic-git resolves it (in memory)
    const data = (await git.readBlob({ ...gitArgs(ctx), oid: e.oid })).blob;
    await ctx.fsa.writeFile(dest, data);
    return { oid: gitObjectId('blob', data), sha256: sha256Hex(data), bytes: data.byteLength };
  });
}
