import type { ExperimentResult } from '../experiment/types';
import type { Chart } from './charts';
import { resultsTable } from './markdown';

/** Escapes text for HTML content and attribute values. @internal */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; margin: 0; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 8px 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; }
.sub { color: #555; margin: 0 0 16px; }
table { border-collapse: collapse; background: #fff; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 6px 10px; text-align: right; white-space: nowrap; }
th { background: #f0f0f2; font-weight: 600; } td:first-child, th:first-child { text-align: left; }
tr.base td { color: #666; font-style: italic; }
.findings li { margin: 6px 0; } .held { color: #11703a; font-weight: 600; }
.failed { color: #a3201b; font-weight: 600; } .untested { color: #777; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(640px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
pre { background: #fff; border: 1px solid #e3e3e3; padding: 12px; overflow-x: auto; font-size: 12.5px; }
.scroll { overflow-x: auto; }
`;

/**
 * One self-contained HTML page (no script, no external resource): the experiment's settings, the
 * results table, the thesis's findings and the charts as inline SVG.
 *
 * @param result - an experiment result
 * @param charts - its rendered charts (from {@link renderCharts})
 * @returns the HTML document
 * @throws never
 * @example
 * ```ts
 * await writeFile('report.html', formatHtml(result, await renderCharts(result)));
 * ```
 */
export function formatHtml(result: ExperimentResult, charts: readonly Chart[]): string {
  const { header, rows } = resultsTable(result);
  const s = result.settings;
  const budget =
    'epochs' in s.budget ? `${s.budget.epochs} epochs` : `${s.budget.seconds} wall seconds`;
  const table = [
    '<div class="scroll"><table>',
    `<thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map(
      (r, i) =>
        `<tr${i === 0 ? ' class="base"' : ''}>${r.cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`,
    ),
    '</tbody></table></div>',
  ].join('\n');
  const findings = result.findings
    .map((f) => {
      const [cls, word] =
        f.held === null
          ? ['untested', 'not tested']
          : f.held
            ? ['held', 'held']
            : ['failed', 'did not hold'];
      return `<li><span class="${cls}">${word}</span> — ${escapeHtml(f.claim)} <br><small>${escapeHtml(f.evidence)}.</small></li>`;
    })
    .join('\n');
  const figures = charts
    .map(
      (c) =>
        `<figure id="chart-${escapeHtml(c.name)}" data-chart="${escapeHtml(c.name)}">${c.svg}</figure>`,
    )
    .join('\n');
  const settings = {
    budget: s.budget,
    seeds: s.seeds,
    training: s.training,
    thresholds: s.thresholds,
    strategies: s.strategies,
    data: s.data,
    base: s.base,
    reference: result.reference,
    runtime: s.runtime,
    notes: s.notes,
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(result.name)} — mlship transfer experiment</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(result.name)}</h1>
<p class="sub">${result.summary.length} strategies × ${s.seeds.length} seeds, budget ${escapeHtml(budget)} each, on ${s.data.train.count.toLocaleString('en-US')} target training images; backend ${escapeHtml(s.runtime.backend)} on ${s.runtime.cpus} cores; wall time ${result.wallSeconds.toFixed(0)} s; finished ${escapeHtml(result.finished)}. Mean ± sd over seeds.</p>
<h2>Results</h2>
${table}
<h2>Thesis findings</h2>
<ul class="findings">
${findings}
</ul>
<h2>Charts</h2>
<div class="charts">
${figures}
</div>
<h2>Settings</h2>
<pre>${escapeHtml(JSON.stringify(settings, null, 2))}</pre>
</main>
</body>
</html>
`;
}
