import * as git from 'isomorphic-git';
import { gitArgs, retryRead, type RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { isValidName } from '../names';
import type { ResolvedVersion, VersionRecord } from '../types';

/** @internal Where version records live in the registry branch's tree. */
export const REGISTRY_DIR = '.mlship';
/** @internal Where model directories live in the registry branch's tree. */
export const MODELS_DIR = 'models';

const dec = new TextDecoder();

/**
 * @internal The trailers of a registry commit (last paragraph only): `Mlship-Model`,
 * `Mlship-Version`, and one `Mlship-Stage: <stage>#<K>` per stage the registration assigns (so a
 * registration cut off before its stage tags is completed by repair, stages included).
 */
export function registrationTrailers(message: string): {
  name?: string;
  version?: number;
  stages: { stage: string; counter: number }[];
} {
  const last = message.trimEnd().split('\n\n').pop() ?? '';
  const name = /^Mlship-Model: (.+)$/m.exec(last)?.[1];
  const version = Number(/^Mlship-Version: (\d+)$/m.exec(last)?.[1]);
  const stages = [...last.matchAll(/^Mlship-Stage: ([^#\s]+)#(\d+)$/gm)]
    .map((m) => ({ stage: m[1]!, counter: Number(m[2]) }))
    .filter((s) => isValidName(s.stage) && Number.isSafeInteger(s.counter) && s.counter > 0);
  return {
    ...(name && isValidName(name) ? { name } : {}),
    ...(Number.isSafeInteger(version) && version > 0 ? { version } : {}),
    stages,
  };
}

/** @internal The version record of `name` in a commit's tree, or undefined. */
export async function readRecordAt(
  ctx: RegistryContext,
  commit: string,
  name: string,
): Promise<VersionRecord | undefined> {
  try {
    const { blob } = await retryRead(() =>
      git.readBlob({ ...gitArgs(ctx), oid: commit, filepath: `${REGISTRY_DIR}/${name}.json` }),
    );
    return JSON.parse(dec.decode(blob)) as VersionRecord;
  } catch {
    return undefined;
  }
}

/** @internal The record of a resolved version; INTEGRITY when its commit holds none for it. */
export async function readRecord(ctx: RegistryContext, v: ResolvedVersion): Promise<VersionRecord> {
  const rec = await readRecordAt(ctx, v.commit, v.name);
  const path = `${REGISTRY_DIR}/${v.name}.json`;
  if (!rec) {
    throw new RegistryError(
      'INTEGRITY',
      `Commit ${v.commit} of ${v.tag} has no registry record ${path} for version ${v.version}`,
      { data: { ref: v.tag, path, reason: 'missing' } },
    );
  }
  if (rec.version !== v.version || rec.name !== v.name) {
    // e.g. a hand-made tag `cnn@v5.0.0` on the commit of version 2: never serve v2 as v5
    throw new RegistryError(
      'INTEGRITY',
      `Tag ${v.tag} points at commit ${v.commit}, whose registry record ${path} is ${JSON.stringify(rec.name)} version ${String(rec.version)}, not version ${v.version}`,
      { data: { ref: v.tag, path, reason: 'missing', expected: v.version, actual: rec.version } },
    );
  }
  return rec;
}
