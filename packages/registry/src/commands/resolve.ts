import type { RegistryContext } from '../context';
import { operation } from '../errors';
import { parseVersionRef, versionTag } from '../names';
import { fromHead, getHeads } from '../storage/heads';
import { readRef } from '../storage/refs';
import { modelState, readTagTarget, resolveIn } from '../storage/state';
import type { ResolvedVersion } from '../types';

/**
 * Resolves a reference to a version and its commit: `name@v3`, `name@v3.0.0`, `name@latest`,
 * `name`, `name#production` (current assignment) or `name#production#5` (a past assignment).
 * `name@vN` reads its one tag; `@latest` and `#stage` come from the model heads beside the refs
 * (`<gitdir>/mlship-index/heads.json`) — neither grows with the number of versions. Anything else,
 * and every error, goes through a scan of the model's tags.
 *
 * @param ctx - the registry
 * @param ref - the reference
 * @returns the version
 * @throws RegistryError `INVALID_REF`, `MODEL_NOT_FOUND`, `VERSION_NOT_FOUND`, `STAGE_NOT_ASSIGNED`
 */
export const resolve = operation(
  'READ_FAILED',
  async function resolve(ctx: RegistryContext, ref: string): Promise<ResolvedVersion> {
    const r = parseVersionRef(ref);
    if (r.kind === 'version') {
      const tag = versionTag(r.name, r.version);
      const oid = await readRef(ctx, `refs/tags/${tag}`);
      const target = oid === undefined ? undefined : await readTagTarget(ctx, oid);
      if (target?.type === 'commit')
        return { name: r.name, version: r.version, tag, commit: target.commit };
    } else if (r.kind === 'latest' || r.kind === 'stage') {
      const head = (await getHeads(ctx))[r.name];
      const hit = fromHead(
        r.name,
        head,
        r.kind === 'latest' ? { latest: true } : { stage: r.stage },
        versionTag,
      );
      if (hit) return hit;
    }
    return resolveIn(r.name, await modelState(ctx, r.name), ref);
  },
  (_ctx, ref) => `resolving ${String(ref)}`,
);
