import { withLock, type RegistryContext } from '../context';
import { assertName, parseVersionRef } from '../names';
import { OPTION_KEYS, checkKeys } from '../options';
import { ObjectWriter } from '../storage/objects';
import { modelState, resolveIn, stamp } from '../storage/state';
import { writeStageTag } from '../storage/tags';
import { repairLocked } from './repair';
import type { EventOptions, StageEvent } from '../types';
import { operation } from '../errors';

/**
 * Assigns (or moves) a stage to a version with a new GTO tag `name#stage#K`.
 *
 * @param ctx - the registry
 * @param ref - the version, e.g. `cnn@v2` or `cnn#staging`
 * @param stage - the stage name
 * @param options - `message`
 * @returns the assignment event
 * @throws RegistryError `INVALID_NAME`, `VERSION_NOT_FOUND`, `MODEL_NOT_FOUND`, `LOCK_TIMEOUT`
 */
export const assign = operation(
  'WRITE_FAILED',
  async function assign(
    ctx: RegistryContext,
    ref: string,
    stage: string,
    options: EventOptions = {},
  ): Promise<StageEvent> {
    assertName(stage, 'stage');
    checkKeys(options, OPTION_KEYS.event, 'assign options');
    const name = parseVersionRef(ref).name;
    return withLock(ctx, async () => {
      await repairLocked(ctx);
      const m = await modelState(ctx, name);
      const v = resolveIn(name, m, ref);
      const w = new ObjectWriter(ctx.fsa, ctx.gitdir, ctx.cache);
      const now = stamp(ctx, m);
      return writeStageTag(ctx, w, v, stage, m.maxCounter + 1, false, options.message ?? '', now);
    });
  },
  (_ctx, ref, stage) => `assigning ${String(stage)} to ${String(ref)}`,
);

/**
 * Removes a stage from the version it points at with a GTO unassignment tag `name#stage!#K`.
 *
 * @param ctx - the registry
 * @param name - model name
 * @param stage - stage name
 * @param options - `message`
 * @returns the unassignment event
 * @throws RegistryError `STAGE_NOT_ASSIGNED`, `INVALID_NAME`, `LOCK_TIMEOUT`
 */
export const unassign = operation(
  'WRITE_FAILED',
  async function unassign(
    ctx: RegistryContext,
    name: string,
    stage: string,
    options: EventOptions = {},
  ): Promise<StageEvent> {
    assertName(name);
    assertName(stage, 'stage');
    checkKeys(options, OPTION_KEYS.event, 'unassign options');
    return withLock(ctx, async () => {
      await repairLocked(ctx);
      const m = await modelState(ctx, name);
      const v = resolveIn(name, m, `${name}#${stage}`);
      const w = new ObjectWriter(ctx.fsa, ctx.gitdir, ctx.cache);
      const now = stamp(ctx, m);
      return writeStageTag(ctx, w, v, stage, m.maxCounter + 1, true, options.message ?? '', now);
    });
  },
  (_ctx, name, stage) => `unassigning ${String(stage)} of ${String(name)}`,
);
