import type { ExperimentResult, MeanSd, StrategySummary } from '../experiment/types';

/** One row of the results table, as text cells (what the markdown and HTML tables show). @internal */
export interface TableRow {
  cells: string[];
}

const pct = (m: MeanSd): string =>
  m.n > 1 ? `${(m.mean * 100).toFixed(2)} ± ${(m.sd * 100).toFixed(2)}` : (m.mean * 100).toFixed(2);
const num = (m: MeanSd, digits: number): string =>
  m.n > 1 ? `${m.mean.toFixed(digits)} ± ${m.sd.toFixed(digits)}` : m.mean.toFixed(digits);
const int = (n: number): string => n.toLocaleString('en-US');

function timeCell(s: StrategySummary, threshold: number): string {
  const t = s.timeToAccuracy.find((x) => x.threshold === threshold);
  if (t === undefined || t.seconds === null) return `not reached (0/${s.runs})`;
  const time = num(t.seconds, 1);
  return t.reached === s.runs ? `${time} s` : `${time} s (${t.reached}/${s.runs})`;
}

/**
 * The results table: header and one row per strategy (plus the untouched base model first).
 *
 * @internal
 */
export function resultsTable(result: ExperimentResult): { header: string[]; rows: TableRow[] } {
  const thresholds = result.settings.thresholds;
  const header = [
    'strategy',
    'trainable params',
    'frozen params',
    'test accuracy %',
    'test loss',
    's / epoch (train steps)',
    'wall s / run',
    'images / s',
    ...thresholds.map((t) => `time to ${(t * 100).toFixed(0)} % val. acc.`),
  ];
  const ref = result.reference;
  const rows: TableRow[] = [
    {
      cells: [
        'base model, untouched',
        '—',
        int(result.settings.base.parameters),
        (ref.targetAccuracy * 100).toFixed(2),
        ref.targetLoss.toFixed(4),
        '—',
        '—',
        '—',
        ...thresholds.map(() => '—'),
      ],
    },
  ];
  for (const s of result.summary) {
    rows.push({
      cells: [
        s.strategy,
        int(s.trainableParams),
        int(s.frozenParams),
        pct(s.testAccuracy),
        num(s.testLoss, 4),
        num(s.epochSeconds, 2),
        num(s.seconds, 1),
        num(s.imagesPerSec, 0),
        ...thresholds.map((t) => timeCell(s, t)),
      ],
    });
  }
  return { header, rows };
}

/**
 * The experiment as a markdown section: what ran, the results table (mean ± sd over seeds), and
 * the thesis's findings with their evidence.
 *
 * @param result - an experiment result
 * @returns markdown text
 * @throws never
 * @example
 * ```ts
 * await writeFile('report.md', formatMarkdown(result));
 * ```
 */
export function formatMarkdown(result: ExperimentResult): string {
  const { settings } = result;
  const budget =
    'epochs' in settings.budget
      ? `${settings.budget.epochs} epochs`
      : `${settings.budget.seconds} wall seconds`;
  const { header, rows } = resultsTable(result);
  const escape = (c: string): string => c.replace(/\|/g, '\\|');
  const lines = [
    `## ${result.name}`,
    '',
    `${result.summary.length} strategies × ${settings.seeds.length} seeds (${settings.seeds.join(', ')}), ` +
      `budget ${budget} each; ${settings.data.train.count.toLocaleString('en-US')} training, ` +
      `${settings.data.validation.count.toLocaleString('en-US')} validation and ` +
      `${settings.data.test.count.toLocaleString('en-US')} test images; batch ${settings.training.batchSize}, ` +
      `${settings.training.optimizer} lr ${settings.training.learningRate}; backend ${settings.runtime.backend}, ` +
      `${settings.runtime.cpus} cores. Mean ± sd over seeds. Wall time of the experiment: ` +
      `${result.wallSeconds.toFixed(0)} s (runs: ${result.runSeconds.toFixed(0)} s).`,
    '',
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.cells.map(escape).join(' | ')} |`),
    '',
  ];
  if (result.reference.sourceAccuracy !== null) {
    lines.push(
      `The base model scored ${(result.reference.sourceAccuracy * 100).toFixed(2)} % on its own test set ("the old level").`,
      '',
    );
  }
  lines.push('Thesis findings:', '');
  for (const f of result.findings) {
    const verdict = f.held === null ? 'not tested' : f.held ? 'held' : 'did not hold';
    lines.push(`- **${verdict}** — ${f.claim} Here: ${f.evidence}.`);
  }
  lines.push('');
  return lines.join('\n');
}
