import * as git from 'isomorphic-git';
import { gitArgs, retryRead, type RegistryContext } from '../context';
import { parseVersionRef } from '../names';
import { MODELS_DIR, readRecord } from '../storage/records';
import { modelState, resolveIn, stagesOf } from '../storage/state';
import { listTreeFiles } from '../storage/trees';
import type { ResolvedVersion, VersionDetails } from '../types';
import { lineage } from './lineage';
import { resolve } from './resolve';
import { operation } from '../errors';

const dec = new TextDecoder();

/**
 * Everything about one version: record, mlship.json, files, parent, stages and lineage.
 *
 * @param ctx - the registry
 * @param ref - a version reference
 * @returns the details
 * @throws RegistryError as {@link resolve}, `INTEGRITY` when the record is missing
 */
export const show = operation(
  'READ_FAILED',
  async function show(ctx: RegistryContext, ref: string): Promise<VersionDetails> {
    const name = parseVersionRef(ref).name;
    const m = await modelState(ctx, name);
    const v = resolveIn(name, m, ref);
    const record = await readRecord(ctx, v);
    const entries = await listTreeFiles(ctx, v.commit, `${MODELS_DIR}/${name}`);
    let metadata: Record<string, unknown> = {};
    const metaEntry = entries.find((e) => e.path === 'mlship.json');
    if (metaEntry)
      metadata = JSON.parse(
        dec.decode(
          (await retryRead(() => git.readBlob({ ...gitArgs(ctx), oid: metaEntry.oid }))).blob,
        ),
      ) as Record<string, unknown>;
    let parent: ResolvedVersion | null = null;
    if (record.parent) {
      try {
        parent = await resolve(ctx, record.parent);
      } catch {
        parent = null;
      }
    }
    return {
      ...v,
      created: record.created,
      message: record.message,
      metrics: record.metrics,
      stages: stagesOf(m, v.version),
      deregistered: m.deregistered.has(v.version),
      record,
      metadata,
      files: entries.map((e) => ({
        path: e.path,
        oid: e.oid,
        sha256: record.files[e.path]?.sha256 ?? '',
        bytes: record.files[e.path]?.bytes ?? -1,
      })),
      parent,
      lineage: await lineage(ctx, v.tag),
    };
  },
  (_ctx, ref) => `showing ${String(ref)}`,
);
