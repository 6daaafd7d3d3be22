import { withLock, type RegistryContext } from '../context';
import { parseVersionRef } from '../names';
import { OPTION_KEYS, checkKeys } from '../options';
import { dropHeads } from '../storage/heads';
import { ObjectWriter } from '../storage/objects';
import { modelState, resolveIn, stamp } from '../storage/state';
import { writeDeregisterTag } from '../storage/tags';
import { repairLocked } from './repair';
import type { DeregisterResult, EventOptions } from '../types';
import { operation } from '../errors';

/**
 * Retires a version with a GTO deregistration tag `name@vN.0.0!#K`.
 *
 * @param ctx - the registry
 * @param ref - the version
 * @param options - `message`
 * @returns the version and the deregistration tag
 * @throws RegistryError `VERSION_NOT_FOUND`, `MODEL_NOT_FOUND`, `LOCK_TIMEOUT`
 */
export const deregister = operation(
  'WRITE_FAILED',
  async function deregister(
    ctx: RegistryContext,
    ref: string,
    options: EventOptions = {},
  ): Promise<DeregisterResult> {
    checkKeys(options, OPTION_KEYS.event, 'deregister options');
    const name = parseVersionRef(ref).name;
    return withLock(ctx, async () => {
      await repairLocked(ctx);
      const m = await modelState(ctx, name);
      const v = resolveIn(name, m, ref);
      const w = new ObjectWriter(ctx.fsa, ctx.gitdir, ctx.cache);
      const tag = await writeDeregisterTag(
        ctx,
        w,
        v,
        m.maxCounter + 1,
        options.message ?? '',
        stamp(ctx, m),
      );
      await dropHeads(ctx); // `latest` may change: rebuilt from the refs on next use
      return { ...v, deregistrationTag: tag };
    });
  },
  (_ctx, ref) => `deregistering ${String(ref)}`,
);
