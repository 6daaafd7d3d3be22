import * as git from 'isomorphic-git';
import { gitArgs, type RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { isValidName } from '../names';
import type { ResolvedVersion, VersionRecord } from '../types';

/** @internal Where version records live in the registry branch's tree. */
export const REGISTRY_DIR = '.mlship';
/** @internal Where model directories live in the registry branch's tree. */
export const MODELS_DIR = 'models';

const dec = new TextDecoder();

/** @internal The `Mlship-Model` / `Mlship-Version` trailers of a registry commit (last paragraph only). */
export function registrationTrailers(message: string): { name?: string; version?: number } {
  const last = message.trimEnd().split('\n\n').pop() ?? '';
  const name = /^Mlship-Model: (.+)$/m.exec(last)?.[1];
  const version = Number(/^Mlship-Version: (\d+)$/m.exec(last)?.[1]);
  return {
    ...(name && isValidName(name) ? { name } : {}),
    ...(Number.isSafeInteger(version) && version > 0 ? { version } : {}),
  };
}

/** @internal The version record of `name` in a commit's tree, or undefined. */
export async function readRecordAt(
  ctx: RegistryContext,
  commit: string,
  name: string,
): Promise<VersionRecord | undefined> {
  try {
    const { blob } = await git.readBlob({
      ...gitArgs(ctx),
      oid: commit,
      filepath: `${REGISTRY_DIR}/${name}.json`,
    });
    return JSON.parse(dec.decode(blob)) as VersionRecord;
  } catch {
    return undefined;
  }
}

/** @internal The record of a resolved version; INTEGRITY when its commit holds none for it. */
export async function readRecord(ctx: RegistryContext, v: ResolvedVersion): Promise<VersionRecord> {
  const rec = await readRecordAt(ctx, v.commit, v.name);
  if (!rec || rec.version !== v.version) {
    throw new RegistryError(
      'INTEGRITY',
      `Commit ${v.commit} of ${v.tag} has no registry record ${REGISTRY_DIR}/${v.name}.json for version ${v.version}`,
      { data: { ref: v.tag, path: `${REGISTRY_DIR}/${v.name}.json`, reason: 'missing' } },
    );
  }
  return rec;
}
