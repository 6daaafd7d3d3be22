import { withLock, type RegistryContext } from '../context';
import { assertName, parseVersionRef } from '../names';
import { OPTION_KEYS, checkKeys } from '../options';
import { dropHeads, emptyHead, getHeads, refStats, saveHeads, stampHead } from '../storage/heads';
import { ObjectWriter } from '../storage/objects';
import { modelState, resolveIn, stamp } from '../storage/state';
import { writeStageTag } from '../storage/tags';
import { repairLocked } from './repair';
import { resolve } from './resolve';
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
      const heads = await getHeads(ctx);
      const v = await resolve(ctx, ref);
      const m = heads[name] ?? emptyHead();
      const w = new ObjectWriter(ctx.fsa, ctx.gitdir, ctx.cache);
      const now = stampHead(ctx, m);
      const counter = m.maxCounter + 1;
      const event = await writeStageTag(
        ctx,
        w,
        v,
        stage,
        counter,
        false,
        options.message ?? '',
        now,
      );
      heads[name] = {
        ...m,
        maxCounter: counter,
        stages: { ...m.stages, [stage]: { version: v.version, commit: v.commit } },
      };
      await saveHeads(ctx, heads, await refStats(ctx));
      return event;
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
      const event = await writeStageTag(
        ctx,
        w,
        v,
        stage,
        m.maxCounter + 1,
        true,
        options.message ?? '',
        now,
      );
      await dropHeads(ctx); // rebuilt from the refs on next use
      return event;
    });
  },
  (_ctx, name, stage) => `unassigning ${String(stage)} of ${String(name)}`,
);
