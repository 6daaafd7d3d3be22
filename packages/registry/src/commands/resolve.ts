import type { RegistryContext } from '../context';
import { parseVersionRef } from '../names';
import { modelState, resolveIn } from '../storage/state';
import type { ResolvedVersion } from '../types';
import { operation } from '../errors';

/**
 * Resolves a reference to a version and its commit: `name@v3`, `name@v3.0.0`, `name@latest`,
 * `name`, `name#production` (current assignment) or `name#production#5` (a past assignment).
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
    return resolveIn(r.name, await modelState(ctx, r.name), ref);
  },
  (_ctx, ref) => `resolving ${String(ref)}`,
);
