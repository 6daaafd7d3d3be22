import * as git from 'isomorphic-git';
import { gitArgs, type RegistryContext } from '../context';
import { RegistryError, type IntegrityReason } from '../errors';
import { filesOf, isSafeRelativePath, sha256Hex } from '../modeldir';
import type { ModelFileInfo, ResolvedVersion } from '../types';
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

const dec = new TextDecoder();

/**
 * @internal Reads every file of a version and verifies it: each blob against its git id, each file
 * against the sha256 and size mlship.json lists, nothing unlisted, no unsafe path.
 */
export async function readVerifiedFiles(
  ctx: RegistryContext,
  v: ResolvedVersion,
): Promise<VerifiedFile[]> {
  const dir = `${MODELS_DIR}/${v.name}`;
  const integrity = (
    reason: IntegrityReason,
    msg: string,
    path: string,
    cause?: unknown,
  ): RegistryError =>
    new RegistryError('INTEGRITY', `${v.tag} (commit ${v.commit}): ${msg}`, {
      cause,
      data: { ref: v.tag, path, reason },
    });
  let entries: { path: string; oid: string }[];
  try {
    entries = await listTreeFiles(ctx, v.commit, dir);
  } catch (e) {
    throw integrity('unreadable', `cannot read tree ${dir}`, dir, e);
  }
  const files: VerifiedFile[] = [];
  for (const e of entries) {
    let data: Uint8Array;
    try {
      data = (await git.readBlob({ ...gitArgs(ctx), oid: e.oid })).blob;
    } catch (err) {
      throw integrity('unreadable', `blob ${e.oid} of ${e.path} is unreadable`, e.path, err);
    }
    if (gitObjectId('blob', data) !== e.oid)
      throw integrity(
        'unreadable',
        `blob ${e.oid} of ${e.path} does not hash to its id (tampered object)`,
        e.path,
      );
    files.push({ path: e.path, data, oid: e.oid, sha256: sha256Hex(data) });
  }
  const metaFile = files.find((f) => f.path === 'mlship.json');
  if (!metaFile) throw integrity('missing', `${dir}/mlship.json is missing`, 'mlship.json');
  let listed: Record<string, ModelFileInfo>;
  try {
    listed = filesOf(JSON.parse(dec.decode(metaFile.data)) as Record<string, unknown>, dir);
  } catch (err) {
    throw integrity('unreadable', `${dir}/mlship.json is invalid`, 'mlship.json', err);
  }
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const [p, info] of Object.entries(listed)) {
    const f = byPath.get(p);
    if (!f) throw integrity('missing', `${p} is listed in mlship.json but absent`, p);
    if (f.sha256 !== info.sha256 || f.data.length !== info.bytes) {
      throw integrity(
        f.data.length !== info.bytes ? 'size' : 'sha256',
        `${p} has sha256 ${f.sha256} (${f.data.length} bytes), expected ${info.sha256} (${info.bytes} bytes)`,
        p,
      );
    }
  }
  for (const f of files) {
    if (f.path !== 'mlship.json' && !listed[f.path])
      throw integrity('unlisted', `${f.path} is not listed in mlship.json`, f.path);
    if (!isSafeRelativePath(f.path))
      throw integrity('unsafe-path', `unsafe path ${JSON.stringify(f.path)}`, f.path);
  }
  return files;
}
