import type { RegistryContext } from '../context';
import { readRecord } from '../storage/records';
import type { FileDiff, RegistryDiff, ResolvedVersion, VersionRecord } from '../types';
import { resolve } from './resolve';
import { operation } from '../errors';

function flatten(
  obj: Record<string, unknown>,
  prefix = '',
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}

const sorted = (a: Iterable<string>): string[] => [...new Set(a)].sort();

/** @internal Compares two version records. */
export function diffRecords(
  from: ResolvedVersion,
  a: VersionRecord,
  to: ResolvedVersion,
  b: VersionRecord,
): RegistryDiff {
  const metrics = sorted([...Object.keys(a.metrics), ...Object.keys(b.metrics)]).map((name) => {
    const x = a.metrics[name] ?? null;
    const y = b.metrics[name] ?? null;
    return { name, from: x, to: y, change: x !== null && y !== null ? y - x : null };
  });
  const pa = flatten(a.params);
  const pb = flatten(b.params);
  const params = sorted([...Object.keys(pa), ...Object.keys(pb)]).map((name) => ({
    name,
    from: name in pa ? pa[name] : null,
    to: name in pb ? pb[name] : null,
    changed: JSON.stringify(pa[name]) !== JSON.stringify(pb[name]),
  }));
  const datasets = sorted([...Object.keys(a.datasets), ...Object.keys(b.datasets)]).map((role) => {
    const x = a.datasets[role] ?? null;
    const y = b.datasets[role] ?? null;
    return { role, from: x, to: y, changed: x?.fingerprint !== y?.fingerprint };
  });
  const files = sorted([...Object.keys(a.files), ...Object.keys(b.files)]).map((path): FileDiff => {
    const x = a.files[path];
    const y = b.files[path];
    const status = !x ? 'added' : !y ? 'removed' : x.sha256 === y.sha256 ? 'unchanged' : 'modified';
    return {
      path,
      status,
      fromBytes: x?.bytes ?? null,
      toBytes: y?.bytes ?? null,
      fromSha256: x?.sha256 ?? null,
      toSha256: y?.sha256 ?? null,
    };
  });
  return { from, to, metrics, params, datasets, files };
}

/**
 * Compares two versions: metrics, params, datasets and files.
 *
 * @param ctx - the registry
 * @param refA - the base
 * @param refB - the candidate
 * @returns the comparison, JSON-ready
 * @throws RegistryError as {@link resolve}
 */
export const diff = operation(
  'READ_FAILED',
  async function diff(ctx: RegistryContext, refA: string, refB: string): Promise<RegistryDiff> {
    const a = await resolve(ctx, refA);
    const b = await resolve(ctx, refB);
    return diffRecords(a, await readRecord(ctx, a), b, await readRecord(ctx, b));
  },
  (_ctx, a, b) => `comparing ${String(a)} with ${String(b)}`,
);
