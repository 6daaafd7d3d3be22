import { OPTION_KEYS, checkKeys } from './options';
import type { DatasetInfo, FormatDiffOptions, RegistryDiff } from './types';

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
 * @throws RegistryError `INVALID_OPTION` for an unknown option key
 * @example
 * ```ts
 * const md = formatDiffMarkdown(await reg.diff('cnn#production', 'cnn@latest'));
 * ```
 */
export function formatDiffMarkdown(diff: RegistryDiff, options: FormatDiffOptions = {}): string {
  checkKeys(options, OPTION_KEYS.formatDiff, 'formatDiffMarkdown options');
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
