import path from 'node:path';
import type { ExperimentResult, Finding, MeanSd } from '../experiment/types';
import type { Chart } from '../report/charts';
import { renderSvg } from '../report/charts';
import { escapeHtml } from '../report/html';
import { writeTextFiles } from '../report/write';
import type { StrategyKind } from '../strategy';

/** An experiment repeated over target training-set sizes. */
export interface SweepResult {
  /** Always `'mlship-transfer-sweep/1'`. */
  format: 'mlship-transfer-sweep/1';
  /** The preset's name. */
  name: string;
  /** The sizes, in order. */
  sizes: number[];
  /** Per strategy, its final test accuracy at each size. */
  strategies: {
    strategy: string;
    kind: StrategyKind;
    points: { size: number; testAccuracy: MeanSd; seconds: MeanSd }[];
  }[];
  /** Per size, the base model's accuracy on the target test set (the same for every size). */
  baseTargetAccuracy: number;
  /** Per size: the best transfer strategy's mean test accuracy minus scratch's, in points. */
  advantage: { size: number; best: string; points: number }[];
  /** Whether transfer's advantage over scratch is largest at the smallest size. */
  finding: Finding;
  /** Each size's experiment findings. */
  findings: { size: number; findings: Finding[] }[];
  /** Wall seconds over all sizes (this invocation). */
  wallSeconds: number;
}

/**
 * Gathers the experiments of a sweep into one result.
 *
 * @internal
 */
export function summarizeSweep(
  name: string,
  sizes: readonly number[],
  experiments: readonly ExperimentResult[],
): SweepResult {
  const labels = experiments[0]?.summary.map((s) => ({ strategy: s.strategy, kind: s.kind })) ?? [];
  const strategies = labels.map(({ strategy, kind }) => ({
    strategy,
    kind,
    points: experiments.map((e, i) => {
      const s = e.summary.find((x) => x.strategy === strategy)!;
      return { size: sizes[i]!, testAccuracy: s.testAccuracy, seconds: s.seconds };
    }),
  }));
  const advantage = experiments.flatMap((e, i) => {
    const scratch = e.summary.find((s) => s.kind === 'scratch');
    const best = e.summary
      .filter((s) => s.kind !== 'scratch')
      .sort((a, b) => b.testAccuracy.mean - a.testAccuracy.mean)[0];
    if (scratch === undefined || best === undefined) return [];
    return [
      {
        size: sizes[i]!,
        best: best.strategy,
        points: (best.testAccuracy.mean - scratch.testAccuracy.mean) * 100,
      },
    ];
  });
  const finding: Finding = {
    id: 'advantageLargestWhenSmall',
    claim: "Transfer's advantage over training from scratch is largest when the new data is small.",
    held: null,
    evidence: 'needs a scratch run, a transfer strategy and at least two sizes',
  };
  if (advantage.length >= 2) {
    const bySize = [...advantage].sort((a, b) => a.size - b.size);
    const smallest = bySize[0]!;
    finding.held = bySize.every((a) => a.points <= smallest.points);
    finding.evidence = bySize
      .map(
        (a) =>
          `${a.size} images: ${a.best} ${a.points >= 0 ? '+' : ''}${a.points.toFixed(2)} points over scratch`,
      )
      .join('; ');
  }
  return {
    format: 'mlship-transfer-sweep/1',
    name,
    sizes: [...sizes],
    strategies,
    baseTargetAccuracy: experiments[0]?.reference.targetAccuracy ?? 0,
    advantage,
    finding,
    findings: experiments.map((e, i) => ({ size: sizes[i]!, findings: e.findings })),
    wallSeconds: experiments.reduce((a, e) => a + e.wallSeconds, 0),
  };
}

/**
 * The sweep's chart spec: final test accuracy against training-set size (log scale), a line per
 * strategy with a band of ± one sd over seeds.
 *
 * @internal
 */
export function sweepChartSpec(sweep: SweepResult): Record<string, unknown> {
  const labels = sweep.strategies.map((s) => s.strategy);
  const rows = sweep.strategies.flatMap((s) =>
    s.points.map((p) => ({
      strategy: s.strategy,
      x: p.size,
      mean: p.testAccuracy.mean,
      lo: p.testAccuracy.mean - p.testAccuracy.sd,
      hi: p.testAccuracy.mean + p.testAccuracy.sd,
    })),
  );
  const color = {
    field: 'strategy',
    type: 'nominal',
    title: 'strategy',
    scale: { domain: labels, scheme: 'tableau10' },
    sort: labels,
    legend: { symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Final test accuracy by target training-set size',
    width: 560,
    height: 300,
    data: { values: rows },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: 'target training images',
        scale: { type: 'log' },
        axis: { values: sweep.sizes },
      },
      color,
    },
    layer: [
      {
        mark: { type: 'area', opacity: 0.18 },
        encoding: {
          y: { field: 'lo', type: 'quantitative', title: 'test accuracy', scale: { zero: false } },
          y2: { field: 'hi' },
        },
      },
      {
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          y: {
            field: 'mean',
            type: 'quantitative',
            title: 'test accuracy',
            scale: { zero: false },
          },
        },
      },
    ],
  };
}

