import type { DatasetInfo, ResolvedVersion, VersionRecord } from './registry.js';

/** One metric compared across two versions. */
export interface MetricDiff {
  name: string;
  from: number | null;
  to: number | null;
  /** `to - from` when both exist, else null. */
  change: number | null;
}

/** One parameter compared across two versions (nested params are flattened with dots). */
export interface ParamDiff {
  name: string;
  from: unknown;
  to: unknown;
  changed: boolean;
}

/** One dataset role compared across two versions. */
export interface DatasetDiff {
  role: string;
  from: DatasetInfo | null;
  to: DatasetInfo | null;
  changed: boolean;
}

/** One file of the model directory compared across two versions. */
export interface FileDiff {
  path: string;
  status: 'added' | 'removed' | 'modified' | 'unchanged';
  fromBytes: number | null;
  toBytes: number | null;
  fromSha256: string | null;
  toSha256: string | null;
}

/** Result of `Registry.diff`: JSON-ready; {@link formatDiffMarkdown} renders it for a PR comment. */
export interface RegistryDiff {
  from: ResolvedVersion;
  to: ResolvedVersion;
  metrics: MetricDiff[];
  params: ParamDiff[];
  datasets: DatasetDiff[];
  files: FileDiff[];
}

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
    const x = typeof a.metrics[name] === 'number' ? a.metrics[name]! : null;
    const y = typeof b.metrics[name] === 'number' ? b.metrics[name]! : null;
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

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number')
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(5)));
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function signed(v: number | null): string {
  if (v === null) return '-';
  const s = cell(v);
  return v > 0 ? `+${s}` : s;
}

function shortFp(d: DatasetInfo | null): string {
  if (!d) return '-';
  const fp = d.fingerprint.replace(/^sha256:/, '').slice(0, 12);
  return d.count === undefined ? fp : `${fp} (${d.count})`;
}

/**
 * Renders a {@link RegistryDiff} as markdown tables fit for a pull-request comment, in the spirit
 * of `dvc metrics diff --md`: all metrics with their change, the params that changed, datasets,
 * and which files (layer groups) changed.
 *
 * @param diff - from `Registry.diff`
 * @param options - `all` also lists unchanged params and files (default false)
 * @returns markdown
 * @throws never (a pure formatter)
 * @example
 * ```ts
 * const md = formatDiffMarkdown(await reg.diff('cnn#production', 'cnn@latest'));
 * ```
 */
export function formatDiffMarkdown(diff: RegistryDiff, options: { all?: boolean } = {}): string {
  const a = diff.from.tag;
  const b = diff.to.tag;
  const lines: string[] = [
    `### ${a} → ${b}`,
    '',
    '| Metric | ' + a + ' | ' + b + ' | Change |',
    '|---|---|---|---|',
  ];
  for (const m of diff.metrics)
    lines.push(`| ${cell(m.name)} | ${cell(m.from)} | ${cell(m.to)} | ${signed(m.change)} |`);
  if (diff.metrics.length === 0) lines.push('| (no metrics) | | | |');
  const params = diff.params.filter((p) => options.all || p.changed);
  lines.push('', `| Param | ${a} | ${b} |`, '|---|---|---|');
  for (const p of params) lines.push(`| ${cell(p.name)} | ${cell(p.from)} | ${cell(p.to)} |`);
  if (params.length === 0) lines.push('| (no changes) | | |');
  lines.push('', `| Dataset | ${a} | ${b} | Changed |`, '|---|---|---|---|');
  for (const d of diff.datasets)
    lines.push(
      `| ${cell(d.role)} | ${shortFp(d.from)} | ${shortFp(d.to)} | ${d.changed ? 'yes' : 'no'} |`,
    );
  if (diff.datasets.length === 0) lines.push('| (no datasets) | | | |');
  const files = diff.files.filter((f) => options.all || f.status !== 'unchanged');
  const unchanged = diff.files.length - diff.files.filter((f) => f.status !== 'unchanged').length;
  lines.push('', `| File | Status | Bytes ${a} | Bytes ${b} |`, '|---|---|---|---|');
  for (const f of files)
    lines.push(`| ${cell(f.path)} | ${f.status} | ${cell(f.fromBytes)} | ${cell(f.toBytes)} |`);
  if (!options.all && unchanged > 0) lines.push(`| (${unchanged} unchanged) | unchanged | | |`);
  return `${lines.join('\n')}\n`;
}
