import * as git from 'isomorphic-git';
import { verifyModelFileSet } from '@mlship/core';
import { gitArgs, retryRead, type RegistryContext } from '../context';
import { RegistryError, toRegistryError } from '../errors';
import type { ResolvedVersion } from '../types';
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
