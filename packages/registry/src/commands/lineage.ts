import type { RegistryContext } from '../context';
import { isRegistryError, operation } from '../errors';
import { readRecord } from '../storage/records';
import type { LineageStep, ResolvedVersion } from '../types';
import { resolve } from './resolve';

/**
 * Walks parent links from a version back to its root.
 *
 * @param ctx - the registry
 * @param ref - a version reference
 * @returns the steps, the given version first
 * @throws RegistryError as {@link resolve}
 */
export const lineage = operation(
  'READ_FAILED',
  async function lineage(ctx: RegistryContext, ref: string): Promise<LineageStep[]> {
    const out: LineageStep[] = [];
    const seen = new Set<string>();
    let next: string | null = ref;
    while (next) {
      let v: ResolvedVersion;
      try {
        v = await resolve(ctx, next);
      } catch (e) {
        if (out.length === 0 || !isRegistryError(e)) throw e;
        break; // parent recorded but not in this registry: the walk ends there
      }
      if (seen.has(v.tag)) break;
      seen.add(v.tag);
      const rec = await readRecord(ctx, v);
      out.push({
        ...v,
        strategy: rec.strategy,
        datasets: rec.datasets,
        metrics: rec.metrics,
        parent: rec.parent,
      });
      next = rec.parent;
    }
    return out;
  },
  (_ctx, ref) => `walking the lineage of ${String(ref)}`,
);