const cell = (m: MeanSd): string =>
  m.n > 1 ? `${(m.mean * 100).toFixed(2)} ± ${(m.sd * 100).toFixed(2)}` : (m.mean * 100).toFixed(2);

/**
 * The sweep as markdown: test accuracy (%) per strategy and size, the advantage over scratch, and
 * whether it is largest at the small end.
 *
 * @param sweep - a sweep result
 * @returns markdown text
 * @throws never
 * @example
 * ```ts
 * console.log(formatSweepMarkdown(sweep));
 * ```
 */
export function formatSweepMarkdown(sweep: SweepResult): string {
  const header = ['strategy', ...sweep.sizes.map((n) => `${n.toLocaleString('en-US')} images`)];
  const lines = [
    `## ${sweep.name}: target training-set size`,
    '',
    'Final test accuracy %, mean ± sd over seeds.',
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    `| base model, untouched | ${sweep.sizes.map(() => (sweep.baseTargetAccuracy * 100).toFixed(2)).join(' | ')} |`,
    ...sweep.strategies.map(
      (s) => `| ${s.strategy} | ${s.points.map((p) => cell(p.testAccuracy)).join(' | ')} |`,
    ),
    '',
  ];
  const verdict =
    sweep.finding.held === null ? 'not tested' : sweep.finding.held ? 'held' : 'did not hold';
  lines.push(`- **${verdict}** — ${sweep.finding.claim} (${sweep.finding.evidence}.)`, '');
  return lines.join('\n');
}

/** The files {@link writeSweepReport} wrote. */
export interface WrittenSweepReport {
  /** `sweep.json`. */
  json: string;
  /** `sweep.md`. */
  markdown: string;
  /** `sweep.html`: the table, the chart and links to each size's report. */
  html: string;
  /** `charts/sweep-test-accuracy.svg`. */
  chart: string;
}

/**
 * Writes a sweep's report into `dir`: `sweep.json`, `sweep.md`, `sweep.html` (self-contained, with
 * links to each size's `n<size>/report.html`) and `charts/sweep-test-accuracy.svg`.
 *
 * @param sweep - the sweep result
 * @param dir - the preset's results directory
 * @returns the paths written
 * @throws {@link TransferError} `REPORT_FAILED`, `WRITE_FAILED`
 * @example
 * ```ts
 * const files = await writeSweepReport(sweep, './results/sweep');
 * ```
 */
export async function writeSweepReport(
  sweep: SweepResult,
  dir: string,
): Promise<WrittenSweepReport> {
  const root = path.resolve(dir);
  const chart: Chart = {
    name: 'sweep-test-accuracy',
    title: 'Final test accuracy by target training-set size',
    spec: sweepChartSpec(sweep),
    svg: '',
  };
  chart.svg = await renderSvg(chart.spec);
  const md = formatSweepMarkdown(sweep);
  const rows = sweep.strategies
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.strategy)}</td>${s.points.map((p) => `<td>${escapeHtml(cell(p.testAccuracy))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const verdict =
    sweep.finding.held === null ? 'not tested' : sweep.finding.held ? 'held' : 'did not hold';
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>${escapeHtml(sweep.name)} — training-set size sweep</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:24px}table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:6px 10px;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:16px 0}</style>
</head>
<body>
<h1>${escapeHtml(sweep.name)}: target training-set size</h1>
<p>Final test accuracy %, mean ± sd over seeds. The base model scores ${(sweep.baseTargetAccuracy * 100).toFixed(2)} % on the target test set untouched.</p>
<table><thead><tr><th>strategy</th>${sweep.sizes.map((n) => `<th>${n.toLocaleString('en-US')} images</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody></table>
<p><strong>${verdict}</strong> — ${escapeHtml(sweep.finding.claim)} <small>(${escapeHtml(sweep.finding.evidence)}.)</small></p>
<figure data-chart="${chart.name}">${chart.svg}</figure>
<p>Per size: ${sweep.sizes.map((n) => `<a href="n${n}/report.html">${n.toLocaleString('en-US')} images</a>`).join(', ')}.</p>
</body>
</html>
`;
  const files: [string, string][] = [
    [path.join(root, 'sweep.json'), `${JSON.stringify(sweep, null, 2)}\n`],
    [path.join(root, 'sweep.md'), md],
    [path.join(root, 'sweep.html'), html],
    [path.join(root, 'charts', `${chart.name}.svg`), chart.svg],
  ];
  await writeTextFiles(files);
  return { json: files[0]![0], markdown: files[1]![0], html: files[2]![0], chart: files[3]![0] };
}
